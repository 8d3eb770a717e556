// One artifact of a Maven repository (Maven Central unless MAVEN_REPOSITORY names a mirror) into a build
// context, the way Maven itself resolves it: group, artifact, version and packaging make the path; no Maven or JDK
// on the host. The download streams to a temporary file hashed as it goes, and only a file whose SHA-512 is the
// pinned one (stack/versions.env) takes the artifact's name: a truncated, tampered or wrong file never reaches
// an image. Bounded: no answer or no bytes for IDLE_TIMEOUT_MS aborts it, saying where.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { withProgress } from '../progress.ts';
import type { BuildRun } from './build-run.ts';

export interface MavenArtifactPart {
  kind: 'maven-artifact';
  /** `group:artifact:version:packaging`, as Maven spells an artifact. */
  coordinates: string;
  /** The artifact's SHA-512, hex (Maven Central publishes it beside the file as `.sha512`). */
  sha512: string;
  /** The file's name in the build context. */
  output: string;
}

/** Maven's own default repository (its super POM's `central`). */
export const MAVEN_CENTRAL = 'https://repo.maven.apache.org/maven2';
const IDLE_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;

/** The artifact's path in a Maven repository: group dots become folders. */
export function artifactPath(coordinates: string): string {
  const parts = coordinates.split(':');
  const [group, artifact, version, packaging] = parts;
  if (parts.length !== 4 || !group || !artifact || !version || !packaging || /[/\\]|\.\./.test(coordinates))
    throw new Error(`maven artifact ${coordinates}: not group:artifact:version:packaging`);
  return `${group.replaceAll('.', '/')}/${artifact}/${version}/${artifact}-${version}.${packaging}`;
}

export function sha512File(file: string): string {
  return createHash('sha512').update(readFileSync(file)).digest('hex');
}

/** The artifact in `ctx` as OUTPUT: kept when its SHA-512 is the pin, else downloaded and checked. */
export async function fetchMavenArtifact(
  run: BuildRun,
  part: MavenArtifactPart,
  ctx: string,
  repository = process.env.MAVEN_REPOSITORY || MAVEN_CENTRAL,
): Promise<string> {
  if (!/^[0-9a-f]{128}$/.test(part.sha512))
    throw new Error(`maven artifact ${part.coordinates}: the pinned SHA-512 is not 128 hex digits`);
  const dest = join(ctx, part.output);
  if (existsSync(dest) && sha512File(dest) === part.sha512)
    return `${part.coordinates}: cached (SHA-512 checked)`;
  const url = `${repository.replace(/\/+$/, '')}/${artifactPath(part.coordinates)}`;
  const partial = `${dest}.partial`;
  try {
    const { sha512, bytes } = await withProgress(
      `downloading ${part.coordinates}`,
      () => download(url, partial),
      run.log,
    );
    if (sha512 !== part.sha512)
      throw new Error(
        `maven artifact ${part.coordinates}: SHA-512 of the ${bytes} bytes from ${url} is ${sha512}, not the pinned ${part.sha512}`,
      );
    renameSync(partial, dest);
    return `${part.coordinates}: fetched, ${(bytes / 1e6).toFixed(1)} MB, SHA-512 checked`;
  } finally {
    rmSync(partial, { force: true });
  }
}

/** Streams URL into FILE, hashing as it goes; follows a few redirects; fails naming the URL and the cause. */
async function download(
  url: string,
  file: string,
  redirects = 0,
): Promise<{ sha512: string; bytes: number }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    // Plain HTTP only for a mirror on this machine (and the unit test's server).
    const get = url.startsWith('http:') ? httpGet : httpsGet;
    const req = get(url, { timeout: IDLE_TIMEOUT_MS }, resolve);
    req.on('timeout', () => req.destroy(new Error(`no answer or no bytes within ${IDLE_TIMEOUT_MS} ms`)));
    req.on('error', (err) => reject(new Error(`maven artifact download from ${url}: ${err.message}`)));
  });
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location) {
    res.resume();
    if (redirects >= MAX_REDIRECTS)
      throw new Error(`maven artifact download from ${url}: over ${MAX_REDIRECTS} redirects`);
    return download(new URL(res.headers.location, url).toString(), file, redirects + 1);
  }
  if (status !== 200) {
    res.resume();
    throw new Error(
      `maven artifact download from ${url}: answered ${status} ${res.statusMessage ?? ''}`.trim(),
    );
  }
  const hash = createHash('sha512');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, tap, createWriteStream(file));
  } catch (err) {
    throw new Error(`maven artifact download from ${url}: ${(err as Error).message} after ${bytes} bytes`);
  }
  const expected = Number(res.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(expected) && expected !== bytes)
    throw new Error(`maven artifact download from ${url}: ${bytes} of ${expected} bytes`);
  return { sha512: hash.digest('hex'), bytes };
}
