// A whole stack of its own, for the e2e specs and the benchmarks: testcontainers' DockerComposeEnvironment on the
// SAME stack/compose.yaml users run plus the specs' override (short intervals, small rotation), a project name of
// its own, random host ports on 127.0.0.1, and every folder a stack writes (telemetry, records, queues, the users'
// workspaces and their quota images, spools, revoked credentials) under one temporary folder of its own: never the
// local stack's (a spec checks it: specs/own-data.spec.ts). `down()` removes it all, unmounting the users' quota
// filesystems first, and fails when a mount stays behind; a stack that fails to start is removed the same way.
// `topology: 'scaled'` adds stack/compose.scaled.yaml (agents, gateways, clustered stores, the S3 gateway) between
// the two: its five JVMs take minutes to be healthy on two busy cores, so it gets 600 s and says what it waits for.
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../repo-root.ts';
import { pruneSessionNetworks } from '../session/session-network.ts';
import type { SessionOptions } from '../session/session-plan.ts';
import { type RunOptions, runSession, type SessionOutcome } from '../session/session-run.ts';
import { compose } from '../stack/compose.ts';
import { readEnvFile } from '../stack/env-file.ts';
import { hostIds, planLocalEnv, prepareStackDirs } from '../stack/local-env.ts';
import { envFiles } from '../stack/stack-files.ts';
import { mountPoints, unmountUnder } from '../stack/workspace-quota.ts';

export const STACK_SERVICES = [
  'otel-collector',
  'jaeger',
  'prometheus',
  'victorialogs',
  'anthropic-replay',
  'mcp-file-ops',
  'mcp-database',
  'egress-proxy',
  'session-gateway',
];
export const TEST_OVERRIDE = join(repoRoot, 'specs/compose.e2e.yaml');

export type StackTopology = 'single' | 'scaled';
/** The scaled topology's overlay on stack/compose.yaml (issue 24). */
export const SCALED_OVERLAY = join(repoRoot, 'stack/compose.scaled.yaml');
/** The specs' override of the scaled topology's own services (its gateways), after TEST_OVERRIDE. */
export const SCALED_TEST_OVERRIDE = join(repoRoot, 'specs/compose.e2e-scaled.yaml');
/**
 * The services the scaled overlay adds (the agents are `otel-collector` and `otel-agent-2`; `victorialogs` is its
 * front, `jaeger` its query service). `otel-gateway-3` is left out: it is in profile `resize`, started by a spec.
 */
export const SCALED_SERVICES = [
  'otel-agent-2',
  'otel-gateway-1',
  'otel-gateway-2',
  'jaeger-collector-1',
  'jaeger-collector-2',
  'opensearch-1',
  'opensearch-2',
  'opensearch-3',
  'victorialogs-storage-1',
  'victorialogs-storage-2',
  's3-gateway',
];
/** How long each topology may take to be healthy (the scaled one: five JVMs on two cores under load). */
const STARTUP_MS: Record<StackTopology, number> = { single: 180_000, scaled: 600_000 };
/** How often a scaled start says which services are not healthy yet. */
const PROGRESS_MS = 30_000;

export interface EphemeralStack {
  project: string;
  topology: StackTopology;
  /** The specs' compose file: their short intervals, or an empty one (production defaults). */
  override: string;
  /**
   * Every compose file over stack/compose.yaml, in order: the scaled overlay (if any), `override`, and the specs'
   * override of the scaled services (with TEST_OVERRIDE).
   */
  overrides: string[];
  prometheus: string;
  jaeger: string;
  victorialogs: string;
  otlpHttp: string;
  /** The OTLP gRPC port, as http://127.0.0.1:PORT (gRPC over cleartext HTTP/2). */
  otlpGrpc: string;
  /** The S3 gateway (scaled topology only). */
  s3?: string;
  telemetryDir: string;
  sessionsDir: string;
  /** The one temporary folder every folder of this stack is in (composeEnv's *_DIR), removed by down(). */
  dataDir: string;
  /** Interpolation values for `docker compose` (secrets included: never print them). */
  composeEnv: Record<string, string>;
  /** Where a spec-failure marker goes (see specs/support/failure-marker.ts). */
  failureMarker: string;
  startMs: number;
  logs(): Promise<string>;
  down(): Promise<void>;
}

/** An override that changes nothing: the stack with its production defaults (intervals, rotation). */
export const NO_OVERRIDE = join(repoRoot, 'specs/compose.defaults.yaml');

