// Archives in S3 (the AWS SDK for JavaScript, path-style): upload one (nothing overwritten, checked by the server on
// the way in and read back whole after), list those under a prefix, download one. Any S3 service that speaks the API:
// the scaled stack's s3-gateway (versitygw over a folder) or AWS itself.
// The SDK is imported when first used (about 0.35 s): `pnpm export` without S3 starts as fast as before.
// Every request is bounded by progress, never by a total: a connection must open within `timeoutMs`, and a socket
// that stays silent for `timeoutMs` fails the request (a large archive on a slow link takes as long as it takes).
// Errors name the endpoint and what was being done; the keys never appear (withoutKeys on every message).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { archiveObject, type S3Location, type S3Settings, s3Url, withoutKeys } from './s3-target.ts';

/** One PutObject takes at most 5 GiB (S3's limit for a single upload; multipart is not used). */
export const PUT_MAX_BYTES = 5 * 1024 ** 3;
/** Attempts of the upload itself: each with a fresh read of the file (a stream cannot be sent twice). */
const PUT_ATTEMPTS = 3;

/** The object is there already: nothing was written (exit 1). */
export class S3ObjectExistsError extends Error {}

export interface S3Options {
  settings: S3Settings;
  /** Connection and idle-socket limit per request, ms (default 10000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

interface Conn {
  sdk: typeof import('@aws-sdk/client-s3');
  client: S3Client;
  /** The same without the SDK's retries: the upload retries itself, re-reading the file. */
  once: S3Client;
  fail: (doing: string) => (err: unknown) => never;
  send: S3Client['send'];
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

async function connect(o: S3Options): Promise<Conn> {
  const sdk = await import('@aws-sdk/client-s3');
  const timeout = o.timeoutMs ?? 10_000;
  const make = (maxAttempts: number) =>
    new sdk.S3Client({
      endpoint: o.settings.endpoint,
      region: o.settings.region,
      forcePathStyle: true,
      credentials: { accessKeyId: o.settings.accessKeyId, secretAccessKey: o.settings.secretAccessKey },
      maxAttempts,
      requestHandler: { connectionTimeout: timeout, socketTimeout: timeout },
      // The checks of what is read are this module's (every byte against the sha256 stored at upload), and say
      // which object and endpoint; the SDK's own would fail mid-stream with a message of its own.
      responseChecksumValidation: 'WHEN_REQUIRED',
      // The SDK warns on the console about a failed upload (a stream is not retried); the error says it all.
      logger: quiet,
    });
  const client = make(3);
  return {
    sdk,
    client,
    once: make(1),
    fail: (doing) => (err) => {
      throw s3Error(err, o.settings, doing, timeout);
    },
    send: ((cmd: Parameters<S3Client['send']>[0]) =>
      client.send(cmd, { abortSignal: o.signal })) as S3Client['send'],
  };
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
]);

/** What went wrong, naming the endpoint and what was being done, never a key. */
export function s3Error(err: unknown, s: S3Settings, doing: string, timeoutMs: number): Error {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (e?.name === 'AbortError') return err as Error;
  const at = `S3 at ${s.endpoint}`;
  const status = e?.$metadata?.httpStatusCode;
  // A HEAD's error has no body, so no error code: the SDK names it Unknown.
  const name = e?.name && e.name !== 'Unknown' && e.name !== 'Error' ? ` ${e.name}` : '';
  let text: string;
  if (e?.name === 'TimeoutError') text = `${at} did not answer ${doing} (no progress within ${timeoutMs} ms)`;
  else if (e?.code && CONNECTION_CODES.has(e.code))
    text = `${at} is not reachable: ${doing} failed (${e.code}; endpoint from ${s.endpointFrom})`;
  else if (status === 401 || status === 403)
    text = `${at} refused ${doing} (HTTP ${status}${name}): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (from ${s.keysFrom})`;
  else
    text = `${at}: ${doing} failed (${status ? `HTTP ${status}` : 'error'}${name}: ${e?.message ?? String(err)})`;
  return new Error(withoutKeys(text, s));
}

const notFound = (err: unknown) =>
  (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404;

/** The bucket, created when missing (one that exists, or appears meanwhile, is fine). */
async function ensureBucket(
  c: Conn,
  bucket: string,
  s: S3Settings,
  log: (line: string) => void,
): Promise<void> {
  try {
    await c.send(new c.sdk.HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    if (!notFound(err)) c.fail(`the check of bucket ${bucket}`)(err);
  }
  try {
    await c.send(
      new c.sdk.CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the one region that takes no location constraint (and refuses one).
        ...(s.region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: s.region as never } }),
      }),
    );
    log(`created bucket ${bucket} at ${s.endpoint}`);
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists')
      c.fail(`creating bucket ${bucket}`)(err);
  }
}

