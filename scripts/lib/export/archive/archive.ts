// Session archives: a folder of files described by a manifest (size, sha256, record count of every file), packed as
// a .tar.gz written to a temporary name and renamed when complete, so an interrupted export leaves no archive; and
// the verification of an archive against its manifest. Everything streams: archives of many sessions can be large.
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { UsageComparison } from '../analysis/usage.ts';
import type { Selection } from '../selection/choose-sessions.ts';

export const MANIFEST_FORMAT = 1;

export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
  /**
   * Records in the file: lines of a .jsonl file (one OTLP export request each), spans of a Jaeger file, series of
   * a Prometheus file, sessions of summary.json; null for text (README, report, logs, metadata).
   */
  records: number | null;
}

export interface Manifest {
  formatVersion: number;
  createdAt: string;
  tool: { name: string; version: string };
  sessions: string[];
  /** How the sessions were chosen; absent in archives written before it was recorded. */
  selection?: Selection;
  timeRange: { start: string | null; end: string | null };
  /** Versions of every stack component (image pins and what ran) and of Claude Code. */
  versions: Record<string, string>;
  /** What the archive lacks and why (a sink that was down, a torn line, ...): never a silently partial archive. */
  missing: { what: string; why: string }[];
  /**
   * Whether prompt and tool content is in the archive: only when the telemetry carried it un-redacted (the
   * OTEL_LOG_* switches of the session). `evidence` names where it was seen.
   */
  content: {
    userPrompts: boolean;
    assistantResponses: boolean;
    toolDetails: boolean;
    toolContent: boolean;
    apiBodies: boolean;
    evidence: string[];
  };
  /** Secrets removed while exporting, by rule (never the values). */
  redactions: Record<string, number>;
  /**
   * Per session id: model usage as the session gateway observed it beside what Claude Code reported, and each
   * difference named (usage.ts; summary.json has the same). Absent in archives written before it was recorded.
   */
  usage?: Record<string, UsageComparison>;
  /** Per signal: files read, records kept, torn and corrupt lines met. */
  telemetry: Record<
    string,
    {
      filesRead: number;
      bytesRead: number;
      requests: number;
      records: number;
      /** Requests found twice in the files (a sender's resend, see README "Delivery"), kept once. */
      duplicateRequests: number;
    }
  >;
  files: ManifestFile[];
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

const posix = (path: string) => path.split(sep).join('/');

/** Size, sha256 and (for .jsonl) line count of one file, streamed. */
export async function describeFile(file: string, path: string): Promise<ManifestFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) lines++;
    last = chunk[chunk.length - 1] ?? last;
  }
  const jsonl = path.endsWith('.jsonl');
  return {
    path,
    bytes,
    sha256: hash.digest('hex'),
    records: jsonl ? lines + (bytes > 0 && last !== 0x0a ? 1 : 0) : null,
  };
}

/** Describes every file under `dir` (but manifest.json itself), sorted by path. */
export async function describeFiles(dir: string): Promise<ManifestFile[]> {
  const files = walk(dir)
    .map((file) => ({ file, path: posix(relative(dir, file)) }))
    .filter((f) => f.path !== 'manifest.json')
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const out: ManifestFile[] = [];
  for (const f of files) out.push(await describeFile(f.file, f.path));
  return out;
}

