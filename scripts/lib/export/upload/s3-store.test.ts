// The upload against a real S3 service: versitygw (the scaled stack's s3-gateway) on the host, over a temporary
// folder, with a proxy in front where a test must change what travels (a byte flipped, an answer lost, a rival
// write between the check and the upload).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  downloadArchive,
  listArchives,
  PUT_MAX_BYTES,
  S3ObjectExistsError,
  type S3Options,
  uploadArchive,
} from './s3-store.ts';
import type { S3Settings } from './s3-target.ts';
import { ensureVersitygw, startTestS3, type TestS3 } from './s3-test-server.ts';

// Each test makes many requests in a row, and a busy 2-core machine can stretch them to seconds: the default 5 s
// would measure the machine's load (each request is bounded by its own timeout).
const TEST_TIMEOUT_MS = 120_000;

let s3: TestS3;
let settings: S3Settings;
const work = () => mkdtempSync(join(tmpdir(), 's3-store-'));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  s3 = await startTestS3(await ensureVersitygw());
  settings = {
    endpoint: s3.endpoint,
    region: 'us-east-1',
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    endpointFrom: 'the test',
    keysFrom: 'the test',
  };
}, 900_000); // a cold build of versitygw: about 2 minutes here, more on a busy machine
afterAll(() => s3?.stop());

/** An archive-like file of `bytes` random bytes. */
function archive(name: string, bytes = 200_000): { file: string; data: Buffer } {
  const file = join(work(), name);
  const data = randomBytes(bytes);
  writeFileSync(file, data);
  return { file, data };
}

const opts = (over: Partial<S3Options> = {}): S3Options => ({ settings, timeoutMs: 10_000, ...over });

/** What the proxy does with one PUT: forward another body, lose the gateway's answer, or answer it itself. */
interface PutFate {
  body?: Buffer;
  dropAnswer?: boolean;
  /** Answer this status without forwarding (a gateway shedding load: 503). */
  answer?: number;
}

/**
 * An HTTP proxy to the gateway; `onPut` sees each PUT of an object (body in hand) and decides what is forwarded,
 * and whether the client gets the answer.
 */
