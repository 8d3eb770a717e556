#!/usr/bin/env node
// `pnpm run doctor`: is this machine ready? Prints node, pnpm, Docker engine and Compose versions, starts a
// probe container (no registry needed), and exits non-zero with the fix when something is missing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { $, argv } from 'zx';
import { doctorChecks, type Observed } from './lib/host/doctor-checks.ts';
import { firstLine, readDockerFacts } from './lib/host/host-facts.ts';
import { probeImageTar } from './lib/host/probe-image.ts';
import { repoRoot } from './lib/repo-root.ts';
import { readEnvFile } from './lib/stack/env-file.ts';
import { envFiles } from './lib/stack/stack-files.ts';

const PROBE_IMAGE = 'claude-code-telemetry/doctor-probe:1';

if (argv.help || argv.h) {
  console.log(`Usage: pnpm run doctor   (plain 'pnpm doctor' is pnpm's own built-in command)

Checks node, pnpm, the Docker engine, Compose v2, and that a container can start
(a 132-byte probe image is imported once as ${PROBE_IMAGE}). Exits 1 with a fix when one fails.`);
  process.exit(0);
}

async function runProbe(arch: string): Promise<NonNullable<Observed['probe']>> {
  const q = $({ nothrow: true, quiet: true, timeout: '60s' });
  if ((await q`docker image inspect ${PROBE_IMAGE}`).exitCode !== 0) {
    const imported = await $({
      nothrow: true,
      quiet: true,
      input: probeImageTar(arch),
    })`docker import - ${PROBE_IMAGE}`;
    if (imported.exitCode !== 0) return { exitCode: -1, error: firstLine(imported.stderr), ms: 0 };
  }
  const started = Date.now();
  const run = await q`docker run --rm --network none --read-only --user 65534:65534 ${PROBE_IMAGE} /probe`;
  return { exitCode: run.exitCode ?? -1, error: firstLine(run.stderr), ms: Date.now() - started };
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string };
const pnpm = await $({ nothrow: true, quiet: true })`pnpm --version`;
const docker = await readDockerFacts();
const arch = docker.engine
  ? (await $({ nothrow: true, quiet: true })`docker info --format {{.Architecture}}`).stdout.trim() || null
  : null;
const observed: Observed = {
  node: process.versions.node,
  nodeMajorWanted: Number.parseInt(readEnvFile(envFiles.versions).NODE_VERSION ?? '24', 10),
  pnpm: pnpm.exitCode === 0 ? pnpm.stdout.trim() : null,
  pnpmWanted: pkg.packageManager.replace(/^pnpm@/, '').replace(/\+.*$/, ''),
  engine: docker.engine,
  engineError: docker.engineError,
  engineArch: arch,
  compose: docker.compose,
  probe: docker.engine && arch ? await runProbe(arch) : null,
};

const checks = doctorChecks(observed);
for (const c of checks) {
  console.log(`doctor: ${c.name.padEnd(10)} ${c.ok ? 'ok  ' : 'FAIL'}  ${c.detail}`);
  if (c.fix) console.log(`doctor: ${''.padEnd(10)}       fix: ${c.fix}`);
}
const failed = checks.filter((c) => !c.ok);
console.log(failed.length === 0 ? 'doctor: all good' : `doctor: ${failed.length} problem(s)`);
process.exit(failed.length === 0 ? 0 : 1);
