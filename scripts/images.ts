#!/usr/bin/env node
// `pnpm stack:images`: builds every image of the stack on this machine, with no container registry, from
// packages it can reach (Debian, the Go module proxy, npm), at the versions pinned in stack/versions.env.
// Then writes stack/.images.env: which image each service runs (local builds offline, official ones online).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $, argv, which } from 'zx';
import {
  buildOrder,
  type ContextPart,
  HEALTHCHECK_PROBE,
  type ImageSpec,
  imageCatalog,
} from './lib/images/image-catalog.ts';
import { repoRoot } from './lib/repo-root.ts';
import { formatEnvFile, readEnvFile } from './lib/stack/env-file.ts';

const HELP = `Usage: pnpm stack:images [--list] [--only NAME[,NAME]] [--offline | --online] [--rebuild] [--dry-run]

Builds the stack's images here, with no container registry, at the versions in stack/versions.env,
and writes stack/.images.env (the image each service runs).

  --list        every image: version, size, local build or official, and where the local build differs
  --only NAME   build only NAME (and what it needs that is missing); names: see --list
  --offline     use the local builds of the collector, Jaeger and Prometheus (default when no registry answers)
  --online      pull the official images of those instead of building them
  --rebuild     rebuild the Debian base image even if it exists (other images rebuild when their inputs change)
  --dry-run     print what would be built, build nothing
Environment: STACK_IMAGES=offline|online|auto (default auto).`;

const cacheRoot = join(repoRoot, '.cache', 'images');
const q = $({ quiet: true });

function loadVersions(): Record<string, string> {
  const versions = readEnvFile(join(repoRoot, 'stack', 'versions.env'));
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  // zx runs the scripts on the host and in the image: one pin, in package.json.
  versions.ZX_VERSION = pkg.devDependencies.zx ?? '';
  return versions;
}

async function imageExists(ref: string): Promise<boolean> {
  return (await $({ nothrow: true, quiet: true })`docker image inspect ${ref}`).exitCode === 0;
}

function sha256(parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/** The files of a Go module folder that decide its build output. */
function goSources(dir: string): Buffer[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum')
    .sort();
  return files.map((f) => Buffer.concat([Buffer.from(f), readFileSync(join(dir, f))]));
}

let goVersionCache: string | undefined;
async function goVersion(): Promise<string> {
  if (goVersionCache) return goVersionCache;
  if (!(await which('go', { nothrow: true }))) {
    throw new Error(
      'Go is needed to build the collector, Jaeger and the healthcheck probe, and `go` is not on PATH: install Go >= 1.24 (Debian trixie: apt-get install golang-go)',
    );
  }
  goVersionCache = (await q`go env GOVERSION`).stdout.trim();
  return goVersionCache;
}

/** Runs `build` unless the stamp of its inputs matches the last build and OUTPUT exists. */
async function cached(ctx: string, output: string, inputs: (string | Buffer)[], build: () => Promise<void>) {
  const stampFile = join(ctx, `.${output}.stamp`);
  const stamp = sha256(inputs);
  if (existsSync(join(ctx, output)) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    return 'cached';
  }
  await build();
  writeFileSync(stampFile, stamp);
  return 'built';
}

/** node-gyp must build native addons (better-sqlite3) against this Node's own headers, not a user npmrc's. */
function nativeAddonEnv(): NodeJS.ProcessEnv {
  const home = join(process.execPath, '..', '..');
  return existsSync(join(home, 'include', 'node', 'node.h'))
    ? { ...process.env, npm_config_nodedir: home }
    : { ...process.env };
}

const goEnv = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };

