// The check-then-use race (issue 22 item 3): a user swaps one of their own folders for a symlink (to a folder
// outside, or to /proc/self) between the sandbox's check of a path and its use. A second process swaps as fast as
// it can for SWAP_MS while this test calls every tool's code (lib.ts) through that folder, thousands of times.
// Nothing outside may be read, listed, described or written; and, as a positive control that the race is really
// run, the same calls succeed on the real folder a good share of the time. The counts are printed.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
import { makeTree } from './test-tree.ts';

const SWAP_MS = 5000;
const MAX_ROUNDS = 5000;
const IN_FLIGHT = 4;
const INSIDE = 'inside secret';
const OUTSIDE = 'OUTSIDE-SECRET: a value the user must never see';

/** Name -> inode and content hash of every entry of a folder: an atomic write outside changes the inode. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const st = lstatSync(join(dir, name));
    out[name] = st.isFile()
      ? `${st.ino}:${createHash('sha256')
          .update(readFileSync(join(dir, name)))
          .digest('hex')}`
      : `${st.ino}:${st.mode.toString(8)}`;
  }
  return out;
}

type Outcome = 'ok' | 'leak' | 'refused';
type Op = (i: number) => Promise<Outcome>;

const named = (names: string[]) => names.some((n) => n === 'only-outside.txt' || n === 'cmdline');

describe('a folder swapped for a symlink while the tools use it', () => {
  it('never reads, lists or writes outside; the calls succeed on the real folder', {
    timeout: 60_000,
  }, async () => {
    const tree = makeTree();
    const d = join(tree.root, 'd');
    mkdirSync(d);
    writeFileSync(join(d, 'secret.txt'), INSIDE);
    writeFileSync(join(d, 'environ'), INSIDE);
    writeFileSync(join(d, 'e.txt'), 'inside e\n');
    writeFileSync(join(tree.outside, 'secret.txt'), OUTSIDE);
    writeFileSync(join(tree.outside, 'environ'), OUTSIDE);
    writeFileSync(join(tree.outside, 'e.txt'), `${OUTSIDE} e\n`);
    writeFileSync(join(tree.outside, 'only-outside.txt'), OUTSIDE);
    const outsideBefore = snapshot(tree.outside);
    const ops: FileOps = { sandbox: await createSandbox([tree.root]), limits: DEFAULT_LIMITS };

    const read = (name: string) => async () =>
      (await readTextFile(ops, `d/${name}`)).content === INSIDE ? 'ok' : 'leak';
    const table: Record<string, Op> = {
      'read d/secret.txt': read('secret.txt'),
      'read d/environ (/proc/self)': read('environ'),
      // Writes outside are found afterwards, in the outside folder's snapshot.
      'write d/w.txt (temp + rename)': () => writeTextFile(ops, 'd/w.txt', 'w\n').then(() => 'ok'),
      'write d/nd-N/w.txt (createDirectories)': (i) =>
        writeTextFile(ops, `d/nd-${i % 20}/w.txt`, 'w\n', true).then(() => 'ok'),
      'mkdir d/m-N': (i) => createDirectory(ops, `d/m-${i % 20}`).then(() => 'ok'),
      'edit d/e.txt': async () => {
        const r = await editFile(ops, 'd/e.txt', [{ oldText: 'e\n', newText: 'e\n' }], false);
        return r.diff.includes('OUTSIDE') ? 'leak' : 'ok';
      },
      'list d': async () =>
        named((await listDirectory(ops, 'd')).entries.map((e) => e.name)) ? 'leak' : 'ok',
      'stat d/secret.txt': async () =>
        (await fileInfo(ops, 'd/secret.txt')).size === INSIDE.length ? 'ok' : 'leak',
      'search d': async () => (named((await searchFiles(ops, 'd', '*')).matches) ? 'leak' : 'ok'),
    };
    const counts = Object.fromEntries(
      Object.keys(table).map((k) => [k, { ok: 0, leak: 0, refused: 0 } as Record<Outcome, number>]),
    );
    const refusals = new Map<string, number>();

    const swapper = spawn(
      process.execPath,
      [join(import.meta.dirname, 'test-swapper.ts'), d, String(SWAP_MS), tree.outside, '/proc/self'],
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

    // IN_FLIGHT rounds at a time, each the 9 calls at once: every gap between a check and a use is raced.
    let rounds = 0;
    const worker = async () => {
      while (running && rounds < MAX_ROUNDS) {
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
    if (running) swapper.kill();
    expect(await exited).toBe(0);
    // The swapper restores the real folder last, so it is a folder again.
    expect(lstatSync(d).isDirectory()).toBe(true);

    const outsideAfter = snapshot(tree.outside);
    const changed = Object.keys(outsideAfter).filter((n) => outsideAfter[n] !== outsideBefore[n]);
    console.log(
      `race: ${rounds} rounds of ${Object.keys(table).length} calls against ${swaps.trim()} swaps\n` +
        Object.entries(counts)
          .map(([k, c]) => `  ${k.padEnd(40)} ok ${c.ok}  leak ${c.leak}  refused ${c.refused}`)
          .join('\n') +
        `\n  refusals: ${JSON.stringify(Object.fromEntries(refusals))}` +
        `\n  outside: ${changed.length} entries changed or new ${JSON.stringify(changed.slice(0, 10))}`,
    );
    expect(Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, c.leak]))).toEqual(
      Object.fromEntries(Object.keys(table).map((k) => [k, 0])),
    );
    expect(outsideAfter).toEqual(outsideBefore);
    expect(rounds).toBeGreaterThanOrEqual(100);
    // The positive control: each call went through on the real folder in at least 1 round in 10.
    for (const [k, c] of Object.entries(counts)) expect(c.ok, k).toBeGreaterThanOrEqual(rounds / 10);
  });
});
