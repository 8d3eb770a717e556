// The image build engine behind `pnpm stack:images`, `pnpm stack:up` and the e2e setup: every image of the
// stack built here, with no container registry, from packages this machine can reach (Debian, the Go module
// proxy, npm) at the versions pinned in stack/versions.env; then stack/.images.env says which image each
// service runs. Callers import it; nothing starts another process to reach it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import type { Log } from '../progress.ts';
import { repoRoot } from '../repo-root.ts';
import { readEnvFile } from '../stack/env-file.ts';
import { envFiles } from '../stack/stack-files.ts';
import type { BuildRun } from './build-run.ts';
import { preparePart } from './context-parts.ts';
import { debootstrapImage } from './debootstrap.ts';
import { dockerBuild, imageExists } from './docker-image.ts';
import { buildOrder, HEALTHCHECK_PROBE, type ImageSpec, imageCatalog } from './image-catalog.ts';
import { imagesEnvValues, type Mode, writeImagesEnv } from './images-env.ts';

export const cacheRoot = join(repoRoot, '.cache', 'images');
export type WantedMode = Mode | 'auto';

export function loadVersions(): Record<string, string> {
  return readEnvFile(envFiles.versions);
}

/**
 * The pins with another Claude Code release (`pnpm stack:images --claude-code 2.1.332`): its own image tag, so the
 * pinned release's image stays. Undefined keeps the pin.
 */
export function withClaudeCode(versions: Record<string, string>, release?: string): Record<string, string> {
  if (release === undefined) return versions;
  if (!/^\d+\.\d+\.\d+$/.test(release))
    throw new Error(
      `--claude-code ${release}: not a release number like 2.1.332 (npm view @anthropic-ai/claude-code versions)`,
    );
  const repo = (versions.CLAUDE_CODE_IMAGE ?? 'claude-code-telemetry/claude-code').replace(/:[^:/]+$/, '');
  return { ...versions, CLAUDE_CODE_VERSION: release, CLAUDE_CODE_IMAGE: `${repo}:${release}` };
}

export function parseMode(text: string): WantedMode {
  if (text === 'offline' || text === 'online' || text === 'auto') return text;
  throw new Error(`STACK_IMAGES must be offline, online or auto, not ${text}`);
}

/** Online when the official images can be had (already here, or pulled); offline otherwise. */
export async function chooseMode(catalog: ImageSpec[], wanted: WantedMode, log: Log): Promise<Mode> {
  if (wanted !== 'auto') return wanted;
  for (const spec of catalog.filter((s) => s.official)) {
    const ref = spec.official?.ref as string;
    if (await imageExists(ref)) continue;
    const pulled = await $({ nothrow: true, quiet: true, timeout: '60s' })`docker pull --quiet ${ref}`;
    if (pulled.exitCode !== 0) {
      log(`${ref} cannot be pulled (no registry answers): offline mode, building locally`);
      return 'offline';
    }
  }
  return 'online';
}

async function buildImage(run: BuildRun, spec: ImageSpec, rebuild: boolean): Promise<string[]> {
  const ctx = join(cacheRoot, spec.name);
  mkdirSync(ctx, { recursive: true });
  if (spec.recipe.kind === 'debootstrap') return [await debootstrapImage(spec, ctx, rebuild, run.log)];
  const lines: string[] = [];
  for (const part of spec.recipe.context) lines.push(await preparePart(run, spec.name, part, ctx));
  await dockerBuild(spec.ref, spec.recipe.dockerfile, spec.recipe.args, ctx, run.log);
  lines.push(`docker build: ${spec.ref}`);
  return lines;
}

export interface BuildOptions {
  mode?: WantedMode;
  /** Only these images (and what they need). */
  only?: string[];
  /** Rebuild the Debian base even if it exists. */
  rebuild?: boolean;
  dryRun?: boolean;
  /** Build this Claude Code release instead of the pinned one (and run it: .images.env names it). */
  claudeCode?: string;
  /** false: build only, leave stack/.images.env as it is (`pnpm compat` builds releases it runs by image name). */
  writeEnv?: boolean;
  log?: Log;
}

export interface BuildResult {
  mode: Mode;
  /** Per image: name, seconds, reference. */
  timings: { name: string; seconds: number; ref: string }[];
  totalSeconds: number;
  /** stack/.images.env, or null in a dry run or with writeEnv: false. */
  envFile: string | null;
}

export async function buildImages(o: BuildOptions = {}): Promise<BuildResult> {
  const log = o.log ?? ((line: string) => console.log(`images: ${line}`));
  const versions = withClaudeCode(loadVersions(), o.claudeCode);
  const catalog = imageCatalog(versions);
  const wanted = o.mode ?? 'auto';
  let order = buildOrder(catalog, o.only);
  const mode = o.dryRun && wanted === 'auto' ? 'offline' : await chooseMode(catalog, wanted, log);
  if (mode === 'online') order = order.filter((s) => !s.official); // the official images stand in
  const started = Date.now();
  const timings: BuildResult['timings'] = [];
  if (o.dryRun) {
    for (const spec of order) log(`would build ${spec.name} -> ${spec.ref} (${spec.recipe.kind})`);
    return { mode, timings, totalSeconds: 0, envFile: null };
  }
  const run: BuildRun = { log };
  for (const spec of order) {
    const t0 = Date.now();
    log(`${spec.name} (${spec.component} ${spec.version}) ...`);
    for (const line of await buildImage(run, spec, Boolean(o.rebuild))) log(`  ${line}`);
    const seconds = (Date.now() - t0) / 1000;
    timings.push({ name: spec.name, seconds, ref: spec.ref });
    log(`  done in ${seconds.toFixed(1)} s`);
  }
  if (o.writeEnv === false)
    return { mode, timings, totalSeconds: (Date.now() - started) / 1000, envFile: null };
  const probeDir = join(repoRoot, '.cache', 'bin');
  mkdirSync(probeDir, { recursive: true });
  log(`healthcheck probe for compose: ${await preparePart(run, 'healthcheck', HEALTHCHECK_PROBE, probeDir)}`);
  const envFile = writeImagesEnv(
    imagesEnvValues(versions, catalog, mode, join(probeDir, HEALTHCHECK_PROBE.output)),
  );
  return { mode, timings, totalSeconds: (Date.now() - started) / 1000, envFile };
}

/** Rows of `--list`: every image with version, size, local or official, and where the local build differs. */
export async function listImages(): Promise<string[]> {
  const versions = loadVersions();
  const catalog = imageCatalog(versions);
  let mode = 'not built yet';
  try {
    mode = readEnvFile(envFiles.images).STACK_IMAGES_MODE ?? mode;
  } catch {}
  const size = async (ref: string) => {
    const r = await $({ nothrow: true, quiet: true })`docker image inspect --format {{.Size}} ${ref}`;
    return r.exitCode === 0 ? `${(Number(r.stdout.trim()) / 1e6).toFixed(0)} MB` : 'absent';
  };
  const rows: string[][] = [['IMAGE', 'REFERENCE', 'VERSION', 'BUILD', 'SIZE', 'NOTE']];
  for (const spec of catalog) {
    rows.push([spec.name, spec.ref, spec.version, 'local', await size(spec.ref), spec.differs ?? '']);
    if (spec.official)
      rows.push([
        '',
        spec.official.ref,
        spec.official.version,
        'official',
        await size(spec.official.ref),
        '',
      ]);
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
  return [
    ...rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] ?? 0) : c)).join('  ')),
    '',
    `mode: ${mode} (stack/.images.env)`,
  ];
}