/** Where bytes go that are only counted and hashed. */
const discard = () =>
  new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });

/** Bytes and sha256 of a stream, as it passes (to a file, or nowhere). */
function hashing(): { stream: Transform; result: () => { bytes: number; sha256: string } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, result: () => ({ bytes, sha256: hash.digest('hex') }) };
}

async function fileDigest(file: string, signal?: AbortSignal): Promise<{ bytes: number; sha256: string }> {
  const h = hashing();
  await pipeline(createReadStream(file), h.stream, discard(), { signal });
  return h.result();
}

/** Reads an object whole, hashing every byte; `to`: a file it is written to (else the bytes are dropped). */
async function readObject(
  c: Conn,
  at: S3Location,
  o: S3Options,
  to?: string,
): Promise<{ bytes: number; sha256: string; contentLength?: number; metaSha256?: string }> {
  const got = await c
    .send(new c.sdk.GetObjectCommand({ Bucket: at.bucket, Key: at.key }))
    .catch(c.fail(`reading ${s3Url(at)}`));
  if (!(got.Body instanceof Readable))
    throw new Error(`S3 at ${o.settings.endpoint}: ${s3Url(at)} came without a body`);
  const h = hashing();
  try {
    if (to) await pipeline(got.Body, h.stream, createWriteStream(to, { mode: 0o600 }), { signal: o.signal });
    else await pipeline(got.Body, h.stream, discard(), { signal: o.signal });
  } catch (err) {
    c.fail(`reading ${s3Url(at)}`)(err);
  }
  return { ...h.result(), contentLength: got.ContentLength, metaSha256: got.Metadata?.sha256 };
}

export interface UploadResult {
  /** s3://BUCKET/KEY of the archive. */
  url: string;
  bucket: string;
  key: string;
  endpoint: string;
  bytes: number;
  /** Hex sha256 of the archive, equal to the bytes read back. */
  sha256: string;
  /** Whether the server checked the sha256 itself (it answered the checksum on HEAD). */
  serverChecked: boolean;
  attempts: number;
  ms: number;
}

/** The service answers with these keys: endpoint and bucket (created when missing). Run before a long export. */
export async function checkS3(at: S3Location, o: S3Options): Promise<void> {
  const c = await connect(o);
  try {
    await ensureBucket(c, at.bucket, o.settings, o.log ?? (() => {}));
  } finally {
    c.client.destroy();
    c.once.destroy();
  }
}

/**
 * Uploads `file` under the prefix `to` (its key: the prefix and the file's name). Refuses a key that exists (HEAD
 * first, then `If-None-Match: *` on the PUT, so a race loses too); sends the sha256 for the server to check; then
 * reads it back, HEAD (length, checksum, the sha256 kept in its metadata) and GET (every byte hashed), and fails
 * unless both match. Nothing is ever deleted or overwritten, a failed check included: the error says what differs.
 */
