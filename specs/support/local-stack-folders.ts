// The local stack's folders (the stack `pnpm stack:up` runs: stack/.env.local, or the defaults `pnpm stack:setup`
// would pick) and what is in them, so the specs can show they leave that stack alone: global-setup.ts lists them
// before the e2e stack starts, specs/own-data.spec.ts and the teardown compare.
import { existsSync, readdirSync } from 'node:fs';
import { hostIds, planLocalEnv, readLocalEnv } from '../../scripts/lib/stack/local-env.ts';

/** Every folder of a stack's values (the *_DIR keys), by key. */
export const stackFolders = (values: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(values).filter((e): e is [string, string] => e[0].endsWith('_DIR') && Boolean(e[1])),
  );

/** The local stack's folders, as `pnpm stack:setup` plans them (what it has, or would make). */
export const localStackFolders = (): Record<string, string> =>
  stackFolders(planLocalEnv(readLocalEnv(), hostIds(), process.env, () => 'unused').values);

/**
 * Folders whose entries are named by a user or a session id (workspaces, their quota images, records, spools,
 * revoked credentials): an entry of the specs' stack showing up in the local stack's folder is one of theirs.
 * Telemetry and queue files are named alike in every stack, so for those the paths alone are compared.
 */
export const PER_SESSION_FOLDERS = [
  'WORKSPACES_DIR',
  'WORKSPACE_IMAGES_DIR',
  'SESSIONS_DIR',
  'SPOOL_DIR',
  'SESSION_REVOKED_DIR',
] as const;

export type FolderListing = Record<string, string[]>;

/** The entries of each per-session folder ([] when it does not exist). */
export function listFolders(folders: Record<string, string>): FolderListing {
  return Object.fromEntries(
    PER_SESSION_FOLDERS.map((k) => {
      const dir = folders[k];
      return [k, dir && existsSync(dir) ? readdirSync(dir).sort() : []];
    }),
  );
}

/**
 * What the specs left in the local stack's folders: the entries each gained since `before` that the specs' own
 * folder of the same key holds too (a user or session of the specs), as `KEY: name`.
 */
export function leftBySpecs(before: FolderListing, local: FolderListing, specs: FolderListing): string[] {
  const out: string[] = [];
  for (const k of PER_SESSION_FOLDERS) {
    const had = new Set(before[k]);
    const theirs = new Set(specs[k]);
    for (const name of local[k] ?? []) if (!had.has(name) && theirs.has(name)) out.push(`${k}: ${name}`);
  }
  return out;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The local stack's per-session folders as global-setup.ts found them, before the e2e stack started. */
    localStackBefore: FolderListing;
  }
}
