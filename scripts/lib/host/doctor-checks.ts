// What `pnpm doctor` concludes from what it observed. Pure, so each verdict and its fix is unit-tested.
import { composeIsV2 } from './docker-plan.ts';
import { PROBE_EXIT_CODE } from './probe-image.ts';

export interface Observed {
  node: string; // process.versions.node
  nodeMajorWanted: number;
  pnpm: string | null;
  pnpmWanted: string;
  engine: string | null;
  engineError: string | null;
  engineArch: string | null;
  compose: string | null;
  /** Exit status of the probe container, or the error that kept it from starting; null when not tried. */
  probe: { exitCode: number; error: string | null; ms: number } | null;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const BOOTSTRAP = 'bash scripts/bootstrap.sh';

export function doctorChecks(o: Observed): Check[] {
  const nodeMajor = Number.parseInt(o.node, 10);
  const checks: Check[] = [
    nodeMajor >= o.nodeMajorWanted
      ? { name: 'node', ok: true, detail: `v${o.node} (need >= ${o.nodeMajorWanted})` }
      : {
          name: 'node',
          ok: false,
          detail: `v${o.node} is older than ${o.nodeMajorWanted}`,
          fix: `${BOOTSTRAP} (installs Node ${o.nodeMajorWanted} from the npm registry)`,
        },
    o.pnpm === o.pnpmWanted
      ? { name: 'pnpm', ok: true, detail: o.pnpm }
      : {
          name: 'pnpm',
          ok: false,
          detail: o.pnpm ? `${o.pnpm}, but package.json pins ${o.pnpmWanted}` : 'not found',
          fix: `${BOOTSTRAP} (installs pnpm ${o.pnpmWanted})`,
        },
    o.engine
      ? { name: 'engine', ok: true, detail: `Docker ${o.engine}${o.engineArch ? ` (${o.engineArch})` : ''}` }
      : {
          name: 'engine',
          ok: false,
          detail: `no Docker engine answers${o.engineError ? `: ${o.engineError}` : ''}`,
          fix: `${BOOTSTRAP} (Debian, as root) or start your Docker engine`,
        },
    composeIsV2(o.compose)
      ? { name: 'compose', ok: true, detail: `v${o.compose}` }
      : {
          name: 'compose',
          ok: false,
          detail: o.compose ? `v${o.compose} is older than v2` : '`docker compose` not found',
          fix: `${BOOTSTRAP} (Debian, as root) or install the Docker Compose v2 plugin`,
        },
  ];
  if (!o.probe) {
    checks.push({
      name: 'container',
      ok: false,
      detail: 'not tried: no engine',
      fix: 'fix the engine first',
    });
  } else if (o.probe.exitCode === PROBE_EXIT_CODE) {
    checks.push({
      name: 'container',
      ok: true,
      detail: `a probe container started and exited ${PROBE_EXIT_CODE} as expected (${o.probe.ms} ms)`,
    });
  } else {
    checks.push({
      name: 'container',
      ok: false,
      detail: `the probe container exited ${o.probe.exitCode}, expected ${PROBE_EXIT_CODE}${o.probe.error ? `: ${o.probe.error}` : ''}`,
      fix: 'see the engine log (/var/log/dockerd.log when the bootstrap started it)',
    });
  }
  return checks;
}
