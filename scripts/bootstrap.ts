#!/usr/bin/env node
// Bootstrap, part 2 of 2 (part 1, scripts/bootstrap.sh, installed Node 24, pnpm and the dependencies):
// make sure a Docker engine with Compose v2 answers. Where Docker already works it changes nothing.
// On Debian as root it installs docker.io (and Compose v2 from trixie on bookworm) and starts the engine.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $, argv, sleep } from 'zx';
import { describeStep, type HostFacts, type Plan, planHost, type Step } from './lib/host/docker-plan.ts';
import { firstLine, readDockerFacts, readHostFacts } from './lib/host/host-facts.ts';
import { repoRoot } from './lib/repo-root.ts';

const HELP = `Usage: node scripts/bootstrap.ts [--dry-run] [--facts FILE]

Makes sure a Docker engine with Compose v2 answers. Run through \`bash scripts/bootstrap.sh\`,
which installs Node 24, pnpm and the dependencies first.

  --dry-run      print the plan, change nothing
  --facts FILE   with --dry-run: plan for the host described in FILE (JSON, see scripts/lib/host/docker-plan.ts)
                 instead of this one
Log: .logs/bootstrap.log (commands' output); the engine's own log: /var/log/dockerd.log`;

const logFile = join(repoRoot, '.logs', 'bootstrap.log');

function say(line: string): void {
  console.log(`bootstrap: ${line}`);
  appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
}

async function logged(cmd: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  appendFileSync(logFile, `$ ${cmd} ${args.join(' ')}\n`);
  const fd = openSync(logFile, 'a');
  const p = await $({
    nothrow: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  })`${cmd} ${args}`;
  if (p.exitCode !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` exited ${p.exitCode}; see ${logFile}`);
}

function aptMirror(): string {
  // Use the mirror this machine already uses for Debian, so a local mirror keeps working.
  const text = (() => {
    try {
      return readFileSync('/etc/apt/sources.list.d/debian.sources', 'utf8');
    } catch {
      return '';
    }
  })();
  return /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? 'http://deb.debian.org/debian';
}

async function engineAnswers(): Promise<boolean> {
  return (await readDockerFacts()).engine !== null;
}

function removeStalePidFile(pidFile = '/var/run/docker.pid'): void {
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    const comm = (() => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    })();
    if (comm !== 'dockerd') {
      rmSync(pidFile, { force: true });
      say(`removed stale ${pidFile} (pid ${pid} is not a running dockerd)`);
    }
  } catch {
    // no pid file: nothing to clean
  }
}

async function runStep(step: Step): Promise<void> {
  switch (step.kind) {
    case 'apt-update':
      return logged('apt-get', ['update']);
    case 'add-apt-suite':
      writeFileSync(
        step.sourcesFile,
        [
          '# Added by scripts/bootstrap.ts for Compose v2; pinned at priority 1 (see the preferences file).',
          'Types: deb',
          `URIs: ${aptMirror()}`,
          `Suites: ${step.suite}`,
          'Components: main',
          'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
          '',
        ].join('\n'),
      );
      writeFileSync(
        step.pinFile,
        [
          `# Added by scripts/bootstrap.ts: never install or upgrade anything from ${step.suite} unless asked by name.`,
          'Package: *',
          `Pin: release n=${step.suite}`,
          'Pin-Priority: 1',
          '',
        ].join('\n'),
      );
      return;
    case 'apt-install':
      return logged('apt-get', ['install', '-y', '--no-install-recommends', ...step.packages], {
        DEBIAN_FRONTEND: 'noninteractive',
      });
    case 'start-engine':
      // The package's maintainer script may have started the engine already.
      if (await engineAnswers()) {
        say('the engine already answers: not starting another');
        return;
      }
      if (step.via === 'systemd') return logged('systemctl', ['start', 'docker']);
      removeStalePidFile();
      {
        const out = openSync(step.logFile, 'a');
        const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
        child.unref();
      }
      return;
    case 'wait-engine': {
      const deadline = Date.now() + step.timeoutMs;
      while (Date.now() < deadline) {
        if (await engineAnswers()) return;
        await sleep(500);
      }
      const tail = (() => {
        try {
          return readFileSync('/var/log/dockerd.log', 'utf8').trim().split('\n').slice(-5).join('\n  ');
        } catch {
          return '(no log)';
        }
      })();
      throw new Error(
        `Docker engine not answering after ${step.timeoutMs} ms; last lines of its log:\n  ${tail}`,
      );
    }
  }
}

function printPlan(plan: Plan, dryRun: boolean): void {
  for (const note of plan.notes) say(note);
  if (!plan.ok) return;
  if (plan.steps.length === 0) {
    say('Docker engine and Compose v2 ready: nothing to do');
    return;
  }
  for (const step of plan.steps) say(`${dryRun ? 'would ' : 'plan: '}${describeStep(step)}`);
}

async function main(): Promise<number> {
  if (argv.help || argv.h) {
    console.log(HELP);
    return 0;
  }
  const dryRun = Boolean(argv['dry-run']);
  mkdirSync(join(repoRoot, '.logs'), { recursive: true });
  if (argv.facts && !dryRun) {
    console.error('bootstrap: error: --facts describes another host, so it only goes with --dry-run');
    return 2;
  }
  const facts: HostFacts = argv.facts
    ? (JSON.parse(readFileSync(String(argv.facts), 'utf8')) as HostFacts)
    : await readHostFacts();
  const plan = planHost(facts);
  printPlan(plan, dryRun);
  if (!plan.ok) {
    console.error(`bootstrap: error: ${plan.problem}\nbootstrap: fix: ${plan.fix}`);
    return 1;
  }
  if (dryRun || plan.steps.length === 0) return 0;

  for (const step of plan.steps) {
    const started = Date.now();
    say(`${describeStep(step)} ...`);
    await runStep(step);
    say(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const after = await readDockerFacts();
  if (!after.engine || !after.compose) {
    console.error(
      `bootstrap: error: after setup, engine=${after.engine ?? 'none'} compose=${after.compose ?? 'none'}: ${after.engineError ?? ''} (see ${logFile})`,
    );
    return 1;
  }
  say(`Docker engine ${after.engine} and Compose ${after.compose} ready (engine log: /var/log/dockerd.log)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bootstrap: error: ${firstLine(err instanceof Error ? err.message : String(err)) ?? err}`);
    if (err instanceof Error && err.message.includes('\n')) console.error(err.message);
    process.exit(1);
  },
);
