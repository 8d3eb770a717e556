#!/usr/bin/env node
// `pnpm test:stress`: the test suite on a busy machine. One busy loop per core (bounded: killed when the tests end,
// and each stops by itself after --max-minutes), then the unit suite (and with --e2e, the whole suite).
// No test may depend on an idle CPU: a time limit that counts process start-up, or a wait tuned to a quiet
// machine, fails here.
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { $, argv } from 'zx';
import { repoRoot } from './lib/repo-root.ts';

const HELP = `Usage: pnpm test:stress [--e2e] [--loops N] [--max-minutes M]

  --e2e            run the whole suite (unit and e2e), not only the unit suite
  --loops N        busy loops to run (default: one per core, ${availableParallelism()} here)
  --max-minutes M  each busy loop stops by itself after M minutes (default 30), whatever happens to this script`;

if (argv.help || argv.h) {
  console.log(HELP);
  process.exit(0);
}
const loops = Number(argv.loops ?? availableParallelism());
const maxMinutes = Number(argv['max-minutes'] ?? 30);
if (!Number.isInteger(loops) || loops < 1 || loops > 64) {
  console.error('test:stress: --loops must be an integer from 1 to 64');
  process.exit(64);
}
if (!(maxMinutes > 0 && maxMinutes <= 120)) {
  console.error('test:stress: --max-minutes must be more than 0 and at most 120');
  process.exit(64);
}

/** A process that keeps one core busy until it is killed or its time is up. */
function busyLoop(ms: number): ChildProcess {
  return spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end) {}`], {
    stdio: 'ignore',
  });
}

const started = Date.now();
const busy = Array.from({ length: loops }, () => busyLoop(maxMinutes * 60_000));
console.log(`test:stress: ${loops} busy loop(s) running (at most ${maxMinutes} min each)`);
const stop = () => {
  for (const b of busy) b.kill('SIGKILL');
};
// Interrupted or told to stop (Ctrl-C, a CI time-out): the busy loops go with it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    stop();
    process.exit(130);
  });
const project = argv.e2e ? [] : ['--project', 'unit'];
const passOn = (argv._ as string[]).map(String);
const run = await $({
  cwd: repoRoot,
  nothrow: true,
  stdio: 'inherit',
})`pnpm exec vitest run ${project} ${passOn}`;
stop();
console.log(
  `test:stress: ${argv.e2e ? 'the whole suite' : 'the unit suite'} with ${loops} busy loop(s): exit ${run.exitCode} after ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(run.exitCode ?? 1);
