// The gateway's record and its budgets, in one SQLite file (GATEWAY_DB, on a volume: kept across restarts): every
// request it let through or refused for a budget, and each user's totals per UTC day. Admission is one synchronous
// step (Node runs one request handler at a time): check the user's limits, then count the start, so two requests
// can never both take the last unit of a budget. Tokens and dollars are counted when a response ends: requests in
// progress can overshoot a daily budget by what they use, never start past it. The checks read memory (today's
// totals, loaded from SQLite once per user and day; the last minute's starts, loaded at open); the writes are
// batched, one transaction per FLUSH_MS (pnpm bench gateway: a transaction per request cost more than the proxy).
// A crash loses at most the last FLUSH_MS of records; a stop (close) writes them all.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type BudgetName, type BudgetSource, type Limits, limitsFor } from './budget-file.ts';

export interface Finished {
  requestId: string | null;
  model: string | null;
  status: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  costUsd: number;
  priceKnown: boolean;
  ttfbMs: number | null;
  durationMs: number;
  outcome: string;
}

export interface Started {
  user: string;
  sessionId: string;
  path: string;
  attempt: number;
}

export interface Refusal {
  ok: false;
  budget: BudgetName;
  message: string;
  retryAfterSeconds: number;
}

export type Admission = { ok: true; finish(f: Finished): void } | Refusal;

export interface UserUsage {
  user: string;
  day: string;
  tokens: number;
  usd: number;
  requests: number;
  inProgress: number;
  limits: Limits;
}

/** How long finished records wait to be written together. */
const FLUSH_MS = 50;

