// Recipe (scaled topology): a gateway collector crashes while a session and a span stream run. otel-gateway-1's
// process is killed (SIGKILL by its PID, not `docker kill`) and Docker's restart policy brings it back.
// The guarantee: nothing an agent acknowledged is lost. An agent answers once a request is in its persistent
// queue; from there each batch goes to a gateway, which answers only once its files and queues hold it, and a
// batch that failed goes back to the queue, routed again (a dead gateway's share to the live one). So every span
// of the stream is in the gateways' files (their union) and in Jaeger, and the session is whole in every sink.
// Duplicates (at-least-once; counted by span id, printed): an agent retries a WHOLE batch when any gateway it was
// split over failed, so a gateway that was not killed may write the spans of such a batch twice (measured here:
// 20 of 1,600), and the killed one may hold a batch it wrote but did not answer. The files keep every copy (the
// export keeps a line once); Jaeger answers each span once.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sendSpanStream } from '../../scripts/lib/testing/otlp-stream.ts';
import { scaledStack, streamLine } from '../support/scaled-stack.ts';
import { stack } from '../support/stack.ts';

const KILLED = 'otel-gateway-1';

describe('scaled: a gateway collector crashes', () => {
  it('loses no span of a stream (copies counted), Jaeger answers each once, and the session is whole', async () => {
    const s = scaledStack(stack());
    let crash: Promise<{ pid: number; killedAt: number; backMs: number }> | undefined;
    const [session, stream] = await Promise.all([
      s.session('gateway-killed'),
      sendSpanStream({
        otlpHttp: s.otlpHttp,
        session: `stream-${randomUUID()}`,
        requests: 80,
        spansPerRequest: 20,
        // Eight traces: routed by trace id, the stream reaches both gateways.
        traces: 8,
        pauseMs: 100,
        onAck: (n) => {
          if (n !== 20) return;
          crash = s.crash(KILLED);
          crash.catch(() => {}); // awaited below
        },
      }),
    ]);
    expect(crash, 'the gateway was crashed mid-stream').toBeDefined();
    const back = await (crash as NonNullable<typeof crash>);
    expect(session.exitCode, session.output.slice(-1500)).toBe(0);
    const f = await s.streamDelivered(stream, { jaeger: true });
    console.log(
      `${streamLine('gateway-killed', stream, f)}; ${KILLED} (pid ${back.pid}) healthy again after ${back.backMs} ms`,
    );
    expect(f.inFiles, 'distinct spans in the gateways files').toBe(f.sent);
    expect(f.inJaeger, 'distinct spans in Jaeger').toBe(f.sent);
    // Both gateways took part (else the crash tested nothing of the routing).
    expect(
      Object.values(f.byGateway).filter((n) => n > 0).length,
      JSON.stringify(f.byGateway),
    ).toBeGreaterThanOrEqual(2);
    // Jaeger answers each span once (its query merges copies of one span).
    expect(f.jaegerCopies, 'extra copies Jaeger answers').toBe(0);
    const whole = await s.sessionWhole(session.id);
    console.log(
      `gateway-killed: session ${session.id} whole in every sink (${whole.spans} spans, ${whole.events} events) ` +
        `${whole.ms} ms after it ended`,
    );
  });
});
