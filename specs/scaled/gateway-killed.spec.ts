// Recipe (scaled topology): a gateway collector crashes while a session and a span stream run. otel-gateway-1's
// process is killed (SIGKILL by its PID, not `docker kill`) and Docker's restart policy brings it back.
// The guarantee: nothing an agent acknowledged is lost. An agent answers once a request is in its persistent
// queue; from there each batch goes to a gateway, which answers only once its files and queues hold it, and a
// batch that failed goes back to the queue, routed again (a dead gateway's share to the live one). So every span
// of the stream is in the gateways' files (their union) and in Jaeger, and the session is whole in every sink.
// Duplicates: a gateway killed after writing a batch and before answering gets it again (at-least-once), so the
// only extra copies in the files are of spans the sender resent, or of spans the killed gateway's files hold (a
// gateway that was not killed never writes a batch twice: the agents wait 10 s for its answer). Counted by span id.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sendSpanStream } from '../../scripts/lib/testing/otlp-stream.ts';
import { scaledStack, streamLine } from '../support/scaled-stack.ts';
import { stack } from '../support/stack.ts';

const KILLED = 'otel-gateway-1';

describe('scaled: a gateway collector crashes', () => {
  it('loses no span of a stream, doubles none outside the killed gateway, and the session is whole', async () => {
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
    // Extra copies only where the rule allows: resent by the sender, or held by the killed gateway's files.
    const { all, byGateway } = await s.streamInFiles(stream);
    const killedHeld = byGateway[KILLED] ?? new Set<string>();
    const unexplained = [...all].filter(
      ([id, n]) => n - 1 > (stream.mayRepeat.get(id) ?? 0) && !killedHeld.has(id),
    );
    expect(
      unexplained.slice(0, 5),
      'copies in the files neither resent nor held by the killed gateway',
    ).toEqual([]);
    const whole = await s.sessionWhole(session.id);
    console.log(
      `gateway-killed: session ${session.id} whole in every sink (${whole.spans} spans, ${whole.events} events) ` +
        `${whole.ms} ms after it ended`,
    );
  });
});
