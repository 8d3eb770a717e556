// Runs one Claude Code session in the stack, and records it from the host: `docker compose run` of the claude-code
// service on a network of the session's own, with its user's workspace and its own spool, and a credential bound to
// that network and revoked when it ends. The record is written here (session-recorder.ts), out of the session's
// reach. Secrets go by name (-e NAME), so their values never appear on a command line.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { $ } from 'zx';
import { parseSessionScript } from '../../../stack/anthropic-replay/src/session-script.ts';
import { repoRoot } from '../repo-root.ts';
import { postJson } from '../sinks/http-json.ts';
import { composeArgs } from '../stack/compose.ts';
import { readEnvFile } from '../stack/env-file.ts';
import { readLocalEnv } from '../stack/local-env.ts';
import { envFiles } from '../stack/stack-files.ts';
import { prepareUserWorkspace } from './prepare-user-workspace.ts';
import { readSessionMetadata } from './record-metadata.ts';
import { mintSessionCredential } from './session-credential.ts';
import { limitEventRequest } from './session-events.ts';
import { openSessionNetwork, parseCaps } from './session-network.ts';
import { planSession, type ScriptInfo, type SessionOptions, type SessionPlan } from './session-plan.ts';
import { recordPaths, type SessionMetadata } from './session-record.ts';
import { DEFAULT_LOG_MAX_BYTES, startRecord } from './session-recorder.ts';
import { harvestSpool, openSpool } from './session-spool.ts';
import { sessionLabels } from './workspace-project.ts';

export const sessionsFixtures = join(repoRoot, 'fixtures', 'sessions');

/** A script by name (fixtures/sessions/NAME.json) or by path; the replay server must serve it under that name. */
export function loadScriptInfo(nameOrFile: string): ScriptInfo {
  const file = nameOrFile.endsWith('.json')
    ? isAbsolute(nameOrFile)
      ? nameOrFile
      : join(process.cwd(), nameOrFile)
    : join(sessionsFixtures, `${nameOrFile}.json`);
  if (!existsSync(file))
    throw new Error(
      `no session script ${nameOrFile} (looked for ${file}; the scripts are in fixtures/sessions/)`,
    );
  if (!file.startsWith(`${sessionsFixtures}/`)) {
    throw new Error(`${file} is not in fixtures/sessions/: the scripted API serves only the scripts there`);
  }
  const name = file.slice(sessionsFixtures.length + 1).replace(/\.json$/, '');
  // The scripted API's own reading (schema, defaults): a script it would refuse is refused here, before the session.
  const script = parseSessionScript(name, readFileSync(file, 'utf8'));
  const continuations = script.continuations?.map(({ mode, prompt }) => ({ mode, prompt }));
  return {
    name,
    prompt: script.prompt,
    model: script.model,
    ...(continuations?.length ? { continuations } : {}),
  };
}

/** The user whose workspace a session gets: its --user, or `default`. */
export const workspaceUser = (plan: SessionPlan) => plan.env.SESSION_USER ?? 'default';

/** How long past its wall clock the host lets a session's container run before it stops it itself. */
const HOST_GRACE_MS = 15_000;

