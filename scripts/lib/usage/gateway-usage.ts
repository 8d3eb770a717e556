// `pnpm usage`: each user's use today (UTC) against their budgets, from the session gateway's own record. The
// record is read inside the gateway's container (`docker compose exec session-gateway node src/usage-report.ts`)
// rather than over an admin port: a port would need a token of its own and, since the gateway is joined to every
// session's network, would be one more thing sessions could reach; exec needs neither and reads the same SQLite
// file the budgets are enforced from, with the same budgets file.
import { compose } from '../stack/compose.ts';

export interface UserUsage {
  user: string;
  day: string;
  tokens: number;
  usd: number;
  requests: number;
  inProgress: number;
  limits: Record<'tokensPerDay' | 'usdPerDay' | 'requestsPerMinute' | 'concurrentRequests', number | null>;
}
export interface UsageReport {
  users: UserUsage[];
}

/** The report as usage-report.ts prints it, checked field by field (an error names the field). */
export function parseUsageReport(json: unknown): UsageReport {
  const fail = (where: string): never => {
    throw new Error(`the session gateway's usage report has no valid ${where}`);
  };
  const users = (json as { users?: unknown })?.users;
  if (!Array.isArray(users)) fail('users list');
  return {
    users: (users as Record<string, unknown>[]).map((u, i) => {
      for (const k of ['user', 'day']) if (typeof u?.[k] !== 'string') fail(`users[${i}].${k}`);
      for (const k of ['tokens', 'usd', 'requests', 'inProgress'])
        if (typeof u[k] !== 'number') fail(`users[${i}].${k}`);
      const limits = u.limits as Record<string, unknown> | undefined;
      for (const k of ['tokensPerDay', 'usdPerDay', 'requestsPerMinute', 'concurrentRequests'])
        if (limits?.[k] !== null && typeof limits?.[k] !== 'number') fail(`users[${i}].limits.${k}`);
      return u as unknown as UserUsage;
    }),
  };
}

export async function readGatewayUsage(o: { user?: string; project?: string } = {}): Promise<UsageReport> {
  const args = [
    'exec',
    '-T',
    'session-gateway',
    'node',
    'src/usage-report.ts',
    ...(o.user ? ['--user', o.user] : []),
  ];
  const out = await compose(args, {
    quiet: true,
    nothrow: true,
    ...(o.project ? { project: o.project } : {}),
  });
  if (out.exitCode !== 0)
    throw new Error(
      `the session gateway's record could not be read (docker compose exec session-gateway, exit ${out.exitCode}): ${out.stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}; is the stack up (pnpm stack:up)?`,
    );
  const line = out.stdout.trim().split('\n').at(-1) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error(`the session gateway's usage report is not JSON: ${line.slice(0, 200)}`);
  }
  return parseUsageReport(json);
}

const pct = (used: number, max: number | null) =>
  max === null ? '' : ` (${Math.round((100 * used) / max)} %)`;
const of = (used: string, max: number | null, unit = '') =>
  `${used} / ${max === null ? 'no limit' : `${unit}${max}`}`;

/** A table, one line per user: tokens, dollars, requests today, requests in progress. */
export function formatUsage(r: UsageReport): string {
  if (!r.users.length) return 'No use recorded today (UTC).';
  const rows = r.users.map((u) => [
    u.user,
    of(String(u.tokens), u.limits.tokensPerDay) + pct(u.tokens, u.limits.tokensPerDay),
    of(`$${u.usd.toFixed(4)}`, u.limits.usdPerDay, '$') + pct(u.usd, u.limits.usdPerDay),
    String(u.requests),
    of(String(u.inProgress), u.limits.concurrentRequests),
  ]);
  const head = ['user', 'tokens today', 'USD today', 'requests', 'in progress'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [`Use on ${r.users[0]?.day} (UTC) against budgets:`, line(head), ...rows.map(line)].join('\n');
}
