// The session gateway's own record of a session (its SQLite, read inside its container as `pnpm usage` does), and
// the same rows as the gateway_request events `pnpm export` counts (the fields usage-event.ts sends), so a spec can
// hold the record itself, not only the events it sent, against Claude Code's telemetry by the export's own rules
// (export/analysis/usage.ts). Plus what a script's answered calls cost at the gateway's list prices.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEWAY_EVENT, GATEWAY_SERVICE } from '../../scripts/lib/export/analysis/usage.ts';
import { repoRoot } from '../../scripts/lib/repo-root.ts';
import type { EventRecord } from '../../scripts/lib/sinks/otlp-records.ts';
import {
  isErrorTurn,
  parseSessionScript,
  playedTurns,
  type SessionScript,
} from '../../stack/anthropic-replay/src/session-script.ts';
import { priceOf } from '../../stack/session-gateway/src/pricing.ts';
import { execIn } from './compose-in.ts';
import type { StackInfo } from './stack.ts';

/** One row of the gateway's `requests` table (stack/session-gateway/src/budgets.ts). */
export type GatewayRow = Record<string, unknown>;

/** The gateway's record of a session, read inside its container as `pnpm usage` does. */
export async function gatewayRecord(stack: StackInfo, sessionId: string): Promise<GatewayRow[]> {
  const r = await execIn(stack, 'session-gateway', ['node', 'src/usage-report.ts', '--session', sessionId]);
  return (JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as { requests: GatewayRow[] }).requests;
}

/** The record's rows as the gateway_request events the gateway sends for them (usage-event.ts's logRecord). */
export function recordAsEvents(rows: GatewayRow[]): EventRecord[] {
  return rows.map((r) => ({
    name: GATEWAY_EVENT,
    time: Number(r.started_at),
    session: String(r.session_id),
    service: GATEWAY_SERVICE,
    resource: { 'service.name': GATEWAY_SERVICE },
    attrs: {
      'telemetry.source': 'observed',
      'user.name': String(r.user),
      'http.route': String(r.path),
      'http.status_code': Number(r.status),
      attempt: Number(r.attempt),
      outcome: String(r.outcome),
      input_tokens: Number(r.input_tokens ?? 0),
      output_tokens: Number(r.output_tokens ?? 0),
      cache_read_tokens: Number(r.cache_read_tokens ?? 0),
      cache_creation_tokens: Number(r.cache_creation_tokens ?? 0),
      cost_usd: Number(r.cost_usd ?? 0),
      'cost.price_known': r.price_known !== 0,
    },
  }));
}

export const sessionScript = (name: string): SessionScript =>
  parseSessionScript(name, readFileSync(join(repoRoot, 'fixtures/sessions', `${name}.json`), 'utf8'));

/** What the script's answered calls cost at the gateway's list prices (the script's model, each turn's usage). */
export function scriptCostUsd(script: SessionScript): number {
  let usd = 0;
  for (const turn of playedTurns(script)) {
    if (isErrorTurn(turn)) continue;
    usd += priceOf(script.model, {
      inputTokens: turn.usage.input_tokens,
      outputTokens: turn.usage.output_tokens,
      cacheReadTokens: turn.usage.cache_read_input_tokens,
      cacheCreationTokens: turn.usage.cache_creation_input_tokens,
    }).usd;
  }
  return usd;
}

/** How long, in all, a script makes the API wait before answering (its turns' delay_ms, continuations included). */
export const scriptDelayMs = (script: SessionScript): number =>
  playedTurns(script).reduce((a, t) => a + (isErrorTurn(t) ? 0 : (t.delay_ms ?? 0)), 0);
