import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRecord } from './session-recorder.ts';
import { harvestSpool, readBounded } from './session-spool.ts';

const id = '7c0e8d5e-6a0b-4a43-9d0e-2f8b6c1d9a11';

/** A spool as a hostile session could leave it: `<spool>/<id>/...`, plus a secret outside it. */
function hostileSpool() {
  const base = mkdtempSync(join(tmpdir(), 'spool-'));
  const secret = join(base, 'host-secret.txt');
  writeFileSync(secret, 'HOST SECRET');
  const dir = join(base, 'spool', id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'transcript.jsonl'), '{"type":"user"}\n');
  writeFileSync(
    join(dir, 'metadata.json'),
    JSON.stringify({
      status: 'completed',
      exitCode: 0,
      user: 'bob',
      // Its CLI runs as it tells them: a mode it may not have, a prompt far too long, more runs than there can be.
      steps: [
        { mode: 'first', exitCode: 0, signal: null, durationMs: 1200 },
        { mode: 'root-shell', exitCode: 0, signal: null, durationMs: 1 },
        { mode: 'resume', prompt: 'p'.repeat(5000), exitCode: 0, signal: null, durationMs: -5 },
        ...Array.from({ length: 20 }, () => ({
          mode: 'continue',
          prompt: 'go on',
          exitCode: 0,
          durationMs: 10,
        })),
      ],
    }),
  );
  symlinkSync(secret, join(dir, 'transcript-agent-x.jsonl'));
  symlinkSync('/proc/self/environ', join(dir, 'terminal.log'));
  execFileSync('mkfifo', [join(dir, 'terminal.timing')]);
  mkdirSync(join(dir, 'transcript-agent-dir.jsonl'));
  writeFileSync(join(dir, 'evil.sh'), 'rm -rf /');
  writeFileSync(join(dir, 'transcript-agent-big.jsonl'), '');
  truncateSync(join(dir, 'transcript-agent-big.jsonl'), 10 * 1024 ** 3); // sparse: 10 GiB by its size
  return { base, spool: join(base, 'spool'), secret };
}

describe('the spool a session hands back', () => {
  it('takes only known regular files under their bounds: never a link, a FIFO, a folder or an unknown name', () => {
    const { spool } = hostileSpool();
    const t0 = Date.now();
    const h = harvestSpool(spool, id);
    expect(Date.now() - t0).toBeLessThan(5000); // the FIFO did not block
    expect(h.files.map((f) => f.name).sort()).toEqual(['metadata.json', 'transcript.jsonl']);
    const why = Object.fromEntries(h.refused.map((r) => r.split(': ')));
    expect(why).toMatchObject({
      'transcript-agent-x.jsonl': 'a symbolic link (never followed)',
      'terminal.log': 'a symbolic link (never followed)',
      'terminal.timing': 'not a regular file',
      'transcript-agent-dir.jsonl': 'not a regular file',
      'evil.sh': 'not a record file',
    });
    expect(why['transcript-agent-big.jsonl']).toMatch(/^10737418240 bytes, over its bound of \d+$/);
  });

  it('says why a file cannot be read, and reads a regular one whole', () => {
    const { base } = hostileSpool();
    const f = join(base, 'ok.txt');
    writeFileSync(f, 'x'.repeat(100));
    expect(readBounded(f, 100)).toEqual(Buffer.from('x'.repeat(100)));
    expect(readBounded(f, 99)).toBe('100 bytes, over its bound of 99');
    expect(readBounded(join(base, 'missing'), 10)).toBe('unreadable (ENOENT)');
  });

  it('the record keeps the observed facts apart from what the session reported, and no host file enters it', () => {
    const { base, spool, secret } = hostileSpool();
    const sessions = join(base, 'sessions');
    mkdirSync(sessions);
    const rec = startRecord(
      sessions,
      {
        sessionId: id,
        mode: 'headless',
        api: 'scripted',
        script: 'demo',
        model: null,
        user: 'alice',
        claudeVersion: '2.1.332',
        telemetry: { enabled: true, protocol: 'http/protobuf', endpoint: 'http://session-gateway:8080' },
        startedAt: new Date().toISOString(),
      },
      { MCP_SESSION_TOKEN: 'cct1.secret-token-value' },
      200,
    );
    rec.write('{"type":"result"}\n');
    rec.write('y'.repeat(500));
    const meta = rec.finish(
      {
        exitCode: 0,
        signal: null,
        image: 'claude-code:1',
        oomKilled: false,
        timedOut: false,
        spool: 'tmpfs of 256m',
        timeoutMs: 60_000,
        memoryLimit: '2g',
      },
      harvestSpool(spool, id),
    );
    expect(meta).toMatchObject({
      status: 'completed',
      user: 'alice', // the host's, not the "bob" the session wrote
      reported: { status: 'completed', exitCode: 0 },
      container: { logTruncated: true, oomKilled: false },
      files: { transcript: 'transcript.jsonl' },
    });
    expect(meta.provenance?.reported).toContain('transcript.jsonl');
    expect(meta.provenance?.observed).toContain('status');
    // The steps, as reported: at most 11 read, an unknown mode dropped, a prompt cut, a duration never negative.
    const steps = meta.reported?.steps ?? [];
    expect(steps.map((st) => st.mode)).toEqual(['first', 'resume', ...Array(8).fill('continue')]);
    expect(steps[1]).toEqual({
      mode: 'resume',
      prompt: 'p'.repeat(200),
      exitCode: 0,
      signal: null,
      durationMs: 0,
    });
    expect(meta.steps).toBeUndefined();
    const dir = join(sessions, id);
    const log = readFileSync(join(dir, 'session.log'), 'utf8');
    expect(log).toContain('# output past 200 bytes not kept');
    expect(log).toContain('# not taken from the session');
    expect(log).not.toContain(readFileSync(secret, 'utf8'));
    expect(readFileSync(join(dir, 'secrets.json'), 'utf8')).not.toContain('secret-token-value');
  });
});
