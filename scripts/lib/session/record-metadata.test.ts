// record-metadata.ts against records that lie: ids that are paths, metadata naming another session or with fields
// of the wrong kind, records linked from elsewhere, FIFOs in place of metadata, starts in the future; each left out
// with why, none hanging; and the ordinary records listed and "the latest" named.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSessionId, recordFolder } from './record-files.ts';
import {
  latestSessionRecord,
  listSessionRecords,
  parseMetadata,
  readSessionMetadata,
  readSessionSecrets,
} from './record-metadata.ts';
import { recordPaths, type SessionMetadata, writeMetadata } from './session-record.ts';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';
const F = '44444444-4444-4444-8444-444444444444';
const HOST_SECRET = 'host-secret-7d1e0c9b';

const meta = (
  sessionId: string,
  startedAt: string,
  extra: Partial<SessionMetadata> = {},
): SessionMetadata => ({
  sessionId,
  status: 'completed',
  mode: 'headless',
  api: 'scripted',
  script: 'demo',
  model: null,
  user: null,
  claudeVersion: 'test',
  telemetry: { enabled: true, protocol: 'http/protobuf', endpoint: 'http://otel-collector:4318' },
  startedAt,
  endedAt: null,
  durationMs: null,
  exitCode: 0,
  signal: null,
  files: { log: 'session.log', metadata: 'metadata.json' },
  ...extra,
});

/** A sessions folder with records A and B, and a host file outside it that no read may reach. */
function sessionsFolder() {
  const base = mkdtempSync(join(tmpdir(), 'record-files-'));
  const hostFile = join(base, 'host-file');
  writeFileSync(hostFile, `${HOST_SECRET}\n`);
  const dir = join(base, 'sessions');
  mkdirSync(dir);
  for (const [id, start] of [
    [B, '2026-11-25T10:00:02.000Z'],
    [A, '2026-11-25T10:00:01.000Z'],
  ] as const) {
    const paths = recordPaths(dir, id);
    mkdirSync(paths.dir);
    writeMetadata(paths, meta(id, start));
    writeFileSync(paths.log, `# session ${id}\n`);
  }
  return { base, dir, hostFile, record: join(dir, A) };
}

const mkfifo = (path: string) => execFileSync('mkfifo', [path]);

