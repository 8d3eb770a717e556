// `pnpm bench export [--gb 1] [--rounds 3] [--clean] [--quick]`: the time `pnpm export` takes to archive one session out of
// at least 1 GB of rotated telemetry files, next to the time to merely read those files (`cat > /dev/null`),
// measured in the same run, alternately, with the files in the page cache for both. Goal: at most 1.5x.
//
// The files are made of what Claude Code 2.1.197 really sends (fixtures/otlp), for thousands of other sessions,
// rotated at 100 MB as the collector does, with the chosen session's requests spread over every file; those differ
// from one another as a real session's do (timestamps, ids: bench/lib/session-requests.ts), since byte-identical
// lines are a resend the export keeps once. The check: the archive holds every one of them, once, and nothing else.
// They are generated once into .cache/bench-export/ (reused while the parameters match; --clean removes them).
// --quick: 0.05 GB rotated at 4 MB, a session request after every block, one warm round, no cold one (emptying the
// page cache of a shared machine for a figure nobody quotes), its files removed afterwards.

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $, argv } from 'zx';
import { readArchive } from '../lib/export/archive/archive.ts';
import { repoRoot } from '../lib/repo-root.ts';
import { recordedLine } from '../lib/testing/fixture-telemetry.ts';
import { goalVerdict, isQuick, quickBanner, sized } from './lib/quick.ts';
import { compareRequests, sessionRequest } from './lib/session-requests.ts';

const QUICK = isQuick(argv);
const GB = Number(sized(argv.gb, QUICK, 1, 0.05));
const ROUNDS = Number(sized(argv.rounds, QUICK, 3, 1));
if (!(GB >= 0.05 && GB <= 8)) throw new Error('--gb must be between 0.05 and 8');
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 10) throw new Error('--rounds must be 1-10');

// the collector's default rotation size; quick: small, so that a few MB still make several rotated files
const FILE_BYTES = (QUICK ? 4 : 100) * 1024 * 1024;
// a session request after every this many blocks of 200 other sessions' requests (quick: after every block)
const PLACE_EVERY = QUICK ? 1 : 10;
const TARGET = 'b3ec5e55-1111-4222-8333-444455556666';
const SIGNALS = ['traces', 'metrics', 'logs'] as const;
// v2: the session's requests differ (older caches hold byte-identical copies)
const dir = join(repoRoot, '.cache', 'bench-export', `v2-${GB}gb-${FILE_BYTES >> 20}mb-${PLACE_EVERY}`);
if (QUICK) console.log(quickBanner(`${GB} GB rotated at ${FILE_BYTES >> 20} MB, ${ROUNDS} warm round`));

/** The session's requests of one signal, as placed: copy 0, 1, ... of its recorded request. */
const sessionRequests = (signal: (typeof SIGNALS)[number], n: number): string[] => {
  const line = recordedLine(signal, 'rich', TARGET);
  return Array.from({ length: n }, (_, copy) => sessionRequest(line, copy));
};

const uuid = (n: number) => {
  const h = n.toString(16).padStart(12, '0');
  return `0000${h.slice(0, 4)}-${h.slice(4, 8)}-4${h.slice(8, 11)}-8000-${h}`;
};

