import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  hashSecret,
  hashSecrets,
  latestOf,
  latestSessionRecord,
  listSessionRecords,
  readSecretHashes,
  readSessionRecord,
  recordPaths,
  SESSION_ID,
  type SessionMetadata,
  SHAREABLE_FILES,
  writeMetadata,
  writeSecretHashes,
} from './session-record.ts';

const meta = (sessionId: string, startedAt: string): SessionMetadata => ({
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
});

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';

function recordsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'records-'));
  for (const [id, start] of [
    [B, '2026-11-25T10:00:02.000Z'],
    [A, '2026-11-25T10:00:01.000Z'],
  ] as const) {
    const paths = recordPaths(dir, id);
    mkdirSync(paths.dir);
    writeMetadata(paths, meta(id, start));
  }
  mkdirSync(join(dir, C)); // a folder without metadata is not a record
  mkdirSync(join(dir, 'broken'));
  writeFileSync(join(dir, 'broken', 'metadata.json'), '{ not json');
  return dir;
}

describe('session record', () => {
  it('lays a record out as <dir>/<id>/{session.log,metadata.json,...} and never shares secrets.json', () => {
    const p = recordPaths('/s', A);
    expect(p).toEqual({
      dir: `/s/${A}`,
      log: `/s/${A}/session.log`,
      metadata: `/s/${A}/metadata.json`,
      terminal: `/s/${A}/terminal.log`,
      timing: `/s/${A}/terminal.timing`,
      transcript: `/s/${A}/transcript.jsonl`,
      secrets: `/s/${A}/secrets.json`,
    });
    expect(SHAREABLE_FILES).not.toContain('secrets.json');
    expect(SHAREABLE_FILES).toContain('transcript.jsonl');
  });

  it('takes UUIDs as session ids and nothing else', () => {
    expect(SESSION_ID.test(A)).toBe(true);
    for (const bad of ['', 'abc', `${A}x`, '../etc/passwd', A.replaceAll('-', '')])
      expect(SESSION_ID.test(bad), bad).toBe(false);
  });

  it('lists readable records oldest first and names the latest; unreadable ones are skipped', () => {
    const dir = recordsDir();
    expect(listSessionRecords(dir).map((m) => m.sessionId)).toEqual([A, B]);
    expect(latestSessionRecord(dir).sessionId).toBe(B);
    expect(readSessionRecord(dir, 'broken')).toBeNull();
    expect(readSessionRecord(dir, C)).toBeNull();
    expect(listSessionRecords(join(dir, 'absent'))).toEqual([]);
    expect(() => latestSessionRecord(join(dir, 'absent'))).toThrow(
      /no session records in .*absent.*pnpm session/,
    );
  });

  it('orders sessions by start, then id: the same "latest" for records and the export index', () => {
    const list = [
      { id: 'b', start: 2 },
      { id: 'c', start: null },
      { id: 'a', start: 2 },
      { id: 'd', start: 1 },
    ];
    expect(latestOf(list)?.id).toBe('b');
    expect(latestOf([])).toBeUndefined();
  });

  it('keeps only salted hashes of secret-named variables, in a 0600 file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'records-'));
    const paths = recordPaths(dir, A);
    mkdirSync(paths.dir);
    const key = 'sk-ant-api03-abcdefghijklmnop';
    writeSecretHashes(paths, { ANTHROPIC_API_KEY: key, HOME: '/home/node', SHORT_TOKEN: 'abc' });
    expect(readFileSync(paths.secrets, 'utf8')).not.toContain(key);
    expect(statSync(paths.secrets).mode & 0o777).toBe(0o600);
    const h = readSecretHashes(dir, A);
    expect(h?.sha256).toEqual([hashSecret(h?.salt ?? '', key)]);
    expect(hashSecrets({ API_KEY: key }, 'salt').sha256).toEqual([hashSecret('salt', key)]);
    expect(readSecretHashes(dir, B)).toBeNull();
    writeFileSync(paths.secrets, 'nope');
    expect(() => readSecretHashes(dir, A)).toThrow(/secrets\.json unreadable/);
  });
});