export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const nextUtcMidnight = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
};
const inWords = (ms: number) => {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s < 120
    ? `${s} s`
    : s < 7200
      ? `${Math.ceil(s / 60)} min`
      : `${Math.floor(s / 3600)} h ${Math.ceil((s % 3600) / 60)} min`;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY,
  user TEXT NOT NULL, session_id TEXT NOT NULL, path TEXT NOT NULL, attempt INTEGER NOT NULL,
  started_at INTEGER NOT NULL, day TEXT NOT NULL, counted INTEGER NOT NULL,
  request_id TEXT, model TEXT, status INTEGER, outcome TEXT,
  input_tokens INTEGER, output_tokens INTEGER, cache_read_tokens INTEGER, cache_creation_tokens INTEGER,
  cost_usd REAL, price_known INTEGER, ttfb_ms REAL, duration_ms REAL
);
CREATE INDEX IF NOT EXISTS requests_rate ON requests (user, counted, started_at);
CREATE TABLE IF NOT EXISTS daily (
  user TEXT NOT NULL, day TEXT NOT NULL,
  tokens INTEGER NOT NULL DEFAULT 0, usd REAL NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user, day)
);`;

export function openBudgets(
  file: string,
  budgets: BudgetSource,
  o: { now?: () => number; retentionDays?: number } = {},
) {
  const now = o.now ?? Date.now;
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  const keepFrom = now() - (o.retentionDays ?? 90) * 86_400_000;
  db.prepare('DELETE FROM requests WHERE started_at < ?').run(keepFrom);
  db.prepare('DELETE FROM daily WHERE day < ?').run(utcDay(keepFrom));

  const q = {
    day: db.prepare<[string, string], { tokens: number; usd: number; requests: number }>(
      'SELECT tokens, usd, requests FROM daily WHERE user = ? AND day = ?',
    ),
    recent: db.prepare<[number], { user: string; started_at: number }>(
      'SELECT user, started_at FROM requests WHERE counted = 1 AND started_at > ? ORDER BY started_at',
    ),
    insert: db.prepare(
      `INSERT INTO requests (user, session_id, path, attempt, started_at, day, counted, request_id, model, status,
       outcome, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, price_known, ttfb_ms,
       duration_ms) VALUES (@user, @sessionId, @path, @attempt, @startedAt, @day, @counted, @requestId, @model,
       @status, @outcome, @inputTokens, @outputTokens, @cacheReadTokens, @cacheCreationTokens, @costUsd, @priceKnown,
       @ttfbMs, @durationMs)`,
    ),
    add: db.prepare(
      `INSERT INTO daily (user, day, tokens, usd, requests) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (user, day) DO UPDATE SET tokens = tokens + excluded.tokens, usd = usd + excluded.usd,
       requests = requests + 1`,
    ),
    users: db.prepare<[string], { user: string }>('SELECT user FROM daily WHERE day = ? ORDER BY user'),
  };
  const inProgress = new Map<string, number>();
  /** Today's totals per user, as SQLite has them plus what is waiting to be written. */
  const totals = new Map<string, { day: string; tokens: number; usd: number; requests: number }>();
  /** Each user's admitted starts of the last minute, oldest first. */
  const starts = new Map<string, number[]>();
  for (const r of q.recent.all(now() - 60_000))
    starts.set(r.user, [...(starts.get(r.user) ?? []), r.started_at]);

  type Row = Started & Finished & { startedAt: number; day: string; counted: number };
  let pending: Row[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const write = db.transaction((rows: Row[]) => {
    for (const r of rows) {
      q.insert.run({ ...r, priceKnown: r.priceKnown ? 1 : 0 });
      if (r.counted)
        q.add.run(
          r.user,
          r.day,
          r.inputTokens + r.outputTokens + r.cacheReadTokens + r.cacheCreationTokens,
          r.costUsd,
        );
    }
  });
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!pending.length) return;
    const rows = pending;
    pending = [];
    write(rows);
  };
  const enqueue = (row: Row) => {
    pending.push(row);
    if (!timer) {
      timer = setTimeout(flush, FLUSH_MS);
      timer.unref();
    }
  };
  const today = (user: string, day: string) => {
    let t = totals.get(user);
    if (t?.day !== day) {
      t = { day, ...(q.day.get(user, day) ?? { tokens: 0, usd: 0, requests: 0 }) };
      totals.set(user, t);
    }
    return t;
  };
  const window = (user: string, at: number) => {
    const w = starts.get(user) ?? [];
    while (w.length && (w[0] as number) <= at - 60_000) w.shift();
    if (w.length) starts.set(user, w);
    else starts.delete(user);
    return w;
  };

  function check(user: string, limits: Limits, at: number): Refusal | null {
    const used = today(user, utcDay(at));
    const resetMs = nextUtcMidnight(at) - at;
    const resets = `resets at ${new Date(nextUtcMidnight(at)).toISOString()} (in ${inWords(resetMs)})`;
    const refuse = (budget: BudgetName, message: string, retryMs: number): Refusal => ({
      ok: false,
      budget,
      message: `budget ${budget} of user ${user}: ${message}`,
      retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)),
    });
    if (limits.tokensPerDay !== null && used.tokens >= limits.tokensPerDay)
      return refuse(
        'tokensPerDay',
        `${used.tokens} of ${limits.tokensPerDay} tokens used today (UTC); ${resets}`,
        resetMs,
      );
    if (limits.usdPerDay !== null && used.usd >= limits.usdPerDay)
      return refuse(
        'usdPerDay',
        `$${used.usd.toFixed(4)} of $${limits.usdPerDay} used today (UTC); ${resets}`,
        resetMs,
      );
    if (limits.requestsPerMinute !== null) {
      const w = window(user, at);
      if (w.length >= limits.requestsPerMinute) {
        const wait = (w[w.length - limits.requestsPerMinute] ?? at) + 60_000 - at;
        return refuse(
          'requestsPerMinute',
          `${w.length} of ${limits.requestsPerMinute} requests in the last minute; the next is allowed in ${inWords(wait)}`,
          wait,
        );
      }
    }
    const running = inProgress.get(user) ?? 0;
    if (limits.concurrentRequests !== null && running >= limits.concurrentRequests)
      return refuse(
        'concurrentRequests',
        `${running} of ${limits.concurrentRequests} requests in progress; retry when one ends`,
        1000,
      );
    return null;
  }

  return {
    /** Admits a model request (recording its start) or says which budget refuses it. */
    admit(s: Started): Admission {
      const at = now();
      const day = utcDay(at);
      const refused = check(s.user, limitsFor(budgets.current(), s.user), at);
      if (refused) {
        enqueue({
          ...s,
          startedAt: at,
          day,
          counted: 0,
          requestId: null,
          model: null,
          status: 429,
          outcome: `budget:${refused.budget}`,
          inputTokens: 0,
          outputTokens: 0,
          cacheReadTokens: 0,
          cacheCreationTokens: 0,
          costUsd: 0,
          priceKnown: true,
          ttfbMs: null,
          durationMs: 0,
        });
        return refused;
      }
      inProgress.set(s.user, (inProgress.get(s.user) ?? 0) + 1);
      const w = starts.get(s.user) ?? [];
      w.push(at);
      starts.set(s.user, w);
      let done = false;
      return {
        ok: true,
        finish(f) {
          if (done) return;
          done = true;
          const left = (inProgress.get(s.user) ?? 1) - 1;
          if (left > 0) inProgress.set(s.user, left);
          else inProgress.delete(s.user);
          // The day the request started: a stream across midnight counts for the day it was admitted on.
          const t = today(s.user, day);
          t.tokens += f.inputTokens + f.outputTokens + f.cacheReadTokens + f.cacheCreationTokens;
          t.usd += f.costUsd;
          t.requests++;
          enqueue({ ...s, ...f, startedAt: at, day, counted: 1 });
        },
      };
    },
    /** Today's use (UTC) against the limits, per user (one user, or everyone with use today). */
    usageToday(user?: string): UserUsage[] {
      flush();
      const day = utcDay(now());
      const users = user ? [user] : q.users.all(day).map((r) => r.user);
      return users.map((u) => {
        const { tokens, usd, requests } = today(u, day);
        return {
          user: u,
          day,
          tokens,
          usd,
          requests,
          inProgress: inProgress.get(u) ?? 0,
          limits: limitsFor(budgets.current(), u),
        };
      });
    },
    /** The recorded requests of a session (the e2e spec and `pnpm usage --session`). */
    sessionRequests(sessionId: string) {
      flush();
      return db.prepare('SELECT * FROM requests WHERE session_id = ? ORDER BY id').all(sessionId) as Record<
        string,
        unknown
      >[];
    },
    /** Writes what waits to be written (the tests and usage-report read SQLite right after). */
    flush,
    close() {
      flush();
      db.close();
    },
  };
}

export type BudgetStore = ReturnType<typeof openBudgets>;
