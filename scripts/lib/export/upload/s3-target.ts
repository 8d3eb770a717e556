// Where `pnpm export --to`, `export list --from` and `export verify s3://...` go: the s3:// URL (bucket and key or
// prefix) and the settings of the S3 service (endpoint, region, keys). Pure and quick: the command checks both
// before it indexes or exports anything, so a mistyped URL or a missing key costs nothing (exit 2).
// The keys are only ever carried, never put in a message: errors name the variable and where it was looked for.

/** A URL or setting that cannot be used (the command exits 2). */
export class S3TargetError extends Error {}

export interface S3Location {
  bucket: string;
  /**
   * The object key (verify) or the prefix the archives go under (--to, list --from): "" or ending in "/".
   * Parsed from `s3://BUCKET/KEY`; the URL is never percent-decoded (what is typed is the key).
   */
  key: string;
}

export const S3_URL_FORM = 's3://BUCKET/PREFIX';

// AWS's rule for bucket names (general purpose buckets): 3-63 lowercase letters, digits, dots and hyphens,
// starting and ending with a letter or digit, no two dots in a row, not shaped like an IPv4 address.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const BUCKET_RULE =
  '3-63 lowercase letters, digits, . and -, starting and ending with a letter or digit';
// The characters AWS calls safe in keys; a key is also a path on a gateway over a folder (versitygw's posix
// backend), so no empty, "." or ".." segment either.
const KEY_SEGMENT = /^[A-Za-z0-9!_.*'()-]+$/;
export const KEY_RULE =
  "letters, digits and ! - _ . * ' ( ), in segments separated by single / (none . or ..), at most 1024 bytes";
const KEY_MAX_BYTES = 1024;

function checkBucket(bucket: string, url: string): void {
  if (!BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket))
    throw new S3TargetError(`${JSON.stringify(url)}: the bucket must be ${BUCKET_RULE}`);
}

function checkKey(key: string, url: string): void {
  const segments = key.replace(/\/$/, '').split('/');
  if (
    Buffer.byteLength(key) > KEY_MAX_BYTES ||
    segments.some((s) => !KEY_SEGMENT.test(s) || s === '.' || s === '..')
  )
    throw new S3TargetError(`${JSON.stringify(url.slice(0, 200))}: the key must be ${KEY_RULE}`);
}

/**
 * `s3://BUCKET[/PREFIX]` (--to, list --from): the prefix is "" or ends in "/" (`s3://b/exports` and
 * `s3://b/exports/` are the same place).
 */
export function parseS3Prefix(url: string): S3Location {
  const { bucket, rest } = splitUrl(url);
  if (rest === '') return { bucket, key: '' };
  checkKey(rest, url);
  return { bucket, key: rest.endsWith('/') ? rest : `${rest}/` };
}

/** `s3://BUCKET/KEY` (verify): one object, so a key that does not end in "/". */
export function parseS3Object(url: string): S3Location {
  const { bucket, rest } = splitUrl(url);
  if (rest === '' || rest.endsWith('/'))
    throw new S3TargetError(
      `${JSON.stringify(url)}: name one archive, s3://BUCKET/KEY (pnpm export list --from)`,
    );
  checkKey(rest, url);
  return { bucket, key: rest };
}

export const isS3Url = (text: string) => /^s3:\/\//i.test(text);

function splitUrl(url: string): { bucket: string; rest: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/s.exec(url);
  if (!m) throw new S3TargetError(`${JSON.stringify(url.slice(0, 200))} is not an S3 URL: ${S3_URL_FORM}`);
  const bucket = m[1] as string;
  checkBucket(bucket, url);
  return { bucket, rest: m[2] ?? '' };
}

export const s3Url = (l: S3Location) => `s3://${l.bucket}/${l.key}`;

/** The object an archive file becomes under a prefix. */
export const archiveObject = (prefix: S3Location, fileName: string): S3Location => ({
  bucket: prefix.bucket,
  key: `${prefix.key}${fileName}`,
});

