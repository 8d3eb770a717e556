// A session's project and branch by default: the workspace's git remote (origin) and HEAD, read from its .git by
// this parser, never by running git (a workspace is its user's, written by earlier sessions: git would run its
// hooks, fsmonitor and includes). Hostile content is expected: .git (or its config or HEAD) as a symlink, a FIFO,
// a huge file, odd values, a remote with a password in it. Each gives no label and a reason, never a crash: files
// are opened without following a link (the folder's own descriptor, then its entries through /proc/self/fd, so a
// link swapped in meanwhile is refused too), non-blocking, and read up to a cap; the names pass the project and
// branch rules of the session identity (session-credential.ts) or are not used.
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { BRANCH_NAME_RULE, isBranchName, isProjectName, PROJECT_NAME_RULE } from './session-credential.ts';

/** What is read of .git/config (a real one is well under 8 KiB) and of .git/HEAD. */
export const GIT_CONFIG_MAX_BYTES = 64 * 1024;
export const GIT_HEAD_MAX_BYTES = 1024;

export interface WorkspaceGit {
  project?: string;
  branch?: string;
  /** Why a label was not taken (one line each; never a file's content beyond a short quoted excerpt). */
  notes: string[];
}

const quote = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);

/** Reads a regular file of `dir` (a descriptor) or fails saying why; never follows a link, never blocks. */
function readEntry(dirFd: number | null, dirPath: string, name: string, max: number): string {
  const path = dirFd !== null ? `/proc/self/fd/${dirFd}/${name}` : join(dirPath, name);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ELOOP'
        ? `.git/${name} is a symbolic link`
        : code === 'ENOENT'
          ? `no .git/${name}`
          : `.git/${name} unreadable (${code})`,
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`.git/${name} is not a regular file`);
    if (st.size > max) throw new Error(`.git/${name} is ${st.size} bytes, over the ${max} read`);
    const buf = Buffer.alloc(max + 1);
    let got = 0;
    for (let n = 1; n > 0 && got <= max; got += n) n = readSync(fd, buf, got, max + 1 - got, null);
    if (got > max) throw new Error(`.git/${name} grew past the ${max} bytes read`);
    const text = buf.subarray(0, got).toString('utf8');
    if (text.includes('\0')) throw new Error(`.git/${name} holds a NUL byte`);
    return text;
  } finally {
    closeSync(fd);
  }
}

/**
 * The `url` of `[remote "origin"]` in a git config: git's syntax as far as a remote's URL needs it (sections and
 * subsections, case-insensitive names, comments, quotes, escapes). Includes are not followed. Undefined when there
 * is none; an error for what it cannot read safely (a continued line in that section).
 */
export function originUrl(config: string): string | undefined {
  let inOrigin = false;
  for (const raw of config.split(/\r?\n/)) {
    let line = raw.trim();
    const section = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(.*)$/.exec(line);
    if (section) {
      const [, name = '', sub] = section;
      inOrigin = name.toLowerCase() === 'remote' && sub?.replace(/\\(.)/g, '$1') === 'origin';
      line = (section[3] ?? '').trim();
      if (!line) continue;
    } else if (line.startsWith('[')) {
      inOrigin = false;
      continue;
    }
    if (!inOrigin || !line || line.startsWith('#') || line.startsWith(';')) continue;
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (kv?.[1]?.toLowerCase() !== 'url') continue;
    const value = kv?.[2] ?? '';
    if (/\\$/.test(value)) throw new Error('the origin url in .git/config continues over lines');
    return configValue(value);
  }
  return undefined;
}

/** A git config value: quotes removed, \" \\ \t \n escapes read, a comment outside quotes cut. */
function configValue(value: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\') {
      const next = value[++i];
      out += next === 'n' ? '\n' : next === 't' ? '\t' : (next ?? '');
    } else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '#' || c === ';')) break;
    else out += c;
  }
  return out.trim();
}

/**
 * A remote URL's project: its path without the leading `/`, a trailing `.git` or `/`, e.g. `owner/repo` of
 * https://host/owner/repo.git, ssh://git@host:22/owner/repo and git@host:owner/repo.git. No user, password or host
 * is kept. Undefined, with why, for a local path or a name the project rule refuses.
 */
