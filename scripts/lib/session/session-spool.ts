// A session's spool: the one host folder its container may write (mounted as /spool), through which it hands back
// what only it has: Claude Code's transcripts (its HOME is a tmpfs that goes with the container), the terminal
// recording of an interactive session, and its wrapper's own view of how it ended. Everything in it is the session's
// word, not a fact: when the session ends the host takes only the files it knows, each a regular file under its
// bound (never through a link, never a FIFO), into the record as "reported", and removes the rest.
// As root the spool is a tmpfs of its own (SESSION_SPOOL_SIZE, default 256m), so a session cannot fill the disk that
// holds the records and the telemetry through it; otherwise a plain folder (said in the record).
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { NODE_UID } from '../stack/local-env.ts';
import { RECORD_FILES, SUBAGENT_TRANSCRIPT } from './session-record.ts';

/** What the host takes from a spool, with the most it takes of each. */
export const SPOOL_FILES: { name: RegExp; maxBytes: number }[] = [
  { name: /^metadata\.json$/, maxBytes: 1 << 20 },
  { name: new RegExp(`^${RECORD_FILES.transcript.replace('.', '\\.')}$`), maxBytes: 128 << 20 },
  { name: SUBAGENT_TRANSCRIPT, maxBytes: 64 << 20 },
  { name: new RegExp(`^${RECORD_FILES.terminal.replace('.', '\\.')}$`), maxBytes: 64 << 20 },
  { name: new RegExp(`^${RECORD_FILES.timing.replace('.', '\\.')}$`), maxBytes: 16 << 20 },
];

export interface Spool {
  /** The host folder mounted as the container's /spool. */
  dir: string;
  /** How it is bounded, for the record. */
  bound: string;
  /** Unmounts (when it is a tmpfs) and removes it; safe to call twice. */
  remove(): Promise<void>;
}

const isRoot = () => process.getuid?.() === 0;

/** Creates the spool of one session under SPOOL_DIR, a bounded tmpfs as root. */
export async function openSpool(spoolDir: string, sessionId: string, size = '256m'): Promise<Spool> {
  if (!/^\d+[kmg]?$/i.test(size)) throw new Error(`SESSION_SPOOL_SIZE=${size}: not a size like 256m`);
  const dir = join(spoolDir, sessionId);
  mkdirSync(dir, { mode: 0o700 });
  let mounted = false;
  if (isRoot()) {
    const r = await $({
      quiet: true,
      nothrow: true,
    })`mount -t tmpfs -o ${`size=${size},mode=0700,uid=${NODE_UID},gid=${NODE_UID},nosuid,nodev,noexec`} cct-spool ${dir}`;
    mounted = r.exitCode === 0;
    if (!mounted)
      throw new Error(`could not mount a ${size} tmpfs as the session's spool ${dir}: ${r.stderr.trim()}`);
  } else {
    // Not root: a plain folder the containers' uid 1000 can write (unbounded: said in the record).
    await $({ quiet: true })`chmod 0777 ${dir}`;
  }
  const remove = async () => {
    if (mounted) {
      mounted = false;
      await $({ quiet: true, nothrow: true })`umount ${dir}`;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, bound: mounted ? `tmpfs of ${size}` : 'none (not root: a plain folder)', remove };
}

export interface SpoolFile {
  name: string;
  data: Buffer;
}

export interface SpoolHarvest {
  files: SpoolFile[];
  /** What was left behind and why, one line each (links, FIFOs, folders, unknown names, files over their bound). */
  refused: string[];
}

/**
 * Reads a regular file without following a link or blocking on a FIFO, up to its bound; otherwise says why not.
 * The descriptor is checked, not the name, so a swap between the check and the read changes nothing.
 */
export function readBounded(file: string, maxBytes: number): Buffer | string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ELOOP' ? 'a symbolic link (never followed)' : `unreadable (${code})`;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return 'not a regular file';
    if (st.size > maxBytes) return `${st.size} bytes, over its bound of ${maxBytes}`;
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The files the session left in `<spool>/<session id>/` (the wrapper's layout) that the record may take. */
export function harvestSpool(spool: string, sessionId: string): SpoolHarvest {
  const dir = join(spool, sessionId);
  const out: SpoolHarvest = { files: [], refused: [] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    out.refused.push(`${sessionId}/: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    return out;
  }
  for (const name of names.sort().slice(0, 1000)) {
    const rule = SPOOL_FILES.find((r) => r.name.test(name));
    if (!rule) {
      if (name !== RECORD_FILES.log && name !== RECORD_FILES.secrets)
        out.refused.push(`${name}: not a record file`);
      continue;
    }
    const got = readBounded(join(dir, name), rule.maxBytes);
    if (typeof got === 'string') out.refused.push(`${name}: ${got}`);
    else out.files.push({ name, data: got });
  }
  if (names.length > 1000) out.refused.push(`${names.length - 1000} more entries not looked at`);
  return out;
}