/** Writes ~GB of rotated files; returns how many of the target's requests each signal holds. */
async function generate(): Promise<Record<string, number>> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const perSignal = (GB * 1024 ** 3) / SIGNALS.length;
  const placed: Record<string, number> = {};
  let sessionNo = 0;
  for (const signal of SIGNALS) {
    const template = recordedLine(signal, 'default', '@@ID@@');
    const target = recordedLine(signal, 'rich', TARGET);
    const files = Math.ceil(perSignal / FILE_BYTES);
    let copies = 0;
    for (let f = 0; f < files; f++) {
      // lumberjack's backup names sort in time order; the last file is the current one
      const name =
        f === files - 1
          ? `${signal}.jsonl`
          : `${signal}-2026-11-${String(10 + f).padStart(2, '0')}T10-00-00.000.jsonl`;
      const size = f === files - 1 ? perSignal - FILE_BYTES * (files - 1) : FILE_BYTES;
      const out = createWriteStream(join(dir, name));
      let written = 0;
      let lines = 0;
      while (written < size) {
        // a block of 200 requests of distinct other sessions, then now and then one of the target's
        const block = Array.from({ length: 200 }, () =>
          template.replaceAll('@@ID@@', uuid(++sessionNo)),
        ).join('\n');
        const place = (lines / 200) % PLACE_EVERY === Math.floor(PLACE_EVERY / 2);
        const text = place ? `${block}\n${sessionRequest(target, copies++)}\n` : `${block}\n`;
        lines += 200;
        written += Buffer.byteLength(text);
        if (!out.write(text)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'close');
    }
    placed[signal] = copies;
  }
  writeFileSync(join(dir, 'placed.json'), JSON.stringify(placed));
  return placed;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const marker = join(dir, 'placed.json');
let placed: Record<string, number>;
// quick: generated every time (a second), so that a failed run's files are never what the next one checks
if (existsSync(marker) && !QUICK) {
  placed = JSON.parse(await $`cat ${marker}`.text()) as Record<string, number>;
  console.log(`bench: reusing ${dir}`);
} else {
  const ms = await timed(async () => {
    placed = await generate();
  });
  console.log(`bench: generated ${dir} in ${(ms / 1000).toFixed(1)} s`);
}
// biome-ignore lint/style/noNonNullAssertion: set in both branches above
placed = placed!;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.jsonl'))
  .sort()
  .map((f) => join(dir, f));
const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
console.log(
  `bench: ${files.length} files, ${(bytes / 1024 ** 3).toFixed(2)} GiB; the exported session has ${Object.entries(
    placed,
  )
    .map(([k, v]) => `${v} ${k} request(s)`)
    .join(', ')} spread over them`,
);

const sessionsDir = mkdtempSync(join(tmpdir(), 'bench-sessions-'));
const outDir = mkdtempSync(join(tmpdir(), 'bench-out-'));
// removed however the run ends (a failed check throws)
process.once('exit', () => {
  rmSync(outDir, { recursive: true, force: true });
  rmSync(sessionsDir, { recursive: true, force: true });
  if (argv.clean || QUICK) rmSync(dir, { recursive: true, force: true });
});
const cat = () => $({ quiet: true })`cat ${files} > /dev/null`;
const exportOnce = async () => {
  rmSync(outDir, { recursive: true, force: true });
  await $({
    quiet: true,
  })`node ${join(repoRoot, 'scripts/export.ts')} --session ${TARGET} --telemetry-dir ${dir} --sessions-dir ${sessionsDir} --no-jaeger --no-prometheus --out ${outDir}`;
};

/** Empties the page cache (root only), so the next read comes from the disk. */
function dropCaches(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

/** Alternates cat and export ROUNDS times; cold: the page cache emptied before each. */
async function measure(cold: boolean) {
  const catMs: number[] = [];
  const exportMs: number[] = [];
  if (!cold) {
    await cat();
    await exportOnce();
  }
  for (let r = 0; r < ROUNDS; r++) {
    if (cold) dropCaches();
    catMs.push(await timed(cat));
    if (cold) dropCaches();
    exportMs.push(await timed(exportOnce));
  }
  return { catMs, exportMs };
}

const results: { label: string; catMs: number[]; exportMs: number[] }[] = [];
if (QUICK) console.log('bench: cold cache not measured in quick mode');
else if (dropCaches())
  results.push({
    label: 'cold (page cache emptied before each run: files read from disk)',
    ...(await measure(true)),
  });
else
  console.log(
    'bench: cold cache not measured: emptying the page cache needs root (/proc/sys/vm/drop_caches)',
  );
results.push({ label: 'warm (files in the page cache for both)', ...(await measure(false)) });

// the archive holds exactly the session's requests: every one placed, each once, nothing else
const archive = readdirSync(outDir).find((f) => f.endsWith('.tar.gz')) as string;
const content = await readArchive(join(outDir, archive));
for (const signal of SIGNALS) {
  const want = placed[signal] ?? 0;
  const entry = [...content.entries()].find(([k]) => k.endsWith(`/otlp/${signal}.jsonl`));
  const got = entry?.[1].toString('utf8').split('\n').filter(Boolean) ?? [];
  const { missing, unexpected, repeated } = compareRequests(sessionRequests(signal, want), got);
  if (want === 0 || got.length !== want || missing || unexpected || repeated)
    throw new Error(
      `the archive holds ${got.length} ${signal} request(s) of the session, the files ${want}: ${missing} missing, ${unexpected} not placed, ${repeated} repeated`,
    );
}

for (const { label, catMs, exportMs } of results) {
  const c = median(catMs);
  const e = median(exportMs);
  const ratio = e / c;
  const rate = (ms: number) => `${(bytes / 1024 ** 2 / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(`bench: ${label}`);
  console.log(
    `bench:   cat > /dev/null   ${catMs.map((x) => x.toFixed(0)).join(' / ')} ms (median ${c.toFixed(0)} ms, ${rate(c)})`,
  );
  console.log(
    `bench:   pnpm export       ${exportMs.map((x) => x.toFixed(0)).join(' / ')} ms (median ${e.toFixed(0)} ms, ${rate(e)}; process start and archive included)`,
  );
  console.log(
    `bench:   export / read = ${ratio.toFixed(2)}x (goal <= 1.5x): ${goalVerdict(ratio <= 1.5, QUICK).text}`,
  );
}
console.log(`bench: archive ${archive}: every request of the session found, nothing else`);
