// The sandbox: every path a tool touches is resolved here against the configured roots, and refused with the
// rule it breaks. Checks the lexical path (.., absolute paths, sibling prefixes, null bytes) AND the real path on
// disk (symlinks), including for paths that do not exist yet, through their nearest existing ancestor.
// These checks say clearly which rule a path breaks, but a path can change between a check and its use: every
// tool then opens what it works on and binds it to the sandbox (sandbox-fd.ts), and uses only what it opened.
// Nothing a client gets shows where the roots are on the server: results name paths with `displayPath` and errors
// pass through `redactRoots`, both relative to the root (`[root N]/...` for a root after the first).
import { lstat, realpath } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isUserName } from '@claude-code-telemetry/mcp-common/session-credential';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';

export type PathRule =
  | 'empty-path'
  | 'null-byte'
  | 'control-character'
  | 'outside-roots'
  | 'symlink-escape'
  | 'not-found'
  | 'root-itself'
  // sandbox-fd.ts, once a path is opened:
  | 'not-a-directory'
  | 'unverifiable';

export class PathRuleError extends RuleError<PathRule> {}

export interface Sandbox {
  /** Real paths of the roots, no trailing separator. The first is where relative paths start. */
  roots: string[];
}

/** Resolves each root to its real path; a root that does not exist or is not a directory is a startup error. */
export async function createSandbox(roots: string[]): Promise<Sandbox> {
  if (roots.length === 0) throw new Error('no root directory configured: pass at least one (--root DIR)');
  const real: string[] = [];
  for (const root of roots) {
    const abs = resolve(root);
    const st = await lstat(abs).catch(() => null);
    if (!st) throw new Error(`root directory ${abs} does not exist`);
    const rp = await realpath(abs);
    if (!(await lstat(rp)).isDirectory()) throw new Error(`root ${abs} is not a directory`);
    real.push(rp);
  }
  return { roots: real };
}

/**
 * The sandbox of one user's session: the folder named after the user in the first root (the stack's per-user
 * workspaces), and nothing else. The user comes from a signed session credential; the folder must exist (the
 * session's start creates it), so a call can never create or reach another user's folder.
 */
export async function userSandbox(base: Sandbox, user: string): Promise<Sandbox> {
  if (!isUserName(user)) throw new Error(`not a user name: ${JSON.stringify(user)}`);
  const root = base.roots[0];
  if (!root) throw new Error('no root directory configured');
  const dir = join(root, user);
  const st = await lstat(dir).catch(() => null);
  if (!st?.isDirectory())
    throw new Error(`no workspace for user ${user}: it is created when a session of ${user} starts`);
  return { roots: [dir] };
}

/** True when `path` is `root` or inside it. A sibling such as /workspace-evil is NOT inside /workspace. */
export function isWithin(root: string, path: string): boolean {
  if (path === root) return true;
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

function rootOf(sandbox: Sandbox, path: string): string | undefined {
  return sandbox.roots.find((root) => isWithin(root, path));
}

/** `[root N]` or `[root N]/rest`: how results and errors name root N for N >= 2 (the first root needs no label). */
const ROOT_LABEL = /^\[root ([1-9][0-9]{0,3})\](?:\/(.*))?$/;

/** The lexical checks, without touching the disk. Returns the absolute, normalized path. */
export function lexicalResolve(sandbox: Sandbox, input: string): string {
  if (typeof input !== 'string' || input.trim() === '')
    throw new PathRuleError('empty-path', 'path is empty');
  if (input.includes('\0')) throw new PathRuleError('null-byte', 'path contains a null byte');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0001-\u001f\u007f]/.test(input)) {
    throw new PathRuleError('control-character', 'path contains a control character');
  }
  // `[root N]/x`, the name results and errors give a path in root N (N >= 2), leads back to it.
  // A folder of the first root literally named `[root 2]` is then reached by its absolute path only.
  const label = ROOT_LABEL.exec(input);
  const n = label ? Number(label[1]) : 0;
  const labelledRoot = n >= 2 ? sandbox.roots[n - 1] : undefined;
  const abs =
    labelledRoot !== undefined
      ? resolve(join(labelledRoot, label?.[2] ?? ''))
      : resolve(isAbsolute(input) ? input : join(sandbox.roots[0] as string, input));
  if (!rootOf(sandbox, abs)) {
    throw new PathRuleError(
      'outside-roots',
      `${input} is outside the allowed roots (give a path relative to the root, without ..)`,
    );
  }
  return abs;
}

