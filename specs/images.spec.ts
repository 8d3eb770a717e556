// Recipe: check that every image `pnpm stack:images` built runs the real component, at the pinned version.
// Each image is started alone, ports on 127.0.0.1, and probed the way the stack probes it.
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { $ } from 'zx';
import { dockerfileCopies } from '../scripts/lib/architecture/dockerfile-copies.ts';
import { diskTree } from '../scripts/lib/architecture/source-tree.ts';
import { readManifest } from '../scripts/lib/images/collector-manifest.ts';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { readEnvFile } from '../scripts/lib/stack/env-file.ts';
import { envFiles } from '../scripts/lib/stack/stack-files.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { runOnce, type Started, startContainer } from './support/containers.ts';

const versions = readEnvFile(envFiles.versions);
const image = (key: string) => versions[key] as string;
/** Where the claude-code image keeps the code that runs in it (its WORKDIR while copying). */
const CODE_DIR = '/opt/claude-code-telemetry';

async function httpOk(url: string): Promise<Response | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return res.ok ? res : undefined;
}

beforeAll(async () => {
  const missing: string[] = [];
  for (const key of [
    'OTELCOL_LOCAL_IMAGE',
    'JAEGER_LOCAL_IMAGE',
    'PROMETHEUS_LOCAL_IMAGE',
    'VICTORIALOGS_LOCAL_IMAGE',
    'CLAUDE_CODE_IMAGE',
    'OPENSEARCH_LOCAL_IMAGE',
    'S3_GATEWAY_LOCAL_IMAGE',
  ]) {
    if ((await $({ nothrow: true, quiet: true })`docker image inspect ${image(key)}`).exitCode !== 0) {
      missing.push(image(key));
    }
  }
  if (missing.length) throw new Error(`images not built: ${missing.join(', ')}; run \`pnpm stack:images\``);
});

describe('otel-collector image', () => {
  let collector: Started;
  beforeAll(async () => {
    collector = await startContainer({
      image: image('OTELCOL_LOCAL_IMAGE'),
      ports: [13133],
      // The single host's two files, which the image's command loads in this order (as compose does).
      bindMounts: ['sessions.yaml', 'config.yaml'].map((f) => ({
        source: join(repoRoot, 'stack/otel-collector', f),
        target: `/etc/otelcol/${f}`,
        mode: 'ro' as const,
      })),
      tmpFs: { '/telemetry': 'rw,uid=10001,gid=10001', '/queue': 'rw,uid=10001,gid=10001' },
      env: { JAEGER_OTLP_ENDPOINT: '127.0.0.1:4317' },
    });
  });
  afterAll(() => collector?.remove());

  it('runs the stack config and answers its health endpoint, with no deprecation warnings', async () => {
    await waitFor('collector health_check not answering 200', () => httpOk(collector.url(13133)));
    const logs = await collector.logs();
    expect(logs).toContain('Everything is ready');
    expect(logs).not.toMatch(/deprecat/i);
  });

  it('lists exactly the builder manifest components, at the pinned version', async () => {
    const out = await runOnce(image('OTELCOL_LOCAL_IMAGE'), ['components']);
    const components = parse(out.output) as Record<string, { module: string }[]> & {
      buildinfo: { version: string };
    };
    expect(components.buildinfo.version).toBe(versions.OTELCOL_VERSION);
    const manifest = readManifest(join(repoRoot, 'stack/otel-collector/builder-config.yaml'));
    for (const cls of ['receivers', 'processors', 'exporters', 'extensions'] as const) {
      const built = (components[cls] ?? []).map((c) => c.module.split(' ')[0]).sort();
      expect(built, cls).toEqual([...manifest.modules[cls]].sort());
    }
  });

  it('refuses a config naming a component it was not built with', async () => {
    const bad =
      'receivers: { zipkin: {} }\nexporters: { debug: {} }\nservice: { pipelines: { traces: { receivers: [zipkin], exporters: [debug] } } }\n';
    const r = await $({
      quiet: true,
      nothrow: true,
      input: bad,
    })`docker run --rm -i --network none --entrypoint /otelcol ${image('OTELCOL_LOCAL_IMAGE')} validate --config=yaml:${bad}`;
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/unknown type: "zipkin"/);
  });

  it('runs as a non-root user', async () => {
    const user = (
      await $({ quiet: true })`docker image inspect --format {{.Config.User}} ${image('OTELCOL_LOCAL_IMAGE')}`
    ).stdout.trim();
    expect(user).toBe('10001:10001');
  });
});