export interface EphemeralStackOptions {
  override?: string;
  /** The telemetry folder (default: a new temporary one), e.g. a small tmpfs the caller mounted. */
  telemetryDir?: string;
  /** Extra interpolation values for compose (e.g. OTELCOL_MEMORY_LIMIT). */
  env?: Record<string, string>;
  /** Which topology (default single). */
  topology?: StackTopology;
  /** Called with a line of progress while a scaled stack comes up (default: console.log). */
  progress?: (line: string) => void;
}

export async function startEphemeralStack(o: EphemeralStackOptions = {}): Promise<EphemeralStack> {
  const override = o.override ?? TEST_OVERRIDE;
  const topology = o.topology ?? 'single';
  // The specs' short intervals reach the scaled services too; production defaults (NO_OVERRIDE) stay as they are.
  const overrides =
    topology === 'single'
      ? [override]
      : override === TEST_OVERRIDE
        ? [SCALED_OVERLAY, override, SCALED_TEST_OVERRIDE]
        : [SCALED_OVERLAY, override];
  const services = topology === 'scaled' ? [...STACK_SERVICES, ...SCALED_SERVICES] : STACK_SERVICES;
  if (topology === 'scaled' && !existsSync(SCALED_OVERLAY))
    throw new Error(`the scaled topology needs ${SCALED_OVERLAY}, which is missing`);
  if (!existsSync(envFiles.images)) throw new Error('no stack/.images.env: run `pnpm stack:images` first');
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'; // no Ryuk image without a registry: down() cleans up
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  const base = mkdtempSync(join(tmpdir(), 'cct-stack-'));
  // The same local-env planning and folder preparation as `pnpm stack:setup`, in folders of its own.
  const { values } = planLocalEnv({}, hostIds(), {
    TELEMETRY_DIR: o.telemetryDir ?? join(base, 'telemetry'),
    SESSIONS_DIR: join(base, 'sessions'),
    QUEUE_DIR: join(base, 'queue'),
    WORKSPACES_DIR: join(base, 'workspaces'),
    SPOOL_DIR: join(base, 'spool'),
    SESSION_REVOKED_DIR: join(base, 'revoked'),
    WORKSPACE_IMAGES_DIR: join(base, 'workspace-images'),
    // Small, so a spec can fill a workspace in a second.
    WORKSPACE_QUOTA: o.env?.WORKSPACE_QUOTA ?? '64m',
  });
  try {
    prepareStackDirs(values);
  } catch (err) {
    removeDataDir(base);
    throw err;
  }
  const telemetryDir = values.TELEMETRY_DIR as string;
  const sessionsDir = values.SESSIONS_DIR as string;
  const project = `cct-test-${randomBytes(4).toString('hex')}`;
  // The gateway's budgets: a copy the specs may change (re-read every 200 ms).
  const budgets = join(base, 'budgets.json');
  copyFileSync(join(repoRoot, 'stack/session-gateway/budgets.json'), budgets);
  const composeEnv: Record<string, string> = {
    // The S3 gateway's root keys (scaled): the local stack's come from `pnpm stack:setup`, this stack makes its own.
    S3_ACCESS_KEY_ID: `test${randomBytes(8).toString('hex')}`,
    S3_SECRET_ACCESS_KEY: randomBytes(24).toString('hex'),
    ...readEnvFile(envFiles.versions),
    ...readEnvFile(envFiles.images),
    ...values,
    ...o.env,
    STACK_PROJECT: project,
    GATEWAY_BUDGETS: budgets,
    GATEWAY_BUDGETS_CHECK_MS: '200',
    // 0: Docker picks a free port, still on 127.0.0.1 (stack/compose.yaml binds every port there)
    OTLP_GRPC_PORT: '0',
    OTLP_HTTP_PORT: '0',
    JAEGER_UI_PORT: '0',
    PROMETHEUS_PORT: '0',
    VICTORIALOGS_PORT: '0',
    GRAFANA_PORT: '0',
    S3_GATEWAY_PORT: '0',
  };
  const started = Date.now();
  let env = new DockerComposeEnvironment(join(repoRoot, 'stack'), ['compose.yaml', ...overrides])
    .withProjectName(project)
    .withEnvironment(composeEnv)
    .withStartupTimeout(STARTUP_MS[topology]);
  for (const s of services) env = env.withWaitStrategy(`${s}-1`, Wait.forHealthCheck());
  const composed = { project, overrides, localEnv: false, env: composeEnv, quiet: true };
  let running: Awaited<ReturnType<typeof env.up>>;
  const say = o.progress ?? ((line: string) => console.log(line));
  const ticker =
    topology === 'scaled'
      ? setInterval(() => {
          void notHealthyYet(composed).then((waiting) =>
            say(
              `ephemeral stack ${project}: ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
                `${waiting.length ? `not healthy yet: ${waiting.join(', ')}` : 'every service healthy'}`,
            ),
          );
        }, PROGRESS_MS)
      : undefined;
  try {
    running = await env.up(services);
  } catch (err) {
    // Not up: what did start goes, and so do its folders (the workspaces' shared mount among them).
    await compose(['down', '--volumes', '--timeout', '10'], { ...composed, nothrow: true });
    removeDataDir(base);
    throw err;
  } finally {
    clearInterval(ticker);
  }
  const url = (service: string, port: number) =>
    `http://127.0.0.1:${running.getContainer(`${service}-1`).getMappedPort(port)}`;
  return {
    project,
    topology,
    override,
    overrides,
    ...(topology === 'scaled' ? { s3: url('s3-gateway', 7070) } : {}),
    prometheus: url('prometheus', 9090),
    victorialogs: url('victorialogs', 9428),
    jaeger: url('jaeger', 16686),
    otlpHttp: url('otel-collector', 4318),
    otlpGrpc: url('otel-collector', 4317),
    telemetryDir,
    sessionsDir,
    dataDir: base,
    composeEnv,
    failureMarker: join(base, 'a-spec-failed'),
    startMs: Date.now() - started,
    async logs() {
      const r = await compose(['logs', '--no-color', '--tail', topology === 'scaled' ? '40' : '60'], {
        ...composed,
        nothrow: true,
      });
      return r.stdout + r.stderr;
    },
    async down() {
      try {
        // A service of a profile (the scaled third gateway, started by a spec) is not in the stack testcontainers
        // knows: it goes first, or its network could not be removed.
        if (topology === 'scaled')
          await compose(['--profile', 'resize', 'rm', '--stop', '--force', 'otel-gateway-3'], {
            ...composed,
            nothrow: true,
          });
        await running.down({ removeVolumes: true, timeout: 10_000 });
        // Networks of sessions whose runner was killed before it cleaned up.
        await pruneSessionNetworks(project);
      } finally {
        removeDataDir(base);
      }
    },
  };
}

/** The stack's services that are not (yet) healthy, as `name (state)`: a scaled start's progress line. */
async function notHealthyYet(composed: Parameters<typeof compose>[1]): Promise<string[]> {
  const r = await compose(['ps', '--all', '--format', '{{.Service}} {{.State}} {{.Health}}'], {
    ...composed,
    nothrow: true,
  });
  if (r.exitCode !== 0) return [`(compose ps failed: ${r.stderr.trim().slice(-200)})`];
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '))
    .filter(([, state, health]) => state !== 'running' || (health && health !== 'healthy'))
    .map(([service, state, health]) => `${service} (${health || state})`);
}

/**
 * Removes a stack's data folder: first the users' quota filesystems and the workspaces' shared mount (as root),
 * then the files (hundreds of MB after a bench; not a telemetry folder the caller passed in). Throws when a mount
 * is still there: removing files under it would reach into a filesystem that outlives the stack. As a non-root
 * user, files the containers' users wrote may stay behind (a warning).
 */
export function removeDataDir(base: string): void {
  unmountUnder(base);
  const left = mountsUnder(base);
  if (left.length)
    throw new Error(
      `ephemeral stack: ${left.length} mount(s) left under ${base}, not removed: ${left.join(', ')}`,
    );
  try {
    rmSync(base, { recursive: true, force: true });
  } catch (err) {
    console.warn(`ephemeral stack: could not remove ${base} entirely: ${(err as Error).message}`);
  }
}

/** The mount points at or under a folder (none once a stack is down). */
export const mountsUnder = (dir: string): string[] =>
  [...mountPoints().keys()].filter((p) => p === dir || p.startsWith(`${dir}/`));

/** One session in an ephemeral stack (quiet: its output is in the outcome and its session log). */
export function runSessionIn(
  s: Pick<EphemeralStack, 'project' | 'overrides' | 'composeEnv' | 'sessionsDir'>,
  o: SessionOptions,
  extraEnv?: Record<string, string>,
  run: { noDeps?: boolean; terminal?: RunOptions['terminal'] } = {},
): Promise<SessionOutcome> {
  return runSession(o, {
    project: s.project,
    overrides: s.overrides,
    composeEnv: s.composeEnv,
    sessionsDir: s.sessionsDir,
    extraEnv,
    quiet: true,
    noDeps: run.noDeps,
    terminal: run.terminal,
  });
}
