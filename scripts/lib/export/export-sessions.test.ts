import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logsPayload } from '../../../stack/session-gateway/src/usage-event.ts';
import { hashSecrets } from '../session/session-record.ts';
import { writeSessionRecord, writeTelemetry } from '../testing/fixture-telemetry.ts';
import { type Manifest, readArchive, verifyArchive } from './archive/archive.ts';
import { exportSessions } from './export-sessions.ts';
import { UnknownSessionError } from './selection/choose-sessions.ts';

const A = 'aaaaaaaa-1111-4111-8111-111111111111';
const B = 'bbbbbbbb-2222-4222-8222-222222222222';
const API_KEY = 'sk-ant-api03-PLANTEDkey0123456789abcdefABCDEF';
const BEARER = 'planted-bearer-9f8e7d6c5b4a39281706';

/** A TCP port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function setup() {
  const base = mkdtempSync(join(tmpdir(), 'export-'));
  const telemetryDir = join(base, 'telemetry');
  const sessionsDir = join(base, 'sessions');
  writeTelemetry(
    telemetryDir,
    [
      { id: A, variant: 'rich' },
      { id: B, variant: 'default' },
    ],
    3,
  );
  writeSessionRecord(sessionsDir, A, {
    // what a session that ran `env` would have printed: both secrets in the log
    log: `tool output: ANTHROPIC_API_KEY=${API_KEY}\n${BEARER}\nAuthorization: Bearer ${BEARER}\n`,
    secrets: hashSecrets({ ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_AUTH_TOKEN: BEARER }),
  });
  // A subagent's transcript, copied into the record by the session wrapper; a secret reached it too.
  writeFileSync(
    join(sessionsDir, A, 'transcript-agent-x1.jsonl'),
    `{"type":"user","message":"the key is ${API_KEY}"}\n`,
  );
  return { base, telemetryDir, sessionsDir, outDir: join(base, 'out') };
}

const options = (s: ReturnType<typeof setup>) => ({
  telemetryDir: s.telemetryDir,
  sessionsDir: s.sessionsDir,
  outDir: s.outDir,
  versions: { CLAUDE_CODE_VERSION: '2.1.197' },
  tool: { name: 'test', version: '0' },
  knownSecrets: [],
});

describe('exportSessions', () => {
  it('archives one session out of rotated files; says what is missing when the backends are down', async () => {
    const s = setup();
    const port = await closedPort();
    const r = await exportSessions({
      ...options(s),
      sessions: [A],
      prometheus: `http://127.0.0.1:${port}`,
      jaeger: `http://127.0.0.1:${port}`,
      timeoutMs: 2000,
    });
    expect(await verifyArchive(r.archive)).toEqual([]);
    expect(readdirSync(s.outDir)).toEqual([r.archive.slice(s.outDir.length + 1)]); // no staging, no .partial
    const files = await readArchive(r.archive);
    const top = r.archive.slice(s.outDir.length + 1, -'.tar.gz'.length);
    const text = (p: string) => files.get(`${top}/${p}`)?.toString('utf8') ?? '';
    const manifest = JSON.parse(text('manifest.json')) as Manifest;
    expect(manifest.sessions).toEqual([A]);
    expect(manifest.missing.map((m) => m.what)).toEqual([
      `Jaeger trace of session ${A}`,
      `Prometheus metrics of session ${A}`,
    ]);
    expect(manifest.missing[0]?.why).toMatch(
      /Jaeger unreachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
    expect(manifest.files.map((f) => f.path)).toEqual([
      'README.md',
      'otlp/logs.jsonl',
      'otlp/metrics.jsonl',
      'otlp/traces.jsonl',
      'report.html',
      `sessions/${A}/metadata.json`,
      `sessions/${A}/session.log`,
      `sessions/${A}/transcript-agent-x1.jsonl`,
      'summary.json',
    ]);
    expect(manifest.files.find((f) => f.path === 'otlp/logs.jsonl')?.records).toBe(1);
    // only session A, read from the rotated backup, nothing of B or of the noise
    for (const signal of ['traces', 'metrics', 'logs']) {
      const lines = text(`otlp/${signal}.jsonl`);
      expect(lines).toContain(A);
      expect(lines).not.toContain(B);
      expect(lines).not.toContain('99999999-9999');
      expect(manifest.telemetry[signal]).toMatchObject({ filesRead: 2, requests: 1 });
    }
    expect(manifest.timeRange.start).toBe('2026-11-23T21:19:01.000Z');
    // the recorded session: 5 model calls of 123 input / 45 output tokens, 4 tools, content un-redacted
    const summary = JSON.parse(text('summary.json')).sessions[0];
    expect(summary).toMatchObject({
      sessionId: A,
      prompts: 1,
      modelCalls: { count: 5 },
      toolCalls: { calls: 4, successRate: 1 },
    });
    expect(summary.tokens.input).toBe(5 * 123);
    expect(Object.keys(summary.toolCalls.byTool).sort()).toEqual([
      'Bash',
      'Edit',
      'Write',
      'mcp__probe__echo',
    ]);
    expect(manifest.content).toMatchObject({
      userPrompts: true,
      toolDetails: true,
      toolContent: true,
    });
    const report = text('report.html');
    expect(report).toContain('data-chart="tokens"');
    expect(report).toContain('This archive is incomplete');
    expect(report).not.toMatch(/(src|href)="https?:/);
    // no secret anywhere, and the manifest says what was removed
    for (const [name, data] of files) {
      expect(data.toString('utf8'), name).not.toContain(API_KEY);
      expect(data.toString('utf8'), name).not.toContain(BEARER);
    }
    expect(manifest.redactions['session-secret'] ?? 0).toBeGreaterThan(0);
    expect(text(`sessions/${A}/session.log`)).toContain('[REDACTED:');
  });

  it("puts the gateway's observed usage beside the reported in summary.json, the manifest and report.html", async () => {
    const s = setup();
    // The gateway's record: 4 of A's 5 calls (Claude Code reported one more), and 5 of B's; as the gateway sends them.
    const seen = (id: string, n: number) =>
      logsPayload(
        Array.from({ length: n }, (_, i) => ({
          time: 1_795_468_742_000 + i,
          user: 'alice',
          sessionId: id,
          path: '/v1/messages',
          model: 'claude-opus-4-8',
          status: 200,
          attempt: 1,
          inputTokens: 123,
          outputTokens: 45,
          cacheReadTokens: 0,
          cacheCreationTokens: 0,
          costUsd: 0.00174,
          priceKnown: true,
          ttfbMs: 20,
          durationMs: 65,
          requestId: null,
          outcome: 'ok',
        })),
      );
    appendFileSync(
      join(s.telemetryDir, 'logs.jsonl'),
      `${JSON.stringify(seen(A, 4))}\n${JSON.stringify(seen(B, 5))}\n`,
    );
    const r = await exportSessions({ ...options(s), sessions: [A, B], prometheus: null, jaeger: null });
    const usage = r.manifest.usage ?? {};
    expect(usage[A]?.differences.map((d) => d.text)).toEqual([
      'reported 5 model calls, observed 4',
      'reported 615 input tokens, observed 492',
      'reported 225 output tokens, observed 180',
      'reported cost $0.0087, observed $0.00696',
    ]);
    expect(usage[B]).toMatchObject({
      equal: true,
      differences: [],
      observed: { requests: 5, modelCalls: 5 },
    });
    expect(r.summary.map((x) => x.usage)).toEqual([usage[A], usage[B]]);
    const files = await readArchive(r.archive);
    const report = [...files].find(([name]) => name.endsWith('/report.html'))?.[1].toString('utf8') ?? '';
    expect(report).toContain('<li>reported 5 model calls, observed 4</li>');
    expect(report).toContain('data-key="usage.equal"'); // B's
    expect(report).toContain('data-key="provenance"');
  });

  it('exports several sessions into one archive', async () => {
    const s = setup();
    const r = await exportSessions({ ...options(s), sessions: [A, B], prometheus: null, jaeger: null });
    expect(r.manifest.sessions).toEqual([A, B]);
    expect(r.summary.map((x) => x.sessionId)).toEqual([A, B]);
    expect(r.manifest.missing.map((m) => m.what)).toContain(`session record of ${B}`);
    expect(r.archive).toMatch(/claude-code-sessions-2-\d{8}T\d{6}Z\.tar\.gz$/);
    expect(r.manifest.content.userPrompts).toBe(true); // A's telemetry carried prompts; B's did not
  });

  it('leaves planted links, FIFOs and linked record folders out of the archive, and says which and why', {
    timeout: 20_000,
  }, async () => {
    const s = setup();
    const HOST = 'host-file-content-5c2a9e';
    const hostFile = join(s.base, 'host-file');
    writeFileSync(hostFile, `${HOST}\n`);
    const record = join(s.sessionsDir, A);
    symlinkSync(hostFile, join(record, 'transcript-agent-evil.jsonl')); // the reported attack
    symlinkSync('/proc/self/environ', join(record, 'transcript.jsonl'));
    execFileSync('mkfifo', [join(record, 'terminal.log')]); // would hang a blocking read
    writeFileSync(join(record, 'planted.jsonl'), HOST); // a name the record does not define
    // B's record folder is a link to a folder elsewhere, with a record that looks right
    const elsewhere = join(s.base, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'metadata.json'), JSON.stringify({ sessionId: B }));
    writeFileSync(join(elsewhere, 'session.log'), HOST);
    symlinkSync(elsewhere, join(s.sessionsDir, B));
    const r = await exportSessions({ ...options(s), sessions: [A, B], prometheus: null, jaeger: null });
    const files = await readArchive(r.archive);
    for (const [name, data] of files) expect(data.toString('utf8'), name).not.toContain(HOST);
    const paths = r.manifest.files.map((f) => f.path);
    expect(paths.filter((p) => p.startsWith('sessions/'))).toEqual([
      `sessions/${A}/metadata.json`,
      `sessions/${A}/session.log`,
      `sessions/${A}/transcript-agent-x1.jsonl`,
    ]);
    const why = Object.fromEntries(r.manifest.missing.map((m) => [m.what, m.why]));
    expect(why[`sessions/${A}/transcript-agent-evil.jsonl`]).toMatch(
      /transcript-agent-evil\.jsonl is a symbolic link: record files are never followed: left out of the archive/,
    );
    expect(why[`sessions/${A}/transcript.jsonl`]).toMatch(/is a symbolic link/);
    expect(why[`sessions/${A}/terminal.log`]).toMatch(/terminal\.log is a FIFO: only regular files are read/);
    expect(why[`session record of ${B}`]).toMatch(/is a symbolic link: record folders are never followed/);
    expect(r.summary.map((x) => x.sessionId)).toEqual([A, B]); // B's telemetry is still exported
  });

  it('refuses ids that are not session ids before reading anything', async () => {
    const s = setup();
    const run = exportSessions({ ...options(s), sessions: ['../../etc'], prometheus: null, jaeger: null });
    await expect(run).rejects.toThrow(UnknownSessionError);
    await expect(run).rejects.toThrow(/not session ids \(a UUID.*"\.\.\/\.\.\/etc"/);
    expect(existsSync(s.outDir) ? readdirSync(s.outDir) : []).toEqual([]);
  });

  it('refuses an unknown session id, naming how to find ids, and writes nothing', async () => {
    const s = setup();
    const unknown = '00000000-0000-4000-8000-000000000000';
    const run = exportSessions({ ...options(s), sessions: [unknown], prometheus: null, jaeger: null });
    await expect(run).rejects.toThrow(UnknownSessionError);
    await expect(run).rejects.toThrow(/unknown session id 0{8}-.*`pnpm export list`/);
    expect(readdirSync(s.outDir)).toEqual([]);
  });

  it('leaves nothing behind when aborted', async () => {
    const s = setup();
    const abort = new AbortController();
    let lines = 0;
    const run = exportSessions({
      ...options(s),
      sessions: [A],
      prometheus: null,
      jaeger: null,
      signal: abort.signal,
      log: () => {
        if (++lines === 2) abort.abort(new Error('interrupted by test'));
      },
    });
    await expect(run).rejects.toThrow('interrupted by test');
    expect(existsSync(s.outDir) ? readdirSync(s.outDir) : []).toEqual([]);
  });
});