describe('jaeger image', () => {
  let jaeger: Started;
  beforeAll(async () => {
    jaeger = await startContainer({ image: image('JAEGER_LOCAL_IMAGE'), ports: [16686, 13133] });
  });
  afterAll(() => jaeger?.remove());

  it('answers the query API /api/services', async () => {
    const res = await waitFor('jaeger /api/services not answering 200', () =>
      httpOk(jaeger.url(16686, '/api/services')),
    );
    // A fresh Jaeger knows no service yet: an empty, error-free answer.
    expect(await res.json()).toMatchObject({ total: 0, errors: null });
  });

  it('reports the pinned version and runs as non-root', async () => {
    const out = await runOnce(image('JAEGER_LOCAL_IMAGE'), ['version']);
    const info = JSON.parse(/\{.*"gitVersion".*\}/.exec(out.output)?.[0] ?? '{}') as Record<string, string>;
    expect(info.gitVersion, out.output).toBe(`v${versions.JAEGER_VERSION}`);
    const user = (
      await $({ quiet: true })`docker image inspect --format {{.Config.User}} ${image('JAEGER_LOCAL_IMAGE')}`
    ).stdout.trim();
    expect(user).toBe('10001:10001');
  });
});

describe('prometheus image', () => {
  let prometheus: Started;
  beforeAll(async () => {
    prometheus = await startContainer({ image: image('PROMETHEUS_LOCAL_IMAGE'), ports: [9090] });
  });
  afterAll(() => prometheus?.remove());

  it('answers /-/ready', async () => {
    const res = await waitFor('prometheus /-/ready not answering 200', () =>
      httpOk(prometheus.url(9090, '/-/ready')),
    );
    expect(await res.text()).toMatch(/ready/i);
  });

  it('is the pinned release, built with its web UI, run as nobody', async () => {
    const out = await runOnce(image('PROMETHEUS_LOCAL_IMAGE'), ['--version']);
    expect(out.output).toContain(`prometheus, version ${versions.PROMETHEUS_VERSION} `);
    expect(out.output).toMatch(/tags:\s+netgo,builtinassets/);
    const id = await runOnce(image('PROMETHEUS_LOCAL_IMAGE'), ['-u'], 'id');
    expect(id.output.trim()).toBe('65534');
    const ui = await waitFor('prometheus UI not answering 200', () => httpOk(prometheus.url(9090, '/query')));
    expect(await ui.text()).toMatch(/<title>Prometheus/);
  });
});

describe('victorialogs image', () => {
  let vl: Started;
  beforeAll(async () => {
    vl = await startContainer({ image: image('VICTORIALOGS_LOCAL_IMAGE'), ports: [9428] });
  });
  afterAll(() => vl?.remove());

  it('answers /health and serves its web UI from the binary', async () => {
    await waitFor('victorialogs /health not answering 200', () => httpOk(vl.url(9428, '/health')));
    const ui = await waitFor('victorialogs UI not answering 200', () =>
      httpOk(vl.url(9428, '/select/vmui/')),
    );
    expect(await ui.text()).toMatch(/<div id="root">/);
  });

  it('reports the pinned version and runs as uid 10001', async () => {
    const out = await runOnce(image('VICTORIALOGS_LOCAL_IMAGE'), ['-version']);
    expect(out.stdout.trim()).toBe(`victoria-logs-v${versions.VICTORIALOGS_VERSION}`);
    expect((await vl.exec(['id', '-u'])).output.trim()).toBe('10001');
  });
});

describe('opensearch image', () => {
  let os: Started;
  beforeAll(async () => {
    // Its default config: one node that forms a cluster of itself, bound to the container's interfaces, so every
    // bootstrap check is enforced (the open-file floor among them, lowered by the image's agent).
    os = await startContainer({ image: image('OPENSEARCH_LOCAL_IMAGE'), ports: [9200] });
  });
  afterAll(() => os?.remove());

  it('comes up green with bootstrap checks enforced, the open-file floor lowered by its agent', async () => {
    // A JVM's start on a busy 2-core machine: up to a few minutes; each try waits up to 1 s in OpenSearch itself.
    await waitFor(
      'opensearch /_cluster/health?wait_for_status=green not answering 200',
      () => httpOk(os.url(9200, '/_cluster/health?wait_for_status=green&timeout=1s')),
      { timeoutMs: 240_000, intervalMs: 1_000 },
    );
    const logs = await os.logs();
    expect(logs).toContain('enforcing bootstrap checks');
    expect(logs).toContain("fd-floor: OpenSearch's file descriptor check floor lowered from 65535 to 16384");
  });

  it('is the pinned release, runs as uid 10001, and stores and finds a document', async () => {
    const root = (await (await fetch(os.url(9200, '/'))).json()) as { version: { number: string } };
    expect(root.version.number).toBe(versions.OPENSEARCH_VERSION);
    expect((await os.exec(['id', '-u'])).output.trim()).toBe('10001');
    const put = await fetch(os.url(9200, '/image-spec/_doc/1?refresh=true'), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'opensearch' }),
    });
    expect(put.status).toBe(201);
    const got = (await (await fetch(os.url(9200, '/image-spec/_doc/1'))).json()) as { _source: unknown };
    expect(got._source).toEqual({ hello: 'opensearch' });
  });
});

