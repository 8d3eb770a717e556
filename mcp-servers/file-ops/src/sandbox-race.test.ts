// The check-then-use race (issue 22 item 3): a user swaps one of their own folders for a symlink (to a folder
// outside, or to /proc/self) between the sandbox's check of a path and its use. A second process swaps as fast as
// it can while this test calls every tool's code (lib.ts) through that folder, for SWAP_MS and at least
// MIN_ROUNDS rounds of the table: thousands of calls.
// Nothing outside may be read, listed, described or written; and, as a positive control that the race is really
// run, the same calls succeed on the real folder a good share of the time. The counts are printed.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTree } from '../test/test-tree.ts';
import {
  createDirectory,
  DEFAULT_LIMITS,
  editFile,
  type FileOps,
  fileInfo,
  listDirectory,
  readTextFile,
  searchFiles,
  writeTextFile,
} from './lib.ts';
import { createSandbox } from './path-rules.ts';

const SWAP_MS = 5000;
const MIN_ROUNDS = 150;
/** However slow the machine, the swapper stops by then (and the test fails, short of MIN_ROUNDS). */
const MAX_MS = 40_000;
const IN_FLIGHT = 4;
const INSIDE = 'inside secret';
const OUTSIDE = 'OUTSIDE-SECRET: a value the user must never see';

/** Path -> inode and content hash of everything below a folder: an atomic write outside changes the inode. */
function snapshot(dir: string, out: Record<string, string> = {}, rel = ''): Record<string, string> {
  for (const name of readdirSync(join(dir, rel))) {
    const path = join(rel, name);
    const st = lstatSync(join(dir, path));
    if (st.isFile())
      out[path] = `${st.ino}:${createHash('sha256')
        .update(readFileSync(join(dir, path)))
        .digest('hex')}`;
    else out[path] = `${st.ino}:${st.mode.toString(8)}`;
    if (st.isDirectory()) snapshot(dir, out, path);
  }
  return out;
}

type Outcome = 'ok' | 'leak' | 'refused';
type Op = (i: number) => Promise<Outcome>;

/** A listing of the outside folder or of /proc/self. */
const named = (names: string[]) =>
  names.some((n) => basename(n) === 'only-outside.txt' || basename(n) === 'cmdline');