export async function uploadArchive(file: string, to: S3Location, o: S3Options): Promise<UploadResult> {
  const started = Date.now();
  const log = o.log ?? (() => {});
  const target = archiveObject(to, basename(file));
  const url = s3Url(target);
  const size = statSync(file).size;
  if (size > PUT_MAX_BYTES)
    throw new Error(
      `${basename(file)} is ${size} bytes, over the 5 GiB one upload takes (multipart is not supported): export fewer sessions per archive`,
    );
  const local = await fileDigest(file, o.signal);
  if (local.bytes !== size)
    throw new Error(`${file} changed while it was read (${size} -> ${local.bytes} bytes)`);
  const checksum = Buffer.from(local.sha256, 'hex').toString('base64');
  const c = await connect(o);
  try {
    await ensureBucket(c, target.bucket, o.settings, log);
    const exists = await c.send(new c.sdk.HeadObjectCommand({ Bucket: target.bucket, Key: target.key })).then(
      () => true,
      (err) => (notFound(err) ? false : c.fail(`the check of ${url}`)(err)),
    );
    if (exists)
      throw new S3ObjectExistsError(`${url} already exists at ${o.settings.endpoint}: nothing overwritten`);

    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await c.once.send(
          new c.sdk.PutObjectCommand({
            Bucket: target.bucket,
            Key: target.key,
            Body: createReadStream(file),
            ContentLength: size,
            ContentType: 'application/gzip',
            ChecksumSHA256: checksum,
            IfNoneMatch: '*',
            Metadata: { sha256: local.sha256 },
          }),
          { abortSignal: o.signal },
        );
        break;
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        // 412: the key exists. On a retry that is (most likely) our own earlier attempt, which reached the server
        // though its answer did not reach us: the read-back below decides. On the first attempt it is someone else's.
        if (status === 412 && attempts > 1) break;
        if (status === 412)
          throw new S3ObjectExistsError(
            `${url} appeared at ${o.settings.endpoint} meanwhile: nothing overwritten`,
          );
        const e = err as { name?: string };
        const transient = status === undefined || status >= 500 || e.name === 'TimeoutError';
        if (!transient || attempts >= PUT_ATTEMPTS || e.name === 'AbortError')
          c.fail(`uploading ${url}`)(err);
        log(
          `upload attempt ${attempts} of ${url} failed (${withoutKeys(String((err as Error).message), o.settings)}): again`,
        );
        // A short, growing pause (0.25 s, 0.5 s): a gateway that restarts or sheds load gets a moment.
        await delay(250 * 2 ** (attempts - 1), undefined, { signal: o.signal }).catch(
          c.fail(`uploading ${url}`),
        );
      }
    }

    const head = await c
      .send(new c.sdk.HeadObjectCommand({ Bucket: target.bucket, Key: target.key, ChecksumMode: 'ENABLED' }))
      .catch(c.fail(`the check of ${url} after upload`));
    const differs: string[] = [];
    if (head.ContentLength !== size)
      differs.push(`HEAD says ${head.ContentLength} bytes, the archive has ${size}`);
    if (head.ChecksumSHA256 && head.ChecksumSHA256 !== checksum)
      differs.push(`HEAD's sha256 checksum ${head.ChecksumSHA256} is not the archive's ${checksum}`);
    if (head.Metadata?.sha256 !== local.sha256)
      differs.push(
        `its metadata sha256 ${head.Metadata?.sha256 ?? '(none)'} is not the archive's ${local.sha256}`,
      );
    const back = await readObject(c, target, o);
    if (back.bytes !== size || back.sha256 !== local.sha256)
      differs.push(
        `read back: ${back.bytes} bytes, sha256 ${back.sha256}; the archive: ${size} bytes, sha256 ${local.sha256}`,
      );
    if (differs.length)
      throw new Error(
        `${url} at ${o.settings.endpoint} is not the archive (left as it is): ${differs.join('; ')}`,
      );
    return {
      url,
      ...target,
      endpoint: o.settings.endpoint,
      bytes: size,
      sha256: local.sha256,
      serverChecked: Boolean(head.ChecksumSHA256),
      attempts,
      ms: Date.now() - started,
    };
  } finally {
    c.client.destroy();
    c.once.destroy();
  }
}

export interface StoredArchive {
  key: string;
  url: string;
  bytes: number;
  /** ISO time the service gives (its last write). */
  lastModified: string | null;
}

/** The archives (.tar.gz) under a prefix, at any depth, oldest first; `others`: objects that are not archives. */
export async function listArchives(
  from: S3Location,
  o: S3Options,
): Promise<{ archives: StoredArchive[]; others: number }> {
  const c = await connect(o);
  try {
    const archives: StoredArchive[] = [];
    let others = 0;
    let token: string | undefined;
    do {
      const page = await c
        .send(
          new c.sdk.ListObjectsV2Command({
            Bucket: from.bucket,
            ...(from.key ? { Prefix: from.key } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        )
        .catch(c.fail(`listing ${s3Url(from)}`));
      for (const obj of page.Contents ?? []) {
        if (!obj.Key) continue;
        if (!obj.Key.endsWith('.tar.gz')) {
          others++;
          continue;
        }
        archives.push({
          key: obj.Key,
          url: s3Url({ bucket: from.bucket, key: obj.Key }),
          bytes: obj.Size ?? 0,
          lastModified: obj.LastModified?.toISOString() ?? null,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    archives.sort(
      (a, b) => (a.lastModified ?? '').localeCompare(b.lastModified ?? '') || a.key.localeCompare(b.key),
    );
    return { archives, others };
  } finally {
    c.client.destroy();
    c.once.destroy();
  }
}

/**
 * Downloads one object to `to` (mode 0600), hashing every byte; fails when the length differs from what the
 * service announced, or the sha256 from the one its metadata keeps (archives uploaded by `uploadArchive`).
 */
export async function downloadArchive(
  at: S3Location,
  to: string,
  o: S3Options,
): Promise<{ bytes: number; sha256: string; metaChecked: boolean }> {
  const c = await connect(o);
  try {
    const got = await readObject(c, at, o, to);
    if (got.contentLength !== undefined && got.contentLength !== got.bytes)
      throw new Error(
        `${s3Url(at)} at ${o.settings.endpoint}: ${got.bytes} bytes read of ${got.contentLength} announced`,
      );
    if (got.metaSha256 && got.metaSha256 !== got.sha256)
      throw new Error(
        `${s3Url(at)} at ${o.settings.endpoint}: sha256 ${got.sha256} is not the ${got.metaSha256} stored with it at upload`,
      );
    return { bytes: got.bytes, sha256: got.sha256, metaChecked: Boolean(got.metaSha256) };
  } finally {
    c.client.destroy();
    c.once.destroy();
  }
}