describe('s3-gateway image', () => {
  let gw: Started;
  const credentials = { accessKeyId: 'image-spec', secretAccessKey: `image-spec-${'s'.repeat(30)}` };
  beforeAll(async () => {
    gw = await startContainer({
      image: image('S3_GATEWAY_LOCAL_IMAGE'),
      ports: [7070],
      env: { ROOT_ACCESS_KEY: credentials.accessKeyId, ROOT_SECRET_KEY: credentials.secretAccessKey },
    });
  });
  afterAll(() => gw?.remove());

  it('answers GET /health without credentials, is the pinned release, as uid 10001', async () => {
    await waitFor('s3-gateway /health not answering 200', () => httpOk(gw.url(7070, '/health')));
    const out = await runOnce(image('S3_GATEWAY_LOCAL_IMAGE'), ['--version']);
    expect(out.output).toContain(`Version  : v${versions.S3_GATEWAY_VERSION}`);
    expect((await gw.exec(['id', '-u'])).output.trim()).toBe('10001');
  });

  it('stores and returns an object with the root credentials, and refuses a wrong secret', async () => {
    const client = (secretAccessKey: string) =>
      new S3Client({
        endpoint: gw.url(7070, ''),
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { ...credentials, secretAccessKey },
      });
    const s3 = client(credentials.secretAccessKey);
    await s3.send(new CreateBucketCommand({ Bucket: 'archives' }));
    await s3.send(new PutObjectCommand({ Bucket: 'archives', Key: 'a/b.tar.gz', Body: 'archive bytes' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'archives', Key: 'a/b.tar.gz' }));
    expect(await got.Body?.transformToString()).toBe('archive bytes');
    await expect(client('wrong').send(new ListBucketsCommand({}))).rejects.toThrow(/signature/i);
  });
});

describe('claude-code image', () => {
  it('prints its pinned version with `claude --version`, through its entrypoint', async () => {
    const out = await runOnce(image('CLAUDE_CODE_IMAGE'), ['claude', '--version']);
    expect(out.output.trim()).toBe(`${versions.CLAUDE_CODE_VERSION} (Claude Code)`);
  });

  it('runs as the non-root user node, on the pinned Node', async () => {
    const id = await runOnce(image('CLAUDE_CODE_IMAGE'), ['-un'], 'id');
    expect(id.output.trim()).toBe('node');
    const node = await runOnce(image('CLAUDE_CODE_IMAGE'), ['--version'], 'node');
    expect(node.output.trim()).toBe(`v${versions.NODE_VERSION}`);
  });

  it('carries only the code that runs in it: what its Dockerfile copies, nothing more', async () => {
    // What the Dockerfile copies (its COPY lines, read as the architecture test reads them: that test holds them to
    // the import graph of the image's entry points), and the image must hold exactly that under its code folder.
    const tree = diskTree(repoRoot, ['stack/claude-code', 'scripts/lib/session']);
    const copied = [...dockerfileCopies(tree, 'stack/claude-code/Dockerfile').copied.values()]
      .filter((f) => f.startsWith(`${CODE_DIR}/`))
      .sort();
    expect(copied).toContain(`${CODE_DIR}/stack/claude-code/entrypoint.ts`);
    expect(copied).toContain(`${CODE_DIR}/scripts/lib/session/session-record.ts`);
    const files = await runOnce(
      image('CLAUDE_CODE_IMAGE'),
      [CODE_DIR, '-type', 'f', '-not', '-path', '*/node_modules/*'],
      'find',
    );
    expect(files.output.trim().split('\n').sort()).toEqual(copied);
  });

  it('refuses (exit 78) a session whose telemetry would be lost, naming the variable', async () => {
    const r = await $({
      quiet: true,
      nothrow: true,
    })`docker run --rm --network none -e CLAUDE_CODE_ENABLE_TELEMETRY=1 ${image('CLAUDE_CODE_IMAGE')} check`;
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/refusing to start[\s\S]*OTEL_EXPORTER_OTLP_PROTOCOL/);
  });
});