describe('a folder swapped for a symlink while the tools use it', () => {
  it('never reads, lists or writes outside; the calls succeed on the real folder', {
    timeout: 60_000,
  }, async () => {
    const tree = makeTree();
    const d = join(tree.root, 'd');
    mkdirSync(d);
    // The same names inside d and outside, at d/ (the swapped folder is the last component of the folder
    // opened: O_NOFOLLOW's case) and at d/in/ (it is a middle component: only the check of /proc/self/fd sees it).
    // d/net/dev is /proc/self/net/dev once d is swapped for /proc/self.
    for (const [where, text] of [
      [d, INSIDE],
      [tree.outside, OUTSIDE],
    ] as const) {
      for (const sub of ['', 'in']) {
        mkdirSync(join(where, sub), { recursive: true });
        writeFileSync(join(where, sub, 'secret.txt'), text);
        writeFileSync(join(where, sub, 'e.txt'), `${text} e\n`);
        if (where === tree.outside) writeFileSync(join(where, sub, 'only-outside.txt'), text);
      }
      writeFileSync(join(where, 'environ'), text);
    }
    mkdirSync(join(d, 'net'));
    writeFileSync(join(d, 'net', 'dev'), INSIDE);
    const outsideBefore = snapshot(tree.outside);
    const ops: FileOps = { sandbox: await createSandbox([tree.root]), limits: DEFAULT_LIMITS };

    const read = (path: string) => async () =>
      (await readTextFile(ops, path)).content === INSIDE ? 'ok' : 'leak';
    const table: Record<string, Op> = { 'read d/net/dev (/proc/self/net/dev)': read('d/net/dev') };
    for (const at of ['d', 'd/in']) {
      Object.assign(table, {
        [`read ${at}/secret.txt`]: read(`${at}/secret.txt`),
        // Writes outside are found afterwards, in the outside folder's snapshot.
        [`write ${at}/w.txt (temp + rename)`]: () =>
          writeTextFile(ops, `${at}/w.txt`, 'w\n').then(() => 'ok'),
        [`write ${at}/nd-N/w.txt (createDirectories)`]: (i: number) =>
          writeTextFile(ops, `${at}/nd-${i % 20}/w.txt`, 'w\n', true).then(() => 'ok'),
        [`mkdir ${at}/m-N`]: (i: number) => createDirectory(ops, `${at}/m-${i % 20}`).then(() => 'ok'),
        [`edit ${at}/e.txt`]: async () => {
          const r = await editFile(ops, `${at}/e.txt`, [{ oldText: 'e\n', newText: 'e\n' }], false);
          return r.diff.includes('OUTSIDE') ? 'leak' : 'ok';
        },
        [`list ${at}`]: async () =>
          named((await listDirectory(ops, at)).entries.map((e) => e.name)) ? 'leak' : 'ok',
        [`stat ${at}/secret.txt`]: async () =>
          (await fileInfo(ops, `${at}/secret.txt`)).size === INSIDE.length ? 'ok' : 'leak',
        [`search ${at}`]: async () => (named((await searchFiles(ops, at, '*')).matches) ? 'leak' : 'ok'),
      });
    }
    table['read d/environ (/proc/self/environ)'] = read('d/environ');
    const counts = Object.fromEntries(
      Object.keys(table).map((k) => [k, { ok: 0, leak: 0, refused: 0 } as Record<Outcome, number>]),
    );
    const refusals = new Map<string, number>();

    const stop = join(tree.base, 'stop');
    const swapper = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '../test/test-swapper.ts'),
        d,
        stop,
        String(MAX_MS),
        tree.outside,
        '/proc/self',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let swaps = '';
    swapper.stdout.on('data', (b: Buffer) => {
      swaps += b.toString();
    });
    const exited = new Promise<number | null>((res) => swapper.on('exit', res));
    let running = true;
    void exited.then(() => {
      running = false;
    });
    // The swapper is running once the folder is seen gone or swapped.
    while (lstatSync(d, { throwIfNoEntry: false })?.isDirectory()) await new Promise((r) => setTimeout(r, 1));

    // IN_FLIGHT rounds at a time, each all the calls of the table at once: every gap between a check and a use is raced.
    let rounds = 0;
    const until = performance.now() + SWAP_MS;
    const worker = async () => {
      while (running && (rounds < MIN_ROUNDS || performance.now() < until)) {
        const i = rounds++;
        await Promise.all(
          Object.entries(table).map(async ([name, op]) => {
            const c = counts[name] as Record<Outcome, number>;
            try {
              c[await op(i)]++;
            } catch (err) {
              c.refused++;
              const why = `${(err as { rule?: string }).rule ?? (err as { code?: string }).code ?? 'error'}`;
              refusals.set(`${name}: ${why}`, (refusals.get(`${name}: ${why}`) ?? 0) + 1);
            }
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    writeFileSync(stop, '');
    expect(await exited).toBe(0);
    // The swapper restores the real folder last, so it is a folder again.
    expect(lstatSync(d).isDirectory()).toBe(true);

    const outsideAfter = snapshot(tree.outside);
    const changed = Object.keys(outsideAfter).filter((n) => outsideAfter[n] !== outsideBefore[n]);
    console.log(
      `race: ${rounds} rounds of ${Object.keys(table).length} calls against ${swaps.trim()} swaps\n` +
        Object.entries(counts)
          .map(([k, c]) => `  ${k.padEnd(46)} ok ${c.ok}  leak ${c.leak}  refused ${c.refused}`)
          .join('\n') +
        `\n  refusals: ${JSON.stringify(Object.fromEntries(refusals))}` +
        `\n  outside: ${changed.length} entries changed or new ${JSON.stringify(changed.slice(0, 10))}`,
    );
    expect(Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, c.leak]))).toEqual(
      Object.fromEntries(Object.keys(table).map((k) => [k, 0])),
    );
    expect(outsideAfter).toEqual(outsideBefore);
    expect(rounds).toBeGreaterThanOrEqual(MIN_ROUNDS);
    // The positive control: each call went through on the real folder in at least 1 round in 10.
    for (const [k, c] of Object.entries(counts)) expect(c.ok, k).toBeGreaterThanOrEqual(rounds / 10);
  });
});
