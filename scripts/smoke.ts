#!/usr/bin/env node
// `node scripts/smoke.ts [--stack | --no-stack] [--list]`: runs every command the README names that CI does not
// run otherwise (the list: scripts/lib/smoke/commands.ts), one after another, and prints each one's time and
// status; exits 1 when any fails (a non-zero exit, or its output lacks what it must say), with that command's
// last lines. CI (.ci/run) runs `--no-stack` early and `--stack` while its stack is up.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argv } from 'zx';
import { repoRoot } from './lib/repo-root.ts';
import { chooseGroup, cmdline, type SmokeCommand, smokeCommands, verdict } from './lib/smoke/commands.ts';

const HELP = `Usage: node scripts/smoke.ts [--stack | --no-stack] [--list] [--timeout SECONDS]

Runs every command the README names that CI does not otherwise run, and prints each one's time and status.
  --stack       only the commands that need the stack up (pnpm stack:status, a session, pnpm usage, export list)
  --no-stack    only those that need nothing but the checkout (--help of every verb and benchmark, dry runs)
  --list        print the commands, run nothing
  --timeout S   each command's limit (default 180 s): over it, the command is killed and fails`;

if (argv.help || argv.h) {
  console.log(HELP);
  process.exit(0);
}
const TIMEOUT_S = Number(argv.timeout ?? 180);
if (!(TIMEOUT_S >= 1 && TIMEOUT_S <= 1800)) throw new Error('--timeout must be 1-1800 seconds');

const scripts = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;
const benches = readdirSync(join(repoRoot, 'scripts/bench'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));
const chosen = chooseGroup(
  smokeCommands(scripts, benches),
  argv.stack === undefined ? undefined : Boolean(argv.stack),
);
if (argv.list) {
  for (const c of chosen) console.log(`${c.needs.padEnd(8)}  ${cmdline(c)}`);
  process.exit(0);
}

/** Runs one command with the repository as its folder; its output (both streams) and exit status. */
function runOne(c: SmokeCommand): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const [cmd, ...args] = c.argv as [string, ...string[]];
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let timedOut = false;
    const add = (d: Buffer) => {
      output = (output + d.toString()).slice(-200_000);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => {
      timedOut = true;
      // its whole process group (pnpm, then node): ours only, started just above
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, TIMEOUT_S * 1000);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, output: String(err), timedOut });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

const failed: string[] = [];
const started = Date.now();
for (const c of chosen) {
  const t0 = Date.now();
  const r = await runOne(c);
  const why = r.timedOut ? `killed after ${TIMEOUT_S} s` : verdict(c, r.code, r.output);
  const secs = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
  console.log(`smoke: ${why ? 'FAILED' : 'ok    '} ${secs} s  ${cmdline(c)}${why ? `  (${why})` : ''}`);
  if (why) {
    failed.push(cmdline(c));
    const tail = r.output.trimEnd().split('\n').slice(-20);
    for (const l of tail) console.log(`smoke:   | ${l}`);
  }
}
console.log(
  `smoke: ${chosen.length - failed.length} of ${chosen.length} command(s) ok in ${((Date.now() - started) / 1000).toFixed(1)} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}`,
);
process.exitCode = failed.length ? 1 : 0;
