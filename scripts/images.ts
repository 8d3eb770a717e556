#!/usr/bin/env node
// `pnpm stack:images`: builds every image of the stack on this machine, with no container registry, then writes
// stack/.images.env (which image each service runs). The engine is scripts/lib/images/build-images.ts.
import { argv } from 'zx';
import { buildImages, listImages, parseMode } from './lib/images/build-images.ts';

const HELP = `Usage: pnpm stack:images [--list] [--only NAME[,NAME]] [--offline | --online] [--rebuild] [--dry-run]
                         [--claude-code VERSION]

Builds the stack's images here, with no container registry, at the versions in stack/versions.env,
and writes stack/.images.env (the image each service runs).

  --list        every image: version, size, local build or official, and where the local build differs
  --only NAME   build only NAME (and what it needs that is missing); names: see --list
  --offline     use the local builds of the collector, Jaeger and Prometheus (default when no registry answers)
  --online      pull the official images of those instead of building them
  --rebuild     rebuild the Debian base image even if it exists (other images rebuild when their inputs change)
  --dry-run     print what would be built, build nothing
  --claude-code VERSION
                build and run this Claude Code release instead of the pinned one (its own image tag; run
                pnpm stack:images again without it to go back to the pin)
Environment: STACK_IMAGES=offline|online|auto (default auto).`;

async function main(): Promise<number> {
  if (argv.help || argv.h) {
    console.log(HELP);
    return 0;
  }
  if (argv.list) {
    for (const line of await listImages()) console.log(line);
    return 0;
  }
  const r = await buildImages({
    mode: parseMode(argv.offline ? 'offline' : argv.online ? 'online' : (process.env.STACK_IMAGES ?? 'auto')),
    only: argv.only ? String(argv.only).split(',') : undefined,
    rebuild: Boolean(argv.rebuild),
    dryRun: Boolean(argv['dry-run']),
    claudeCode: argv['claude-code'] === undefined ? undefined : String(argv['claude-code']),
  });
  if (!r.envFile) return 0;
  console.log('images: build times');
  for (const t of r.timings)
    console.log(`  ${t.name.padEnd(16)} ${t.seconds.toFixed(1).padStart(7)} s  ${t.ref}`);
  console.log(`  ${'total'.padEnd(16)} ${r.totalSeconds.toFixed(1).padStart(7)} s`);
  console.log(`images: ${r.mode} mode; stack/.images.env says which image each service runs`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`images: error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
