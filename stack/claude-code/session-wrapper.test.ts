import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordPaths } from '../../scripts/lib/session/session-record.ts';
import { runWrapped, type SessionMetadata } from './session-wrapper.ts';

const base = (sessionId: string): Parameters<typeof runWrapped>[0]['metadata'] => ({
  sessionId,
  mode: 'headless',
  api: 'scripted',
  script: 'demo',
  model: 'm',
  user: 'alice',
  claudeVersion: '2.1.197 (Claude Code)',
  telemetry: { enabled: true, protocol: 'http/protobuf', endpoint: 'http://otel-collector:4318' },
  startedAt: new Date().toISOString(),
});

describe('runWrapped', () => {
  it('tees the output into the session log after its header and writes the metadata', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    const meta = await runWrapped({
      dir,
      command: process.execPath,
      args: ['-e', "console.log('to stdout'); console.error('to stderr'); process.exit(3)"],
      metadata: base('s-1'),
    });
    expect(meta).toMatchObject({ status: 'failed', exitCode: 3, signal: null });
    expect(meta.durationMs).toBeGreaterThan(0);
    const files = recordPaths(dir, 's-1');
    const log = readFileSync(files.log, 'utf8');
    expect(log).toMatch(/^# claude-code-telemetry session s-1\n/);
    expect(log).toContain('# user       alice');
    expect(log).toContain('to stdout');
    expect(log).toContain('to stderr');
    expect(log).toMatch(/# ended .* failed, exit 3\n$/);
    const saved = JSON.parse(readFileSync(files.metadata, 'utf8')) as SessionMetadata;
    expect(saved).toEqual(meta);
  });

  it('forwards a signal to the session and records it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    const running = runWrapped({
      dir,
      command: process.execPath,
      args: [
        '-e',
        "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(143) }); console.log('ready'); setInterval(() => {}, 1000)",
      ],
      metadata: base('s-2'),
    });
    const files = recordPaths(dir, 's-2');
    const deadline = Date.now() + 10_000;
    while (
      !(existsSync(files.log) && readFileSync(files.log, 'utf8').includes('ready')) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    process.emit('SIGTERM');
    const meta = await running;
    expect(meta).toMatchObject({ status: 'interrupted', signal: 'SIGTERM', exitCode: 143 });
    expect(readFileSync(files.log, 'utf8')).toContain('got SIGTERM');
  });

  it('refuses to overwrite the record of an existing session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    await runWrapped({ dir, command: process.execPath, args: ['-e', ''], metadata: base('s-3') });
    await expect(
      runWrapped({ dir, command: process.execPath, args: ['-e', ''], metadata: base('s-3') }),
    ).rejects.toThrow('session s-3 already has a record');
  });

  it("keeps Claude Code's transcript of the session in the record, and says so when there is none", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    const projects = mkdtempSync(join(tmpdir(), 'projects-'));
    // What Claude Code would write while the session runs: <projects>/<cwd as a folder name>/<session id>.jsonl
    const script = `const fs = require('node:fs'); fs.mkdirSync(${JSON.stringify(join(projects, '-workspace'))}, { recursive: true }); fs.writeFileSync(${JSON.stringify(join(projects, '-workspace', 's-4.jsonl'))}, '{"type":"user"}\\n');`;
    const meta = await runWrapped({
      dir,
      command: process.execPath,
      args: ['-e', script],
      metadata: base('s-4'),
      transcripts: projects,
    });
    expect(meta.files.transcript).toBe('transcript.jsonl');
    expect(readFileSync(join(dir, 's-4', 'transcript.jsonl'), 'utf8')).toBe('{"type":"user"}\n');
    const none = await runWrapped({
      dir,
      command: process.execPath,
      args: ['-e', ''],
      metadata: base('s-5'),
      transcripts: projects,
    });
    expect(none.files.transcript).toBeUndefined();
    expect(readFileSync(join(dir, 's-5', 'session.log'), 'utf8')).toContain(
      '# no transcript of this session in',
    );
  });

  it("keeps the transcripts of the session's subagents, and nothing else of that folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    const projects = mkdtempSync(join(tmpdir(), 'projects-'));
    const sub = join(projects, '-workspace', 's-6', 'subagents');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(projects, '-workspace', 's-6.jsonl'), '{"type":"user"}\n');
    writeFileSync(join(sub, 'agent-a1b2.jsonl'), '{"type":"assistant","agent":"a1b2"}\n');
    writeFileSync(join(sub, 'notes.txt'), 'not a transcript');
    const meta = await runWrapped({
      dir,
      command: process.execPath,
      args: ['-e', ''],
      metadata: base('s-6'),
      transcripts: projects,
    });
    expect(meta.files.subagentTranscripts).toEqual(['transcript-agent-a1b2.jsonl']);
    expect(readFileSync(join(dir, 's-6', 'transcript-agent-a1b2.jsonl'), 'utf8')).toContain('"agent":"a1b2"');
    expect(existsSync(join(dir, 's-6', 'transcript-notes.txt'))).toBe(false);
  });

  it('ends a session at its wall-clock limit, with status limit-exceeded in the record and the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    const limits = { timeoutMs: 300, memory: '2g', processes: '512' };
    const meta = await runWrapped({
      dir,
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      metadata: base('s-time'),
      limits,
      readCounters: () => ({ oomKills: 0, pidsRefused: 0 }),
    });
    expect(meta).toMatchObject({
      status: 'limit-exceeded',
      signal: 'SIGTERM',
      limit: { kind: 'time', description: 'the wall-clock limit of 0.3 s (SESSION_TIMEOUT_SECONDS)' },
    });
    expect(readFileSync(recordPaths(dir, 's-time').log, 'utf8')).toContain(
      '# the session was ended by the wall-clock limit of 0.3 s (SESSION_TIMEOUT_SECONDS)',
    );
  });

  it("names the memory limit when the container's OOM-kill count rose during the session", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    let reads = 0;
    const meta = await runWrapped({
      dir,
      command: process.execPath,
      args: ['-e', 'process.kill(process.pid, "SIGKILL")'],
      metadata: base('s-mem'),
      limits: { timeoutMs: 600_000, memory: '64m', processes: '512' },
      // before: no OOM kill; after: one (what the kernel's counter shows when it killed the CLI)
      readCounters: () => ({ oomKills: reads++ === 0 ? 0 : 1, pidsRefused: 0 }),
    });
    expect(meta).toMatchObject({
      status: 'limit-exceeded',
      limit: { kind: 'memory', description: 'the memory limit of 64m (SESSION_MEMORY_LIMIT)' },
    });
  });
});
