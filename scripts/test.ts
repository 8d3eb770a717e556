#!/usr/bin/env node
// `pnpm test [vitest options]`: the whole suite, as Vitest runs in lanes (scripts/lib/testing/test-lanes.ts says
// why and which): the images are checked once, then lane "shared" (the e2e specs on one shared stack), lane
// "own-stack" (the unit suite, then the specs that start their own stack) and lane "long" (the sessions of many
// minutes, on a stack of their own) run at once, and lane "scaled" (the specs on a scaled stack) once "shared" has
// ended; the lines of all but the first are prefixed.
// Exit status: non-zero when any lane fails. A JSON report asked for with --outputFile.json=FILE is the lanes'
// reports merged. A file filter or --project runs one Vitest as given.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './lib/repo-root.ts';
import { IMAGES_READY_ENV, imagesReady } from './lib/testing/images-ready.ts';
import {
  LANE_PROJECTS,
  type Lane,
  mergeReports,
  planLanes,
  type VitestReport,
} from './lib/testing/test-lanes.ts';

const HELP = `Usage: pnpm test [--lanes=1|2|3] [vitest run options] [file filters]

The whole suite, in three lanes at once and a fourth after the first:
  shared     project ${LANE_PROJECTS.shared.join(', ')}: one stack up, a warm-up session, then the specs that share it
  own-stack  projects ${LANE_PROJECTS.ownStack.join(', ')}: the unit suite, then the specs that start a stack of
             their own (OWN_STACK_SPECS in vitest.config.ts)
  long       project ${LANE_PROJECTS.long.join(', ')}: the specs whose sessions last many minutes (LONG_SPECS), on a
             stack of their own
  scaled     project ${LANE_PROJECTS.scaled.join(', ')}: after lane shared has ended (never beside it: on two cores
             the shared specs timed out beside the scaled stack's JVMs), one stack of the scaled topology, its
             fault specs and the specs that must hold on both topologies (SCALED_SPECS in vitest.config.ts)
Each lane runs its specs one after another; its output is prefixed with its name when more than one run.
  --lanes=2          two lanes (and scaled after shared): the long specs after the own-stack ones (for a machine
                     that is short of memory)
  --lanes=1          one Vitest run, every project in turn (slower; the order Vitest picks)
  a filter or --project runs one Vitest run with the arguments as given, e.g.
                     pnpm test specs/egress.spec.ts      pnpm test --project unit
Other options go to each \`vitest run\` (e.g. --reporter=json --outputFile.json=FILE: the lanes' reports merged).`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
let plan: ReturnType<typeof planLanes>;
try {
  plan = planLanes(args);
} catch (err) {
  console.error(`test: ${(err as Error).message}`);
  process.exit(64);
}
const vitest = join(repoRoot, 'node_modules', '.bin', 'vitest');
const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

if (plan.single) {
  console.log(`test: one Vitest run (${plan.single})`);
  const child = spawn(vitest, ['run', ...(plan.lanes[0] as Lane).args], { stdio: 'inherit', cwd: repoRoot });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  // The images once, before the lanes: two global setups must not build the same image at the same time.
  try {
    await imagesReady('test');
  } catch (err) {
    console.error(`test: the images are not ready: ${(err as Error).message}`);
    process.exit(1);
  }
  const env = { ...process.env, [IMAGES_READY_ENV]: '1' };
  const children = new Set<ChildProcess>();
  let stopped: NodeJS.Signals | null = null;
  const stop = (signal: NodeJS.Signals) => {
    stopped = signal;
    for (const c of children) c.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const run = (lane: Lane, prefixed: boolean) =>
    new Promise<number>((resolve) => {
      if (stopped) {
        console.log(`test: lane ${lane.name} not started (${stopped})`);
        resolve(1);
        return;
      }
      console.log(`test: lane ${lane.name} starts: vitest run ${lane.args.join(' ')}`);
      const child = spawn(vitest, ['run', ...lane.args], {
        cwd: repoRoot,
        env,
        stdio: prefixed ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      });
      children.add(child);
      if (prefixed) {
        for (const stream of [child.stdout, child.stderr]) {
          if (!stream) continue;
          const out = stream === child.stdout ? process.stdout : process.stderr;
          createInterface({ input: stream }).on('line', (line) => out.write(`${lane.name} │ ${line}\n`));
        }
      }
      child.on('exit', (code, signal) => {
        children.delete(child);
        const status = code ?? (signal ? 1 : 0);
        console.log(`test: lane ${lane.name} ended after ${seconds()} (exit ${status})`);
        resolve(status);
      });
    });
  // Each lane starts once the lane it waits for has ended (whatever its exit status: every lane reports).
  const ended = new Map<string, Promise<number>>();
  for (const [i, lane] of plan.lanes.entries()) {
    const before = lane.after ? ended.get(lane.after) : undefined;
    if (lane.after && !before)
      throw new Error(`test: lane ${lane.name} waits for lane ${lane.after}, not planned`);
    ended.set(
      lane.name,
      (before ?? Promise.resolve(0)).then(() => run(lane, i > 0)),
    );
  }
  const codes = await Promise.all(plan.lanes.map((lane) => ended.get(lane.name) as Promise<number>));
  if (plan.jsonReport) {
    const reports = plan.lanes.map((lane) => {
      const file = lane.jsonReport ? join(repoRoot, lane.jsonReport) : '';
      if (!file || !existsSync(file)) {
        console.error(`test: lane ${lane.name} wrote no JSON report (${lane.jsonReport}): counted as failed`);
        return null;
      }
      return JSON.parse(readFileSync(file, 'utf8')) as VitestReport;
    });
    const out = join(repoRoot, plan.jsonReport);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(mergeReports(reports)));
    console.log(`test: the lanes' JSON reports merged into ${plan.jsonReport}`);
  }
  const failed = plan.lanes.filter((_, i) => codes[i] !== 0).map((l) => l.name);
  console.log(
    `test: ${failed.length ? `FAILED in lane ${failed.join(', ')}` : 'every lane passed'} (${seconds()} in all)`,
  );
  process.exit(failed.length ? 1 : 0);
}
