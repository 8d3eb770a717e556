// Runs `pnpm compat`'s sessions: one stack of its own (the specs' short export intervals, random ports on
// 127.0.0.1), each release's image built once when its first session needs it, and the planned sessions run by
// workers at once: `parallel` in the main lane, `longParallel` in a lane of their own for the long kinds, each
// worker its own user (compat-1, compat-long-1, ...) so no two sessions at once share a user's totals. A session
// that never started, or whose sinks could not be read, is tried again (at most `maxTries`), then kept as
// unmeasured. Every measured run is saved to the cache as it ends. The judging is compat-matrix.ts's.
import { buildImages, loadVersions, withClaudeCode } from '../images/build-images.ts';
import type { Log } from '../progress.ts';
import { readSessionMetadata } from '../session/record-metadata.ts';
import { planSession } from '../session/session-plan.ts';
import { shellQuote } from '../session/session-record.ts';
import { loadScriptInfo } from '../session/session-run.ts';
import { type EphemeralStack, runSessionIn, startEphemeralStack } from '../testing/ephemeral-stack.ts';
import { type Played, playInteractiveDemo, ptySession } from '../testing/pty-session.ts';
import { loadCached, runsOf, saveCached } from './compat-cache.ts';
import type { CompatRun, Expectation, ReleaseInput } from './compat-matrix.ts';
import type { PlannedCell, Task } from './compat-plan.ts';
import { observeSession } from './observe-session.ts';
import { type KindExpectation, kindEnv, kindNamed, type SessionKind } from './session-kinds.ts';

/** The environment variable the session's entrypoint reads to put its telemetry settings where a user would. */
export const CONFIG_ENV = 'SESSION_TELEMETRY_CONFIG';

/** The registry's expectation as the matrix checks it (retries from the attempts; compactions as events). */
export function matrixExpectation(k: KindExpectation): Expectation {
  const e: Expectation = {
    tokens: { ...k.tokens },
    linesAdded: k.linesAdded,
    linesRemoved: k.linesRemoved,
    modelCalls: k.modelCalls,
    apiErrors: k.apiErrors,
  };
  if (k.attempts.length) e.retries = k.attempts.reduce((a, n) => a + n - 1, 0);
  if (k.compactions) e.events = { compaction: k.compactions };
  if (k.hookRuns) e.hookRuns = { ...k.hookRuns };
  if (k.subagent.modelCalls) e.subagentTokens = Object.values(k.subagent.tokens).reduce((a, n) => a + n, 0);
  return e;
}

export interface CompatOptions {
  cells: PlannedCell[];
  tasks: Task[];
  /** Runs per cell (for the log). */
  runs: number;
  parallel: number;
  longParallel: number;
  cacheDir: string;
  /** Runs already measured, by release (the cache, unless --fresh). */
  done: Map<string, ReleaseInput>;
  log: Log;
  maxTries?: number;
}

const elapsed = (t0: number) => (Date.now() - t0) / 1000;
const firstLines = (err: unknown) => (err as Error).message.split('\n').slice(0, 3).join(' ');

export interface Tried {
  run: CompatRun;
  /** Why this try measured nothing (the session never started, or the sinks could not be read). */
  retry?: string;
}

