// The bootstrap as users run it, in --dry-run: what it would do on hosts unlike this one, and proof that a
// dry run changes nothing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostFacts } from './lib/host/docker-plan.ts';
import { repoRoot } from './lib/repo-root.ts';
import { bareBookworm } from './lib/testing/test-hosts.ts';

function planFor(facts: HostFacts, extra: string[] = ['--dry-run']) {
  const file = join(mkdtempSync(join(tmpdir(), 'facts-')), 'facts.json');
  writeFileSync(file, JSON.stringify(facts));
  return spawnSync(process.execPath, ['scripts/bootstrap.ts', ...extra, '--facts', file], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
}

describe('node scripts/bootstrap.ts --dry-run', () => {
  it('plans the engine install on bare Debian as root, and only says "would"', () => {
    const r = planFor(bareBookworm);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      'bootstrap: would apt-get install docker.io docker-compose/trixie docker-buildx/trixie',
    );
    expect(r.stdout).toContain('bootstrap: would start dockerd in the background');
    expect(r.stdout).not.toMatch(/ \.\.\.$/m); // no step was carried out
  });

  it('does nothing, and says so, where Docker works', () => {
    const r = planFor({
      ...bareBookworm,
      engine: '27.0.1',
      engineError: null,
      compose: '2.29.0',
      isRoot: false,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('bootstrap: Docker engine and Compose v2 ready: nothing to do');
  });

  it('exits 1 with the fix when it may not install (not root, not Debian)', () => {
    const notRoot = planFor({ ...bareBookworm, isRoot: false });
    expect(notRoot.status).toBe(1);
    expect(notRoot.stderr).toContain('bootstrap: fix: run this again as root');
    const fedora = planFor({ ...bareBookworm, osId: 'fedora', hasApt: false });
    expect(fedora.status).toBe(1);
    expect(fedora.stderr).toContain('installs Docker only on Debian');
  });

  it('refuses --facts outside a dry run', () => {
    const r = planFor(bareBookworm, []);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--facts describes another host, so it only goes with --dry-run');
  });
});

/** A PATH holding only the tools bootstrap.sh uses, plus fake `node`/`npm` of our choosing. */
function fakePath(opts: { nodeMajor?: number; npm?: boolean }): string {
  const bin = mkdtempSync(join(tmpdir(), 'fakebin-'));
  for (const tool of ['bash', 'sed', 'tr', 'uname', 'id', 'dirname', 'cat', 'mktemp', 'readlink']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  if (opts.nodeMajor !== undefined) {
    writeFileSync(
      join(bin, 'node'),
      `#!/bin/sh\ncase "$1" in --version) echo v${opts.nodeMajor}.0.0 ;; -p) echo ${opts.nodeMajor} ;; *) exit 99 ;; esac\n`,
      { mode: 0o755 },
    );
  }
  if (opts.npm)
    writeFileSync(join(bin, 'npm'), '#!/bin/sh\necho "npm must not run in a dry run" >&2; exit 99\n', {
      mode: 0o755,
    });
  return bin;
}

function shellDryRun(path: string) {
  const prefix = mkdtempSync(join(tmpdir(), 'prefix-'));
  mkdirSync(join(prefix, 'bin'));
  const r = spawnSync('bash', ['scripts/bootstrap.sh', '--dry-run'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { PATH: path, HOME: prefix, BOOTSTRAP_PREFIX: prefix },
  });
  return { ...r, prefixEntries: readdirSync(join(prefix, 'bin')) };
}

describe('bash scripts/bootstrap.sh --dry-run', () => {
  it('with Node 20 and npm: would install the pinned Node and pnpm, and installs nothing', () => {
    const r = shellDryRun(fakePath({ nodeMajor: 20, npm: true }));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /would install Node 24\.\d+\.\d+ \(node v20\.0\.0 is too old\): npm pack node-linux-/,
    );
    expect(r.stdout).toMatch(/would install pnpm 10\.\d+\.\d+ \(have: none\)/);
    expect(r.stdout).toContain('would run: node scripts/bootstrap.ts (Docker engine and Compose v2)');
    expect(r.prefixEntries).toEqual([]);
  });

  it('with no Node and no npm: stops with what to install', () => {
    const r = shellDryRun(fakePath({}));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no node on PATH, and no npm to fetch node-linux-');
    expect(r.stderr).toContain('install Node >= 24 yourself');
  });
});
