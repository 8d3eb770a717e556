// The files the architecture rules read, as one small interface: the repository on disk, or a planted tree held in
// memory (the architecture test's fixtures, each a few files that break one rule). The rules never touch the disk
// themselves, so the same code judges the real tree and the planted ones.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SourceTree {
  /** Every file, repo-relative with `/`, sorted (any extension: Dockerfiles and scripts too). */
  readonly files: readonly string[];
  /** A file's text; an error naming the file when the tree has no such file. */
  read(path: string): string;
}

/** The files under `dirs` of the repository at `root` (node_modules and dot-folders left out). */
export function diskTree(root: string, dirs: readonly string[]): SourceTree {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  for (const dir of dirs) walk(dir);
  files.sort();
  const cache = new Map<string, string>();
  return {
    files,
    read(path) {
      let text = cache.get(path);
      if (text === undefined) {
        text = readFileSync(join(root, path), 'utf8');
        cache.set(path, text);
      }
      return text;
    },
  };
}

/** A tree of the given files (path -> text): a planted tree of a test. */
export function memoryTree(contents: Record<string, string>): SourceTree {
  return {
    files: Object.keys(contents).sort(),
    read(path) {
      const text = contents[path];
      if (text === undefined) throw new Error(`${path}: not a file of this tree`);
      return text;
    },
  };
}
