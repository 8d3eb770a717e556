// Recipe: ten sessions of ten users at once. Each one's data, in every sink, carries only its own session id and
// user, and each session's totals equal its script: nothing is mixed up or lost under concurrency.
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { jaegerTraces } from '../scripts/lib/sinks/jaeger.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionTokens } from '../scripts/lib/sinks/session-totals.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { expectedFor, runStackSession, stack } from './support/stack.ts';

const SESSIONS = 10;

describe('concurrent sessions', () => {
  it(`keeps ${SESSIONS} simultaneous sessions of different users apart, each with its script's totals`, async () => {
    const e2eStack = stack();
    const expected = expectedFor('demo');
    const tag = Date.now().toString(36);
    const runs = await Promise.all(
      Array.from({ length: SESSIONS }, (_, i) =>
        runStackSession(e2eStack, { script: 'demo', user: `user${i}-${tag}` }),
      ),
    );
    for (const r of runs) expect(r.exitCode, r.output.slice(-1000)).toBe(0);
    expect(new Set(runs.map((r) => r.plan.sessionId)).size).toBe(SESSIONS);

    for (const run of runs) {
      const id = run.plan.sessionId;
      const user = run.plan.env.SESSION_USER;
      const found = await waitForSessionInSinks(id, e2eStack, 90_000);
      // Prometheus: the script's tokens, every series of the session labelled with its user only.
      const tokens = await waitFor(
        `tokens of ${id} never matched the script`,
        async () => {
          const got = await sessionTokens(e2eStack.prometheus, id);
          // As objects: the order of the keys is Prometheus' answer's, which no one promises.
          return isDeepStrictEqual(got, expected.tokens) ? got : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(tokens).toEqual(expected.tokens);
      const users = await promQuery(
        e2eStack.prometheus,
        `count by (user_name) ({session_id="${id}", user_name!=""})`,
      );
      expect(users.map((u) => u.metric.user_name)).toEqual([user]);
      // Jaeger: one trace, model calls as scripted, every span tagged with this session and user.
      const traces = await jaegerTraces(e2eStack.jaeger, 'claude-code', id);
      const spans = traces.flatMap((t) => t.spans);
      expect(spans.filter((x) => x.operationName === 'claude_code.llm_request').length).toBe(
        expected.modelCalls,
      );
      for (const sp of spans) {
        const tags = Object.fromEntries(sp.tags.map((t) => [t.key, t.value]));
        expect(tags['session.id'], sp.operationName).toBe(id);
        expect(tags['user.name'], sp.operationName).toBe(user);
      }
      // Files and VictoriaLogs: every event of the session, each with its own user.
      const events = await sessionRecords(e2eStack.telemetryDir, 'logs', id);
      expect(found.events.length).toBe(events.length);
      const rows = await vlQuery(e2eStack.victorialogs, sessionFilter(id));
      expect(new Set(rows.map((r) => r['user.name']))).toEqual(new Set([user]));
    }
  });
});