async function tryOnce(
  s: EphemeralStack,
  composeEnv: Record<string, string>,
  task: Task,
  kind: SessionKind,
  user: string,
): Promise<Tried> {
  const t0 = Date.now();
  const stack = { ...s, composeEnv };
  const env = { ...kindEnv(kind, user), [CONFIG_ENV]: task.config };
  const plan = planSession(
    kind.interactive
      ? { interactive: true, user, otlpProtocol: task.protocol }
      : { script: kind.script, user, otlpProtocol: task.protocol },
    {},
    loadScriptInfo,
  );
  const base = {
    release: task.release,
    protocol: task.protocol,
    session: task.kind,
    config: task.config,
    attempt: task.attempt,
    expected: matrixExpectation(kind.expectation()),
    sessionId: plan.sessionId,
  };
  let exitCode: number | null = null;
  let error: string | undefined;
  let started = true;
  try {
    if (kind.interactive) {
      let played: Played = null;
      await runSessionIn(
        stack,
        { interactive: true, user, otlpProtocol: task.protocol, sessionId: plan.sessionId },
        env,
        {
          terminal: async (argv, termEnv) => {
            const tty = ptySession(shellQuote(argv), termEnv);
            try {
              played = await playInteractiveDemo(tty);
              return played === 'timeout' ? null : played;
            } finally {
              tty.kill();
            }
          },
        },
      );
      exitCode = played === 'timeout' ? null : played;
      if (played === 'timeout') error = 'the interactive session did not end within 30000 ms of /exit';
    } else {
      const out = await runSessionIn(
        stack,
        { script: kind.script, user, otlpProtocol: task.protocol, sessionId: plan.sessionId },
        env,
      );
      exitCode = out.exitCode;
    }
  } catch (err) {
    error = firstLines(err);
  }
  let record: ReturnType<typeof readSessionMetadata> = null;
  try {
    record = readSessionMetadata(s.sessionsDir, plan.sessionId);
  } catch (err) {
    error ??= firstLines(err);
  }
  if (!record) started = false;
  const common = {
    ...base,
    exitCode,
    status: record?.status ?? 'no session record',
    sessionMs: record?.durationMs ?? null,
    error,
  };
  if (!started)
    return {
      run: { ...common, seconds: elapsed(t0) },
      retry: `the session never started (no session record${error ? `: ${error}` : ''})`,
    };
  try {
    const observation = await observeSession(plan.sessionId, s);
    return { run: { ...common, seconds: elapsed(t0), observation } };
  } catch (err) {
    return {
      run: { ...common, seconds: elapsed(t0) },
      retry: `its sinks could not be read: ${firstLines(err)}`,
    };
  }
}

/**
 * A run with its retries: tried again while a try measured nothing, at most `maxTries` times; then kept as
 * unmeasured, saying why the last try measured nothing.
 */
export async function withRetries(
  attempt: () => Promise<Tried>,
  maxTries: number,
  log: (why: string, tries: number) => void,
): Promise<CompatRun> {
  let last: Tried | undefined;
  for (let tries = 1; tries <= maxTries; tries++) {
    last = await attempt();
    if (!last.retry) return { ...last.run, tries };
    log(last.retry, tries);
  }
  if (!last) throw new Error(`a compat run takes at least 1 try; maxTries is ${maxTries}`);
  return { ...last.run, tries: maxTries, unmeasured: last.retry };
}

function runTask(
  s: EphemeralStack,
  composeEnv: Record<string, string>,
  task: Task,
  user: string,
  maxTries: number,
  log: Log,
): Promise<CompatRun> {
  const kind = kindNamed(task.kind);
  return withRetries(
    () => tryOnce(s, composeEnv, task, kind, user),
    maxTries,
    (why, tries) => log(`    ${label(task)} try ${tries} of ${maxTries} measured nothing: ${why}`),
  );
}

const label = (t: Task) => `${t.release} ${t.kind} ${t.protocol} ${t.config} #${t.attempt}`;

