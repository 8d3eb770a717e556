// What the bootstrap does about the Docker engine, decided from facts about the host.
// Pure: no I/O here, so every branch is unit-tested (docker-plan.test.ts) and printed by --dry-run.

/** What the bootstrap learned about the host (see host-facts.ts). */
export interface HostFacts {
  platform: string; // process.platform
  osId: string | null; // ID= from /etc/os-release ("debian")
  osCodename: string | null; // VERSION_CODENAME= ("bookworm", "trixie")
  isRoot: boolean;
  hasApt: boolean;
  hasSystemd: boolean; // PID 1 is systemd
  dockerClient: string | null; // client version, null when no `docker` command
  engine: string | null; // server version when the engine answers
  engineError: string | null; // why it does not answer (first line of the client's error)
  compose: string | null; // `docker compose version --short`
  dockerdInstalled: boolean; // a `dockerd` binary is on PATH
  /** A `chromium` binary is on PATH (the export spec renders report.html in it); absent from older facts files. */
  chromium?: boolean;
  /** sshd and sudo (the SSH access spec); absent from older facts files. */
  sshd?: boolean;
  sudo?: boolean;
}

export type Step =
  | { kind: 'apt-update' }
  | { kind: 'add-apt-suite'; suite: string; sourcesFile: string; pinFile: string }
  | { kind: 'apt-install'; packages: string[] }
  | { kind: 'start-engine'; via: 'systemd' | 'dockerd'; logFile: string }
  | { kind: 'wait-engine'; timeoutMs: number };

export type Plan =
  | { ok: true; steps: Step[]; notes: string[] }
  | { ok: false; problem: string; fix: string; notes: string[] };

export const MIN_COMPOSE_MAJOR = 2;
export const ENGINE_TIMEOUT_MS = 60_000;
export const DOCKERD_LOG = '/var/log/dockerd.log';

/** Debian releases with a Compose v2 package (`docker-compose` >= 2) in their own suite. */
const COMPOSE_V2_SUITES = new Set(['trixie', 'forky', 'sid']);

export function composeIsV2(version: string | null): boolean {
  if (!version) return false;
  const major = Number.parseInt(version.replace(/^v/, ''), 10);
  return Number.isFinite(major) && major >= MIN_COMPOSE_MAJOR;
}

/** Apt sources to add and packages to install for `docker compose` v2 on this Debian release. */
function composeInstall(codename: string | null): { sources: Step[]; packages: string[] } {
  if (codename && COMPOSE_V2_SUITES.has(codename)) {
    return { sources: [], packages: ['docker-compose', 'docker-buildx'] };
  }
  // bookworm's docker-compose is v1 (Python). Trixie's v2 packages are static Go binaries that only need
  // libc6 >= 2.34, so they install on bookworm; the suite is pinned at priority 1 so nothing else is ever
  // upgraded from it.
  return {
    sources: [
      {
        kind: 'add-apt-suite',
        suite: 'trixie',
        sourcesFile: '/etc/apt/sources.list.d/trixie-docker-compose.sources',
        pinFile: '/etc/apt/preferences.d/trixie-docker-compose',
      },
    ],
    packages: ['docker-compose/trixie', 'docker-buildx/trixie'],
  };
}

