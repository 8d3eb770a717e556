// When an image's input has not changed, its build step is skipped: the step's inputs (sources, versions, the
// Go toolchain) are hashed into a stamp beside its output in the build context, and a matching stamp with the
// output present means "cached". This is what keeps a second `pnpm stack:images` in seconds.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function sha256(parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/** The files of a Go module folder that decide its build output (name and content of each). */
export function goSources(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum')
    .sort()
    .map((f) => Buffer.concat([Buffer.from(f), readFileSync(join(dir, f))]));
}

/** Runs `build` unless the stamp of its inputs matches the last build and OUTPUT exists in ctx. */
export async function cached(
  ctx: string,
  output: string,
  inputs: (string | Buffer)[],
  build: () => Promise<void>,
): Promise<'cached' | 'built'> {
  const stampFile = join(ctx, `.${output}.stamp`);
  const stamp = sha256(inputs);
  if (existsSync(join(ctx, output)) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp)
    return 'cached';
  await build();
  writeFileSync(stampFile, stamp);
  return 'built';
}
