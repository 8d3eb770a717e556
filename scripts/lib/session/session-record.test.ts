import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSessionSecrets } from './record-metadata.ts';
import {
  CLOCK_SKEW_MS,
  hashSecret,
  hashSecrets,
  latestOf,
  recordPaths,
  SESSION_ID,
  SHAREABLE_FILES,
  shellQuote,
  whyNotLatest,
  writeSecretHashes,
} from './session-record.ts';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

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

  it('never takes a start unknown or in the future (beyond the clock skew) as the latest', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const list = [
      { id: 'past', start: now - 60_000 },
      { id: 'skewed', start: now + CLOCK_SKEW_MS - 1 },
      { id: 'future', start: now + CLOCK_SKEW_MS + 1 },
      { id: 'far', start: Date.parse('2099-01-01T00:00:00Z') },
      { id: 'unknown', start: null },
    ];
    expect(latestOf(list, now)?.id).toBe('skewed');
    expect(
      latestOf(
        list.filter((s) => s.id !== 'skewed'),
        now,
      )?.id,
    ).toBe('past');
    expect(latestOf([{ id: 'unknown', start: null }], now)).toBeUndefined();
    expect(whyNotLatest(null, now)).toMatch(/start time is unknown/);
    expect(whyNotLatest(Number.NaN, now)).toMatch(/start time is unknown/);
    expect(whyNotLatest(Date.parse('2099-01-01T00:00:00Z'), now)).toMatch(
      /2099-01-01T00:00:00.000Z, in the future/,
    );
    expect(whyNotLatest(now, now)).toBeNull();
  });

  it('keeps only salted hashes of secret-named variables, in a 0600 file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'records-'));
    const paths = recordPaths(dir, A);
    mkdirSync(paths.dir);
    const key = 'sk-ant-api03-abcdefghijklmnop';
    writeSecretHashes(paths, { ANTHROPIC_API_KEY: key, HOME: '/home/node', SHORT_TOKEN: 'abc' });
    expect(readFileSync(paths.secrets, 'utf8')).not.toContain(key);
    expect(statSync(paths.secrets).mode & 0o777).toBe(0o600);
    const h = readSessionSecrets(dir, A);
    expect(h?.sha256).toEqual([hashSecret(h?.salt ?? '', key)]);
    expect(hashSecrets({ API_KEY: key }, 'salt').sha256).toEqual([hashSecret('salt', key)]);
    expect(readSessionSecrets(dir, B)).toBeNull();
    writeFileSync(paths.secrets, 'nope');
    expect(() => readSessionSecrets(dir, A)).toThrow(/secrets\.json is not JSON/);
  });
});

describe('shellQuote', () => {
  it('quotes words so a POSIX shell reads back exactly those words', () => {
    const words = [
      'claude',
      '--session-id',
      'x',
      "it's here",
      '$HOME',
      'a b',
      '*',
      '',
      '"q"',
      'semi;colon',
      'é',
    ];
    expect(shellQuote(['claude', '--session-id', 'x', "it's here"])).toBe(
      "claude --session-id x 'it'\\''s here'",
    );
    const sh = spawnSync('sh', ['-c', `printf '%s\\0' ${shellQuote(words)}`], { encoding: 'utf8' });
    expect(sh.status).toBe(0);
    expect(sh.stdout.split('\0').slice(0, -1)).toEqual(words);
  });
});
