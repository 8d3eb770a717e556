import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readEnvFile } from '../stack/env-file.ts';
import { envFiles } from '../stack/stack-files.ts';
import type { BuildRun } from './build-run.ts';
import { imageCatalog } from './image-catalog.ts';
import { artifactPath, fetchMavenArtifact, type MavenArtifactPart } from './maven-artifact.ts';

const body = Buffer.from('PK\u0003\u0004 not really a zip, but bytes to hash\n'.repeat(1000));
const sha512 = createHash('sha512').update(body).digest('hex');
const run: BuildRun = { log: () => {} };
const part = (o: Partial<MavenArtifactPart> = {}): MavenArtifactPart => ({
  kind: 'maven-artifact',
  coordinates: 'org.example.dist:thing:1.2.3:zip',
  sha512,
  output: 'thing-1.2.3.zip',
  ...o,
});

describe('artifactPath', () => {
  it("is Maven's layout: group dots as folders, then artifact-version.packaging", () => {
    expect(artifactPath('org.opensearch.distribution.integ-test-zip:opensearch:2.19.6:zip')).toBe(
      'org/opensearch/distribution/integ-test-zip/opensearch/2.19.6/opensearch-2.19.6.zip',
    );
  });

  it('refuses what is not group:artifact:version:packaging, or climbs out of the repository', () => {
    expect(() => artifactPath('org.example:thing:1.0')).toThrow('not group:artifact:version:packaging');
    expect(() => artifactPath('org.example:thing:1.0:zip:extra')).toThrow('not group:artifact');
    expect(() => artifactPath('org.example:../x:1.0:zip')).toThrow('not group:artifact');
  });
});

describe('the OpenSearch image', () => {
  it('takes its zip from Maven Central at the pinned version, checked against the pinned SHA-512', () => {
    const versions = readEnvFile(envFiles.versions);
    const spec = imageCatalog(versions).find((s) => s.name === 'opensearch');
    expect(spec?.recipe.kind === 'dockerfile' && spec.recipe.context[0]).toEqual({
      kind: 'maven-artifact',
      coordinates: `org.opensearch.distribution.integ-test-zip:opensearch:${versions.OPENSEARCH_VERSION}:zip`,
      sha512: versions.OPENSEARCH_ZIP_SHA512,
      output: `opensearch-${versions.OPENSEARCH_VERSION}.zip`,
    });
    expect(versions.OPENSEARCH_ZIP_SHA512).toMatch(/^[0-9a-f]{128}$/);
  });
});

describe('fetchMavenArtifact (a repository on 127.0.0.1)', () => {
  let server: Server;
  let base = '';
  let ctx = '';
  const requests: string[] = [];
  const path = `/${artifactPath(part().coordinates)}`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url?.startsWith('/moved/')) {
        res.writeHead(302, { location: (req.url ?? '').slice('/moved'.length) }).end();
      } else if (req.url === path) {
        res.writeHead(200, { 'content-length': body.length }).end(body);
      } else if (req.url?.startsWith('/short/')) {
        // Says more bytes than it sends, then hangs up: a cut download.
        res.writeHead(200, { 'content-length': body.length * 2 });
        res.write(body);
        res.destroy();
      } else {
        res.writeHead(404).end('not here');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    ctx = mkdtempSync(join(tmpdir(), 'maven-artifact-'));
    requests.length = 0;
  });
  afterEach(() => rmSync(ctx, { recursive: true, force: true }));

  it('downloads, checks the SHA-512, and keeps the file under its name', async () => {
    expect(await fetchMavenArtifact(run, part(), ctx, `${base}/`)).toMatch(/fetched, .* MB, SHA-512 checked/);
    expect(readFileSync(join(ctx, 'thing-1.2.3.zip')).equals(body)).toBe(true);
    expect(readdirSync(ctx)).toEqual(['thing-1.2.3.zip']);
  });

  it('asks nothing when the file is there with the pinned SHA-512; replaces one that is not', async () => {
    writeFileSync(join(ctx, 'thing-1.2.3.zip'), body);
    expect(await fetchMavenArtifact(run, part(), ctx, base)).toMatch(/cached/);
    expect(requests).toEqual([]);
    writeFileSync(join(ctx, 'thing-1.2.3.zip'), 'stale');
    expect(await fetchMavenArtifact(run, part(), ctx, base)).toMatch(/fetched/);
    expect(requests).toEqual([path]);
  });

  it('refuses a file whose SHA-512 is not the pin, naming both, and keeps nothing', async () => {
    const wrong = 'ab'.repeat(64);
    await expect(fetchMavenArtifact(run, part({ sha512: wrong }), ctx, base)).rejects.toThrow(
      `SHA-512 of the ${body.length} bytes from ${base}${path} is ${sha512}, not the pinned ${wrong}`,
    );
    expect(readdirSync(ctx)).toEqual([]);
  });

  it('follows a redirect; names the URL and the answer of a refusal; notices a cut download', async () => {
    expect(await fetchMavenArtifact(run, part(), ctx, `${base}/moved`)).toMatch(/fetched/);
    expect(requests).toEqual([`/moved${path}`, path]);
    rmSync(join(ctx, 'thing-1.2.3.zip'));
    await expect(fetchMavenArtifact(run, part(), ctx, `${base}/nowhere`)).rejects.toThrow(
      `maven artifact download from ${base}/nowhere${path}: answered 404`,
    );
    await expect(fetchMavenArtifact(run, part(), ctx, `${base}/short`)).rejects.toThrow(
      `maven artifact download from ${base}/short${path}`,
    );
    expect(existsSync(join(ctx, 'thing-1.2.3.zip'))).toBe(false);
    expect(readdirSync(ctx)).toEqual([]);
  });

  it('refuses a pin that is not a SHA-512', async () => {
    await expect(fetchMavenArtifact(run, part({ sha512: 'abc' }), ctx, base)).rejects.toThrow(
      'the pinned SHA-512 is not 128 hex digits',
    );
  });
});