/** The session's credential in every form its container needs, by variable name (secrets: passed by name only). */
export function credentialEnv(sessionId: string, token: string): Record<string, string> {
  const proxy = `http://${sessionId}:${token}@egress-proxy:3128`;
  return {
    MCP_SESSION_TOKEN: token,
    // The model client sends it as x-api-key to the gateway, which holds the real key.
    ANTHROPIC_API_KEY: token,
    // OTLP exporters: header values are URL-encoded (OpenTelemetry's env spec).
    OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer%20${token}`,
    // Per signal too: Claude Code's trace exporter does not take the generic variable (2.1.332, measured).
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: `Authorization=Bearer%20${token}`,
    OTEL_EXPORTER_OTLP_METRICS_HEADERS: `Authorization=Bearer%20${token}`,
    OTEL_EXPORTER_OTLP_LOGS_HEADERS: `Authorization=Bearer%20${token}`,
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
  };
}

export interface SessionOutcome {
  plan: SessionPlan;
  exitCode: number;
  metadata: SessionMetadata | null;
  dir: string;
  /** What the session printed, when run quiet (its last 4 MiB). */
  output: string;
}

export interface RunOptions {
  project?: string;
  /** Compose files applied over stack/compose.yaml (the specs' test override). */
  overrides?: string[];
  /** Variables in the container, besides the plan's. */
  extraEnv?: Record<string, string>;
  /** The environment of the `docker compose` process itself (interpolation: the specs' stack values). */
  composeEnv?: Record<string, string>;
  /** Leave stopped services stopped (a fault spec stopped one on purpose). */
  noDeps?: boolean;
  /** Where the session records are (default: SESSIONS_DIR of stack/.env.local). */
  sessionsDir?: string;
  quiet?: boolean;
  /** A headless session's output as it comes, instead of this process's stdout and stderr (e.g. rendered). */
  onData?: (chunk: Buffer, stream: 'stdout' | 'stderr', plan: SessionPlan) => void;
  /**
   * For interactive sessions driven by a program (a pseudo-terminal in the specs): runs the command with the
   * environment and resolves to its exit code. Default: this terminal (stdio inherited).
   */
  terminal?: (argv: string[], env: Record<string, string>) => Promise<number | null>;
}

const OUTPUT_KEEP = 4 << 20;

export async function runSession(o: SessionOptions, opts: RunOptions = {}): Promise<SessionOutcome> {
  const stackValues: Record<string, string | undefined> = opts.composeEnv ?? readLocalEnv();
  const plan = planSession(
    o,
    { ...process.env, ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY || stackValues.ANTHROPIC_API_KEY },
    loadScriptInfo,
  );
  if (plan.notice) process.stderr.write(`session: ${plan.notice}\n`);
  const sessionsDir = opts.sessionsDir ?? stackValues.SESSIONS_DIR ?? join(repoRoot, 'sessions');
  const { MCP_SESSION_SECRET: secret, WORKSPACES_DIR: workspaces, SPOOL_DIR: spoolDir } = stackValues;
  const revokedDir = stackValues.SESSION_REVOKED_DIR;
  if (!secret || !workspaces || !spoolDir || !revokedDir)
    throw new Error(
      'no MCP_SESSION_SECRET, WORKSPACES_DIR, SPOOL_DIR or SESSION_REVOKED_DIR in stack/.env.local: run pnpm stack:setup',
    );
  const project = opts.project ?? stackValues.STACK_PROJECT ?? 'claude-code-telemetry';
  const user = workspaceUser(plan);
  const workspace = prepareUserWorkspace(workspaces, user, undefined, {
    imagesDir: stackValues.WORKSPACE_IMAGES_DIR,
    size: stackValues.WORKSPACE_QUOTA,
  });
  // Read before the session starts, on the host: a project and branch the session cannot change once it runs.
  const labels = sessionLabels(plan, workspace);
  // A workspace without git is the usual case: said only when a .git is there but gives no label.
  const why = labels.notes.filter((n) => !n.startsWith('the workspace has no .git'));
  if (why.length && !opts.quiet)
    process.stderr.write(`session: no project label from the workspace's git: ${why.join('; ')}\n`);
  if ((labels.project || labels.branch) && !opts.quiet)
    process.stderr.write(
      `session: labelled${labels.project ? ` project=${labels.project}` : ''}${labels.branch ? ` git.branch=${labels.branch}` : ''}\n`,
    );
  const limits = sessionLimits({ ...stackValues, ...opts.extraEnv });
  const composeProcEnv = { ...process.env, ...opts.composeEnv };
  // A stack given by its values (an ephemeral one) takes nothing from the local stack's .images.env and .env.local.
  const composeBase = composeArgs(opts.project, opts.overrides, !opts.composeEnv);

  // The services a session needs, up (as compose run would start them), unless a spec keeps one stopped.
  if (!opts.noDeps) {
    const up = await $({
      quiet: true,
      nothrow: true,
      env: composeProcEnv,
    })`docker ${composeBase} up -d --wait --no-recreate session-gateway mcp-file-ops mcp-database egress-proxy`;
    if (up.exitCode !== 0)
      throw new Error(`the session's services did not come up: ${up.stderr.trim().slice(-800)}`);
  }
  const network = await openSessionNetwork(
    { project, overrides: opts.overrides, composeEnv: composeProcEnv, localEnv: !opts.composeEnv },
    { id: plan.sessionId, user },
    parseCaps(stackValues),
  );
  const revoke = () => writeFileSync(join(revokedDir, plan.sessionId), `${new Date().toISOString()}\n`);
  let spool: Awaited<ReturnType<typeof openSpool>> | undefined;
  try {
    spool = await openSpool(spoolDir, plan.sessionId, stackValues.SESSION_SPOOL_SIZE || '256m');
    const token = mintSessionCredential(secret, {
      user,
      sessionId: plan.sessionId,
      // Dies with the session: its wall clock and the host's grace, and revoked at its end anyway.
      expiresAt: Date.now() + limits.timeoutMs + HOST_GRACE_MS + 60_000,
      network: network.subnet,
      ...(labels.project ? { project: labels.project } : {}),
      ...(labels.branch ? { branch: labels.branch } : {}),
    });
    const secrets = credentialEnv(plan.sessionId, token);
    const container = `${project}-session-${plan.sessionId.slice(0, 13)}`;
    const env = { ...plan.env, ...opts.extraEnv };
    const args = [
      ...composeBase,
      'run',
      '--name',
      container,
      '--label',
      `claude-code-telemetry.session=${plan.sessionId}`,
      '--no-deps',
      ...(plan.mode === 'headless' ? ['-T'] : []),
      '-v',
      `${workspace}:/workspace`,
      '-v',
      `${spool.dir}:/spool`,
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      ...Object.keys(secrets).flatMap((k) => ['-e', k]),
      'claude-code',
    ];
    const image = await claudeImage(opts.composeEnv);
    const recorder = startRecord(
      sessionsDir,
      {
        sessionId: plan.sessionId,
        mode: plan.mode,
        api: plan.api,
        script: plan.script ?? null,
        model: env.SESSION_MODEL || null,
        user: env.SESSION_USER || null,
        claudeVersion: image.version,
        telemetry: telemetryOf(env),
        startedAt: new Date().toISOString(),
      },
      // Every secret-named value the host hands the container (the credential, and any a caller adds): their hashes
      // let pnpm export find them wherever the session's telemetry or transcript carries them.
      { ...env, ...secrets },
      Number(stackValues.SESSION_LOG_MAX_BYTES) || DEFAULT_LOG_MAX_BYTES,
    );
    const runEnv = { ...composeProcEnv, ...secrets, SESSION_NETWORK: network.name } as Record<string, string>;
    let output = '';
    let timedOut = false;
    const clock = setTimeout(() => {
      timedOut = true;
      void $({ quiet: true, nothrow: true })`docker stop -t 5 ${container}`;
    }, limits.timeoutMs + HOST_GRACE_MS);
    let exitCode: number | null;
    try {
      if (plan.mode === 'interactive') {
        exitCode = opts.terminal
          ? await opts.terminal(['docker', ...args], runEnv)
          : await spawnExit('docker', args, runEnv, 'inherit');
      } else {
        exitCode = await spawnExit('docker', args, runEnv, 'pipe', (chunk, stream) => {
          recorder.write(chunk);
          if (opts.quiet) output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
          else if (opts.onData) opts.onData(chunk, stream, plan);
          else (stream === 'stderr' ? process.stderr : process.stdout).write(chunk);
        });
      }
    } finally {
      clearTimeout(clock);
    }
    revoke();
    const seen = await inspectContainer(container);
    await $({ quiet: true, nothrow: true })`docker rm -f ${container}`;
    const metadata = recorder.finish(
      {
        exitCode: seen.exitCode ?? exitCode,
        signal: null,
        image: image.ref,
        oomKilled: seen.oomKilled,
        timedOut,
        spool: spool.bound,
        timeoutMs: limits.timeoutMs,
        memoryLimit: limits.memory,
      },
      harvestSpool(spool.dir, plan.sessionId),
    );
    if (metadata.limit && metadata.telemetry.enabled)
      await reportLimit(composeBase, composeProcEnv, metadata);
    return {
      plan,
      exitCode: metadata.exitCode ?? exitCode ?? 1,
      metadata: readSessionMetadata(sessionsDir, plan.sessionId),
      dir: recordPaths(sessionsDir, plan.sessionId).dir,
      output,
    };
  } finally {
    revoke();
    await spool?.remove();
    await network.remove();
  }
}

function sessionLimits(env: Record<string, string | undefined>) {
  const raw = env.SESSION_TIMEOUT_SECONDS ?? '3600';
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 7 * 24 * 3600)
    throw new Error(`SESSION_TIMEOUT_SECONDS=${raw}: not a number of seconds from 1 to 604800`);
  return { timeoutMs: Math.round(seconds * 1000), memory: env.SESSION_MEMORY_LIMIT || '2g' };
}