async function proxy(
  onPut: (body: Buffer, n: number) => Promise<PutFate> | PutFate,
): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const target = new URL(s3.endpoint);
  let puts = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body: Buffer = Buffer.concat(chunks);
      let dropAnswer = false;
      const isObjectPut = req.method === 'PUT' && /^\/[^/?]+\/[^?]+/.test(req.url ?? '');
      if (isObjectPut) {
        const d = await onPut(body, ++puts);
        if (d.answer) {
          res.writeHead(d.answer, { 'content-type': 'application/xml' });
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
          );
          return;
        }
        body = d.body ?? body;
        dropAnswer = Boolean(d.dropAnswer);
      }
      const up = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const back: Buffer[] = [];
          answer.on('data', (c: Buffer) => back.push(c));
          answer.on('end', () => {
            if (dropAnswer) {
              res.socket?.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(back));
          });
        },
      );
      up.on('error', () => res.socket?.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('uploadArchive', { timeout: TEST_TIMEOUT_MS }, () => {
  it('uploads under the prefix (bucket created), checked by the server, read back whole', async () => {
    const a = archive('claude-code-session-one.tar.gz', 3_000_000);
    const u = await uploadArchive(a.file, { bucket: 'archives-one', key: 'team/' }, opts());
    expect(u).toMatchObject({
      url: 's3://archives-one/team/claude-code-session-one.tar.gz',
      key: 'team/claude-code-session-one.tar.gz',
      endpoint: s3.endpoint,
      bytes: 3_000_000,
      sha256: sha(a.data),
      serverChecked: true,
      attempts: 1,
    });
    // What the gateway holds on its disk is the archive, byte for byte.
    expect(sha(readFileSync(join(s3.dir, 'archives-one', 'team', 'claude-code-session-one.tar.gz')))).toBe(
      sha(a.data),
    );
    console.log(`uploaded 3 MB in ${u.ms} ms (check, PUT, HEAD, GET)`);
  });

  it('overwrites nothing: an existing key is refused and left as it was', async () => {
    const a = archive('same.tar.gz');
    await uploadArchive(a.file, { bucket: 'archives-two', key: '' }, opts());
    writeFileSync(a.file, randomBytes(1000)); // another archive of the same name
    await expect(uploadArchive(a.file, { bucket: 'archives-two', key: '' }, opts())).rejects.toThrow(
      new S3ObjectExistsError(
        `s3://archives-two/same.tar.gz already exists at ${s3.endpoint}: nothing overwritten`,
      ),
    );
    expect(sha(readFileSync(join(s3.dir, 'archives-two', 'same.tar.gz')))).toBe(sha(a.data));
  });

  it('overwrites nothing when the key appears between the check and the upload (If-None-Match)', async () => {
    const rival = randomBytes(5000);
    const direct = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    await direct.send(new CreateBucketCommand({ Bucket: 'archives-race' }));
    const p = await proxy(async () => {
      // Another writer wins the race, just before our PUT reaches the gateway.
      await direct.send(new PutObjectCommand({ Bucket: 'archives-race', Key: 'raced.tar.gz', Body: rival }));
      return {};
    });
    try {
      const a = archive('raced.tar.gz');
      await expect(
        uploadArchive(
          a.file,
          { bucket: 'archives-race', key: '' },
          opts({ settings: { ...settings, endpoint: p.endpoint } }),
        ),
      ).rejects.toThrow(
        `s3://archives-race/raced.tar.gz appeared at ${p.endpoint} meanwhile: nothing overwritten`,
      );
      expect(sha(readFileSync(join(s3.dir, 'archives-race', 'raced.tar.gz')))).toBe(sha(rival));
    } finally {
      direct.destroy();
      await p.close();
    }
  });

  it('is refused by the server when a byte changes on the way, and stores nothing', async () => {
    const p = await proxy((body) => {
      const bad = Buffer.from(body);
      const i = Math.floor(bad.length / 2);
      bad[i] = (bad[i] as number) ^ 0xff;
      return { body: bad };
    });
    try {
      const a = archive('flipped.tar.gz');
      const err = await uploadArchive(
        a.file,
        { bucket: 'archives-flip', key: '' },
        opts({ settings: { ...settings, endpoint: p.endpoint } }),
      ).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(
        new RegExp(`^S3 at ${p.endpoint}: uploading s3://archives-flip/flipped.tar.gz failed \\(HTTP 400`),
      );
      console.log(`a flipped byte: ${(err as Error).message}`);
      expect(await listArchives({ bucket: 'archives-flip', key: '' }, opts())).toEqual({
        archives: [],
        others: 0,
      });
    } finally {
      await p.close();
    }
  });

  it('survives a lost answer: the retry finds its own upload, and the read-back proves it', async () => {
    const p = await proxy((_body, n) => ({ dropAnswer: n === 1 }));
    try {
      const a = archive('lost-answer.tar.gz');
      const logged: string[] = [];
      const u = await uploadArchive(
        a.file,
        { bucket: 'archives-lost', key: 'x/' },
        opts({ settings: { ...settings, endpoint: p.endpoint }, log: (l) => logged.push(l) }),
      );
      expect(u).toMatchObject({ attempts: 2, sha256: sha(a.data), bytes: a.data.length });
      expect(logged.join('\n')).toMatch(
        /upload attempt 1 of s3:\/\/archives-lost\/x\/lost-answer\.tar\.gz failed/,
      );
    } finally {
      await p.close();
    }
  });

  it('refuses an archive over 5 GiB before reading it (one PUT takes no more; multipart is not used)', async () => {
    const file = join(work(), 'huge.tar.gz');
    writeFileSync(file, '');
    truncateSync(file, PUT_MAX_BYTES + 1); // sparse: nothing is written
    await expect(
      uploadArchive(
        file,
        { bucket: 'archives', key: '' },
        opts({ settings: { ...settings, endpoint: 'http://127.0.0.1:9' } }),
      ),
    ).rejects.toThrow(
      `huge.tar.gz is ${PUT_MAX_BYTES + 1} bytes, over the 5 GiB one upload takes (multipart is not supported): export fewer sessions per archive`,
    );
  });

  it('gives up after 3 attempts when the gateway keeps failing, naming the endpoint; stores nothing', async () => {
    let puts = 0;
    const p = await proxy(() => {
      puts++;
      return { answer: 503 };
    });
    try {
      const a = archive('shed.tar.gz');
      const logged: string[] = [];
      const err = await uploadArchive(
        a.file,
        { bucket: 'archives-shed', key: '' },
        opts({ settings: { ...settings, endpoint: p.endpoint }, log: (l) => logged.push(l) }),
      ).catch((e: Error) => e.message);
      expect(err).toBe(
        `S3 at ${p.endpoint}: uploading s3://archives-shed/shed.tar.gz failed (HTTP 503 SlowDown: Please reduce your request rate.)`,
      );
      expect(puts).toBe(3);
      expect(logged.filter((l) => l.startsWith('upload attempt'))).toHaveLength(2);
      expect((await listArchives({ bucket: 'archives-shed', key: '' }, opts())).archives).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('names the endpoint when it is closed, refuses the keys, or does not answer; never a key', async () => {
    const a = archive('never.tar.gz');
    const closed = await uploadArchive(
      a.file,
      { bucket: 'archives', key: '' },
      opts({ settings: { ...settings, endpoint: 'http://127.0.0.1:9' } }),
    ).catch((e: Error) => e.message);
    expect(closed).toBe(
      'S3 at http://127.0.0.1:9 is not reachable: the check of bucket archives failed (ECONNREFUSED; endpoint from the test)',
    );

    const wrong = { ...settings, secretAccessKey: `${settings.secretAccessKey.slice(0, -4)}0000` };
    const refused = await uploadArchive(
      a.file,
      { bucket: 'archives', key: '' },
      opts({ settings: wrong }),
    ).catch((e: Error) => e.message);
    expect(refused).toMatch(
      new RegExp(
        `^S3 at ${s3.endpoint} refused the check of bucket archives \\(HTTP 403\\): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY \\(from the test\\)$`,
      ),
    );
    for (const text of [closed, refused]) {
      expect(text).not.toContain(settings.accessKeyId);
      expect(text).not.toContain(wrong.secretAccessKey);
    }

    // A peer that accepts and never answers: bounded by the timeout (per attempt: the SDK tries 3 times).
    const sockets = new Set<Socket>();
    const silent = createTcpServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const started = Date.now();
      const hung = await uploadArchive(
        a.file,
        { bucket: 'archives', key: '' },
        opts({ settings: { ...settings, endpoint: `http://127.0.0.1:${port}` }, timeoutMs: 300 }),
      ).catch((e: Error) => e.message);
      expect(hung).toBe(
        `S3 at http://127.0.0.1:${port} did not answer the check of bucket archives (no progress within 300 ms)`,
      );
      console.log(`a silent endpoint failed after ${Date.now() - started} ms (300 ms per attempt)`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

describe('listArchives and downloadArchive', { timeout: TEST_TIMEOUT_MS }, () => {
  it('lists the archives under a prefix, at any depth, and counts what is not one', async () => {
    const one = archive('claude-code-a.tar.gz', 1000);
    const two = archive('claude-code-b.tar.gz', 2000);
    const note = archive('notes.txt', 10);
    await uploadArchive(one.file, { bucket: 'archives-list', key: 'team/' }, opts());
    await uploadArchive(two.file, { bucket: 'archives-list', key: 'team/2026/' }, opts());
    await uploadArchive(note.file, { bucket: 'archives-list', key: 'team/' }, opts());
    await uploadArchive(one.file, { bucket: 'archives-list', key: 'other/' }, opts());
    const listed = await listArchives({ bucket: 'archives-list', key: 'team/' }, opts());
    expect(listed.others).toBe(1);
    expect(listed.archives.map((a) => [a.url, a.bytes]).sort()).toEqual([
      ['s3://archives-list/team/2026/claude-code-b.tar.gz', 2000],
      ['s3://archives-list/team/claude-code-a.tar.gz', 1000],
    ]);
    for (const a of listed.archives)
      expect(Date.parse(a.lastModified ?? '')).toBeGreaterThan(Date.now() - 3600_000);
    expect((await listArchives({ bucket: 'archives-list', key: '' }, opts())).archives).toHaveLength(3);
    await expect(listArchives({ bucket: 'no-such-bucket', key: '' }, opts())).rejects.toThrow(
      new RegExp(`^S3 at ${s3.endpoint}: listing s3://no-such-bucket/ failed \\(HTTP 404 NoSuchBucket`),
    );
  });

  it('downloads every byte, and refuses a copy that is not the one uploaded', async () => {
    const a = archive('fetched.tar.gz', 500_000);
    await uploadArchive(a.file, { bucket: 'archives-get', key: '' }, opts());
    const to = join(work(), 'copy.tar.gz');
    expect(await downloadArchive({ bucket: 'archives-get', key: 'fetched.tar.gz' }, to, opts())).toEqual({
      bytes: 500_000,
      sha256: sha(a.data),
      metaChecked: true,
    });
    expect(sha(readFileSync(to))).toBe(sha(a.data));

    // The stored file changed behind the gateway's back (same length): the sha256 kept at upload says so.
    const stored = join(s3.dir, 'archives-get', 'fetched.tar.gz');
    const changed = readFileSync(stored);
    changed[10] = (changed[10] as number) ^ 1;
    writeFileSync(stored, changed);
    await expect(
      downloadArchive({ bucket: 'archives-get', key: 'fetched.tar.gz' }, join(work(), 'bad.tar.gz'), opts()),
    ).rejects.toThrow(`is not the ${sha(a.data)} stored with it at upload`);
    await expect(
      downloadArchive({ bucket: 'archives-get', key: 'missing.tar.gz' }, join(work(), 'none.tar.gz'), opts()),
    ).rejects.toThrow(/reading s3:\/\/archives-get\/missing\.tar\.gz failed \(HTTP 404 NoSuchKey/);
  });
});
