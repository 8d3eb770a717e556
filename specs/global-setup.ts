// e2e global setup: the stack's images (built here when missing), then the whole stack brought up ONCE with
// testcontainers' DockerComposeEnvironment from the same stack/compose.yaml users run, plus specs/compose.e2e.yaml
// (short intervals, small rotation). Random host ports on 127.0.0.1, temporary telemetry and session folders, a
// project name of its own. A warm-up session must reach all three sinks before any spec starts. Teardown always
// removes the containers and volumes, and prints the containers' logs when a spec failed.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { $ } from 'zx';
import { envFiles } from '../scripts/lib/compose.ts';
import { readEnvFile } from '../scripts/lib/env-file.ts';
import { COLLECTOR_UID, NODE_UID } from '../scripts/lib/local-env.ts';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { runSession } from '../scripts/lib/session-run.ts';
import { waitForSessionInSinks } from '../scripts/lib/session-sinks.ts';
import type { StackInfo } from './support/stack.ts';

const SERVICES = [
  'otel-collector',
  'jaeger',
  'prometheus',
  'anthropic-replay',
  'mcp-file-ops',
  'mcp-database',
];

async function buildImages(): Promise<void> {
  // Offline unless STACK_IMAGES says otherwise: tests never try to pull from a registry on their own.
  const mode = process.env.STACK_IMAGES ?? 'offline';
  const started = Date.now();
  const r = await $({
    nothrow: true,
    quiet: true,
    env: { ...process.env, STACK_IMAGES: mode },
  })`node ${join(repoRoot, 'scripts/images.ts')}`;
  if (r.exitCode !== 0) {
    throw new Error(
      `pnpm stack:images failed (exit ${r.exitCode}):\n${(r.stdout + r.stderr).trim().split('\n').slice(-20).join('\n')}`,
    );
  }
  console.log(`e2e setup: images ready (${mode}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export default async function setup(project: TestProject) {
  await buildImages();
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'; // no Ryuk image without a registry: teardown cleans up
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');

  const base = mkdtempSync(join(tmpdir(), 'cct-e2e-'));
  const failureMarker = join(base, 'a-spec-failed');
  const telemetryDir = join(base, 'telemetry');
  const sessionsDir = join(base, 'sessions');
  for (const d of [telemetryDir, sessionsDir]) mkdirSync(d);
  const root = process.getuid?.() === 0;
  if (root) {
    await $`chown ${COLLECTOR_UID}:${COLLECTOR_UID} ${telemetryDir}`;
    await $`chown ${NODE_UID}:${NODE_UID} ${sessionsDir}`;
  } else {
    await $`chmod 0777 ${sessionsDir}`;
  }
  const projectName = `cct-e2e-${randomBytes(4).toString('hex')}`;
  const override = join(repoRoot, 'specs/compose.e2e.yaml');
  const composeEnv: Record<string, string> = {
    ...readEnvFile(envFiles.versions),
    ...readEnvFile(envFiles.images),
    STACK_PROJECT: projectName,
    MCP_AUTH_TOKEN: randomBytes(24).toString('hex'),
    GRAFANA_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    TELEMETRY_DIR: telemetryDir,
    SESSIONS_DIR: sessionsDir,
    TELEMETRY_UID: String(root ? COLLECTOR_UID : (process.getuid?.() ?? NODE_UID)),
    TELEMETRY_GID: String(root ? COLLECTOR_UID : (process.getgid?.() ?? NODE_UID)),
    OTLP_GRPC_PORT: '0',
    OTLP_HTTP_PORT: '0',
    JAEGER_UI_PORT: '0',
    PROMETHEUS_PORT: '0',
    GRAFANA_PORT: '0',
  };

  const started = Date.now();
  let env = new DockerComposeEnvironment(join(repoRoot, 'stack'), ['compose.yaml', override])
    .withProjectName(projectName)
    .withEnvironment(composeEnv)
    .withStartupTimeout(180_000);
  for (const s of SERVICES) env = env.withWaitStrategy(`${s}-1`, Wait.forHealthCheck());
  const running = await env.up(SERVICES);
  const url = (service: string, port: number) =>
    `http://127.0.0.1:${running.getContainer(`${service}-1`).getMappedPort(port)}`;
  console.log(`e2e setup: stack ${projectName} healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const info: StackInfo = {
    project: projectName,
    override,
    prometheus: url('prometheus', 9090),
    jaeger: url('jaeger', 16686),
    otlpHttp: url('otel-collector', 4318),
    telemetryDir,
    sessionsDir,
    composeEnv,
    warmupSession: '',
    failureMarker,
  };

  const teardown = async () => {
    if (existsSync(failureMarker)) {
      const logs = await $({
        nothrow: true,
        quiet: true,
        env: { ...process.env, ...composeEnv },
      })`docker compose -p ${projectName} -f ${join(repoRoot, 'stack/compose.yaml')} logs --no-color --tail 60`;
      const file = join(repoRoot, 'test-results', 'e2e-container-logs.txt');
      mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
      writeFileSync(file, logs.stdout + logs.stderr);
      console.log(
        `e2e teardown: a spec failed; the containers' logs are in ${file}:\n${(logs.stdout + logs.stderr).split('\n').slice(-80).join('\n')}`,
      );
    }
    await running.down({ removeVolumes: true, timeout: 10_000 });
    console.log(`e2e teardown: stack ${projectName} removed with its volumes`);
  };

  try {
    // Warm-up: one scripted session, and all three sinks must hold it before the specs start.
    const warm = await runSession(
      { script: 'demo', user: 'warmup' },
      { project: projectName, overrides: [override], composeEnv, sessionsDir, quiet: true },
    );
    if (warm.exitCode !== 0)
      throw new Error(`warm-up session failed (exit ${warm.exitCode}):\n${warm.output.slice(-2000)}`);
    const t0 = Date.now();
    await waitForSessionInSinks(
      warm.plan.sessionId,
      { prometheus: info.prometheus, jaeger: info.jaeger, telemetryDir },
      60_000,
    );
    console.log(
      `e2e setup: warm-up session ${warm.plan.sessionId} in every sink ${Date.now() - t0} ms after it ended`,
    );
    info.warmupSession = warm.plan.sessionId;
  } catch (err) {
    writeFileSync(failureMarker, 'warm-up');
    await teardown();
    throw err;
  }
  project.provide('stack', info);
  return teardown;
}
