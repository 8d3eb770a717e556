// One statement on one worker, against a fake worker process that answers as told: what settles the call, and
// when the worker is killed. The real worker and pool: query-runner.test.ts.
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { WorkerJob } from './query-worker.ts';
import { runOnWorker } from './run-on-worker.ts';

const job: WorkerJob = { id: 7, kind: 'read', sql: 'SELECT 1', limits: { maxRows: 1, maxResultBytes: 1000 } };

/** A fake worker: `sent` has what it was handed; `reply` answers; `killed` has the signals it was sent. */
function fakeWorker(sendError?: Error) {
  const child = Object.assign(new EventEmitter(), {
    pid: process.pid,
    sent: [] as unknown[],
    killed: [] as string[],
    send(message: unknown, callback: (err: Error | null) => void) {
      this.sent.push(message);
      queueMicrotask(() => callback(sendError ?? null));
      return true;
    },
    kill(signal: string) {
      this.killed.push(signal);
      return true;
    },
  });
  const worker = { child: child as unknown as ChildProcess, dead: false };
  return { worker, child, reply: (m: object) => child.emit('message', { id: job.id, ...m }) };
}

describe('runOnWorker', () => {
  it('hands the job over and settles with its result; tells how long a started statement ran', async () => {
    const { worker, child, reply } = fakeWorker();
    const ran = vi.fn();
    const result = runOnWorker(worker, job, { limitMs: 600_000, rssLimit: 0, ran });
    expect(child.sent).toEqual([job]);
    child.emit('message', { id: 8, result: 'not ours' });
    reply({ started: true });
    reply({ result: { rows: [] } });
    expect(await result).toEqual({ rows: [] });
    expect(ran).toHaveBeenCalledWith(expect.any(Number));
    expect(worker.dead).toBe(false);
    expect(child.listenerCount('message') + child.listenerCount('exit')).toBe(0);
  });

  it("rejects with the worker's error: a RuleError when it names a rule", async () => {
    const a = fakeWorker();
    const refused = runOnWorker(a.worker, job, { limitMs: 600_000, rssLimit: 0 });
    a.reply({ error: { rule: 'result-too-large', message: 'too big' } });
    await expect(refused).rejects.toMatchObject({ rule: 'result-too-large', message: 'too big' });
    const b = fakeWorker();
    const failed = runOnWorker(b.worker, job, { limitMs: 600_000, rssLimit: 0 });
    b.reply({ error: { message: 'no such table: x' } });
    await expect(failed).rejects.toThrow('no such table: x');
  });

  it('kills the worker at the time limit, counted from its start (query-timeout, or the given error)', async () => {
    const { worker, child, reply } = fakeWorker();
    const ran = vi.fn();
    const slow = runOnWorker(worker, job, { limitMs: 20, rssLimit: 0, ran });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(child.killed, 'not started: no time limit yet').toEqual([]);
    reply({ started: true });
    await expect(slow).rejects.toMatchObject({
      rule: 'query-timeout',
      message: 'the query ran over the time limit of 20 ms (DATABASE_QUERY_TIMEOUT_MS) and was stopped',
    });
    expect(child.killed).toEqual(['SIGKILL']);
    expect(worker.dead).toBe(true);
    expect(ran).toHaveBeenCalledWith(undefined);
    const other = fakeWorker();
    const busy = runOnWorker(other.worker, job, {
      limitMs: 20,
      rssLimit: 0,
      overLimit: () => new Error('on the reserve'),
    });
    other.reply({ started: true });
    await expect(busy).rejects.toThrow('on the reserve');
  });

  it.skipIf(!existsSync('/proc/self/status'))(
    "kills the worker when its memory passes the limit (memory-limit); this process's size stands in",
    async () => {
      const { worker, child } = fakeWorker();
      const hog = runOnWorker(worker, job, { limitMs: 600_000, rssLimit: 1 });
      await expect(hog).rejects.toMatchObject({ rule: 'memory-limit' });
      expect(child.killed).toEqual(['SIGKILL']);
    },
  );

  it('kills the worker when the call is aborted; a statement not started is not told as run', async () => {
    const { worker, child } = fakeWorker();
    const ran = vi.fn();
    const abort = new AbortController();
    const call = runOnWorker(worker, job, { limitMs: 600_000, rssLimit: 0, ran }, abort.signal);
    abort.abort(new Error('over budget'));
    await expect(call).rejects.toThrow('over budget');
    expect(child.killed).toEqual(['SIGKILL']);
    expect(ran).not.toHaveBeenCalled();
  });

  it('rejects when the worker exits, or when the job cannot be handed over', async () => {
    const { worker, child } = fakeWorker();
    const write: WorkerJob = { id: job.id, kind: 'write', sql: 'DELETE FROM t' };
    const call = runOnWorker(worker, write, { limitMs: 600_000, rssLimit: 0 });
    child.emit('exit', 1, null);
    await expect(call).rejects.toThrow('the query worker exited (1) while running the statement');
    expect(worker.dead).toBe(true);
    const broken = fakeWorker(new Error('channel closed'));
    await expect(runOnWorker(broken.worker, job, { limitMs: 600_000, rssLimit: 0 })).rejects.toThrow(
      'could not hand the query to a query worker: channel closed',
    );
    expect(broken.child.killed).toEqual(['SIGKILL']);
  });
});
