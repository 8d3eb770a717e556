// What of a workspace package reaches its image: an allowlist, package.json and src/, less the tests beside the
// code (*.test.ts, the suffix vitest finds them by). Test helpers live in the package's test/ folder, which no
// image carries; anything else in the package folder (a Dockerfile, a sample config) stays out too.
// The image build copies exactly these files (context-parts.ts); shipped-files.test.ts proves that the set holds
// no test code, that every shipped file's imports are shipped too, and that src/ holds no test-only helper.
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { repoRoot } from '../repo-root.ts';

/** A test file, by the one suffix vitest looks for (vitest.config.ts). Never shipped. */
export const TEST_FILE = /\.test\.ts$/;

/** Whether a file of a package, named relative to the package's folder with `/`, is shipped. */
export function isShipped(inPackage: string): boolean {
  return inPackage === 'package.json' || (inPackage.startsWith('src/') && !TEST_FILE.test(inPackage));
}

/** The shipped files of the workspace package in `packageDir` (repo-relative), repo-relative and sorted. */
export function shippedFiles(packageDir: string): string[] {
  const src = join(repoRoot, packageDir, 'src');
  const inSrc = readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `src/${relative(src, join(e.parentPath, e.name)).split(sep).join('/')}`);
  return ['package.json', ...inSrc]
    .filter(isShipped)
    .map((f) => `${packageDir}/${f}`)
    .sort();
}
