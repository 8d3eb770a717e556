#!/usr/bin/env node
// `pnpm bench NAME`: runs scripts/bench/NAME.ts, which prints its figures.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { argv } from 'zx';
import { repoRoot } from './lib/repo-root.ts';

const dir = join(repoRoot, 'scripts/bench');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));
const name = String(argv._[0] ?? '');
if (!name || argv.help || !existsSync(join(dir, `${name}.ts`))) {
  console.error(`Usage: pnpm bench NAME [options]   (benchmarks: ${names.join(', ')})`);
  process.exit(name && !argv.help ? 64 : 0);
}
await import(join(dir, `${name}.ts`));
