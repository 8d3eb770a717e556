// The budgets, as the operator writes them (stack/session-gateway/budgets.json, mounted read-only; path from
// GATEWAY_BUDGETS_FILE): limits for `default` and, per user, the ones that differ. null means no limit. The file is
// read again at most every `checkEveryMs` when a request asks (no timer): a raised budget applies without a
// restart. A file that no longer parses keeps the last good budgets, and the error is reported once per change.
import { readFileSync } from 'node:fs';
import { USER_NAME, USER_NAME_RULE } from '@claude-code-telemetry/mcp-common/session-credential';
import { z } from 'zod';

const limit = (what: string) => z.number().positive().nullable().describe(what);

export const limitsSchema = z
  .object({
    tokensPerDay: limit('Tokens per UTC day (input + output + cache read + cache write)').refine(
      (v) => v === null || Number.isInteger(v),
      'must be a whole number',
    ),
    usdPerDay: limit('USD per UTC day, at src/pricing.ts prices'),
    requestsPerMinute: limit('Model requests started in any 60 s').refine(
      (v) => v === null || Number.isInteger(v),
      'must be a whole number',
    ),
    concurrentRequests: limit('Model requests in progress at once').refine(
      (v) => v === null || Number.isInteger(v),
      'must be a whole number',
    ),
  })
  .strict();

export type Limits = z.infer<typeof limitsSchema>;
export type BudgetName = keyof Limits;

export const budgetsSchema = z
  .object({
    default: limitsSchema,
    users: z
      .record(z.string().regex(USER_NAME, `a user name (${USER_NAME_RULE})`), limitsSchema.partial())
      .default({}),
  })
  .strict();

export type Budgets = z.infer<typeof budgetsSchema>;

export const NO_LIMITS: Limits = {
  tokensPerDay: null,
  usdPerDay: null,
  requestsPerMinute: null,
  concurrentRequests: null,
};

export function limitsFor(b: Budgets, user: string): Limits {
  return { ...b.default, ...(Object.hasOwn(b.users, user) ? b.users[user] : {}) };
}

export function parseBudgets(text: string, source: string): Budgets {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`budgets file ${source} is not JSON: ${(err as Error).message}`);
  }
  const r = budgetsSchema.safeParse(json);
  if (!r.success)
    throw new Error(
      `budgets file ${source} is invalid: ${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

export interface BudgetSource {
  /** The budgets as the file says now (read again when `checkEveryMs` has passed). */
  current(): Budgets;
}

/** Budgets from a file; throws at once if the file is missing or invalid at start. */
export function budgetFile(
  path: string,
  o: { checkEveryMs?: number; now?: () => number; onError?: (message: string) => void } = {},
): BudgetSource {
  const checkEveryMs = o.checkEveryMs ?? 2000;
  const now = o.now ?? Date.now;
  let text = readFileSync(path, 'utf8');
  let budgets = parseBudgets(text, path);
  let checkedAt = now();
  let failed = '';
  return {
    current() {
      if (now() - checkedAt < checkEveryMs) return budgets;
      checkedAt = now();
      let fresh: string;
      try {
        fresh = readFileSync(path, 'utf8');
      } catch (err) {
        fresh = `unreadable: ${(err as Error).message}`;
      }
      if (fresh === text) return budgets;
      try {
        budgets = parseBudgets(fresh, path);
        text = fresh;
        failed = '';
      } catch (err) {
        const message = `${(err as Error).message}; keeping the budgets read before`;
        if (message !== failed) o.onError?.(message);
        failed = message;
      }
      return budgets;
    },
  };
}

/** No file configured: no limits. */
export const unlimited: BudgetSource = { current: () => ({ default: NO_LIMITS, users: {} }) };