/** Puts one part of a build context into `ctx`; `name` names the image's own scratch folders. */
async function preparePart(name: string, part: ContextPart, ctx: string): Promise<string> {
  switch (part.kind) {
    case 'npm-pack': {
      const file = `${part.spec.replace(/^@/, '').replace('/', '-').replace('@', '-')}.tgz`;
      if (existsSync(join(ctx, file))) return `${part.spec}: cached`;
      // npm verifies the tarball against the registry's integrity hash.
      await q`npm pack --silent --pack-destination ${ctx} ${part.spec}`;
      if (!existsSync(join(ctx, file))) throw new Error(`npm pack ${part.spec} did not produce ${file}`);
      return `${part.spec}: fetched`;
    }
    case 'otelcol-builder': {
      const go = await goVersion();
      const manifest = join(repoRoot, part.manifest);
      const result = await cached(
        ctx,
        part.output,
        [go, part.builderVersion, readFileSync(manifest)],
        async () => {
          const gobin = join(repoRoot, '.cache', 'go', 'bin', `builder-v${part.builderVersion}`);
          if (!existsSync(join(gobin, 'builder'))) {
            await $({
              quiet: true,
              env: { ...goEnv, GOBIN: gobin },
            })`go install go.opentelemetry.io/collector/cmd/builder@v${part.builderVersion}`;
          }
          const src = join(repoRoot, '.cache', 'go', `${name}-src`);
          await $({
            quiet: true,
            env: goEnv,
          })`${join(gobin, 'builder')} --config ${manifest} --output-path ${src}`;
          cpSync(join(src, part.output), join(ctx, part.output));
        },
      );
      return `${part.output} (Collector Builder v${part.builderVersion}, ${go}): ${result}`;
    }
    case 'go-build': {
      const go = await goVersion();
      const dir = join(repoRoot, part.dir);
      const result = await cached(
        ctx,
        part.output,
        [go, part.pkg, part.ldflags, ...goSources(dir)],
        async () => {
          await $({
            quiet: true,
            cwd: dir,
            env: goEnv,
          })`go build -trimpath -ldflags ${part.ldflags} -o ${join(ctx, part.output)} ${part.pkg}`;
        },
      );
      return `${part.output} (${go}): ${result}`;
    }
    case 'workspace-package': {
      const app = join(ctx, 'app');
      rmSync(app, { recursive: true, force: true });
      mkdirSync(join(app, 'mcp-servers'), { recursive: true });
      for (const f of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'])
        cpSync(join(repoRoot, f), join(app, f));
      mkdirSync(join(app, 'stack'), { recursive: true });
      for (const dir of part.dirs) {
        cpSync(join(repoRoot, dir), join(app, dir), {
          recursive: true,
          filter: (f) => !/(^|\/)node_modules(\/|$)|\.test\.ts$|\/test-[^/]*\.ts$|\/testing\.ts$/.test(f),
        });
      }
      // The lockfile pins every version; --prod leaves test tools out; the filter keeps this package's closure.
      await $({
        quiet: true,
        cwd: app,
        env: nativeAddonEnv(),
      })`pnpm install --frozen-lockfile --prod --filter ${`${part.name}...`}`;
      return `${part.name}: staged with production dependencies`;
    }
    case 'copy': {
      const dest = join(ctx, part.from);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(join(dest, '..'), { recursive: true });
      cpSync(join(repoRoot, part.from), dest, { recursive: true, filter: (f) => !/\.test\.ts$/.test(f) });
      return `${part.from}/: copied`;
    }
  }
}

async function debootstrapImage(spec: ImageSpec, rebuild: boolean): Promise<string> {
  if (spec.recipe.kind !== 'debootstrap') throw new Error('not a debootstrap recipe');
  if (!rebuild && (await imageExists(spec.ref))) return 'exists, reused';
  if (process.getuid?.() !== 0) throw new Error(`building ${spec.ref} runs debootstrap, which needs root`);
  if (!(await which('debootstrap', { nothrow: true }))) {
    if (!(await which('apt-get', { nothrow: true }))) {
      throw new Error(
        `building ${spec.ref} needs debootstrap (or mmdebstrap), and this host has no apt-get to install it`,
      );
    }
    await $({
      quiet: true,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })`apt-get install -y --no-install-recommends debootstrap`;
  }
  const rootfs = join(cacheRoot, spec.name, 'rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  const mirror = 'http://deb.debian.org/debian';
  const { suite, include } = spec.recipe;
  await q`debootstrap --variant=minbase ${`--include=${include.join(',')}`} ${suite} ${rootfs} ${mirror}`;
  // A container image: no services started by package scripts, no docs, no apt lists or caches.
  writeFileSync(join(rootfs, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  writeFileSync(
    join(rootfs, 'etc/dpkg/dpkg.cfg.d/01-container'),
    'path-exclude=/usr/share/doc/*\npath-exclude=/usr/share/man/*\npath-exclude=/usr/share/locale/*\npath-include=/usr/share/locale/locale.alias\n',
  );
  for (const dir of [
    'var/cache/apt/archives',
    'var/lib/apt/lists',
    'usr/share/doc',
    'usr/share/man',
    'usr/share/locale',
  ]) {
    const full = join(rootfs, dir);
    for (const entry of existsSync(full) ? readdirSync(full) : []) {
      if (entry !== 'partial' && entry !== 'lock' && entry !== 'locale.alias') {
        rmSync(join(full, entry), { recursive: true, force: true });
      }
    }
  }
  await $({ quiet: true })`tar -C ${rootfs} -c . | docker import ${[
    '--change',
    'CMD ["/bin/bash"]',
    '--change',
    `LABEL org.opencontainers.image.title=debian org.opencontainers.image.version=${suite} claude-code-telemetry.build=local`,
  ]} - ${spec.ref}`;
  rmSync(rootfs, { recursive: true, force: true });
  return 'built with debootstrap';
}

/**
 * The host's CA bundle, handed to builds that fetch from the npm registry as a BuildKit secret (never stored in
 * a layer): where HTTPS goes through an intercepting proxy, the host trusts its CA and the build must too.
 */
function hostCaBundle(): string | null {
  for (const file of [
    process.env.NODE_EXTRA_CA_CERTS,
    process.env.SSL_CERT_FILE,
    '/etc/ssl/certs/ca-certificates.crt',
  ]) {
    if (file && existsSync(file)) return file;
  }
  return null;
}

async function buildImage(spec: ImageSpec, rebuild: boolean): Promise<string[]> {
  if (spec.recipe.kind === 'debootstrap') return [await debootstrapImage(spec, rebuild)];
  const ctx = join(cacheRoot, spec.name);
  mkdirSync(ctx, { recursive: true });
  const lines: string[] = [];
  for (const part of spec.recipe.context) lines.push(await preparePart(spec.name, part, ctx));
  cpSync(join(repoRoot, spec.recipe.dockerfile), join(ctx, 'Dockerfile'));
  const args = Object.entries(spec.recipe.args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  const ca = hostCaBundle();
  if (ca) args.push('--secret', `id=ca-bundle,src=${ca}`);
  const logFile = join(ctx, 'docker-build.log');
  const build = await $({ nothrow: true, quiet: true })`docker build ${args} -t ${spec.ref} ${ctx}`;
  writeFileSync(logFile, build.stdout + build.stderr);
  if (build.exitCode !== 0) {
    const tail = (build.stdout + build.stderr).trim().split('\n').slice(-15).join('\n    ');
    throw new Error(
      `docker build of ${spec.ref} failed (exit ${build.exitCode}); log: ${logFile}\n    ${tail}`,
    );
  }
  lines.push(`docker build: ${spec.ref}`);
  return lines;
}

type Mode = 'offline' | 'online';

/** Online when the official images can be had (already here, or pulled); offline otherwise. */
async function chooseMode(catalog: ImageSpec[], wanted: string): Promise<Mode> {
  if (wanted === 'offline' || wanted === 'online') return wanted;
  for (const spec of catalog.filter((s) => s.official)) {
    const ref = spec.official?.ref as string;
    if (await imageExists(ref)) continue;
    const pulled = await $({ nothrow: true, quiet: true, timeout: '60s' })`docker pull --quiet ${ref}`;
    if (pulled.exitCode !== 0) {
      console.log(`images: ${ref} cannot be pulled (no registry answers): offline mode, building locally`);
      return 'offline';
    }
  }
  return 'online';
}

function writeImagesEnv(
  versions: Record<string, string>,
  catalog: ImageSpec[],
  mode: Mode,
  probe: string,
): string {
  const pick = (name: string) => {
    const spec = catalog.find((s) => s.name === name) as ImageSpec;
    return mode === 'online' && spec.official ? spec.official.ref : spec.ref;
  };
  const file = join(repoRoot, 'stack', '.images.env');
  writeFileSync(
    file,
    formatEnvFile(
      {
        STACK_IMAGES_MODE: mode,
        HEALTHCHECK_BIN: probe,
        OTELCOL_IMAGE: pick('otel-collector'),
        JAEGER_IMAGE: pick('jaeger'),
        PROMETHEUS_IMAGE: pick('prometheus'),
        GRAFANA_IMAGE: versions.GRAFANA_OFFICIAL_IMAGE ?? '',
        NODE_IMAGE: pick('node'),
        CLAUDE_CODE_IMAGE: pick('claude-code'),
        MCP_FILE_OPS_IMAGE: pick('mcp-file-ops'),
        MCP_DATABASE_IMAGE: pick('mcp-database'),
        ANTHROPIC_REPLAY_IMAGE: pick('anthropic-replay'),
      },
      [
        `Written by \`pnpm stack:images\` (${mode} mode): the image each service runs. Do not edit; not committed.`,
      ],
    ),
  );
  return file;
}

async function list(catalog: ImageSpec[], versions: Record<string, string>): Promise<void> {
  const mode = (() => {
    try {
      return readEnvFile(join(repoRoot, 'stack', '.images.env')).STACK_IMAGES_MODE ?? 'not built yet';
    } catch {
      return 'not built yet';
    }
  })();
  const size = async (ref: string) => {
    const r = await $({ nothrow: true, quiet: true })`docker image inspect --format {{.Size}} ${ref}`;
    return r.exitCode === 0 ? `${(Number(r.stdout.trim()) / 1e6).toFixed(0)} MB` : 'absent';
  };
  const rows: string[][] = [['IMAGE', 'REFERENCE', 'VERSION', 'BUILD', 'SIZE', 'NOTE']];
  for (const spec of catalog) {
    rows.push([spec.name, spec.ref, spec.version, 'local', await size(spec.ref), spec.differs ?? '']);
    if (spec.official) {
      rows.push([
        '',
        spec.official.ref,
        spec.official.version,
        'official',
        await size(spec.official.ref),
        '',
      ]);
    }
  }
  const grafana = versions.GRAFANA_OFFICIAL_IMAGE ?? '';
  rows.push([
    'grafana',
    grafana,
    versions.GRAFANA_VERSION ?? '',
    'official',
    await size(grafana),
    'no local build: Grafana needs a web front-end build; offline, the stack runs without it (compose profile)',
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows)
    console.log(r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] ?? 0) : c)).join('  '));
  console.log(`\nmode: ${mode} (stack/.images.env)`);
}

async function main(): Promise<number> {
  if (argv.help || argv.h) {
    console.log(HELP);
    return 0;
  }
  const versions = loadVersions();
  const catalog = imageCatalog(versions);
  if (argv.list) {
    await list(catalog, versions);
    return 0;
  }
  const wanted = argv.offline ? 'offline' : argv.online ? 'online' : (process.env.STACK_IMAGES ?? 'auto');
  if (!['offline', 'online', 'auto'].includes(wanted)) {
    throw new Error(`STACK_IMAGES must be offline, online or auto, not ${wanted}`);
  }
  const only = argv.only ? String(argv.only).split(',') : undefined;
  let order = buildOrder(catalog, only);
  const mode = argv['dry-run'] && wanted === 'auto' ? 'offline' : await chooseMode(catalog, wanted);
  if (mode === 'online') order = order.filter((s) => !s.official); // the official images stand in
  if (argv['dry-run']) {
    for (const spec of order)
      console.log(`images: would build ${spec.name} -> ${spec.ref} (${spec.recipe.kind})`);
    return 0;
  }
  const started = Date.now();
  const timings: string[] = [];
  for (const spec of order) {
    const t0 = Date.now();
    console.log(`images: ${spec.name} (${spec.component} ${spec.version}) ...`);
    for (const line of await buildImage(spec, Boolean(argv.rebuild))) console.log(`images:   ${line}`);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    timings.push(`${spec.name.padEnd(16)} ${secs.padStart(7)} s  ${spec.ref}`);
    console.log(`images:   done in ${secs} s`);
  }
  const probeDir = join(repoRoot, '.cache', 'bin');
  mkdirSync(probeDir, { recursive: true });
  const probe = await preparePart('healthcheck', HEALTHCHECK_PROBE, probeDir);
  console.log(`images: healthcheck probe for compose: ${probe}`);
  const envFile = writeImagesEnv(versions, catalog, mode, join(probeDir, HEALTHCHECK_PROBE.output));
  console.log('images: build times');
  for (const t of timings) console.log(`  ${t}`);
  console.log(`  ${'total'.padEnd(16)} ${((Date.now() - started) / 1000).toFixed(1).padStart(7)} s`);
  console.log(`images: ${mode} mode; ${envFile.replace(repoRoot, '')} says which image each service runs`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`images: error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
