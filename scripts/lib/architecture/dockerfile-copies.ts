// What a Dockerfile takes from the repository and where it puts it: its COPY instructions (continued lines joined,
// comments dropped, `--from` stages and build-context products left out), folders expanded to their files, each
// destination resolved against the WORKDIR in effect; and the commands it runs (ENTRYPOINT, CMD, RUN). The
// architecture test derives an image's entry points and its copied files from this, so no list is kept by hand.
import { posix } from 'node:path';
import type { SourceTree } from './source-tree.ts';

export interface DockerfileCopies {
  /** Repository file -> where the image holds it (absolute), for every file a COPY takes from the repository. */
  copied: Map<string, string>;
  /** The 1-based line of the COPY that took each repository file, for messages. */
  lines: Map<string, number>;
  /** What ENTRYPOINT, CMD and RUN run, each with the WORKDIR it runs in. */
  commands: { text: string; workdir: string; line: number }[];
}

/** The instructions of a Dockerfile: continued lines joined, comment lines dropped, each with its first line. */
function instructions(text: string): { keyword: string; args: string; line: number }[] {
  const out: { keyword: string; args: string; line: number }[] = [];
  let current: { parts: string[]; line: number } | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === null)) return;
    current ??= { parts: [], line: i + 1 };
    const continued = line.endsWith('\\');
    current.parts.push(continued ? line.slice(0, -1) : line);
    if (continued) return;
    const whole = current.parts.join(' ').trim();
    const [keyword = '', ...rest] = whole.split(/\s+/);
    if (keyword) out.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: current.line });
    current = null;
  });
  return out;
}

/** The words of a COPY: its JSON array form or whitespace-separated, flags (`--chmod=…`) apart. */
function copyWords(args: string): { flags: string[]; paths: string[] } {
  const words = args.trim().startsWith('[')
    ? (JSON.parse(args) as string[])
    : args.split(/\s+/).filter((w) => w !== '');
  return { flags: words.filter((w) => w.startsWith('--')), paths: words.filter((w) => !w.startsWith('--')) };
}

export function dockerfileCopies(tree: SourceTree, dockerfile: string): DockerfileCopies {
  const copied = new Map<string, string>();
  const lines = new Map<string, number>();
  const commands: DockerfileCopies['commands'] = [];
  let workdir = '/';
  for (const ins of instructions(tree.read(dockerfile))) {
    if (ins.keyword === 'FROM') workdir = '/';
    else if (ins.keyword === 'WORKDIR') workdir = posix.resolve(workdir, ins.args.trim());
    else if (ins.keyword === 'ENTRYPOINT' || ins.keyword === 'CMD' || ins.keyword === 'RUN')
      commands.push({ text: ins.args, workdir, line: ins.line });
    else if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
      const { flags, paths } = copyWords(ins.args);
      if (flags.some((f) => f.startsWith('--from')) || paths.length < 2) continue;
      const dest = posix.resolve(workdir, paths.at(-1) as string);
      const intoFolder = paths.length > 2 || (paths.at(-1) as string).endsWith('/');
      for (const source of paths.slice(0, -1).map((p) => posix.normalize(p).replace(/\/$/, ''))) {
        if (tree.files.includes(source)) {
          copied.set(source, intoFolder ? posix.join(dest, posix.basename(source)) : dest);
          lines.set(source, ins.line);
          continue;
        }
        // A folder: its contents go into the destination (a name the repository lacks is a build product).
        for (const file of tree.files.filter((f) => f.startsWith(`${source}/`))) {
          copied.set(file, posix.join(dest, file.slice(source.length + 1)));
          lines.set(file, ins.line);
        }
      }
    }
  }
  return { copied, lines, commands };
}
