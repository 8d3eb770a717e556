import { describe, expect, it } from 'vitest';
import { doctorChecks, type Observed } from './doctor-checks.ts';

const healthy: Observed = {
  node: '24.21.0',
  nodeMajorWanted: 24,
  pnpm: '10.34.9',
  pnpmWanted: '10.34.9',
  engine: '20.10.24',
  engineError: null,
  engineArch: 'x86_64',
  compose: '2.26.1',
  probe: { exitCode: 42, error: null, ms: 300 },
};

const failing = (o: Observed) =>
  doctorChecks(o)
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail} -> ${c.fix}`);

describe('doctorChecks', () => {
  it('passes a ready machine', () => {
    expect(failing(healthy)).toEqual([]);
    expect(doctorChecks(healthy).map((c) => c.name)).toEqual([
      'node',
      'pnpm',
      'engine',
      'compose',
      'container',
    ]);
  });

  it('names each missing piece with its fix', () => {
    expect(
      failing({
        ...healthy,
        node: '20.20.2',
        pnpm: null,
        engine: null,
        engineError: 'Cannot connect to the Docker daemon',
        compose: '1.29.2',
        probe: null,
      }),
    ).toEqual([
      'node: v20.20.2 is older than 24 -> bash scripts/bootstrap.sh (installs Node 24 from the npm registry)',
      'pnpm: not found -> bash scripts/bootstrap.sh (installs pnpm 10.34.9)',
      'engine: no Docker engine answers: Cannot connect to the Docker daemon -> bash scripts/bootstrap.sh (Debian, as root) or start your Docker engine',
      'compose: v1.29.2 is older than v2 -> bash scripts/bootstrap.sh (Debian, as root) or install the Docker Compose v2 plugin',
      'container: not tried: no engine -> fix the engine first',
    ]);
  });

  it('fails when the probe container does not exit with its own code', () => {
    expect(
      failing({ ...healthy, probe: { exitCode: 125, error: 'OCI runtime create failed', ms: 10 } }),
    ).toEqual([
      'container: the probe container exited 125, expected 42: OCI runtime create failed -> see the engine log (/var/log/dockerd.log when the bootstrap started it)',
    ]);
    expect(failing({ ...healthy, pnpm: '9.0.0' })[0]).toContain('9.0.0, but package.json pins 10.34.9');
  });
});
