// Sends read-only queries to a query-worker child process and enforces the time limit by killing it.
// One query at a time (SQLite work is synchronous anyway); the child is started on first use and again after
// a kill.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import type { QueryResult } from './query.ts';
import type { SqlParam } from './sql-rules.ts';

const WORKER = fileURLToPath(new URL('./query-worker.ts', import.meta.url));

export class QueryRunner {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly file: string;
  private readonly timeoutMs: number;

  constructor(file: string, timeoutMs: number) {
    this.file = file;
    this.timeoutMs = timeoutMs;
  }

  private ensureChild(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.connected) return this.child;
    this.child = fork(WORKER, [this.file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    return this.child;
  }

  run(sql: string, params: SqlParam[] | undefined, maxRows: number): Promise<QueryResult> {
    const job = this.queue.then(() => this.runNow(sql, params, maxRows));
    this.queue = job.catch(() => undefined);
    return job;
  }

  private runNow(sql: string, params: SqlParam[] | undefined, maxRows: number): Promise<QueryResult> {
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise<QueryResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        child.kill('SIGKILL');
        this.child = undefined;
        reject(
          new RuleError(
            'query-timeout',
            `the query ran over the time limit of ${this.timeoutMs} ms and was stopped`,
          ),
        );
      }, this.timeoutMs);
      const onMessage = (msg: {
        id: number;
        result?: QueryResult;
        error?: { rule?: string; message: string };
      }) => {
        if (msg.id !== id) return;
        cleanup();
        if (msg.result) resolve(msg.result);
        else if (msg.error?.rule) reject(new RuleError(msg.error.rule, msg.error.message));
        else reject(new Error(msg.error?.message ?? 'query worker failed'));
      };
      const onExit = (code: number | null) => {
        cleanup();
        this.child = undefined;
        reject(new Error(`query worker exited (${code}) before answering`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ id, sql, params, maxRows });
    });
  }

  close(): void {
    this.child?.kill();
    this.child = undefined;
  }
}
