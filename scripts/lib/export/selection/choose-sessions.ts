// Which sessions an export takes (the command's choice, before any phase), from its options and the sessions known
// (session-index.ts), and how they were chosen (the manifest's `selection`). Pure; a choice that finds nothing is
// an UnknownSessionError saying how to find ids (or, for --user, which users are known). An id is a session id or
// nothing (it becomes a path and a file name); a session whose start is unknown or in the future is never "the
// latest" (telemetry and records can claim any time), and the note says which were passed over.

import {
  isProjectName,
  isUserName,
  PROJECT_NAME_RULE,
  USER_NAME,
  USER_NAME_RULE,
} from '../../session/session-credential.ts';
import { latestOf, SESSION_ID, whyNotLatest } from '../../session/session-record.ts';
import type { KnownSession } from './session-index.ts';

/** No session to export: an id, --user or --since that matches none (the command exits 2). */
export class UnknownSessionError extends Error {}

/** How the sessions of an archive were chosen (`pnpm export`'s selectors). */
export interface Selection {
  /** session: named ids (--session); all: every session known; latest: the default; filter: --user and/or --since. */
  by: 'session' | 'all' | 'latest' | 'filter';
  /** --user NAME, when given: every session of that user (within --since, when given too). */
  user?: string;
  /** --project NAME, when given: every session of that project (of --user and within --since, when given too). */
  project?: string;
  /** --since, as given (2h) and the instant it meant. */
  since?: { duration: string; from: string };
}

export interface Choice {
  /** Explicit ids (--session, repeatable). */
  sessions?: string[];
  all?: boolean;
  /** --since: milliseconds before `now`. */
  sinceMs?: number;
  sinceText?: string;
  /** --user: the sessions of this user (their record's `user`, else the telemetry's `user.name`). */
  user?: string;
  /** --project: the sessions of this project (the `project` their telemetry carries). */
  project?: string;
}

/** The rule of `pnpm session --user` (one home: session-credential.ts). */
export { USER_NAME };

export function checkUserName(name: string): string {
  if (!isUserName(name)) throw new Error(`--user must be ${USER_NAME_RULE}, not ${JSON.stringify(name)}`);
  return name;
}

export function checkProjectName(name: string): string {
  if (!isProjectName(name))
    throw new Error(`--project must be ${PROJECT_NAME_RULE}, not ${JSON.stringify(name)}`);
  return name;
}

/** The projects of the known sessions, sorted, each once. */
export function knownProjects(known: KnownSession[]): string[] {
  return [...new Set(known.map((s) => s.project).filter((p): p is string => Boolean(p)))].sort();
}

/** The users of the known sessions, sorted, each once. */
export function knownUsers(known: KnownSession[]): string[] {
  return [...new Set(known.map((s) => s.user).filter((u): u is string => Boolean(u)))].sort();
}

/** The ids to export, how they were chosen, and a note when the choice was made for the user (the latest session). */
export function chooseSessions(
  known: KnownSession[],
  c: Choice,
  where: string,
  now = Date.now(),
): { ids: string[]; selection: Selection; note?: string } {
  if (c.user !== undefined) checkUserName(c.user);
  if (c.project !== undefined) checkProjectName(c.project);
  if (c.sessions?.length) {
    if (c.user !== undefined)
      throw new UnknownSessionError(
        '--session names the sessions outright: it goes without --user (use --user alone, or with --since)',
      );
    if (c.project !== undefined)
      throw new UnknownSessionError(
        '--session names the sessions outright: it goes without --project (use --project alone, or with --user or --since)',
      );
    for (const id of c.sessions)
      if (!SESSION_ID.test(id))
        throw new UnknownSessionError(
          `--session takes a session id (a UUID, as \`pnpm export list\` shows), not ${JSON.stringify(id.slice(0, 80))}`,
        );
    return { ids: c.sessions, selection: { by: 'session' } };
  }
  const since =
    c.sinceMs === undefined
      ? undefined
      : {
          duration: c.sinceText ?? `${c.sinceMs} ms`,
          from: new Date(now - c.sinceMs).toISOString(),
        };
  const active = (s: KnownSession) => c.sinceMs === undefined || (s.end ?? s.start ?? 0) >= now - c.sinceMs;
  if (c.project !== undefined) {
    const project = c.project;
    const theirs = known.filter((s) => s.project === project);
    if (!theirs.length) {
      const projects = knownProjects(known);
      throw new UnknownSessionError(
        `no sessions of project ${JSON.stringify(project)} known (${where}); ${
          projects.length
            ? `projects known: ${projects.join(', ')}`
            : 'no session known has a project (pnpm session --project NAME, or a workspace with a git remote, sets one)'
        }`,
      );
    }
    const ids = theirs
      .filter((s) => (c.user === undefined || s.user === c.user) && active(s))
      .map((s) => s.id);
    if (!ids.length)
      throw new UnknownSessionError(
        `no session of project ${JSON.stringify(project)}${c.user !== undefined ? ` and user ${JSON.stringify(c.user)}` : ''}${since ? ` active in the last ${since.duration}` : ''}: \`pnpm export list\` shows them all`,
      );
    return {
      ids,
      selection: {
        by: 'filter',
        project,
        ...(c.user !== undefined ? { user: c.user } : {}),
        ...(since ? { since } : {}),
      },
    };
  }
  if (c.user !== undefined) {
    const user = c.user;
    const ids = known.filter((s) => s.user === user && active(s)).map((s) => s.id);
    if (!ids.length) {
      const users = knownUsers(known);
      const theirs = known.some((s) => s.user === user);
      throw new UnknownSessionError(
        theirs
          ? `no session of user ${JSON.stringify(user)} active in the last ${since?.duration}: \`pnpm export list\` shows them all`
          : `no sessions of user ${JSON.stringify(user)} known (${where}); ${
              users.length
                ? `users known: ${users.join(', ')}`
                : 'no session known has a user (pnpm session --user NAME sets one)'
            }`,
      );
    }
    return { ids, selection: { by: 'filter', user, ...(since ? { since } : {}) } };
  }
  if (c.all) {
    if (!known.length) throw new UnknownSessionError(`no sessions known (${where})`);
    return { ids: known.map((s) => s.id), selection: { by: 'all' } };
  }
  if (since) {
    const ids = known.filter(active).map((s) => s.id);
    if (!ids.length)
      throw new UnknownSessionError(
        `no session active in the last ${since.duration}: \`pnpm export list\` shows them all`,
      );
    return { ids, selection: { by: 'filter', since } };
  }
  const latest = latestOf(known, now);
  const passedOver = known.flatMap((s) => {
    const why = whyNotLatest(s.start, now);
    return why ? [`${s.id} (${why})`] : [];
  });
  const passed = passedOver.length ? `; passed over: ${passedOver.join(', ')}` : '';
  if (!latest)
    throw new UnknownSessionError(
      known.length
        ? `no session known can be the latest${passed}: name one with --session`
        : `no sessions known (${where}): run \`pnpm session\` first`,
    );
  return {
    ids: [latest.id],
    selection: { by: 'latest' },
    note: `no --session given: the latest one, ${latest.id}${passed}`,
  };
}
