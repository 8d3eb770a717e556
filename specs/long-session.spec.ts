// Recipe: the long session kind (scripts/lib/compat/session-kinds.ts) on a stack of its own: 12 model calls, each
// answered 55 s late by the scripted API, with Claude Code's own 60 s metric export interval (the specs' stack
// shortens it to 1 s; the kind sets it back): about 12 minutes of a session that idles between a dozen exports.
// Its totals in Prometheus, its events and spans must be exactly its script's: nothing lost, nothing counted twice
// across intervals. It takes about 13 minutes: the e2e-long project runs it in a lane of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kindEnv, kindNamed } from '../scripts/lib/compat/session-kinds.ts';
import {
  type EphemeralStack,
  runSessionIn,
  startEphemeralStack,
} from '../scripts/lib/testing/ephemeral-stack.ts';
import { awaitKind } from './support/session-kind-checks.ts';

const kind = kindNamed('long');
const USER = 'long';
/** What the kind is for: a session past several export intervals. */
const AT_LEAST_MS = 10 * 60_000;

describe('a long session (over 10 minutes, 60 s export interval)', () => {
  let s: EphemeralStack;
  beforeAll(async () => {
    s = await startEphemeralStack();
  }, 300_000);
  afterAll(async () => {
    await s?.down();
  }, 120_000);

  it('has totals, events and spans exactly its script after more than 10 minutes', async () => {
    const e = kind.expectation();
    const out = await runSessionIn(s, { script: kind.script, user: USER }, kindEnv(kind, USER));
    expect(out.exitCode, out.output.slice(-2000)).toBe(0);
    expect(out.metadata?.durationMs ?? 0).toBeGreaterThan(AT_LEAST_MS);
    // The last points leave at the CLI's exit (its shutdown flush); allow two export intervals for the rest.
    const { problems, observation } = await awaitKind(s, out.plan.sessionId, e, 150_000);
    expect(problems).toEqual([]);
    expect(observation.totals.tokens).toEqual(e.tokens);
  }, 1_500_000);
});
