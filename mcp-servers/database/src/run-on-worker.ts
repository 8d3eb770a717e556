// One statement on one worker process of the query runner (query-runner.ts, query-worker.ts): it is handed over,
// its time limit starts when the worker says it is executing it (deadline.ts), its worker's memory is watched
// (worker-memory.ts), and past either limit, or when the call is aborted, the worker is killed, which stops the
// statement for certain (SQLite cannot be interrupted from JavaScript). The runner starts a replacement on its exit.
import type { ChildProcess } from 'node:child_process';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import { deadline } from './deadline.ts';
import type { WorkerJob } from './query-worker.ts';
import { watchMemory } from './worker-memory.ts';

/** A worker's messages about a job (query-worker.ts). */
type Reply = { id: number; started?: true; result?: unknown; error?: { rule?: string; message: string } };

export interface RunLimits {
  /** The statement's time limit, from the worker's `started`. */
  limitMs: number;
  /** The error when the time limit stops it (default: `query-timeout`, naming DATABASE_QUERY_TIMEOUT_MS). */
  overLimit?: () => Error;
  /** The worker's memory limit in bytes (0: none). */
  rssLimit: number;
  /** Told, for a statement that started, how long it ran (undefined: it was stopped). Not when its worker exited. */
  ran?: (ms: number | undefined) => void;
}

/** Runs `job` on `worker` (idle and ready); settles with its result or error. A killed worker is marked dead. */
export function runOnWorker(
  worker: { child: ChildProcess; dead: boolean },
  job: WorkerJob,
  limits: RunLimits,
  signal?: AbortSignal,
): Promise<unknown> {
  const what = job.kind === 'read' ? 'the query' : 'the statement';
  const { limitMs, rssLimit, ran } = limits;
  const overLimit =
    limits.overLimit ??
    (() =>
      new RuleError(
        'query-timeout',
        `${what} ran over the time limit of ${limitMs} ms (DATABASE_QUERY_TIMEOUT_MS) and was stopped`,
      ));
  return new Promise((resolve, reject) => {
    let cancelTimer: (() => void) | undefined;
    let startedAt: number | undefined;
    const stopWatch = watchMemory(worker.child.pid as number, rssLimit, what, (err) => kill(err));
    const finish = (settle: () => void) => {
      cancelTimer?.();
      stopWatch();
      worker.child.off('message', onMessage);
      worker.child.off('exit', onExit);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const kill = (err: unknown) => {
      worker.dead = true;
      worker.child.kill('SIGKILL'); // its exit starts a replacement
      if (startedAt !== undefined) ran?.(undefined);
      finish(() => reject(err));
    };
    const onMessage = (m: Reply) => {
      if (m.id !== job.id) return;
      if (m.started) {
        startedAt = performance.now();
        cancelTimer = deadline(limitMs, () => kill(overLimit()));
        return;
      }
      if (startedAt !== undefined) ran?.(performance.now() - startedAt);
      finish(() => {
        if (m.error?.rule) reject(new RuleError(m.error.rule, m.error.message));
        else if (m.error) reject(new Error(m.error.message));
        else resolve(m.result);
      });
    };
    const onExit = (code: number | null, sig: string | null) => {
      worker.dead = true;
      finish(() => reject(new Error(`the query worker exited (${code ?? sig}) while running ${what}`)));
    };
    const onAbort = () => kill(signal?.reason ?? new Error('cancelled'));
    worker.child.on('message', onMessage);
    worker.child.once('exit', onExit);
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.child.send(job, (err) => {
      if (err) kill(new Error(`could not hand ${what} to a query worker: ${err.message}`));
    });
  });
}
