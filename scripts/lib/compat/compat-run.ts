// Runs `pnpm compat`: one stack of its own (the specs' short export intervals, random ports on 127.0.0.1), then
// for each Claude Code release its image (built here, cached by Docker's layer cache) and the same sessions over
// each OTLP protocol, each observed in every sink (observe-session.ts). The judging is compat-matrix.ts's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedTelemetry } from '../../../stack/anthropic-replay/src/expectations.ts';
import { parseSessionScript } from '../../../stack/anthropic-replay/src/session-script.ts';
import { buildImages, loadVersions, withClaudeCode } from '../images/build-images.ts';
import type { Log } from '../progress.ts';
import { readSessionMetadata } from '../session/record-metadata.ts';
import { planSession } from '../session/session-plan.ts';
import type { OtlpProtocol } from '../session/session-record.ts';
import { loadScriptInfo, sessionsFixtures } from '../session/session-run.ts';
import { type EphemeralStack, runSessionIn, startEphemeralStack } from '../testing/ephemeral-stack.ts';
import { runInteractiveDemo } from '../testing/pty-session.ts';
import type { CompatRun, Expectation, ReleaseInput } from './compat-matrix.ts';
import { observeSession } from './observe-session.ts';

/** The session kinds: scripts of fixtures/sessions, and `interactive` (the demo typed at a terminal). */
export const SESSION_KINDS = ['demo', 'api-error-529', 'api-retry-529', 'interactive'] as const;
/** Settings a kind needs beyond the stack's (the specs' override turns retries off). */
const KIND_ENV: Record<string, Record<string, string>> = {
  'api-retry-529': { CLAUDE_CODE_MAX_RETRIES: '2' },
};
/** The protocols a run takes unless told (one per gateway port); --protocols takes any of OTLP_PROTOCOLS. */
export const DEFAULT_PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'grpc'];

export function expectationFor(kind: string): Expectation {
  const script = kind === 'interactive' ? 'demo' : kind;
  const e = expectedTelemetry(
    parseSessionScript(script, readFileSync(join(sessionsFixtures, `${script}.json`), 'utf8')),
  );
  return {
    tokens: { ...e.tokens },
    linesAdded: e.linesAdded,
    linesRemoved: e.linesRemoved,
    modelCalls: e.modelCalls,
    apiErrors: e.apiErrors.length,
  };
}

export interface CompatOptions {
  releases: string[];
  protocols: readonly string[];
  sessions: readonly string[];
  log: Log;
  /** Called after each release, so a long run keeps what it has measured if it is stopped. */
  onRelease?: (done: ReleaseInput[]) => void;
}

const elapsed = (t0: number) => (Date.now() - t0) / 1000;

async function runOne(
  s: EphemeralStack,
  composeEnv: Record<string, string>,
  release: string,
  protocol: string,
  kind: string,
): Promise<CompatRun> {
  const t0 = Date.now();
  const expected = expectationFor(kind);
  const stack = { ...s, composeEnv };
  const base = { release, protocol, session: kind, expected };
  const plan = planSession(
    kind === 'interactive'
      ? { interactive: true, user: 'compat', otlpProtocol: protocol }
      : { script: kind, user: 'compat', otlpProtocol: protocol },
    {},
    loadScriptInfo,
  );
  let exitCode: number | null = null;
  let error: string | undefined;
  try {
    if (kind === 'interactive') {
      const { played } = await runInteractiveDemo(stack, {
        user: 'compat',
        otlpProtocol: protocol,
        sessionId: plan.sessionId,
      });
      exitCode = played === 'timeout' ? null : played;
      if (played === 'timeout') error = 'the interactive session did not end within 30000 ms of /exit';
    } else {
      const out = await runSessionIn(
        stack,
        { script: kind, user: 'compat', otlpProtocol: protocol, sessionId: plan.sessionId },
        KIND_ENV[kind],
      );
      exitCode = out.exitCode;
    }
  } catch (err) {
    error = (err as Error).message.split('\n').slice(0, 3).join(' ');
  }
  let record: ReturnType<typeof readSessionMetadata> = null;
  try {
    record = readSessionMetadata(s.sessionsDir, plan.sessionId);
  } catch (err) {
    error ??= (err as Error).message;
  }
  const status = record?.status ?? 'no session record';
  const observation = await observeSession(plan.sessionId, s);
  return {
    ...base,
    sessionId: plan.sessionId,
    exitCode,
    status,
    seconds: elapsed(t0),
    sessionMs: record?.durationMs ?? null,
    error,
    observation,
  };
}

export async function runCompat(o: CompatOptions): Promise<ReleaseInput[]> {
  const done: ReleaseInput[] = [];
  const t0 = Date.now();
  o.log('starting a stack of its own (random ports on 127.0.0.1) ...');
  const s = await startEphemeralStack();
  o.log(`  stack up in ${elapsed(t0).toFixed(0)} s`);
  try {
    for (const [i, release] of o.releases.entries()) {
      const r0 = Date.now();
      o.log(`[${i + 1}/${o.releases.length}] Claude Code ${release}: image ...`);
      await buildImages({
        only: ['claude-code'],
        claudeCode: release,
        writeEnv: false,
        mode: 'offline',
        log: (line) => o.log(`  ${line}`),
      });
      const imageSeconds = elapsed(r0);
      const pins = withClaudeCode(loadVersions(), release);
      const composeEnv = {
        ...s.composeEnv,
        CLAUDE_CODE_IMAGE: pins.CLAUDE_CODE_IMAGE as string,
        CLAUDE_CODE_VERSION: release,
      };
      const runs: CompatRun[] = [];
      for (const protocol of o.protocols) {
        for (const kind of o.sessions) {
          o.log(`  ${kind} over ${protocol} ...`);
          const run = await runOne(s, composeEnv, release, protocol, kind);
          const f = run.observation?.fileRecords;
          o.log(
            `    exit ${run.exitCode} (${run.status}); session ${((run.sessionMs ?? 0) / 1000).toFixed(0)} s, with its telemetry ${run.seconds.toFixed(0)} s; files: ${f ? `${f.traces} spans, ${f.metrics} points, ${f.logs} events` : 'not read'}${run.error ? `; ${run.error}` : ''}`,
          );
          runs.push(run);
        }
      }
      done.push({ release, imageSeconds, runs });
      o.log(`  ${release} done in ${elapsed(r0).toFixed(0)} s (image ${imageSeconds.toFixed(0)} s)`);
      o.onRelease?.(done);
    }
  } finally {
    await s.down();
  }
  return done;
}