/** A ustar header; names over 100 bytes are split into prefix (155) and name (100) at a slash. */
function tarHeader(path: string, size: number, mtime: number): Buffer {
  let name = path;
  let prefix = '';
  if (Buffer.byteLength(path) > 100) {
    const cut = path.lastIndexOf('/', 155);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
    if (cut <= 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155)
      throw new Error(`archive path too long for a tar header (name 100, prefix 155 bytes): ${path}`);
  }
  const h = Buffer.alloc(512);
  const octal = (v: number, w: number) => `${v.toString(8).padStart(w - 1, '0')}\0`;
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/**
 * Packs `dir` as `<top>/...` into `archive` (.tar.gz), streamed and atomically: written to `<archive>.partial`,
 * renamed when complete, removed on failure. `signal` aborts it (an interrupted export leaves nothing).
 */
export async function packArchive(
  dir: string,
  top: string,
  archive: string,
  signal?: AbortSignal,
): Promise<void> {
  const mtime = Math.floor(Date.now() / 1000);
  async function* tar() {
    for (const file of walk(dir).sort()) {
      const size = statSync(file).size;
      yield tarHeader(`${top}/${posix(relative(dir, file))}`, size, mtime);
      let written = 0;
      for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
        written += chunk.length;
        yield chunk;
      }
      if (written !== size)
        throw new Error(`${file} changed while it was packed (${size} -> ${written} bytes)`);
      yield Buffer.alloc((512 - (size % 512)) % 512);
    }
    yield Buffer.alloc(1024);
  }
  const partial = `${archive}.partial`;
  mkdirSync(dirname(archive), { recursive: true });
  try {
    await pipeline(tar(), createGzip(), createWriteStream(partial, { mode: 0o600 }), { signal });
    renameSync(partial, archive);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

export interface TarEntry {
  name: string;
  bytes: number;
  sha256: string;
  /** The content, for the entries `keep` asked for. */
  data?: Buffer;
}

/** Streams the entries of a .tar.gz: name, size and sha256 of each, and the content of those `keep` accepts. */
export async function* readTarEntries(
  archive: string,
  keep: (name: string) => boolean = () => false,
): AsyncGenerator<TarEntry> {
  let pending: Buffer = Buffer.alloc(0);
  let entry: {
    name: string;
    left: number;
    pad: number;
    hash: ReturnType<typeof createHash>;
    parts?: Buffer[];
  } | null = null;
  let entrySize = 0;
  let ended = false;
  const input = createReadStream(archive).pipe(createGunzip());
  for await (const chunk of input as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (ended) break;
      if (entry) {
        if (entry.left > 0) {
          const take = Math.min(entry.left, pending.length);
          if (take === 0) break;
          const part = pending.subarray(0, take);
          entry.hash.update(part);
          entry.parts?.push(Buffer.from(part));
          entry.left -= take;
          pending = pending.subarray(take);
          if (entry.left > 0) break;
        }
        if (pending.length < entry.pad) break;
        pending = pending.subarray(entry.pad);
        yield {
          name: entry.name,
          bytes: entrySize,
          sha256: entry.hash.digest('hex'),
          ...(entry.parts ? { data: Buffer.concat(entry.parts) } : {}),
        };
        entry = null;
        continue;
      }
      if (pending.length < 512) break;
      const header = pending.subarray(0, 512);
      pending = pending.subarray(512);
      if (header.every((b) => b === 0)) {
        ended = true;
        break;
      }
      const field = (from: number, to: number) =>
        header.subarray(from, to).toString('utf8').replace(/\0.*$/s, '');
      const prefix = field(345, 500);
      const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
      entrySize = Number.parseInt(field(124, 136).trim() || '0', 8);
      if (!Number.isFinite(entrySize)) throw new Error(`bad size in the tar header of ${name}`);
      entry = {
        name,
        left: entrySize,
        pad: (512 - (entrySize % 512)) % 512,
        hash: createHash('sha256'),
        ...(keep(name) ? { parts: [] } : {}),
      };
    }
  }
  if (entry) throw new Error(`the archive ends inside ${entry.name}`);
}

/** The files of a .tar.gz archive, by path inside it, with their content (for small archives and tests). */
export async function readArchive(archive: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for await (const e of readTarEntries(archive, () => true)) files.set(e.name, e.data ?? Buffer.alloc(0));
  return files;
}

/** Every difference between an archive and its manifest, named; empty when the archive is intact. */
export async function verifyArchive(archive: string): Promise<string[]> {
  if (!statSync(archive, { throwIfNoEntry: false })) return [`${archive} does not exist`];
  const entries = new Map<string, TarEntry>();
  try {
    for await (const e of readTarEntries(archive, (name) => name.endsWith('/manifest.json')))
      entries.set(e.name, e);
  } catch (err) {
    return [`${archive} is not a readable .tar.gz: ${(err as Error).message}`];
  }
  const manifestEntry = [...entries.keys()].find((k) => k.endsWith('/manifest.json'));
  if (!manifestEntry) return ['no manifest.json in the archive'];
  const top = manifestEntry.slice(0, -'/manifest.json'.length);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(entries.get(manifestEntry)?.data?.toString('utf8') ?? '') as Manifest;
  } catch (err) {
    return [`manifest.json is not JSON: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  if (manifest.formatVersion !== MANIFEST_FORMAT)
    problems.push(`manifest format ${manifest.formatVersion}, expected ${MANIFEST_FORMAT}`);
  if (!Array.isArray(manifest.files)) return [...problems, 'manifest.json lists no files'];
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.path);
    const e = entries.get(`${top}/${f.path}`);
    if (!e) {
      problems.push(`${f.path}: listed in the manifest, absent from the archive`);
      continue;
    }
    if (e.bytes !== f.bytes) problems.push(`${f.path}: ${e.bytes} bytes, manifest says ${f.bytes}`);
    if (e.sha256 !== f.sha256) problems.push(`${f.path}: sha256 differs from the manifest`);
  }
  for (const name of entries.keys()) {
    const path = name.startsWith(`${top}/`) ? name.slice(top.length + 1) : name;
    if (path !== 'manifest.json' && !listed.has(path))
      problems.push(`${path}: in the archive, not in the manifest`);
  }
  return problems;
}
