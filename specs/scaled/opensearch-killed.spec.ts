// Recipe (scaled topology): an OpenSearch data node crashes while spans flow. opensearch-1 (a data node, manager
// eligible) is killed (SIGKILL by its PID); Docker's restart policy brings it back, and the cluster is green again
// once its shards are recovered.
// The guarantees, as they are:
//   - the files: every span of the stream (the gateways write them before answering; OpenSearch is not on that
//     path);
//   - OpenSearch holds every span it had taken before the crash: each shard has one replica on the other data
//     node, and opensearch-3 is the third vote, so a manager is elected again and nothing held is lost;
//   - what was in flight is NOT guaranteed: Jaeger's collector answers the gateway before OpenSearch holds a span
//     (its writer batches asynchronously), so a bulk write that fails while the node is away loses those spans, and
//     the gateway's retry cannot cover it. Not at-least-once without a buffer Jaeger waits on (Kafka and the
//     ingester). Jaeger's share of the stream sent during the outage is measured and printed, not asserted.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sendSpanStream } from '../../scripts/lib/testing/otlp-stream.ts';
import { execIn } from '../support/compose-in.ts';
import { scaledStack, streamLine, untilDone } from '../support/scaled-stack.ts';
import { stack } from '../support/stack.ts';

const KILLED = 'opensearch-1';
const SURVIVOR = 'opensearch-2';

/** The cluster's health as a node answers it: its JSON through bash's /dev/tcp (the image has no curl). */
async function clusterHealth(service: string): Promise<ClusterHealth> {
  const r = await execIn(stack(), service, [
    'bash',
    '-c',
    'exec 3<>/dev/tcp/127.0.0.1/9200 && printf "GET /_cluster/health HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n" >&3 && cat <&3',
  ]);
  return JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as ClusterHealth;
}

interface ClusterHealth {
  status: string;
  number_of_nodes: number;
  active_shards_percent_as_number: number;
}

/** Green or not, by the image's probe (no body: for an image without bash). */
async function clusterGreen(service: string): Promise<boolean> {
  const url = 'http://localhost:9200/_cluster/health?wait_for_status=green&timeout=1s';
  return execIn(stack(), service, ['/healthcheck', url]).then(
    () => true,
    () => false,
  );
}

describe('scaled: an OpenSearch data node crashes', () => {
  it('keeps every span in the files and every span OpenSearch held; the cluster is green again', async () => {
    const s = scaledStack(stack());
    // Before: a stream that Jaeger (OpenSearch) holds whole, the snapshot that must survive the crash.
    const before = await sendSpanStream({
      otlpHttp: s.otlpHttp,
      session: `stream-${randomUUID()}`,
      requests: 20,
      spansPerRequest: 20,
      traces: 4,
    });
    await s.streamDelivered(before, { jaeger: true });
    let crash: Promise<{ pid: number; killedAt: number; backMs: number }> | undefined;
    const [session, during] = await Promise.all([
      s.session('opensearch-killed'),
      sendSpanStream({
        otlpHttp: s.otlpHttp,
        session: `stream-${randomUUID()}`,
        requests: 60,
        spansPerRequest: 20,
        traces: 8,
        pauseMs: 150,
        onAck: (n) => {
          if (n !== 10) return;
          crash = s.crash(KILLED, 600_000);
          crash.catch(() => {}); // awaited below
        },
      }),
    ]);
    expect(crash, 'the node was crashed mid-stream').toBeDefined();
    const back = await (crash as NonNullable<typeof crash>);
    expect(session.exitCode, session.output.slice(-1500)).toBe(0);
    // Green again, bounded by progress: the share of active shards grows while replicas recover.
    const green = await untilDone(
      'the OpenSearch cluster is not green again',
      async () => {
        const h = await clusterHealth(SURVIVOR).catch(async (err: Error) => {
          // No bash to read the health with: the probe says green or not, and time is the only bound.
          if (await clusterGreen(SURVIVOR))
            return { status: 'green', number_of_nodes: 0, active_shards_percent_as_number: 100 };
          throw err;
        });
        return {
          done: h.status === 'green' ? h : undefined,
          progress: h.active_shards_percent_as_number,
          seen: JSON.stringify(h),
        };
      },
      { stallMs: 180_000, maxMs: 600_000, intervalMs: 2000 },
    );
    // The files: every span of the stream.
    const f = await s.streamDelivered(during, { jaeger: false });
    expect(f.inFiles, 'distinct spans of the stream in the gateways files').toBe(f.sent);
    // What OpenSearch held before the crash: all of it, still.
    const kept = await s.streamInJaeger(before);
    const lostHeld = before.spanIds.filter((id) => !kept.has(id));
    expect(
      lostHeld.length,
      `spans OpenSearch held before the crash, gone after it (of ${before.spanIds.length})`,
    ).toBe(0);
    // What was in flight: measured. Jaeger's count settles once the collectors' retries and OpenSearch's refreshes
    // are done: read until two reads 10 s apart agree (bounded).
    let last = -1;
    const inJaeger = await untilDone(
      'Jaeger count of the stream sent during the crash never settled',
      async () => {
        const m = await s.streamInJaeger(during);
        const have = during.spanIds.filter((id) => m.has(id)).length;
        const settled = have === last || have === during.spanIds.length;
        last = have;
        return {
          done: settled ? have : undefined,
          progress: have,
          seen: `${have} of ${during.spanIds.length}`,
        };
      },
      { stallMs: 120_000, maxMs: 300_000, intervalMs: 10_000 },
    );
    const foreign = [...(await s.streamInJaeger(during)).keys()].filter((id) => !during.spanIds.includes(id));
    expect(foreign, 'spans in Jaeger that the stream never sent').toEqual([]);
    console.log(
      `${streamLine('opensearch-killed', during, { ...f, inJaeger })}; ${KILLED} (pid ${back.pid}) healthy after ` +
        `${back.backMs} ms; cluster green with ${green.number_of_nodes} nodes; in Jaeger ${inJaeger} of ` +
        `${during.spanIds.length} spans sent during the outage (${during.spanIds.length - inJaeger} lost between ` +
        `Jaeger's answer and OpenSearch); before the crash ${before.spanIds.length} held, all kept`,
    );
  });
});