function telemetryOf(env: Record<string, string>): SessionMetadata['telemetry'] {
  const enabled = env.CLAUDE_CODE_ENABLE_TELEMETRY !== '0';
  const protocol = env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  return {
    enabled,
    protocol: enabled ? protocol : null,
    endpoint: enabled ? (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://session-gateway:8080') : null,
  };
}

/** The Claude Code image the session runs, and the CLI version its label names. */
async function claudeImage(
  composeEnv?: Record<string, string>,
): Promise<{ ref: string | null; version: string }> {
  const ref =
    composeEnv?.CLAUDE_CODE_IMAGE ??
    (existsSync(envFiles.images) ? readEnvFile(envFiles.images).CLAUDE_CODE_IMAGE : undefined) ??
    null;
  if (!ref) return { ref, version: '' };
  const r = await $({
    quiet: true,
    nothrow: true,
  })`docker image inspect --format ${'{{index .Config.Labels "org.opencontainers.image.version"}}'} ${ref}`;
  return { ref, version: r.exitCode === 0 ? r.stdout.trim() : '' };
}

async function inspectContainer(name: string): Promise<{ exitCode: number | null; oomKilled: boolean }> {
  const r = await $({
    quiet: true,
    nothrow: true,
  })`docker inspect --format ${'{{.State.ExitCode}} {{.State.OOMKilled}}'} ${name}`;
  const [code, oom] = r.stdout.trim().split(' ');
  return { exitCode: r.exitCode === 0 ? Number(code) : null, oomKilled: oom === 'true' };
}

function spawnExit(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  stdio: 'inherit' | 'pipe',
  onData?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void,
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env,
      stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => onData?.(d, 'stdout'));
    child.stderr?.on('data', (d: Buffer) => onData?.(d, 'stderr'));
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}

