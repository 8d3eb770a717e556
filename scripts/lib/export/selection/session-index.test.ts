import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordProblem } from '../../session/record-metadata.ts';
import { writeSessionRecord, writeTelemetry } from '../../testing/fixture-telemetry.ts';
import { indexSessions, parseDuration } from './session-index.ts';

const A = 'aaaaaaaa-1111-4111-8111-111111111111';
const B = 'bbbbbbbb-2222-4222-8222-222222222222';
const C = 'cccccccc-3333-4333-8333-333333333333';

describe('indexSessions', () => {
  it("knows each session's user: its record's, else the user.name of its telemetry (a record may be gone)", async () => {
    const base = mkdtempSync(join(tmpdir(), 'session-index-'));
    const telemetry = join(base, 'telemetry');
    const sessions = join(base, 'sessions');
    writeTelemetry(telemetry, [
      { id: A, variant: 'default', user: 'alice' },
      { id: B, variant: 'rich', user: 'bob' },
      { id: C, variant: 'default' },
    ]);
    writeSessionRecord(sessions, A, { user: 'alice' });
    const known = await indexSessions(telemetry, sessions);
    const user = (id: string) => known.find((s) => s.id === id)?.user;
    expect(user(A)).toBe('alice'); // record and telemetry
    expect(user(B)).toBe('bob'); // telemetry only: no record
    expect(user(C)).toBeNull(); // ran without --user
    expect(known.find((s) => s.id === B)).toMatchObject({ recorded: false, inTelemetry: true });
  });

  it('takes the record over the telemetry, and a record alone', async () => {
    const base = mkdtempSync(join(tmpdir(), 'session-index-'));
    writeTelemetry(join(base, 'telemetry'), [{ id: A, variant: 'default', user: 'from-telemetry' }]);
    writeSessionRecord(join(base, 'sessions'), A, { user: 'from-record' });
    writeSessionRecord(join(base, 'sessions'), B, { user: 'only-record' });
    writeSessionRecord(join(base, 'sessions'), C, { user: null });
    const known = await indexSessions(join(base, 'telemetry'), join(base, 'sessions'));
    expect(Object.fromEntries(known.map((s) => [s.id, s.user]))).toEqual({
      [A]: 'from-record',
      [B]: 'only-record',
      [C]: null,
    });
  });
});

describe('indexSessions against hostile records and telemetry', () => {
  it('leaves out, with a warning, records that break the rules and ids that are not ids; never hangs', {
    timeout: 5000,
  }, async () => {
    const base = mkdtempSync(join(tmpdir(), 'session-index-'));
    const telemetry = join(base, 'telemetry');
    const sessions = join(base, 'sessions');
    writeTelemetry(telemetry, [
      { id: A, variant: 'default', user: '\u001b[2Jmallory' },
      { id: '../../outside', variant: 'default' },
    ]);
    writeSessionRecord(sessions, B);
    mkdirSync(join(sessions, C));
    execFileSync('mkfifo', [join(sessions, C, 'metadata.json')]); // `pnpm export list` hung on this
    const elsewhere = join(base, 'elsewhere');
    writeSessionRecord(elsewhere, A);
    symlinkSync(join(elsewhere, A), join(sessions, A));
    writeFileSync(join(sessions, 'notes.txt'), 'not a record');
    const warnings: RecordProblem[] = [];
    const known = await indexSessions(telemetry, sessions, (p) => warnings.push(p));
    expect(known.map((s) => [s.id, s.recorded, s.user]).sort()).toEqual([
      [A, false, null], // from its telemetry only; a user.name that is not a user name is not taken
      [B, true, 'tester'],
    ]);
    expect(warnings.map((w) => `${w.file.replace(base, '')} ${w.why}`).sort()).toEqual([
      `/sessions/${A} is a symbolic link: record folders are never followed: left out`,
      `/sessions/${C}/metadata.json is a FIFO: only regular files are read: left out`,
      '/sessions/notes.txt names "notes.txt", not a session id (a UUID): left out',
      '/telemetry has a session.id "../../outside", not a session id (a UUID): left out',
    ]);
  });
});

describe('parseDuration', () => {
  it('reads 90s, 15m, 2h, 7d, 1w and refuses anything else', () => {
    expect(['90s', '15m', '2h', '7d', '1w'].map(parseDuration)).toEqual([
      90e3,
      15 * 6e4,
      2 * 3.6e6,
      7 * 8.64e7,
      6.048e8,
    ]);
    expect(() => parseDuration('yesterday')).toThrow(/--since takes a duration/);
  });
});