export interface S3Settings {
  /** The service's origin (http(s)://host[:port]), addressed path-style (http://host/BUCKET/KEY). */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where the endpoint and the keys came from, for messages (never the keys). */
  endpointFrom: string;
  keysFrom: string;
}

export const S3_DEFAULT_REGION = 'us-east-1';
export const S3_GATEWAY_DEFAULT_PORT = '7070';

/**
 * The settings, from the environment first, then stack/.env.local (`local`, read from `localFile`):
 * S3_ENDPOINT (default: the local stack's s3-gateway, http://127.0.0.1:S3_GATEWAY_PORT (7070), when
 * stack/.env.local has its keys); S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, as a pair from one place (a key from
 * the shell and a secret from the file would be a mistake); S3_REGION (us-east-1).
 */
export function s3Settings(
  env: Record<string, string | undefined>,
  local: Record<string, string>,
  localFile = 'stack/.env.local',
): S3Settings {
  const keys = (() => {
    for (const [from, source] of [
      ['the environment', env],
      [localFile, local],
    ] as const) {
      const id = source.S3_ACCESS_KEY_ID;
      const secret = source.S3_SECRET_ACCESS_KEY;
      if (!id && !secret) continue;
      if (!id || !secret)
        throw new S3TargetError(
          `${from} has ${id ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY'} but not ${id ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'}: set both`,
        );
      return { accessKeyId: id, secretAccessKey: secret, keysFrom: from };
    }
    throw new S3TargetError(
      `no S3 keys: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY in the environment, or run pnpm stack:setup (it writes the stack's s3-gateway keys to ${localFile})`,
    );
  })();

  const endpoint = (() => {
    const given = env.S3_ENDPOINT ? 'the environment' : local.S3_ENDPOINT ? localFile : null;
    if (given)
      return {
        url: checkEndpoint(env.S3_ENDPOINT || (local.S3_ENDPOINT as string)),
        from: `S3_ENDPOINT (${given})`,
      };
    if (!local.S3_ACCESS_KEY_ID)
      throw new S3TargetError(
        `no S3 endpoint: set S3_ENDPOINT (such as https://s3.eu-west-1.amazonaws.com); the local stack's s3-gateway is the default only when ${localFile} has its keys`,
      );
    const port = env.S3_GATEWAY_PORT || local.S3_GATEWAY_PORT || S3_GATEWAY_DEFAULT_PORT;
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      throw new S3TargetError(`S3_GATEWAY_PORT must be a port number (1-65535), not ${JSON.stringify(port)}`);
    return {
      url: `http://127.0.0.1:${Number(port)}`,
      from: "the local stack's s3-gateway (pnpm stack:up --scaled; S3_ENDPOINT for another)",
    };
  })();

  const region = env.S3_REGION || local.S3_REGION || S3_DEFAULT_REGION;
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(region))
    throw new S3TargetError(
      `S3_REGION must be a region name such as us-east-1, not ${JSON.stringify(region.slice(0, 80))}`,
    );

  return { endpoint: endpoint.url, endpointFrom: endpoint.from, region, ...keys };
}

/** An endpoint is an origin: credentials in it would be printed with it, a path or query would be ignored. */
function checkEndpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new S3TargetError(`S3_ENDPOINT must be a URL, http(s)://HOST[:PORT] (it is not one)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new S3TargetError(`S3_ENDPOINT must be http(s)://HOST[:PORT], not ${url.protocol}//...`);
  if (url.username || url.password)
    throw new S3TargetError(
      'S3_ENDPOINT must not hold credentials: use S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY',
    );
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    throw new S3TargetError(
      `S3_ENDPOINT must be http(s)://HOST[:PORT], without a path or query (${url.origin}...)`,
    );
  return url.origin;
}

/** Removes the keys from a text that might hold them (a message from the SDK or a server). */
export function withoutKeys(text: string, s: Pick<S3Settings, 'accessKeyId' | 'secretAccessKey'>): string {
  let out = text;
  for (const value of [s.secretAccessKey, s.accessKeyId])
    if (value) out = out.split(value).join('[redacted]');
  return out;
}