/**
 * Sends the session_limit event to the collector's OTLP/HTTP port on this host, so the limit shows in the sinks and
 * the archive beside the session's own events. Observed by the host, so not the session's to forge or suppress.
 */
async function reportLimit(
  composeBase: string[],
  env: Record<string, string | undefined>,
  m: SessionMetadata,
): Promise<void> {
  if (!m.limit) return;
  const port = await $({ quiet: true, nothrow: true, env })`docker ${composeBase} port otel-collector 4318`;
  const at = port.stdout.trim().split('\n')[0];
  if (port.exitCode !== 0 || !at) {
    process.stderr.write(
      `session: the session_limit event was not sent (no collector port: ${port.stderr.trim()})\n`,
    );
    return;
  }
  const body = limitEventRequest({
    sessionId: m.sessionId,
    user: m.user,
    kind: m.limit.kind,
    description: m.limit.description,
    source: m.limit.source ?? 'observed',
    timeMs: Date.now(),
  });
  try {
    await postJson('the collector', `http://${at.replace(/^0\.0\.0\.0/, '127.0.0.1')}/v1/logs`, body, {
      timeoutMs: 10_000,
    });
  } catch (err) {
    process.stderr.write(`session: the session_limit event could not be sent: ${(err as Error).message}\n`);
  }
}