describe('session ids and metadata', () => {
  it('takes only session ids as folder names', () => {
    const s = sessionsFolder();
    for (const bad of ['../sessions/x', '..', '', 'abc', `${A}/..`, `${A}\n`])
      expect(() => recordFolder(s.dir, bad), bad).toThrow(/not a session id \(a UUID\)/);
    expect(() => checkSessionId('../../etc', '/where')).toThrow(
      /^\/where names "..\/..\/etc", not a session id/,
    );
  });

  it('refuses metadata that names another session, or has fields of the wrong kind', () => {
    const file = `/s/${A}/metadata.json`;
    const json = (extra: object) => JSON.stringify({ ...meta(A, '2026-11-25T10:00:01Z'), ...extra });
    expect(parseMetadata(file, json({}), A).sessionId).toBe(A);
    const table: [string, RegExp][] = [
      [json({ sessionId: B }), new RegExp(`metadata\\.json has sessionId ${B}, not its folder's ${A}`)],
      [json({ sessionId: '../x' }), /has sessionId "..\/x", not a session id/],
      [json({ status: 'pwned' }), /has status "pwned", not one of running, completed/],
      [json({ user: '\u001b[2Jalice' }), /has user .*, not a user name/],
      [json({ durationMs: '3000' }), /has durationMs "3000", not a number/],
      [json({ telemetry: true }), /has telemetry true, not an object/],
      [json({ startedAt: 42 }), /has startedAt 42, not a time/],
      ['[1]', /is not a JSON object/],
      ['{ not json', /is not JSON/],
    ];
    for (const [content, rule] of table) expect(() => parseMetadata(file, content, A), content).toThrow(rule);
  });

  it('reads secrets.json only when it is salt and hashes', () => {
    const s = sessionsFolder();
    const secrets = join(s.record, 'secrets.json');
    writeFileSync(secrets, JSON.stringify({ salt: 's', sha256: ['a'.repeat(64)] }));
    expect(readSessionSecrets(s.dir, A)).toEqual({ salt: 's', sha256: ['a'.repeat(64)] });
    writeFileSync(secrets, JSON.stringify({ salt: 's', sha256: [{}] }));
    expect(() => readSessionSecrets(s.dir, A)).toThrow(/secrets\.json is not \{salt, sha256/);
    expect(readSessionSecrets(s.dir, B)).toBeNull();
    expect(() => readSessionSecrets(s.dir, '../x')).toThrow(/not a session id/);
  });
});

describe('listing and "the latest"', () => {
  it('lists good records oldest first; leaves out, with why, every record that breaks a rule, and never hangs', {
    timeout: 5000,
  }, () => {
    const s = sessionsFolder();
    mkdirSync(join(s.dir, C)); // no metadata: not a record, not a problem
    mkdirSync(join(s.dir, 'broken'));
    mkdirSync(join(s.dir, F));
    mkfifo(join(s.dir, F, 'metadata.json'));
    const other = join(s.base, 'elsewhere');
    mkdirSync(other);
    writeMetadata(recordPaths(s.base, 'elsewhere'), meta(C, '2026-11-25T10:00:09Z'));
    const D = '55555555-5555-4555-8555-555555555555';
    symlinkSync(other, join(s.dir, D));
    const E = '66666666-6666-4666-8666-666666666666';
    mkdirSync(join(s.dir, E));
    writeMetadata(recordPaths(s.dir, E), meta(A, '2026-11-25T10:00:09Z'));
    const { records, problems } = listSessionRecords(s.dir);
    expect(records.map((m) => m.sessionId)).toEqual([A, B]);
    expect(problems.map((p) => `${p.file.slice(s.dir.length + 1)} ${p.why}`)).toEqual([
      `${F}/metadata.json is a FIFO: only regular files are read`,
      `${D} is a symbolic link: record folders are never followed`,
      `${E}/metadata.json has sessionId ${A}, not its folder's ${E}`,
      'broken names "broken", not a session id (a UUID)',
    ]);
    expect(readSessionMetadata(s.dir, C)).toBeNull();
    expect(listSessionRecords(join(s.dir, 'absent'))).toEqual({ records: [], problems: [] });
  });

  it('never takes a record starting in the future, or at no time, as the latest; says so', () => {
    const s = sessionsFolder();
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(latestSessionRecord(s.dir, now)).toEqual({
      record: expect.objectContaining({ sessionId: B }),
      problems: [],
    });
    mkdirSync(join(s.dir, F));
    writeMetadata(recordPaths(s.dir, F), meta(F, '2099-01-01T00:00:00Z'));
    mkdirSync(join(s.dir, C));
    writeMetadata(recordPaths(s.dir, C), meta(C, 'tomorrow, honest'));
    const r = latestSessionRecord(s.dir, now);
    expect(r.record.sessionId).toBe(B);
    expect(r.problems.map((p) => p.why)).toEqual([
      'its start time is unknown: not taken as the latest',
      "it starts 2099-01-01T00:00:00.000Z, in the future (more than 5 min ahead of this host's clock): not taken as the latest",
    ]);
    const only = mkdtempSync(join(tmpdir(), 'record-files-'));
    mkdirSync(join(only, F));
    writeMetadata(recordPaths(only, F), meta(F, '2099-01-01T00:00:00Z'));
    expect(() => latestSessionRecord(only, now)).toThrow(
      /no session records in .* that can be the latest \(1 left out: .*in the future.*pnpm session/,
    );
    expect(() => latestSessionRecord(join(only, 'absent'), now)).toThrow(
      /no session records in .*absent: run `pnpm session` first/,
    );
  });
});