export function planDocker(facts: HostFacts): Plan {
  const notes: string[] = [];
  const engineUp = facts.engine !== null;
  const composeOk = composeIsV2(facts.compose);
  if (engineUp) notes.push(`Docker engine ${facts.engine} answers`);
  if (composeOk) notes.push(`Compose ${facts.compose} found`);

  if (engineUp && composeOk) return { ok: true, steps: [], notes };

  const missing = [
    !engineUp && 'no Docker engine answers',
    !composeOk &&
      (facts.compose ? `Compose ${facts.compose} is older than v2` : 'no Compose v2 (`docker compose`)'),
  ].filter(Boolean) as string[];
  const problem = `${missing.join(' and ')}${facts.engineError ? ` (${facts.engineError})` : ''}`;
  notes.push(problem);

  if (facts.platform !== 'linux') {
    return {
      ok: false,
      problem,
      fix: 'start Docker Desktop (or another engine with Compose v2) and run this again',
      notes,
    };
  }
  if (facts.engineError && /permission denied/i.test(facts.engineError) && !facts.isRoot) {
    return {
      ok: false,
      problem,
      fix: 'the engine runs but this user may not use its socket: add yourself to the `docker` group (sudo usermod -aG docker $USER, then log in again)',
      notes,
    };
  }
  if (facts.osId !== 'debian' || !facts.hasApt) {
    return {
      ok: false,
      problem,
      fix: `this bootstrap installs Docker only on Debian; install Docker Engine with the Compose v2 plugin for ${facts.osId ?? 'this system'} (https://docs.docker.com/engine/install/) and run this again`,
      notes,
    };
  }
  if (!facts.isRoot) {
    return {
      ok: false,
      problem,
      fix: 'run this again as root (sudo bash scripts/bootstrap.sh) to install and start Docker from Debian packages',
      notes,
    };
  }

  const steps: Step[] = [];
  const packages: string[] = facts.dockerdInstalled ? [] : ['docker.io'];
  if (!composeOk) {
    const compose = composeInstall(facts.osCodename);
    steps.push(...compose.sources);
    packages.push(...compose.packages);
  }
  if (packages.length > 0) steps.push({ kind: 'apt-update' }, { kind: 'apt-install', packages });
  if (!engineUp) {
    steps.push(
      { kind: 'start-engine', via: facts.hasSystemd ? 'systemd' : 'dockerd', logFile: DOCKERD_LOG },
      { kind: 'wait-engine', timeoutMs: ENGINE_TIMEOUT_MS },
    );
  }
  return { ok: true, steps, notes };
}

/** Debian packages the specs need from the system, by the HostFacts flag that says whether each is there. */
export const TEST_TOOLS = [
  { fact: 'chromium', pkg: 'chromium', why: 'the export spec renders report.html in it' },
  {
    fact: 'sshd',
    pkg: 'openssh-server',
    why: 'the SSH access spec runs a session through sshd with ForceCommand',
  },
  { fact: 'sudo', pkg: 'sudo', why: 'the SSH access spec runs the session command through sudo' },
] as const;

/**
 * The Docker plan plus the test tools the specs need from the system (TEST_TOOLS). Installed where the bootstrap
 * may install packages; elsewhere a note says what to install.
 */
export function planHost(facts: HostFacts): Plan {
  const plan = planDocker(facts);
  const missing = TEST_TOOLS.filter((t) => facts[t.fact] === false);
  if (!plan.ok || !missing.length) return plan;
  if (facts.platform !== 'linux' || facts.osId !== 'debian' || !facts.hasApt || !facts.isRoot) {
    for (const t of missing)
      plan.notes.push(
        `no ${t.fact}: ${t.why}; install ${t.pkg} (Debian: apt-get install ${t.pkg})${t.fact === 'chromium' ? ' or set CHROMIUM_BIN' : ''}`,
      );
    return plan;
  }
  for (const t of missing) plan.notes.push(`no ${t.fact} (${t.why}): installing Debian's package ${t.pkg}`);
  const pkgs = missing.map((t) => t.pkg);
  const install = plan.steps.find((s) => s.kind === 'apt-install');
  if (install && install.kind === 'apt-install') install.packages.push(...pkgs);
  else plan.steps.unshift({ kind: 'apt-update' }, { kind: 'apt-install', packages: pkgs });
  return plan;
}

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'apt-update':
      return 'apt-get update';
    case 'add-apt-suite':
      return `add Debian ${step.suite} to apt sources (${step.sourcesFile}), pinned at priority 1 (${step.pinFile})`;
    case 'apt-install':
      return `apt-get install ${step.packages.join(' ')}`;
    case 'start-engine':
      return step.via === 'systemd'
        ? 'systemctl start docker'
        : `start dockerd in the background (log: ${step.logFile})`;
    case 'wait-engine':
      return `wait until \`docker info\` answers (at most ${step.timeoutMs} ms)`;
  }
}
