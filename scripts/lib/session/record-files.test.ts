// record-files.ts against hostile record folders: every way a session could plant something in its record (links
// to host files, FIFOs, devices, huge sparse files, ids that are paths, metadata that lies), each refused with an
// error naming the file and the rule, none hanging; and the ordinary record still read.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  RecordFileError,
  readRecordFile,
  recordFileKind,
  recordFileNames,
  recordFolder,
} from './record-files.ts';
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

/**
 * readRecordFile in a child process killed after 5 s: its error message, or `read`. A blocking open of a FIFO would
 * block the test worker itself, past any test timeout, so what could hang is tried out of process.
 */
function readInChild(dir: string, name: string): string {
  const module = JSON.stringify(new URL('./record-files.ts', import.meta.url).href);
  const code = `const { readRecordFile } = await import(${module});
try { readRecordFile(${JSON.stringify(dir)}, ${JSON.stringify(name)}); console.log('read'); }
catch (err) { console.log(err.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    timeout: 5000,
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0)
    throw new Error(`the read did not end within 5 s (${r.error?.message ?? r.stderr}): it blocked`);
  return r.stdout.trim();
}

/** Each plant in A's record folder, and the rule readRecordFile must name. */
const ATTACKS: {
  what: string;
  name: string;
  plant: (file: string, hostFile: string) => void;
  rule: RegExp;
  /** Tried in a child process (readInChild): a wrong open would block. */
  mayBlock?: boolean;
}[] = [
  {
    what: 'a subagent transcript linked to a host file',
    name: 'transcript-agent-x.jsonl',
    plant: (f, host) => symlinkSync(host, f),
    rule: /transcript-agent-x\.jsonl is a symbolic link: record files are never followed/,
  },
  {
    what: 'metadata linked to /proc/self/environ',
    name: 'metadata.json',
    plant: (f) => symlinkSync('/proc/self/environ', f),
    rule: /metadata\.json is a symbolic link/,
  },
  {
    what: 'a log linked to a directory',
    name: 'session.log',
    plant: (f) => symlinkSync('/etc', f),
    rule: /session\.log is a symbolic link/,
  },
  {
    what: 'a dangling link',
    name: 'terminal.log',
    plant: (f) => symlinkSync('/nonexistent/x', f),
    rule: /terminal\.log is a symbolic link/,
  },
  {
    what: '/dev/zero through a link',
    name: 'terminal.log',
    plant: (f) => symlinkSync('/dev/zero', f),
    rule: /terminal\.log is a symbolic link/,
  },
  {
    what: 'a FIFO (no writer: a blocking open would hang)',
    name: 'transcript.jsonl',
    plant: (f) => mkfifo(f),
    rule: /transcript\.jsonl is a FIFO: only regular files are read/,
    mayBlock: true,
  },
  {
    what: 'a directory where a file belongs',
    name: 'transcript.jsonl',
    plant: (f) => mkdirSync(f),
    rule: /transcript\.jsonl is a directory: only regular files are read/,
  },
  {
    what: 'a 10 GiB sparse transcript',
    name: 'transcript.jsonl',
    plant: (f) => {
      writeFileSync(f, '');
      truncateSync(f, 10 * 1024 ** 3);
    },
    rule: /transcript\.jsonl is 10240 MiB, over the 256 MiB bound of a record's transcript/,
  },
  {
    what: 'a 2 MiB metadata.json',
    name: 'metadata.json',
    plant: (f) => writeFileSync(f, ' '.repeat(2 * 1024 * 1024)),
    rule: /metadata\.json is 2 MiB, over the 1 MiB bound of a record's metadata/,
  },
];

describe('readRecordFile: the attack table', () => {
  for (const a of ATTACKS)
    it(`refuses ${a.what}`, { timeout: 5000 }, () => {
      const s = sessionsFolder();
      const file = join(s.record, a.name);
      execFileSync('rm', ['-rf', file]);
      a.plant(file, s.hostFile);
      if (a.mayBlock) return expect(readInChild(s.record, a.name)).toMatch(a.rule);
      expect(() => readRecordFile(s.record, a.name)).toThrow(RecordFileError);
      expect(() => readRecordFile(s.record, a.name)).toThrow(a.rule);
    });

  it('refuses a real character device (mknod: root with CAP_MKNOD only)', { timeout: 5000 }, (ctx) => {
    const s = sessionsFolder();
    const file = join(s.record, 'terminal.log');
    try {
      execFileSync('mknod', [file, 'c', '1', '5'], { stdio: 'ignore' }); // /dev/zero's numbers
    } catch {
      ctx.skip(); // not root, or no CAP_MKNOD here
    }
    expect(readInChild(s.record, 'terminal.log')).toMatch(
      /terminal\.log is a character device: only regular files are read/,
    );
  });

  it('reads only names the record module defines, and only in a real directory', () => {
    const s = sessionsFolder();
    for (const name of ['../../host-file', 'secrets.txt', 'transcript-agent-.jsonl', '.bashrc'])
      expect(() => readRecordFile(s.record, name), name).toThrow(/is not a file of a session record/);
    const linked = join(s.dir, C);
    symlinkSync(s.record, linked);
    expect(() => readRecordFile(linked, 'session.log')).toThrow(
      /is a symbolic link: record folders are never followed/,
    );
    expect(() => recordFolder(s.dir, C)).toThrow(/record folders are never followed/);
    writeFileSync(join(s.dir, F), 'a file, not a folder');
    expect(() => recordFolder(s.dir, F)).toThrow(/is a regular file, not a directory: not a record folder/);
  });

  it('reads a regular file up to its bound, and null when it is absent', () => {
    const s = sessionsFolder();
    expect(readRecordFile(s.record, 'session.log')).toBe(`# session ${A}\n`);
    expect(readRecordFile(s.record, 'transcript.jsonl')).toBeNull();
    expect(readRecordFile(join(s.dir, C), 'session.log')).toBeNull();
    const exact = `# session ${A}\n`.length;
    expect(readRecordFile(s.record, 'session.log', { maxBytes: exact })).toHaveLength(exact);
    expect(() => readRecordFile(s.record, 'session.log', { maxBytes: exact - 1 })).toThrow(
      new RegExp(`session\\.log is ${exact} bytes, over the ${exact - 1} bytes bound`),
    );
    expect(recordFileKind('transcript-agent-a1b2.jsonl')).toBe('subagentTranscript');
    expect(recordFileKind('notes.txt')).toBeNull();
  });

  it('lists only the names the record defines (a planted file of another name is never looked at)', () => {
    const s = sessionsFolder();
    writeFileSync(join(s.record, 'planted.sh'), 'x');
    mkfifo(join(s.record, 'transcript-agent-x.jsonl'));
    expect(recordFileNames(s.record)).toEqual(['metadata.json', 'session.log', 'transcript-agent-x.jsonl']);
  });
});