describe.each([
  ['mcp-file-ops', 'MCP_FILE_OPS_IMAGE', 'read_file'],
  ['mcp-database', 'MCP_DATABASE_IMAGE', 'query'],
])('%s image', (name, key, tool) => {
  let server: Started;
  const token = `image-spec-${'t'.repeat(40)}`;
  beforeAll(async () => {
    server = await startContainer({ image: image(key), ports: [8080], env: { MCP_AUTH_TOKEN: token } });
  });
  afterAll(() => server?.remove());

  it('answers its health check, as the non-root user node', async () => {
    const res = await waitFor(`${name} /health not answering 200`, () => httpOk(server.url(8080, '/health')));
    expect(await res.json()).toMatchObject({ status: 'ok', name: name.replace('mcp-', '') });
    expect((await server.exec(['id', '-un'])).output.trim()).toBe('node');
  });

  it('serves MCP over Streamable HTTP with the bearer token, and refuses without it', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const refused = await fetch(server.url(8080, '/mcp'), { method: 'POST', headers, body });
    expect(refused.status).toBe(401);
    const listed = await fetch(server.url(8080, '/mcp'), {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${token}` },
      body,
    });
    expect(listed.status).toBe(200);
    const tools = ((await listed.json()) as { result: { tools: { name: string }[] } }).result.tools.map(
      (t) => t.name,
    );
    expect(tools).toContain(tool);
    expect(await server.logs()).not.toContain(token);
  });
});

describe('egress-proxy image', () => {
  it('is the pinned Squid from Debian, runs as the user proxy, and parses the stack config', async () => {
    const pinned = readEnvFile(envFiles.versions).SQUID_VERSION as string;
    const version = await runOnce(
      image('EGRESS_PROXY_IMAGE'),
      ['-c', 'dpkg-query -W squid | cut -f2; id -un'],
      'sh',
    );
    expect(version.output.trim().split('\n')).toEqual([pinned, 'proxy']);
    const conf = join(repoRoot, 'stack/egress-proxy');
    const parse = await $({
      nothrow: true,
      quiet: true,
    })`docker run --rm --network none -v ${`${conf}/squid.conf:/etc/squid/squid.conf:ro`} -v ${`${conf}/allowlist.txt:/etc/squid/allowlist.txt:ro`} --entrypoint squid ${image('EGRESS_PROXY_IMAGE')} -k parse -f /etc/squid/squid.conf`;
    const output = parse.stdout + parse.stderr;
    expect(parse.exitCode, output).toBe(0);
    expect(output).not.toMatch(/ERROR|FATAL/);
  });
});

describe('anthropic-replay image', () => {
  let replay: Started;
  beforeAll(async () => {
    replay = await startContainer({
      image: image('ANTHROPIC_REPLAY_IMAGE'),
      ports: [8080],
      bindMounts: [{ source: join(repoRoot, 'fixtures/sessions'), target: '/scripts', mode: 'ro' }],
    });
  });
  afterAll(() => replay?.remove());

  it('answers its health check with the session scripts it serves, as the non-root user node', async () => {
    const res = await waitFor('anthropic-replay /health not answering 200', () =>
      httpOk(replay.url(8080, '/health')),
    );
    const body = (await res.json()) as { status: string; scripts: string[]; invalid: Record<string, string> };
    expect(body).toMatchObject({ status: 'ok', invalid: {} });
    expect(body.scripts).toContain('demo');
    expect((await replay.exec(['id', '-un'])).output.trim()).toBe('node');
  });
});

describe('grafana image', () => {
  it('is the official image, when one could be pulled', async (ctx) => {
    const ref = image('GRAFANA_OFFICIAL_IMAGE');
    if ((await $({ nothrow: true, quiet: true })`docker image inspect ${ref}`).exitCode !== 0) {
      const why = `${ref} is not on this machine and cannot be built offline (Grafana needs a web front-end build)`;
      console.warn(`SKIPPED grafana image check: ${why}`);
      ctx.skip(why);
    }
    const out = await runOnce(ref, ['--version'], 'grafana');
    expect(out.output).toContain(versions.GRAFANA_VERSION);
  });
});
