// Export phase "choose": which sessions an export takes, from the command's options and the sessions known
// (session-index.ts). Pure; a choice that finds nothing is an UnknownSessionError saying how to find ids.
import { latestOf } from '../session/session-record.ts';
import type { KnownSession } from './session-index.ts';
import { UnknownSessionError } from './staging.ts';

export interface Choice {
  /** Explicit ids (--session, repeatable). */
  sessions?: string[];
  all?: boolean;
  /** --since: milliseconds before `now`. */
  sinceMs?: number;
  sinceText?: string;
}

/** The ids to export, and a note when the choice was made for the user (the latest session). */
export function chooseSessions(
  known: KnownSession[],
  c: Choice,
  where: string,
  now = Date.now(),
): { ids: string[]; note?: string } {
  if (c.sessions?.length) return { ids: c.sessions };
  if (c.all) {
    if (!known.length) throw new UnknownSessionError(`no sessions known (${where})`);
    return { ids: known.map((s) => s.id) };
  }
  if (c.sinceMs !== undefined) {
    const from = now - c.sinceMs;
    const ids = known.filter((s) => (s.end ?? s.start ?? 0) >= from).map((s) => s.id);
    if (!ids.length)
      throw new UnknownSessionError(
        `no session active in the last ${c.sinceText ?? `${c.sinceMs} ms`}: \`pnpm export list\` shows them all`,
      );
    return { ids };
  }
  const latest = latestOf(known);
  if (!latest) throw new UnknownSessionError(`no sessions known (${where}): run \`pnpm session\` first`);
  return { ids: [latest.id], note: `no --session given: the latest one, ${latest.id}` };
}
