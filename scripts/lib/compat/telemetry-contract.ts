// The telemetry contract of the pinned Claude Code release: the metric, event and span names, the span tree and
// the attribute keys its demo session emits (fixtures/contract/claude-code-telemetry.json, written by
// `pnpm compat --contract`). The contract spec plays the demo on the pinned release and compares: a name that
// disappeared or appeared, a parent that changed, an attribute key that is gone, each is named.
import { join } from 'node:path';
import { repoRoot } from '../repo-root.ts';
import type { Inventory, SessionObservation } from './observe-session.ts';

export const CONTRACT_FILE = join(repoRoot, 'fixtures', 'contract', 'claude-code-telemetry.json');

export interface TelemetryContract {
  /** The Claude Code release the contract was recorded with (must be the pin). */
  release: string;
  /** The session it was recorded from. */
  session: string;
  metrics: Inventory;
  events: Inventory;
  spans: Inventory;
  spanTree: string[];
}

export function contractFrom(release: string, session: string, o: SessionObservation): TelemetryContract {
  return { release, session, metrics: o.metrics, events: o.events, spans: o.spans, spanTree: o.spanTree };
}

/**
 * What differs between the contract and a session's observation, one line each. Names must match both ways; the
 * contract's attribute keys must all be there (a new attribute key is reported by `additions`, not a breach).
 */
export function contractBreaches(c: TelemetryContract, o: SessionObservation): string[] {
  const out: string[] = [];
  const kinds = [
    ['metric', c.metrics, o.metrics],
    ['event', c.events, o.events],
    ['span', c.spans, o.spans],
  ] as const;
  for (const [kind, want, got] of kinds) {
    for (const name of Object.keys(want)) {
      if (!got[name]) {
        out.push(`${kind} ${name} disappeared`);
        continue;
      }
      const gone = (want[name] ?? []).filter((k) => !got[name]?.includes(k));
      if (gone.length) out.push(`${kind} ${name} lost attribute(s) ${gone.join(', ')}`);
    }
    for (const name of Object.keys(got))
      if (!want[name]) out.push(`${kind} ${name} is new (not in the contract)`);
  }
  for (const edge of c.spanTree) if (!o.spanTree.includes(edge)) out.push(`span tree: ${edge} is gone`);
  for (const edge of o.spanTree) if (!c.spanTree.includes(edge)) out.push(`span tree: ${edge} is new`);
  return out;
}

/** Attribute keys the observation has beyond the contract (informational: optional attributes come and go). */
export function contractAdditions(c: TelemetryContract, o: SessionObservation): string[] {
  const out: string[] = [];
  for (const [kind, want, got] of [
    ['metric', c.metrics, o.metrics],
    ['event', c.events, o.events],
    ['span', c.spans, o.spans],
  ] as const) {
    for (const [name, keys] of Object.entries(got)) {
      const extra = keys.filter((k) => want[name] && !want[name]?.includes(k));
      if (extra.length) out.push(`${kind} ${name}: ${extra.join(', ')}`);
    }
  }
  return out;
}
