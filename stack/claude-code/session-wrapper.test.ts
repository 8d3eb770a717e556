import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordPaths } from '../../scripts/lib/session/session-record.ts';
import { continuationArgs, parseContinuations, runWrapped, type SessionMetadata } from './session-wrapper.ts';

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

describe('continuations', () => {
  // A stand-in for `claude -p PROMPT --session-id ID ...`: prints its arguments, exits 4 when the prompt is `fail`.
  const fake = join(mkdtempSync(join(tmpdir(), 'fake-cli-')), 'fake-cli.mjs');
  writeFileSync(
    fake,
    "const a = process.argv.slice(2); console.log('ran: ' + a.join(' ')); process.exit(a[1] === 'fail' ? 4 : 0);",
  );
  const first = (id: string) => [fake, '-p', 'first', '--session-id', id];

  it('runs each further run of the conversation in order, with --resume ID or --continue, and records each step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    const meta = await runWrapped({
      dir,
      command: process.execPath,
      args: first('s-c1'),
      metadata: base('s-c1'),
      continuations: [
        { mode: 'resume', prompt: 'again' },
        { mode: 'continue', prompt: '/compact' },
      ],
    });
    expect(meta.status).toBe('completed');
    const log = readFileSync(recordPaths(dir, 's-c1').log, 'utf8');
    const order = ['ran: -p first --session-id s-c1', 'step 2/3: claude --resume s-c1: again'];
    order.push(
      'ran: -p again --resume s-c1',
      'step 3/3: claude --continue: /compact',
      'ran: -p /compact --continue',
    );
    let at = 0;
    for (const line of order) {
      const next = log.indexOf(line, at);
      expect(next, line).toBeGreaterThan(at);
      at = next;
    }
    const steps = (meta as typeof meta & { steps: { mode: string; exitCode: number }[] }).steps;
    expect(steps.map((s) => [s.mode, s.exitCode])).toEqual([
      ['first', 0],
      ['resume', 0],
      ['continue', 0],
    ]);
  });

  it('stops at the first run that fails, and says so in the record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    const meta = await runWrapped({
      dir,
      command: process.execPath,
      args: first('s-c2'),
      metadata: base('s-c2'),
      continuations: [
        { mode: 'resume', prompt: 'fail' },
        { mode: 'continue', prompt: 'never' },
      ],
    });
    expect(meta).toMatchObject({ status: 'failed', exitCode: 4 });
    expect((meta as typeof meta & { steps: unknown[] }).steps).toHaveLength(2);
    expect(readFileSync(recordPaths(dir, 's-c2').log, 'utf8')).not.toContain('never');
  });

  it('reads SESSION_CONTINUATIONS, refusing what is not a short list of runs', () => {
    expect(parseContinuations(undefined)).toEqual([]);
    expect(parseContinuations('[{"mode":"continue","prompt":"/compact"}]')).toEqual([
      { mode: 'continue', prompt: '/compact' },
    ]);
    expect(() => parseContinuations('[{"mode":"fork","prompt":"x"}]')).toThrow(/entry 1 is not/);
    expect(() =>
      parseContinuations(JSON.stringify(Array(11).fill({ mode: 'continue', prompt: 'x' }))),
    ).toThrow(/at most 10 .*: it has 11/);
    expect(() => parseContinuations('{')).toThrow(/SESSION_CONTINUATIONS .*not JSON/);
  });

  it('swaps the prompt and --session-id for the continuation, and refuses a run without -p', () => {
    const args = ['-p', 'hi', '--output-format', 'stream-json', '--session-id', 'id-1', '--model', 'm'];
    expect(continuationArgs(args, 'id-1', { mode: 'resume', prompt: 'again' })).toEqual([
      '-p',
      'again',
      '--output-format',
      'stream-json',
      '--model',
      'm',
      '--resume',
      'id-1',
    ]);
    expect(continuationArgs(args, 'id-1', { mode: 'continue', prompt: '/compact' }).slice(-1)).toEqual([
      '--continue',
    ]);
    expect(() => continuationArgs(['--session-id', 'x'], 'x', { mode: 'continue', prompt: 'p' })).toThrow(
      /no -p PROMPT/,
    );
  });

  it('refuses continuations in an interactive session before writing a record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessions-'));
    await expect(
      runWrapped({
        dir,
        command: process.execPath,
        args: first('s-c3'),
        metadata: { ...base('s-c3'), mode: 'interactive' },
        continuations: [{ mode: 'continue', prompt: 'x' }],
      }),
    ).rejects.toThrow(/continuations run headless/);
    expect(existsSync(join(dir, 's-c3'))).toBe(false);
  });
});
