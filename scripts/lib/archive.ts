// Session archives: a folder of files described by a manifest (size, sha256, record count of every file), packed as
// a .tar.gz written to a temporary name and renamed when complete, so an interrupted export leaves no archive; and
// the verification of an archive against its manifest.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export const MANIFEST_FORMAT = 1;

export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
  /** Lines of a .jsonl file (one export request each), or null for other files. */
  records: number | null;
}

export interface Manifest {
  formatVersion: number;
  createdAt: string;
  sessions: string[];
  timeRange: { start: string | null; end: string | null };
  versions: Record<string, string>;
  /** What the archive lacks and why (a sink that was down, ...): never a silently partial archive. */
  missing: { what: string; why: string }[];
  /** Whether prompts and tool content are in the telemetry (only when it carried them un-redacted). */
  content: { userPrompts: boolean; toolDetails: boolean };
  files: ManifestFile[];
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

/** Describes every file under `dir` (but manifest.json itself), sorted by path. */
export function describeFiles(dir: string): ManifestFile[] {
  return walk(dir)
    .map((file) => {
      const data = readFileSync(file);
      const path = relative(dir, file);
      return {
        path,
        bytes: data.length,
        sha256: sha256(data),
        records: path.endsWith('.jsonl') ? data.toString('utf8').split('\n').filter(Boolean).length : null,
      };
    })
    .filter((f) => f.path !== 'manifest.json')
    .sort((a, b) => a.path.localeCompare(b.path));
}

function tarHeader(name: string, size: number, mode = 0o644): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`archive path longer than 100 bytes: ${name}`);
  const h = Buffer.alloc(512);
  const octal = (v: number, w: number) => `${v.toString(8).padStart(w - 1, '0')}\0`;
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** Packs `dir` as `<top>/...` into `archive` (.tar.gz), atomically: a .partial file renamed when complete. */
export function packArchive(dir: string, top: string, archive: string): void {
  const parts: Buffer[] = [];
  for (const file of walk(dir).sort()) {
    const data = readFileSync(file);
    parts.push(
      tarHeader(`${top}/${relative(dir, file)}`, data.length),
      data,
      Buffer.alloc((512 - (data.length % 512)) % 512),
    );
  }
  parts.push(Buffer.alloc(1024));
  const partial = `${archive}.partial`;
  mkdirSync(dirname(archive), { recursive: true });
  try {
    writeFileSync(partial, gzipSync(Buffer.concat(parts)));
    renameSync(partial, archive);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/** The files of a .tar.gz archive, by path inside it. */
export function readArchive(archive: string): Map<string, Buffer> {
  const tar = gunzipSync(readFileSync(archive));
  const files = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(
      header.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0',
      8,
    );
    files.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Every difference between an archive and its manifest, named; empty when the archive is intact. */
export function verifyArchive(archive: string): string[] {
  if (!statSync(archive, { throwIfNoEntry: false })) return [`${archive} does not exist`];
  let files: Map<string, Buffer>;
  try {
    files = readArchive(archive);
  } catch (err) {
    return [`${archive} is not a readable .tar.gz: ${(err as Error).message}`];
  }
  const manifestEntry = [...files.keys()].find((k) => k.endsWith('/manifest.json'));
  if (!manifestEntry) return ['no manifest.json in the archive'];
  const top = manifestEntry.slice(0, -'/manifest.json'.length);
  const manifest = JSON.parse((files.get(manifestEntry) as Buffer).toString('utf8')) as Manifest;
  const problems: string[] = [];
  if (manifest.formatVersion !== MANIFEST_FORMAT)
    problems.push(`manifest format ${manifest.formatVersion}, expected ${MANIFEST_FORMAT}`);
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.path);
    const data = files.get(`${top}/${f.path}`);
    if (!data) {
      problems.push(`${f.path}: listed in the manifest, absent from the archive`);
      continue;
    }
    if (data.length !== f.bytes) problems.push(`${f.path}: ${data.length} bytes, manifest says ${f.bytes}`);
    if (sha256(data) !== f.sha256) problems.push(`${f.path}: sha256 differs from the manifest`);
  }
  for (const name of files.keys()) {
    const path = name.slice(top.length + 1);
    if (path !== 'manifest.json' && !listed.has(path))
      problems.push(`${path}: in the archive, not in the manifest`);
  }
  return problems;
}
