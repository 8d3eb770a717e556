import { describe, expect, it } from 'vitest';
import { bareBookworm } from '../testing/test-hosts.ts';
import { describeStep, type HostFacts, planDocker, planHost } from './docker-plan.ts';

const working: Partial<HostFacts> = {
  engine: '20.10.24',
  engineError: null,
  compose: '2.26.1',
  dockerdInstalled: true,
};

const kinds = (facts: HostFacts) => {
  const plan = planDocker(facts);
  return plan.ok ? plan.steps.map(describeStep) : plan;
};

describe('planDocker', () => {
  it('changes nothing where an engine and Compose v2 already answer', () => {
    for (const host of [
      { ...bareBookworm, ...working },
      { ...bareBookworm, ...working, isRoot: false },
      { ...bareBookworm, ...working, platform: 'darwin', osId: null, hasApt: false },
      { ...bareBookworm, ...working, osId: 'fedora', hasApt: false },
    ]) {
      expect(planDocker(host)).toEqual({
        ok: true,
        steps: [],
        notes: ['Docker engine 20.10.24 answers', 'Compose 2.26.1 found'],
      });
    }
  });

  it('on bare bookworm as root: installs docker.io and Compose v2 from a pinned trixie, starts dockerd, waits', () => {
    expect(kinds(bareBookworm)).toEqual([
      'add Debian trixie to apt sources (/etc/apt/sources.list.d/trixie-docker-compose.sources), pinned at priority 1 (/etc/apt/preferences.d/trixie-docker-compose)',
      'apt-get update',
      'apt-get install docker.io docker-compose/trixie docker-buildx/trixie',
      'start dockerd in the background (log: /var/log/dockerd.log)',
      'wait until `docker info` answers (at most 60000 ms)',
    ]);
  });

  it('on trixie, Compose v2 comes from its own suite', () => {
    expect(kinds({ ...bareBookworm, osCodename: 'trixie' })).toEqual([
      'apt-get update',
      'apt-get install docker.io docker-compose docker-buildx',
      'start dockerd in the background (log: /var/log/dockerd.log)',
      'wait until `docker info` answers (at most 60000 ms)',
    ]);
  });

  it('only starts the engine when everything is installed but it is not running (after a reboot)', () => {
    expect(kinds({ ...bareBookworm, dockerdInstalled: true, compose: '2.26.1' })).toEqual([
      'start dockerd in the background (log: /var/log/dockerd.log)',
      'wait until `docker info` answers (at most 60000 ms)',
    ]);
  });

  it('uses systemctl where systemd runs', () => {
    const plan = planDocker({ ...bareBookworm, dockerdInstalled: true, compose: '2.26.1', hasSystemd: true });
    expect(plan.ok && plan.steps[0]).toEqual({
      kind: 'start-engine',
      via: 'systemd',
      logFile: '/var/log/dockerd.log',
    });
  });

  it('only adds Compose where the engine runs but Compose is v1 or missing', () => {
    for (const compose of [null, '1.29.2']) {
      expect(kinds({ ...bareBookworm, ...working, compose })).toEqual([
        'add Debian trixie to apt sources (/etc/apt/sources.list.d/trixie-docker-compose.sources), pinned at priority 1 (/etc/apt/preferences.d/trixie-docker-compose)',
        'apt-get update',
        'apt-get install docker-compose/trixie docker-buildx/trixie',
      ]);
    }
  });

  it('refuses to install without root, naming the fix', () => {
    const plan = planDocker({ ...bareBookworm, isRoot: false });
    expect(plan).toMatchObject({ ok: false, problem: expect.stringContaining('no Docker engine answers') });
    expect(plan.ok || plan.fix).toContain('as root');
  });

  it('points a non-root user at the docker group when the socket refuses them', () => {
    const plan = planDocker({
      ...bareBookworm,
      isRoot: false,
      dockerdInstalled: true,
      engineError: 'permission denied while trying to connect to the Docker daemon socket',
    });
    expect(plan.ok || plan.fix).toContain('docker` group');
  });

  it('does not install on other distributions or without apt', () => {
    for (const host of [
      { ...bareBookworm, osId: 'fedora', osCodename: null, hasApt: false },
      { ...bareBookworm, osId: 'ubuntu' },
      { ...bareBookworm, hasApt: false },
    ]) {
      const plan = planDocker(host);
      expect(plan.ok).toBe(false);
      expect(plan.ok || plan.fix).toContain('only on Debian');
    }
  });

  it('asks for Docker Desktop on macOS', () => {
    const plan = planDocker({ ...bareBookworm, platform: 'darwin', osId: null, hasApt: false });
    expect(plan.ok || plan.fix).toContain('Docker Desktop');
  });
});

describe('planHost', () => {
  it("adds Debian's chromium to the packages where the bootstrap installs, and nothing where it is there", () => {
    const ready = { ...bareBookworm, ...working };
    expect(planHost({ ...ready, chromium: true })).toEqual(planDocker(ready));
    const plan = planHost({ ...ready, chromium: false });
    expect(plan.ok && plan.steps.map(describeStep)).toEqual(['apt-get update', 'apt-get install chromium']);
    const bare = planHost({ ...bareBookworm, chromium: false });
    expect(bare.ok && bare.steps.map(describeStep)).toContain(
      'apt-get install docker.io docker-compose/trixie docker-buildx/trixie chromium',
    );
  });

  it('adds openssh-server and sudo (the SSH access spec) when they are missing', () => {
    const ready = { ...bareBookworm, ...working };
    const plan = planHost({ ...ready, chromium: true, sshd: false, sudo: false });
    expect(plan.ok && plan.steps.map(describeStep)).toEqual([
      'apt-get update',
      'apt-get install openssh-server sudo',
    ]);
    expect(planHost({ ...ready, chromium: true, sshd: true, sudo: true })).toEqual(planDocker(ready));
  });

  it('only says what to install where it may not install', () => {
    const plan = planHost({ ...bareBookworm, ...working, isRoot: false, chromium: false });
    expect(plan.ok && plan.steps).toEqual([]);
    expect(plan.notes.at(-1)).toMatch(/no chromium: .*apt-get install chromium/);
  });
});