export function projectOfUrl(url: string): { project?: string; why?: string } {
  if (/[\s\p{Cc}]/u.test(url)) return { why: 'the origin url holds a space or a control character' };
  let path: string | undefined;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/.exec(url);
  if (scheme) {
    if (!/^(https?|ssh|git|git\+ssh|ssh\+git)$/i.test(scheme[1] as string))
      return { why: `the origin url's scheme ${quote(scheme[1] as string)} is not a remote's` };
    path = scheme[3];
  } else {
    // scp-like: [user@]host:path (no slash before the colon: that would be a local path).
    const scp = /^(?:[^@/:]+@)?[A-Za-z0-9.-]+:(?!\/\/)(.+)$/.exec(url);
    if (!scp) return { why: 'the origin url is a local path, not a remote' };
    path = scp[1];
  }
  const project = (path ?? '')
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  if (!project) return { why: 'the origin url names no repository' };
  if (!isProjectName(project))
    return { why: `the origin url's path ${quote(project)} is no project name (${PROJECT_NAME_RULE})` };
  return { project };
}

/** The branch HEAD names (`ref: refs/heads/NAME`); undefined with why when detached or not a branch name. */
export function branchOfHead(head: string): { branch?: string; why?: string } {
  const m = /^ref: refs\/heads\/(\S+)\s*$/.exec(head);
  if (!m) return { why: '.git/HEAD names no branch (a detached HEAD?)' };
  const branch = m[1] as string;
  if (!isBranchName(branch))
    return { why: `the branch ${quote(branch)} is no branch label (${BRANCH_NAME_RULE})` };
  return { branch };
}

/** The project and branch of a workspace's .git (a folder in the workspace itself; a .git file is not followed). */
export function readWorkspaceGit(workspace: string): WorkspaceGit {
  const gitPath = join(workspace, '.git');
  const notes: string[] = [];
  if (!existsSync(workspace)) return { notes: [`no workspace ${workspace}`] };
  let dirFd: number;
  try {
    dirFd = openSync(gitPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_DIRECTORY);
  } catch (err) {
    let code = (err as NodeJS.ErrnoException).code;
    // A link opened with O_NOFOLLOW | O_DIRECTORY fails ENOTDIR on Linux: say what it is.
    if (code === 'ENOTDIR' && lstatSync(gitPath, { throwIfNoEntry: false })?.isSymbolicLink()) code = 'ELOOP';
    return {
      notes: [
        code === 'ENOENT'
          ? 'the workspace has no .git'
          : code === 'ELOOP'
            ? "the workspace's .git is a symbolic link: not followed"
            : code === 'ENOTDIR'
              ? "the workspace's .git is not a folder (a worktree or submodule's .git file is not followed)"
              : `the workspace's .git is unreadable (${code})`,
      ],
    };
  }
  try {
    // Entries through the folder's own descriptor where the system offers it (Linux), else by path.
    const viaFd = existsSync(`/proc/self/fd/${dirFd}`) ? dirFd : null;
    const out: WorkspaceGit = { notes };
    try {
      const url = originUrl(readEntry(viaFd, gitPath, 'config', GIT_CONFIG_MAX_BYTES));
      if (url === undefined) notes.push('.git/config has no remote "origin" url');
      else {
        const p = projectOfUrl(url);
        if (p.project) out.project = p.project;
        else notes.push(p.why as string);
      }
    } catch (err) {
      notes.push((err as Error).message);
    }
    try {
      const b = branchOfHead(readEntry(viaFd, gitPath, 'HEAD', GIT_HEAD_MAX_BYTES));
      if (b.branch) out.branch = b.branch;
      else notes.push(b.why as string);
    } catch (err) {
      notes.push((err as Error).message);
    }
    return out;
  } finally {
    closeSync(dirFd);
  }
}

/**
 * A session's labels: --project and --branch when given (already checked by the plan), else what the workspace's
 * .git says. `notes` say why a default was not taken (shown to the user, the session runs unlabelled).
 */
export function sessionLabels(
  given: { project?: string; branch?: string },
  workspace: string,
): { project?: string; branch?: string; notes: string[] } {
  if (given.project !== undefined && given.branch !== undefined)
    return { project: given.project, branch: given.branch, notes: [] };
  const git = readWorkspaceGit(workspace);
  const project = given.project ?? git.project;
  const branch = given.branch ?? git.branch;
  return {
    ...(project !== undefined ? { project } : {}),
    ...(branch !== undefined ? { branch } : {}),
    notes: given.project !== undefined ? [] : git.notes,
  };
}
