// `pnpm export` as users run it: a separate process, real files, a real (local, hanging) HTTP peer for the faults.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, readArchive } from './lib/export/archive/archive.ts';
import { ensureVersitygw, startTestS3, type TestS3 } from './lib/export/upload/s3-test-server.ts';
import { repoRoot } from './lib/repo-root.ts';
import { writeSessionRecord, writeTelemetry } from './lib/testing/fixture-telemetry.ts';

// Each test runs several commands in a row, and on a busy 2-core machine one alone can take seconds: the default
// 5 s would measure the machine's load, not the commands (each of which is bounded by its own limits).
const TEST_TIMEOUT_MS = 120_000;

const A = 'aaaaaaaa-1111-4111-8111-111111111111';
const B = 'bbbbbbbb-2222-4222-8222-222222222222';
const C = 'cccccccc-3333-4333-8333-333333333333';

function cli(
  args: string[],
  opts: { onStdout?: (text: string, kill: () => void) => void; env?: Record<string, string> } = {},
) {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/export.ts'), ...args], {
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
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

describe('pnpm export', { timeout: TEST_TIMEOUT_MS }, () => {
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
    expect(lines[0]).toMatch(/^session\s+start \(UTC\)\s+duration\s+cost\s+tokens\s+user\s+found in$/);
    expect(lines.find((l) => l.startsWith(A))).toMatch(
      /2026-11-23 21:19:01\s+3\.0 s\s+\$0\.0087\s+840\s+tester\s+telemetry \+ record \(completed\)/,
    );
    expect(lines.find((l) => l.startsWith(B))).toMatch(/\s-\s+telemetry$/);
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

  it('--user: every session of one user (record or telemetry), the manifest says how they were chosen', async () => {
    const base = mkdtempSync(join(tmpdir(), 'export-cli-'));
    const telemetry = join(base, 'telemetry');
    const sessions = join(base, 'sessions');
    writeTelemetry(telemetry, [
      { id: A, variant: 'default', user: 'alice' },
      { id: B, variant: 'rich', user: 'bob' },
      { id: C, variant: 'default', user: 'alice' }, // its record is gone: the telemetry's user.name says whose
    ]);
    writeSessionRecord(sessions, A, { user: 'alice' });
    writeSessionRecord(sessions, B, { user: 'bob' });
    const out = join(base, 'out');
    const args = ['--telemetry-dir', telemetry, '--sessions-dir', sessions, '--out', out];

    const dry = await cli(['--user', 'alice', '--dry-run', ...args]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would export ${A}, ${C} (2 session(s) of user alice) to ${out}`);
    const rows = dry.stdout.split('\n').filter((l) => /^[0-9a-f]{8}-/.test(l));
    expect(rows.map((l) => l.slice(0, 36))).toEqual([A, C]);
    for (const row of rows) expect(row).toMatch(/\balice\b/);
    expect(readdirSync(base)).not.toContain('out'); // a dry run writes nothing

    const nobody = await cli(['--user', 'carol', '--dry-run', ...args]);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toContain('no sessions of user "carol" known');
    expect(nobody.stderr).toContain('users known: alice, bob');
    const bad = await cli(['--user', 'al ice', '--dry-run', ...args]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--user must be 1-64 letters, digits or . _ @ - (not . or ..), not "al ice"',
    );
    const both = await cli(['--user', 'alice', '--session', B, '--dry-run', ...args]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('it goes without --user');
    const recent = await cli(['--user', 'alice', '--since', '1s', '--dry-run', ...args]);
    expect(recent.code).toBe(2);
    expect(recent.stderr).toContain('no session of user "alice" active in the last 1s');

    const r = await cli(['--user', 'alice', '--since', '1000w', '--no-jaeger', '--no-prometheus', ...args]);
    expect(r.code, r.stderr).toBe(0);
    const archive = readdirSync(out).find((f) => f.endsWith('.tar.gz')) as string;
    expect(archive).toMatch(/^claude-code-user-alice-sessions-2-\d{8}T\d{6}Z\.tar\.gz$/);
    const files = await readArchive(join(out, archive));
    const top = archive.slice(0, -'.tar.gz'.length);
    const manifest = JSON.parse(files.get(`${top}/manifest.json`)?.toString('utf8') ?? '') as Manifest;
    expect(manifest.sessions).toEqual([A, C]);
    expect(manifest.selection).toMatchObject({ by: 'filter', user: 'alice', since: { duration: '1000w' } });
    expect(files.get(`${top}/README.md`)?.toString('utf8')).toContain(
      'Chosen: every session of user alice active in the last 1000w',
    );
    expect(files.get(`${top}/otlp/logs.jsonl`)?.toString('utf8')).not.toContain(B);
    expect((await cli(['verify', join(out, archive)])).code).toBe(0);
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
  });
});

describe('pnpm export: malformed names', { timeout: TEST_TIMEOUT_MS }, () => {
  it('refuses a malformed --user or --project before it indexes anything (exit 2)', async () => {
    const base = mkdtempSync(join(tmpdir(), 'export-cli-'));
    const telemetry = join(base, 'telemetry');
    const sessions = join(base, 'sessions');
    // A record the index would warn about: its warning on stderr would show the index ran.
    mkdirSync(join(sessions, A), { recursive: true });
    writeFileSync(join(sessions, A, 'metadata.json'), '{not json');
    const args = ['--telemetry-dir', telemetry, '--sessions-dir', sessions, '--dry-run'];
    const indexed = await cli(['list', ...args.slice(0, 4)]);
    expect(indexed.stderr).toContain('is not JSON'); // the control: indexing warns about it
    for (const [flag, name, rule] of [
      ['--user', 'al ice', '--user must be 1-64 letters'],
      ['--project', '../x', '--project must be 1-128 letters'],
    ] as const) {
      const r = await cli([flag, name, ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(rule);
      expect(r.stderr).not.toContain('warning');
    }
  });
});

describe('pnpm export --to s3://, list --from, verify s3:// (a real S3 service: versitygw)', {
  timeout: TEST_TIMEOUT_MS,
}, () => {
  let s3: TestS3;
  let env: Record<string, string>;
  beforeAll(async () => {
    s3 = await startTestS3(await ensureVersitygw());
    env = {
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
  }, 900_000); // a cold build of versitygw: about 2 minutes here
  afterAll(() => s3?.stop());

  /** No key in anything the command printed. */
  const keyless = (r: { stdout: string; stderr: string }) => {
    for (const key of [s3.accessKeyId, s3.secretAccessKey]) {
      expect(r.stdout).not.toContain(key);
      expect(r.stderr).not.toContain(key);
    }
  };

  it('uploads the verified archive, lists it, and verifies the copy in S3; prints no key', async () => {
    const d = dirs();
    const r = await cli(
      ['--session', A, '--no-jaeger', '--no-prometheus', '--to', 's3://archives/team', ...d.args],
      {
        env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    keyless(r);
    const m = new RegExp(
      `uploaded (s3://archives/team/(claude-code-session-${A}-\\d{8}T\\d{6}Z\\.tar\\.gz)) to ${s3.endpoint}: (\\d+) bytes, sha256 ([0-9a-f]{64}) \\(checked by the server on the way in, read back whole and equal\\)`,
    ).exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const [, url, name, bytes, sha] = m as unknown as string[];
    // The archive stays where it was made, and the gateway's copy is it, byte for byte.
    const local = readFileSync(join(d.out, name as string));
    expect(local.length).toBe(Number(bytes));
    expect(createHash('sha256').update(local).digest('hex')).toBe(sha);
    expect(readFileSync(join(s3.dir, 'archives', 'team', name as string)).equals(local)).toBe(true);

    const listed = await cli(['list', '--from', 's3://archives/team/'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    keyless(listed);
    expect(listed.stdout).toMatch(/^archive\s+bytes\s+last modified \(UTC\)$/m);
    expect(listed.stdout).toMatch(
      new RegExp(`^${url}\\s+${bytes}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`, 'm'),
    );
    expect(listed.stdout).toContain(`1 archive(s) under s3://archives/team/ at ${s3.endpoint}`);
    const json = await cli(['list', '--from', 's3://archives', '--json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({
      endpoint: s3.endpoint,
      archives: [{ key: `team/${name}`, url, bytes: Number(bytes) }],
      others: 0,
    });

    const ok = await cli(['verify', url as string], { env });
    expect(ok.code, ok.stderr).toBe(0);
    keyless(ok);
    expect(ok.stdout).toContain(
      `${url}: every file matches the manifest (${bytes} bytes downloaded from ${s3.endpoint}, sha256 ${sha}, the one stored at upload)`,
    );

    // An archive put there by another tool (no sha256 of ours), tampered: the manifest check finds it.
    const tar = gunzipSync(local).toString('latin1');
    const tampered = gzipSync(
      Buffer.from(tar.replace('claude_code.user_prompt', 'claude_code.user_prompX'), 'latin1'),
    );
    const direct = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    await direct.send(
      new PutObjectCommand({ Bucket: 'archives', Key: 'other/tampered.tar.gz', Body: tampered }),
    );
    direct.destroy();
    const bad = await cli(['verify', 's3://archives/other/tampered.tar.gz'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('otlp/logs.jsonl: sha256 differs from the manifest');
    expect(bad.stderr).toContain('s3://archives/other/tampered.tar.gz does not match its manifest');
  });

  it('--dry-run says where it would upload, asking no one', async () => {
    const d = dirs();
    const r = await cli(['--session', A, '--dry-run', '--to', 's3://archives/x', ...d.args], {
      env: { ...env, S3_ENDPOINT: 'http://127.0.0.1:9' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `would upload it as s3://archives/x/claude-code-session-${A}-\\d{8}T\\d{6}Z\\.tar\\.gz \\(named at the time of the export\\) to http://127\\.0\\.0\\.1:9 \\(endpoint: S3_ENDPOINT \\(the environment\\); keys from the environment; at most 5 GiB\\)`,
      ),
    );
    keyless(r);
  });

  it('refuses a bad URL with exit 2 before anything else', async () => {
    const d = dirs();
    for (const [args, message] of [
      [['--to', 's3://Archives/x'], '--to: "s3://Archives/x": the bucket must be 3-63 lowercase letters'],
      [['--to', 'archives/x'], '--to: "archives/x" is not an S3 URL: s3://BUCKET/PREFIX'],
      [['--to', 's3://archives/../x'], 'the key must be letters, digits'],
      [['list', '--from', 's3://ab'], '--from: "s3://ab": the bucket must be'],
      [['verify', 's3://archives/team/'], 'name one archive, s3://BUCKET/KEY'],
      [['list', '--to', 's3://archives'], '--to goes with an export, not with list'],
      [['--from', 's3://archives'], '--from goes with list'],
    ] as const) {
      const r = await cli([...args, ...d.args], { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(existsSync(d.out)).toBe(false);
  });

  it('fails naming the endpoint when it is closed or refuses the keys; writes no archive, prints no key', async () => {
    const d = dirs();
    const closed = await cli(
      ['--session', A, '--no-jaeger', '--no-prometheus', '--to', 's3://archives', ...d.args],
      {
        env: { ...env, S3_ENDPOINT: 'http://127.0.0.1:9' },
      },
    );
    expect(closed.code).toBe(1);
    expect(closed.stderr).toContain(
      'export: error: S3 at http://127.0.0.1:9 is not reachable: the check of bucket archives failed (ECONNREFUSED; endpoint from S3_ENDPOINT (the environment))',
    );
    keyless(closed);

    const wrongSecret = `${s3.secretAccessKey.slice(0, -6)}ffffff`;
    const refused = await cli(
      ['--session', A, '--no-jaeger', '--no-prometheus', '--to', 's3://archives', ...d.args],
      {
        env: { ...env, S3_SECRET_ACCESS_KEY: wrongSecret },
      },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `export: error: S3 at ${s3.endpoint} refused the check of bucket archives (HTTP 403): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (from the environment)`,
    );
    keyless(refused);
    expect(refused.stdout + refused.stderr).not.toContain(wrongSecret);
    const listed = await cli(['list', '--from', 's3://archives'], {
      env: { ...env, S3_SECRET_ACCESS_KEY: wrongSecret },
    });
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(`S3 at ${s3.endpoint} refused listing s3://archives/ (HTTP 403`);
    expect(listed.stdout + listed.stderr).not.toContain(wrongSecret);
    // The service was checked before the export: no archive was made.
    expect(existsSync(d.out) ? readdirSync(d.out) : []).toEqual([]);
  });

  it('interrupted while uploading: exit 130, the archive kept here, nothing in S3', async () => {
    // A proxy to the gateway that passes every request but holds the upload itself (a PUT of an object) unanswered.
    const held = new Set<Socket>();
    const target = new URL(s3.endpoint);
    const proxy = createHttpServer((req, res) => {
      if (req.method === 'PUT' && /^\/[^/?]+\/[^?]+/.test(req.url ?? '')) {
        if (req.socket) held.add(req.socket);
        return;
      }
      const up = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const d = dirs();
      const r = await cli(
        [
          '--session',
          A,
          '--no-jaeger',
          '--no-prometheus',
          '--timeout',
          '60000',
          '--to',
          's3://archives-held/x',
          ...d.args,
        ],
        {
          env: { ...env, S3_ENDPOINT: endpoint },
          // the archive is made and verified: interrupt the upload (held by the proxy)
          onStdout: (text, kill) => text.includes('open report.html inside first') && kill(),
        },
      );
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/interrupted by SIGTERM; the archive is kept at \S+\.tar\.gz, not uploaded/);
      keyless(r);
      expect(readdirSync(d.out).filter((f) => f.endsWith('.tar.gz'))).toHaveLength(1);
      const listed = await cli(['list', '--from', 's3://archives-held'], { env });
      expect(listed.stdout).toContain('no archives under s3://archives-held/');
    } finally {
      for (const s of held) s.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