export interface ResolveOptions {
  /** The path must exist (reads). Otherwise its nearest existing ancestor is checked (writes, mkdir). */
  mustExist: boolean;
  /** Refuse the root directory itself (e.g. as a file to write over). */
  allowRoot?: boolean;
}

/**
 * Resolves a path given by a client to a real path inside the sandbox, or throws a PathRuleError naming the rule.
 * For an existing path, its real path (all symlinks followed) must be inside a root. For a path that does not
 * exist yet, the real path of its nearest existing ancestor must be inside a root, and the rest is appended.
 */
export async function resolveInSandbox(
  sandbox: Sandbox,
  input: string,
  opts: ResolveOptions,
): Promise<string> {
  const abs = lexicalResolve(sandbox, input);
  if (!opts.allowRoot && sandbox.roots.includes(abs)) {
    throw new PathRuleError('root-itself', `${input} is a root directory itself`);
  }
  let existing = abs;
  const missing: string[] = [];
  for (;;) {
    const st = await lstat(existing).catch(() => null);
    if (st) break;
    const parent = resolve(existing, '..');
    if (parent === existing) throw new PathRuleError('not-found', `${input}: no existing ancestor`);
    missing.unshift(existing.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
    existing = parent;
  }
  const real = await realpath(existing).catch(() => null);
  if (real === null) {
    // A dangling symlink: where it points is not inside anything we can vouch for.
    throw new PathRuleError('symlink-escape', `${input} is a symlink to a path that does not exist`);
  }
  if (!rootOf(sandbox, real)) {
    throw new PathRuleError(
      'symlink-escape',
      `${input} resolves through a symlink to outside the allowed roots`,
    );
  }
  // Only now, with the existing part known to be inside, may we say that the rest does not exist.
  if (opts.mustExist && missing.length) throw new PathRuleError('not-found', `${input} does not exist`);
  return missing.length ? join(real, ...missing) : real;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A message with every absolute path inside a root rewritten relative to that root: `.` for the first root
 * itself, `sub/x` inside it, `[root 2]/sub/x` inside another root. A sibling such as /workspace-evil is left alone.
 */
export function redactRoots(sandbox: Sandbox, message: string): string {
  let out = message;
  // Longest first, so a root nested inside another is rewritten relative to itself.
  const roots = sandbox.roots.map((root, i) => ({ root, i })).sort((a, b) => b.root.length - a.root.length);
  for (const { root, i } of roots) {
    const label = i === 0 ? '' : `[root ${i + 1}]`;
    out = out.replace(
      new RegExp(`${escapeRegExp(root)}(?:${escapeRegExp(sep)}+([^\\s'"\`,;:)]*))?(?![^\\s'"\`,;:)])`, 'g'),
      (_m, rest: string | undefined) => (rest ? (label ? `${label}/${rest}` : rest) : label || '.'),
    );
  }
  return out;
}

/**
 * How a successful result names a path inside the sandbox, never showing where the roots are: relative to the
 * innermost root holding it, as `redactRoots` does in errors. `.` is the first root, `sub/x` a path inside it;
 * `[root N]/sub/x` (or `[root N]`) a path in root N >= 2, which every tool accepts back as input. A path outside
 * every root (which resolveInSandbox never returns) is named by its last component only.
 */
export function displayPath(sandbox: Sandbox, path: string): string {
  let best = -1;
  sandbox.roots.forEach((root, i) => {
    if (isWithin(root, path) && (best < 0 || root.length > (sandbox.roots[best] as string).length)) best = i;
  });
  if (best < 0) return basename(path);
  const rel = relative(sandbox.roots[best] as string, path)
    .split(sep)
    .join('/');
  const label = best === 0 ? '' : `[root ${best + 1}]`;
  if (!rel) return label || '.';
  return label ? `${label}/${rel}` : rel;
}