/** Runs the tasks; returns every release's runs (the cached ones and the new), saving each run as it ends. */
export async function runCompat(o: CompatOptions): Promise<ReleaseInput[]> {
  const maxTries = o.maxTries ?? 3;
  const done = o.done;
  const releases = [...new Set(o.cells.map((c) => c.release))];
  for (const r of releases) if (!done.has(r)) done.set(r, { release: r, imageSeconds: 0, runs: [] });
  const out = () => releases.map((r) => done.get(r) as ReleaseInput);
  if (!o.tasks.length) {
    o.log('every planned run is in the cache: nothing to run');
    return out();
  }
  const t0 = Date.now();
  o.log(
    `${o.tasks.length} session(s) to run (${o.runs} per cell); starting a stack of its own (random ports on 127.0.0.1) ...`,
  );
  const s = await startEphemeralStack();
  o.log(`  stack up in ${elapsed(t0).toFixed(0)} s`);
  // Images one at a time (a build takes the machine), each once, when its release's first session needs it.
  const images = new Map<string, Promise<Record<string, string>>>();
  let building: Promise<unknown> = Promise.resolve();
  const imageOf = (release: string) => {
    let p = images.get(release);
    if (!p) {
      p = building.then(async () => {
        const r0 = Date.now();
        o.log(`Claude Code ${release}: image ...`);
        await buildImages({
          only: ['claude-code'],
          claudeCode: release,
          writeEnv: false,
          mode: 'offline',
          log: (line) => o.log(`  ${line}`),
        });
        const input = done.get(release) as ReleaseInput;
        input.imageSeconds = elapsed(r0);
        const pins = withClaudeCode(loadVersions(), release);
        return {
          ...s.composeEnv,
          CLAUDE_CODE_IMAGE: pins.CLAUDE_CODE_IMAGE as string,
          CLAUDE_CODE_VERSION: release,
        };
      });
      building = p.catch(() => undefined);
      images.set(release, p);
    }
    return p;
  };
  let finished = 0;
  const worker = async (queue: Task[], user: string) => {
    for (let task = queue.shift(); task; task = queue.shift()) {
      const input = done.get(task.release) as ReleaseInput;
      let run: CompatRun;
      try {
        const composeEnv = await imageOf(task.release);
        run = await runTask(s, composeEnv, task, user, maxTries, o.log);
      } catch (err) {
        // The image could not be built: every session of the release is unmeasured, and says why.
        run = {
          release: task.release,
          protocol: task.protocol,
          session: task.kind,
          config: task.config,
          attempt: task.attempt,
          tries: 0,
          unmeasured: `no image: ${firstLines(err)}`,
          sessionId: '',
          exitCode: null,
          status: 'not run',
          seconds: 0,
          expected: matrixExpectation(kindNamed(task.kind).expectation()),
        };
      }
      input.runs.push(run);
      saveCached(o.cacheDir, input);
      finished++;
      const f = run.observation?.fileRecords;
      o.log(
        `[${finished}/${o.tasks.length}] ${label(task)} (${user}): ${
          run.unmeasured
            ? `unmeasured: ${run.unmeasured}`
            : `exit ${run.exitCode} (${run.status}); session ${((run.sessionMs ?? 0) / 1000).toFixed(0)} s, with its telemetry ${run.seconds.toFixed(0)} s; files: ${f ? `${f.traces} spans, ${f.metrics} points, ${f.logs} events` : 'not read'}`
        }`,
      );
    }
  };
  const short = o.tasks.filter((t) => !t.long);
  const long = o.tasks.filter((t) => t.long);
  try {
    await Promise.all([
      ...Array.from({ length: Math.min(o.parallel, short.length) }, (_, i) =>
        worker(short, `compat-${i + 1}`),
      ),
      ...Array.from({ length: Math.min(o.longParallel, long.length) }, (_, i) =>
        worker(long, `compat-long-${i + 1}`),
      ),
    ]);
  } finally {
    await s.down();
  }
  o.log(`${o.tasks.length} session(s) in ${elapsed(t0).toFixed(0)} s`);
  return out();
}

/** The cached runs of each release of the plan (none with `fresh`). */
export function cachedRuns(
  cells: PlannedCell[],
  cacheDir: string,
  fresh: boolean,
): Map<string, ReleaseInput> {
  const done = new Map<string, ReleaseInput>();
  if (fresh) return done;
  for (const r of new Set(cells.map((c) => c.release))) {
    const c = loadCached(cacheDir, r);
    if (c) done.set(r, c);
  }
  return done;
}

export const measuredIn = (done: Map<string, ReleaseInput>) => (c: PlannedCell) =>
  runsOf(done.get(c.release), c).length;
