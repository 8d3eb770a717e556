// Hostile inputs against the server's own limits, through a real MCP client: FIFOs, huge folders, huge edits and
// responses, results that would show where the roots are, writes past a time-out, unreadable folders. Each test
// checks the clear refusal, that nothing else changed, and that the server still answers other calls. No test
// counts time: outcomes, counts and bytes only.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolMetrics } from '@claude-code-telemetry/mcp-common/instrument';
import { createTelemetry } from '@claude-code-telemetry/mcp-common/telemetry';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EDITS } from './edits.ts';
import { DEFAULT_LIMITS, editFile, type FileOps, listDirectory, writeTextFile } from './lib.ts';
import { createSandbox } from './path-rules.ts';
import { createFileOpsServer } from './server.ts';
import { MAX_DIFF_CHARS } from './unified-diff.ts';

const spans = new InMemorySpanExporter();
const telemetry = createTelemetry({ serviceName: 't', serviceVersion: '0', spanExporter: spans, env: {} });
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;
const temps: string[] = [];
const tempDir = (prefix: string) => {
  const d = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  temps.push(d);
  return d;
};
const fifos: string[] = [];

afterAll(() => {
  // Had a read blocked on a FIFO after all, a writer's open lets it go, so nothing is left hanging.
  for (const f of fifos) {
    try {
      closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {}
  }
  // `rm -rf` reaches folders deeper than PATH_MAX too.
  for (const d of temps) spawnSync('rm', ['-rf', d]);
});

async function connect(ops: FileOps) {
  const server = createFileOpsServer(ops, telemetry, toolMetrics(telemetry), { transport: 'stdio' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(a);
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  return { client, call };
}

/** The tree's files (not following links) with their content; special files by type. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const full = join(dir, name);
    const st = lstatSync(full);
    if (st.isFile()) out[name] = readFileSync(full, 'latin1');
    else if (!st.isDirectory()) out[name] = `special ${st.mode.toString(8)}`;
  }
  return out;
}

let root: string;
let ops: FileOps;
let call: Awaited<ReturnType<typeof connect>>['call'];

beforeAll(async () => {
  root = tempDir('file-ops-limits-');
  writeFileSync(join(root, 'hello.txt'), 'hello\n');
  ops = { sandbox: await createSandbox([root]), limits: { ...DEFAULT_LIMITS } };
  ({ call } = await connect(ops));
});

const stillAnswers = async () => {
  const r = await call('read_file', { path: 'hello.txt' });
  expect(r.isError, text(r)).toBeFalsy();
  expect(r.structuredContent).toMatchObject({ content: 'hello\n' });
};

describe('FIFOs and other files that are not regular files', () => {
  let fifo: string;
  beforeAll(() => {
    mkdirSync(join(root, 'fifo-dir'));
    fifo = join(root, 'fifo-dir', 'pipe');
    execFileSync('mkfifo', [fifo]);
    fifos.push(fifo);
  });

  it('read_file on a FIFO, 5 at a time: each refused (not-a-file) without waiting for a writer; the server still reads files', async () => {
    // Before the fix, each open waited for a writer on one of libuv's 4 threads: 4 of them stalled every call.
    const reads = await Promise.all(
      Array.from({ length: 5 }, () => call('read_file', { path: 'fifo-dir/pipe' })),
    );
    for (const r of reads) {
      expect(r.isError).toBe(true);
      expect(text(r)).toBe(
        'refused (not-a-file): fifo-dir/pipe is not a regular file (a FIFO, socket or device): only regular files are read or edited',
      );
    }
    // More file operations than libuv has threads, all answered.
    const after = await Promise.all(
      Array.from({ length: 8 }, () => call('read_file', { path: 'hello.txt' })),
    );
    for (const r of after) expect(r.structuredContent).toMatchObject({ content: 'hello\n' });
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('edit_file and write_file refuse a FIFO and leave it a FIFO; get_file_info, list_directory and search_files describe it without opening it', async () => {
    const edits = await Promise.all(
      Array.from({ length: 5 }, () =>
        call('edit_file', { path: 'fifo-dir/pipe', edits: [{ oldText: 'a', newText: 'b' }], dryRun: true }),
      ),
    );
    for (const r of edits)
      expect(text(r)).toMatch(/^refused \(not-a-file\): fifo-dir\/pipe is not a regular file/);
    const write = await call('write_file', { path: 'fifo-dir/pipe', content: 'x' });
    expect(text(write)).toBe(
      'refused (not-a-file): fifo-dir/pipe is not a regular file (a FIFO, socket or device): it is not replaced',
    );
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(join(root, 'fifo-dir'))).toEqual(['pipe']); // no temp file left

    const info = await call('get_file_info', { path: 'fifo-dir/pipe' });
    expect(info.structuredContent).toMatchObject({ path: 'fifo-dir/pipe', type: 'other', size: 0 });
    const list = await call('list_directory', { path: 'fifo-dir' });
    expect(list.structuredContent).toMatchObject({ entries: [{ name: 'pipe', type: 'other', size: 0 }] });
    const found = await call('search_files', { path: '.', pattern: 'pip*' });
    expect(found.structuredContent).toMatchObject({ matches: [join('fifo-dir', 'pipe')], unreadable: 0 });
    await stillAnswers();
  });
});

describe('list_directory in a huge folder', () => {
  const names = Array.from({ length: 3000 }, (_, i) => `f-${String(i).padStart(4, '0')}${i % 2 ? 'B' : 'a'}`);
  beforeAll(() => {
    mkdirSync(join(root, 'huge'));
    for (const n of names) writeFileSync(join(root, 'huge', n), 'x');
  });

  it('returns at most FILE_OPS_MAX_LIST_ENTRIES (1000) entries, sorted, with truncated and a note naming search_files', async () => {
    const r = await call('list_directory', { path: 'huge' });
    expect(r.isError, text(r)).toBeFalsy();
    const s = r.structuredContent as {
      path: string;
      entries: { name: string; type: string; size: number }[];
      truncated: boolean;
      note: string;
    };
    expect(s.path).toBe('huge');
    expect(s.entries).toHaveLength(1000);
    expect(s.truncated).toBe(true);
    expect(s.note).toBe(
      'showing 1000 entries (the first read, sorted by name); the folder has more: use search_files with a name pattern to find the ones you need',
    );
    expect(text(r).endsWith(`(${s.note})`)).toBe(true);
    const shown = s.entries.map((e) => e.name);
    expect(shown).toEqual([...shown].sort()); // UTF-16 code-unit order
    expect(new Set(shown).size).toBe(1000);
    for (const e of s.entries) {
      expect(names).toContain(e.name);
      expect(e).toMatchObject({ type: 'file', size: 1 });
    }
    expect(readdirSync(join(root, 'huge'))).toHaveLength(3000); // nothing changed
    await stillAnswers();
  });

  it('a folder within the cap: every entry, truncated false, no note, in code-unit order (not locale order)', async () => {
    mkdirSync(join(root, 'small'));
    for (const n of ['b', 'B', 'a', '_', 'é']) writeFileSync(join(root, 'small', n), '');
    const r = await call('list_directory', { path: 'small' });
    expect(r.structuredContent).toEqual({
      path: 'small',
      entries: ['B', '_', 'a', 'b', 'é'].map((name) => ({ name, type: 'file', size: 0 })),
      truncated: false,
    });
  });

  it('the cap is a limit (FILE_OPS_MAX_LIST_ENTRIES), and the listing stops when the call is over its budget', async () => {
    const small = { ...ops, limits: { ...ops.limits, maxListEntries: 10 } };
    const r = await listDirectory(small, 'huge');
    expect(r.entries).toHaveLength(10);
    expect(r.note).toContain('showing 10 entries');
    const over = AbortSignal.abort(new Error('over budget'));
    await expect(listDirectory(ops, 'huge', over)).rejects.toThrow('over budget');
  });
});

describe('edit_file limits', () => {
  beforeAll(() => {
    writeFileSync(join(root, 'edit-me.txt'), 'alpha\nbeta\ngamma\n');
  });
  const unchanged = () =>
    expect(readFileSync(join(root, 'edit-me.txt'), 'utf8')).toBe('alpha\nbeta\ngamma\n');

  it(`refuses more than ${MAX_EDITS} edits (the schema, and the rule behind it), changing nothing`, async () => {
    const edits = Array.from({ length: MAX_EDITS + 1 }, () => ({ oldText: 'beta', newText: 'BETA' }));
    const r = await call('edit_file', { path: 'edit-me.txt', edits });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/Input validation error[\s\S]*edits/);
    await expect(editFile(ops, 'edit-me.txt', edits, true)).rejects.toMatchObject({
      rule: 'too-many-edits',
      message: `${MAX_EDITS + 1} edits, over the limit of ${MAX_EDITS} per call (use write_file for a larger change)`,
    });
    unchanged();
    await stillAnswers();
  });

  it('refuses edits whose oldText + newText are over the write limit, before reading the file', async () => {
    const tiny = { ...ops, limits: { ...ops.limits, maxWriteBytes: 64 } };
    await expect(
      editFile(tiny, 'edit-me.txt', [{ oldText: 'beta', newText: 'b'.repeat(61) }], false),
    ).rejects.toMatchObject({
      rule: 'too-large',
      message: 'the edits are 65 bytes (oldText + newText), over the write limit of 64 bytes',
    });
    const big = 'x'.repeat(DEFAULT_LIMITS.maxWriteBytes);
    const r = await call('edit_file', { path: 'edit-me.txt', edits: [{ oldText: 'beta', newText: big }] });
    expect(text(r)).toBe(
      `refused (too-large): the edits are ${DEFAULT_LIMITS.maxWriteBytes + 4} bytes (oldText + newText), over the write limit of ${DEFAULT_LIMITS.maxWriteBytes} bytes`,
    );
    unchanged();
  });

  it('checks the edited size against the write limit before any diff, with dryRun too', async () => {
    // The file and the edit are each within the limits; the edited file is not.
    writeFileSync(join(root, 'grow.txt'), `X${'.'.repeat(900 * 1024)}`);
    const before = readFileSync(join(root, 'grow.txt'), 'utf8');
    const edits = [{ oldText: 'X', newText: 'y'.repeat(200 * 1024) }];
    for (const dryRun of [true, false]) {
      const r = await call('edit_file', { path: 'grow.txt', edits, dryRun });
      expect(text(r), `dryRun ${dryRun}`).toMatch(
        /^refused \(too-large\): grow\.txt would be 1126400 bytes after the edits, over the write limit of 1048576 bytes$/,
      );
      expect(text(r).length).toBeLessThan(200); // no diff of a file over the limit
    }
    expect(readFileSync(join(root, 'grow.txt'), 'utf8')).toBe(before);
  });

  it(`cuts the diff of a large edit at ${MAX_DIFF_CHARS} characters, saying so; the edit itself is whole`, async () => {
    const content = 'line\n'.repeat(100_000);
    writeFileSync(join(root, 'large.txt'), content);
    const r = await call('edit_file', {
      path: 'large.txt',
      edits: [{ oldText: content, newText: 'LINE\n'.repeat(100_000) }],
    });
    expect(r.isError, text(r)).toBeFalsy();
    const s = r.structuredContent as { path: string; diff: string; diffTruncated: boolean; applied: boolean };
    expect(s).toMatchObject({ path: 'large.txt', diffTruncated: true, applied: true });
    expect(s.diff.startsWith('--- large.txt\n+++ large.txt\n@@ -1,100001 +1,100001 @@\n-line\n')).toBe(true);
    expect(s.diff.length).toBeLessThan(MAX_DIFF_CHARS + 200);
    expect(s.diff.trimEnd().split('\n').at(-1)).toBe(
      `\\ diff cut at ${MAX_DIFF_CHARS} characters: the edit removes 100000 lines and adds 100000 from line 1`,
    );
    expect(readFileSync(join(root, 'large.txt'), 'utf8')).toBe('LINE\n'.repeat(100_000));
  });
});

describe('the response limit', () => {
  it('read_file of 1 MiB of control characters (12 MiB as JSON, twice) is refused (response-too-large); the server goes on', async () => {
    writeFileSync(join(root, 'controls.txt'), '\u0001'.repeat(1024 * 1024));
    spans.reset();
    const r = await call('read_file', { path: 'controls.txt' });
    expect(r.isError).toBe(true);
    // Either refused with the rule or small enough: with 6 bytes a character, twice, it cannot fit 4 MiB.
    const m =
      /^refused \(response-too-large\): the result of read_file is (\d+) bytes as JSON, over the response limit of 4194304 bytes \(MCP_MAX_RESPONSE_BYTES; the data is sent twice, as text and structured content, and JSON-escaped\): ask for less/.exec(
        text(r),
      );
    expect(m, text(r)).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(12 * 1024 * 1024);
    expect(spans.getFinishedSpans().at(-1)?.attributes).toMatchObject({
      'mcp.tool.outcome': 'refused',
      'error.type': 'response-too-large',
    });
    await stillAnswers();
  });
});

describe('results never show where the roots are', () => {
  it('every tool names paths relative to the root', async () => {
    const results: CallToolResult[] = [];
    const run = async (name: string, args: Record<string, unknown>) => {
      const r = await call(name, args);
      expect(r.isError, `${name}: ${text(r)}`).toBeFalsy();
      results.push(r);
      return r;
    };
    const w = await run('write_file', { path: 'rel/new.txt', content: 'one\n', createDirectories: true });
    expect(text(w)).toBe('created rel/new.txt (4 bytes)');
    expect(w.structuredContent).toMatchObject({ path: 'rel/new.txt' });
    expect(text(await run('write_file', { path: join(root, 'rel/new.txt'), content: 'two\n' }))).toBe(
      'replaced rel/new.txt (4 bytes)',
    );
    expect((await run('read_file', { path: join(root, 'rel', 'new.txt') })).structuredContent).toMatchObject({
      path: 'rel/new.txt',
    });
    const e = await run('edit_file', { path: 'rel/new.txt', edits: [{ oldText: 'two', newText: '2' }] });
    expect(text(e)).toBe('--- rel/new.txt\n+++ rel/new.txt\n@@ -1,2 +1,2 @@\n-two\n+2\n \n');
    expect((await run('get_file_info', { path: 'rel' })).structuredContent).toMatchObject({ path: 'rel' });
    expect((await run('list_directory', { path: root })).structuredContent).toMatchObject({ path: '.' });
    expect((await run('create_directory', { path: 'rel/d' })).structuredContent).toEqual({
      path: 'rel/d',
      created: true,
    });
    expect(text(await run('create_directory', { path: 'rel/d' }))).toBe('exists: rel/d');
    expect((await run('search_files', { path: 'rel', pattern: '*.txt' })).structuredContent).toMatchObject({
      path: 'rel',
      matches: ['new.txt'],
    });
    for (const r of results) expect(JSON.stringify(r)).not.toContain(root);
  });

  it('with two roots, a path in the second is `[root 2]/...`, and that name leads back to it', async () => {
    const second = tempDir('file-ops-second-');
    writeFileSync(join(second, 'there.txt'), 'in root 2\n');
    const two = await connect({ sandbox: await createSandbox([root, second]), limits: DEFAULT_LIMITS });
    const r = await two.call('read_file', { path: join(second, 'there.txt') });
    expect(r.structuredContent).toEqual({ path: '[root 2]/there.txt', size: 10, content: 'in root 2\n' });
    const back = await two.call('write_file', { path: '[root 2]/there.txt', content: 'changed\n' });
    expect(text(back)).toBe('replaced [root 2]/there.txt (8 bytes)');
    expect(readFileSync(join(second, 'there.txt'), 'utf8')).toBe('changed\n');
    expect((await two.call('list_directory', { path: '[root 2]' })).structuredContent).toMatchObject({
      path: '[root 2]',
      entries: [{ name: 'there.txt', type: 'file' }],
    });
    expect((await two.call('read_file', { path: 'hello.txt' })).structuredContent).toMatchObject({
      path: 'hello.txt',
    });
    expect(text(await two.call('read_file', { path: '[root 2]/../outside.txt' }))).toMatch(
      /^refused \(outside-roots\)/,
    );
    expect(text(await two.call('write_file', { path: '[root 2]', content: 'x' }))).toMatch(
      /^refused \(root-itself\)/,
    );
    // No third root: `[root 3]` is an ordinary (missing) name in the first.
    expect(text(await two.call('read_file', { path: '[root 3]/x' }))).toBe(
      'refused (not-found): [root 3]/x does not exist',
    );
    await two.client.close();
  });
});

describe('a write whose call ran out of time changes nothing', () => {
  const onlyHello = () => expect(readdirSync(join(root, 'late'))).toEqual(['hello.txt']);
  beforeAll(() => {
    mkdirSync(join(root, 'late'));
    writeFileSync(join(root, 'late', 'hello.txt'), 'before\n');
  });

  it('write_file and edit_file with an aborted signal: refused, the file as it was, no temp file', async () => {
    const aborted = AbortSignal.abort(new Error('over budget'));
    await expect(writeTextFile(ops, 'late/hello.txt', 'after\n', false, aborted)).rejects.toThrow(
      'over budget',
    );
    await expect(
      editFile(ops, 'late/hello.txt', [{ oldText: 'before', newText: 'after' }], false, aborted),
    ).rejects.toThrow('over budget');
    await expect(writeTextFile(ops, 'late/new/x.txt', 'x', true, aborted)).rejects.toThrow('over budget');
    expect(readFileSync(join(root, 'late', 'hello.txt'), 'utf8')).toBe('before\n');
    onlyHello();
  });

  it('a signal that aborts once the temp file is written: no rename, the temp file removed', async () => {
    // Aborts at its second check: the first is before the temp file is made, the second before the rename.
    const abortsLate = () => {
      let checks = 0;
      return {
        get aborted() {
          return checks >= 2;
        },
        throwIfAborted() {
          if (++checks >= 2) throw new Error('over budget during the write');
        },
      } as unknown as AbortSignal;
    };
    await expect(writeTextFile(ops, 'late/hello.txt', 'after\n', false, abortsLate())).rejects.toThrow(
      'over budget during the write',
    );
    await expect(
      editFile(ops, 'late/hello.txt', [{ oldText: 'before', newText: 'after' }], false, abortsLate()),
    ).rejects.toThrow('over budget during the write');
    expect(readFileSync(join(root, 'late', 'hello.txt'), 'utf8')).toBe('before\n');
    onlyHello();
    await stillAnswers();
  });
});

describe('search_files in a tree with a folder it cannot read', () => {
  it('skips it, counts it (unreadable) and says the matches may be incomplete; the rest is found', async () => {
    // A folder whose path is longer than PATH_MAX cannot be opened, even by root (chmod 000 would not stop root).
    const deep = tempDir('file-ops-deep-');
    writeFileSync(join(deep, 'top.txt'), '');
    const name = 'd'.repeat(250);
    const script = `for (let i = 0; i < 20; i++) { fs.mkdirSync('${name}'); process.chdir('${name}'); }`;
    const made = spawnSync(process.execPath, ['-e', script], { cwd: deep });
    expect(made.status, made.stderr.toString()).toBe(0);
    const before = readdirSync(deep);
    const { call: deepCall, client } = await connect({
      sandbox: await createSandbox([deep]),
      limits: DEFAULT_LIMITS,
    });
    const r = await deepCall('search_files', { path: '.', pattern: '*.txt' });
    expect(r.isError, text(r)).toBeFalsy();
    expect(r.structuredContent).toEqual({
      path: '.',
      pattern: '*.txt',
      matches: ['top.txt'],
      truncated: false,
      unreadable: 1,
      note: '1 folder below . could not be read and was skipped: the matches may be incomplete',
    });
    expect(text(r)).toBe(
      'top.txt\n(1 folder below . could not be read and was skipped: the matches may be incomplete)',
    );
    expect(readdirSync(deep)).toEqual(before);
    expect((await deepCall('read_file', { path: 'top.txt' })).structuredContent).toMatchObject({ size: 0 });
    await client.close();
  });
});

describe('nothing else in the tree changed', () => {
  it('the FIFO is still a FIFO, hello.txt as written', () => {
    const c = contents(root);
    expect(c['hello.txt']).toBe('hello\n');
    expect(c[join('fifo-dir', 'pipe')]).toMatch(/^special 1/); // S_IFIFO
    expect(Object.keys(c).filter((k) => k.endsWith('.tmp'))).toEqual([]);
  });
});
