// The worker kept for quick queries (query-runner.ts). A read pool of 2 or more keeps its last worker for them:
// with maxWorkers - 1 busy, the next one goes only to a query that cannot loop (straight-line bytecode: SELECT 1, a
// lookup by key) or whose SQL ran with the same bound values in under QUICK_MS last time, and there it has a short
// time limit (quickLimitMs; past it: `query-busy`). Neither test promises a cheap query (count(*) of a big table has
// no loop in its bytecode, and a query can slow down as its table grows): the short limit is what bounds it. So slow
// queries never hold every worker: a quick query never waits on them, only on the quick ones ahead of it on the
// reserve, at most the short limit (and a new worker's start) each.
import { createHash } from 'node:crypto';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import type { SqlParam } from './sql-rules.ts';

/** A query that ran in less is quick: with the same values it may use the worker kept for quick queries next time. */
export const QUICK_MS = 100;
/** How many quick queries are remembered. */
const QUICK_REMEMBERED = 1000;

/** Whether a pool keeps its last worker for quick queries: a read pool of 2 or more. */
export function keepsReserve(mode: 'read' | 'write', maxWorkers: number): boolean {
  return mode === 'read' && maxWorkers >= 2;
}

/**
 * The waiting statement a free worker takes (`index`; -1: none may) and whether that worker is the one kept for
 * quick queries (`onReserve`): with a reserve and maxWorkers - 1 busy, it goes only to the first quick one waiting;
 * otherwise to the first one waiting.
 */
export function pickWaiter(
  waiting: readonly { quick: boolean }[],
  busy: number,
  maxWorkers: number,
  reserve: boolean,
): { index: number; onReserve: boolean } {
  const onReserve = reserve && busy >= maxWorkers - 1;
  return { index: onReserve ? waiting.findIndex((w) => w.quick) : 0, onReserve };
}

/** The error of a query stopped at the short time limit of the worker kept for quick queries. */
export function reserveStopped(limitMs: number, maxWorkers: number): RuleError {
  return new RuleError(
    'query-busy',
    `every other query worker was busy (${maxWorkers - 1} of DATABASE_QUERY_WORKERS_MAX=${maxWorkers}), so the query ran on the one kept for quick queries, which stops a query after ${limitMs} ms: it was stopped; try again when the slow queries are done`,
  );
}

/** The history's key: a digest of the SQL and its bound values (the same SQL with other values may be slow). */
function key(sql: string, params: readonly SqlParam[] | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify([sql, params ?? []]))
    .digest('base64');
}

/**
 * The queries (SQL and bound values) that ran quick last time (the latest QUICK_REMEMBERED): they may use the
 * reserve.
 */
export class QuickQueries {
  private readonly ranQuick = new Set<string>();
  private readonly quickMs: number;
  private readonly remembered: number;

  constructor(quickMs = QUICK_MS, remembered = QUICK_REMEMBERED) {
    this.quickMs = quickMs;
    this.remembered = remembered;
  }

  /** A query may use the reserve: it cannot loop (`straightLine`), or it ran quick last time, with these values. */
  isQuick(sql: string, params: readonly SqlParam[] | undefined, straightLine: boolean): boolean {
    return straightLine || this.ranQuick.has(key(sql, params));
  }

  /** Remembers the query when it ran in under quickMs, else forgets it (`ms` undefined: it was stopped). */
  ran(sql: string, params: readonly SqlParam[] | undefined, ms: number | undefined): void {
    const k = key(sql, params);
    this.ranQuick.delete(k);
    if (ms === undefined || ms >= this.quickMs) return;
    this.ranQuick.add(k);
    if (this.ranQuick.size > this.remembered)
      this.ranQuick.delete(this.ranQuick.values().next().value as string);
  }
}
