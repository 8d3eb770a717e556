#!/usr/bin/env node
// `pnpm bench NAME [--quick]`: runs scripts/bench/NAME.ts, which prints its figures. --quick: small sizes, the
// same code path and checks, seconds not minutes (scripts/bench/lib/quick.ts); what CI runs, never a result.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argv } from 'zx';
import { isQuick, QUICK_NOTICE } from './bench/lib/quick.ts';
import { repoRoot } from './lib/repo-root.ts';

const dir = join(repoRoot, 'scripts/bench');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));
const name = String(argv._[0] ?? '');
if (!name || !existsSync(join(dir, `${name}.ts`))) {
  console.error(
    `Usage: pnpm bench NAME [options] [--quick]   (benchmarks: ${names.join(', ')}; pnpm bench NAME --help)`,
  );
  process.exit(name && !argv.help ? 64 : 0);
}
if (argv.help) {
  // A benchmark's usage is the comment at its top.
  const lines = readFileSync(join(dir, `${name}.ts`), 'utf8').split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  console.log(
    lines
      .slice(0, end === -1 ? lines.length : end)
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n'),
  );
  process.exit(0);
}
await import(join(dir, `${name}.ts`));
if (isQuick(argv))
  console.log(`bench: ${QUICK_NOTICE}: the figures above are not results (run without --quick to measure)`);
