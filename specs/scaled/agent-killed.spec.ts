// Recipe (scaled topology): an agent collector crashes while a session and a span stream run. The agent the host
// sends to (otel-collector, which keeps the single host's ports) is killed (SIGKILL by its PID) and Docker's
// restart policy brings it back, on a new host port (the stream reads it again for every attempt).
// The guarantee: every span the agent ACKNOWLEDGED is delivered. It answered only once the span was in its
// persistent queue (on disk), which the restarted agent sends on. So every span of the stream (all acknowledged
// when the stream ends: a refused or unanswered request is resent) is in the gateways' files and in Jaeger.
// Duplicates (counted by span id): a resent request may be stored twice, and so may a batch the agent had sent to
// a gateway but not yet marked done in its queue when it died (its queue sends it again after the restart). Both
// are resends; the figures say how many copies each sink holds. The session goes on through the other agent (both
// answer to the name otel-collector); it must end well, and its figures are printed.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sendSpanStream } from '../../scripts/lib/testing/otlp-stream.ts';
import { scaledStack, streamLine } from '../support/scaled-stack.ts';
import { stack } from '../support/stack.ts';

const KILLED = 'otel-collector';

describe('scaled: an agent collector crashes', () => {
  it('delivers every acknowledged span to the files and Jaeger', async () => {
    const s = scaledStack(stack());
    let crash: Promise<{ pid: number; killedAt: number; backMs: number }> | undefined;
    const [session, stream] = await Promise.all([
      s.session('agent-killed'),
      sendSpanStream({
        otlpHttp: s.otlpHttp,
        session: `stream-${randomUUID()}`,
        requests: 80,
        spansPerRequest: 20,
        traces: 8,
        pauseMs: 100,
        onAck: (n) => {
          if (n !== 20) return;
          crash = s.crash(KILLED);
          crash.catch(() => {}); // awaited below
        },
      }),
    ]);
    expect(crash, 'the agent was crashed mid-stream').toBeDefined();
    const back = await (crash as NonNullable<typeof crash>);
    expect(Object.keys(stream.failures).length, 'the sender saw the outage').toBeGreaterThan(0);
    expect(session.exitCode, session.output.slice(-1500)).toBe(0);
    const f = await s.streamDelivered(stream, { jaeger: true });
    console.log(
      `${streamLine('agent-killed', stream, f)}; ${KILLED} (pid ${back.pid}) healthy again after ${back.backMs} ms`,
    );
    expect(f.inFiles, 'distinct spans in the gateways files').toBe(f.sent);
    expect(f.inJaeger, 'distinct spans in Jaeger').toBe(f.sent);
    // The session: every sink holds it (what its SDK could not send while its agent restarted, it resent or not:
    // Claude Code's exporters are not ours to change, so only the figures are printed).
    const whole = await s.sessionWhole(session.id).then(
      (w) => `whole in every sink (${w.spans} spans, ${w.events} events)`,
      (err: Error) => `NOT whole: ${err.message.slice(0, 300)}`,
    );
    console.log(`agent-killed: session ${session.id} ${whole}`);
  });
});
