// `pnpm export` as users run it: a separate process, real files, a real (local, hanging) HTTP peer for the faults.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './lib/repo-root.ts';
import { writeSessionRecord, writeTelemetry } from './lib/testing/fixture-telemetry.ts';

const A = 'aaaaaaaa-1111-4111-8111-111111111111';
const B = 'bbbbbbbb-2222-4222-8222-222222222222';

function cli(args: string[], opts: { onStdout?: (text: string, kill: () => void) => void } = {}) {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/export.ts'), ...args], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  let killed = false;
  const kill = () => {
    if (!killed) child.kill('SIGTERM');
    killed = true;
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    opts.onStdout?.(stdout, kill);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

/** An HTTP peer on 127.0.0.1 that accepts connections and never answers. */
let hanging: { port: number; close: () => Promise<void> };
beforeAll(async () => {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hanging = {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
});
afterAll(() => hanging.close());

function dirs() {
  const base = mkdtempSync(join(tmpdir(), 'export-cli-'));
  const telemetry = join(base, 'telemetry');
  const sessions = join(base, 'sessions');
  writeTelemetry(telemetry, [
    { id: A, variant: 'default' },
    { id: B, variant: 'rich' },
  ]);
  writeSessionRecord(sessions, A);
  const out = join(base, 'out');
  return { out, args: ['--telemetry-dir', telemetry, '--sessions-dir', sessions, '--out', out] };
}

describe('pnpm export', () => {
  it('prints its usage', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pnpm export verify ARCHIVE');
  });

  it('lists the sessions known, with start, duration, cost and tokens', async () => {
    const d = dirs();
    const r = await cli(['list', ...d.args]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^session\s+start \(UTC\)\s+duration\s+cost\s+tokens\s+found in$/);
    expect(lines.find((l) => l.startsWith(A))).toMatch(
      /2026-11-23 21:19:01\s+3\.0 s\s+\$0\.0087\s+840\s+telemetry \+ record \(completed\)/,
    );
    expect(lines.find((l) => l.startsWith(B))).toMatch(/telemetry$/);
  });

  it('chooses sessions: the latest by default, --all, --since', async () => {
    const d = dirs();
    const latest = await cli(['--dry-run', ...d.args]);
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain(`no --session given: the latest one, ${B}`); // B's events are the later ones
    const all = await cli(['--all', '--dry-run', ...d.args]);
    expect(all.stdout).toContain(`would export ${A}, ${B} to ${d.out}`);
    const week = await cli(['--since', '1000w', '--dry-run', ...d.args]);
    expect(week.stdout).toContain(`would export ${A}, ${B}`);
    const none = await cli(['--since', '1s', '--dry-run', ...d.args]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no session active in the last 1s');
    const bad = await cli(['--since', 'yesterday', ...d.args]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since takes a duration such as 90s, 15m, 2h, 7d or 1w');
  });

  it('refuses an unknown session with exit 2 and says how to find ids', async () => {
    const d = dirs();
    const r = await cli([
      '--session',
      '00000000-0000-4000-8000-000000000000',
      '--no-jaeger',
      '--no-prometheus',
      ...d.args,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('`pnpm export list` shows the sessions known');
    expect(readdirSync(d.out)).toEqual([]);
  });

  it('builds the archive from the files when Jaeger hangs, and the manifest says why it is missing', async () => {
    const d = dirs();
    const r = await cli([
      '--session',
      A,
      '--jaeger',
      `http://127.0.0.1:${hanging.port}`,
      '--no-prometheus',
      '--timeout',
      '300',
      ...d.args,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /MISSING Jaeger trace of session .*: Jaeger unreachable at http:\/\/127\.0\.0\.1:\d+ \(no answer within 300 ms\)/,
    );
    expect(r.stdout).toContain('INCOMPLETE (2 missing)');
    const archive = readdirSync(d.out).find((f) => f.endsWith('.tar.gz'));
    expect(archive).toBeDefined();
    const ok = await cli(['verify', join(d.out, archive as string)]);
    expect(ok.code).toBe(0);

    // tamper with one file: verify names it and fails
    const tar = gunzipSync(readFileSync(join(d.out, archive as string))).toString('latin1');
    writeFileSync(
      join(d.out, 'tampered.tar.gz'),
      gzipSync(Buffer.from(tar.replace('claude_code.user_prompt', 'claude_code.user_prompX'), 'latin1')),
    );
    const bad = await cli(['verify', join(d.out, 'tampered.tar.gz')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('otlp/logs.jsonl: sha256 differs from the manifest');
  });

  it('leaves no archive behind when interrupted', async () => {
    const d = dirs();
    const r = await cli(
      [
        '--session',
        A,
        '--jaeger',
        `http://127.0.0.1:${hanging.port}`,
        '--no-prometheus',
        '--timeout',
        '60000',
        ...d.args,
      ],
      // the telemetry is filtered and staged; the export now waits on Jaeger: interrupt it there
      { onStdout: (text, kill) => text.includes('logs:') && kill() },
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted by SIGTERM: no archive written');
    expect(readdirSync(d.out)).toEqual([]);
  }, 20_000);
});
