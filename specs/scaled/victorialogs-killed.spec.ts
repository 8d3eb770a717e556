// Recipe (scaled topology): a VictoriaLogs storage node crashes while events flow. victorialogs-storage-1 is killed
// (SIGKILL by its PID); Docker's restart policy brings it back. The front shards events by stream (session.id among
// the stream fields, so sessions spread over both nodes) and does not replicate.
// The guarantees, as they are:
//   - events sent after the crash are kept: the front sends a stream whose node is down to the live node, and what
//     it could not place it refuses, so the gateway retries it (the record of a request first sent after the kill
//     cannot be in the dead process);
//   - events in the killed node's in-memory window (taken, not yet flushed to disk: up to about a second,
//     -inmemoryDataFlushInterval) may be lost: measured and printed, not asserted;
//   - a query while the node is down is either whole or an error naming VictoriaLogs, never silently partial: an
//     answer with fewer events than VictoriaLogs holds once the node is back would be a silent gap.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sessionRecords } from '../../scripts/lib/sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../../scripts/lib/sinks/victorialogs.ts';
import { type LogStreamResult, sendLogStream } from '../../scripts/lib/testing/otlp-stream.ts';
import { scaledStack, untilDone } from '../support/scaled-stack.ts';
import { stack } from '../support/stack.ts';

const KILLED = 'victorialogs-storage-1';

describe('scaled: a VictoriaLogs storage node crashes', () => {
  it('keeps events sent after the crash; a query meanwhile is whole or an error, never partial', async () => {
    const s = scaledStack(stack());
    const url = async () => (await s.sinks()).victorialogs;
    /** The distinct probe ids of a run that VictoriaLogs answers now. */
    const idsOf = async (run: string) =>
      new Set(
        (
          await vlQuery(await url(), `probe.run:=${JSON.stringify(run)} | fields probe.id`, {
            limit: 100_000,
            timeoutMs: 15_000,
          })
        ).map((e) => e['probe.id']),
      );
    /** Waits (bounded by progress) until VictoriaLogs holds every record of a stream. */
    const allHeld = (stream: LogStreamResult) =>
      untilDone(
        `VictoriaLogs does not hold all ${stream.records.length} events of run ${stream.run}`,
        async () => {
          const ids = await idsOf(stream.run);
          const have = stream.records.filter((r) => ids.has(r.id)).length;
          return {
            done: have === stream.records.length ? ids : undefined,
            progress: have,
            seen: `${have} of ${stream.records.length}`,
          };
        },
        { stallMs: 90_000, maxMs: 300_000, intervalMs: 1000 },
      );
    // The reference: events over 20 sessions (both nodes), all held before the crash.
    const reference = await sendLogStream({
      otlpHttp: s.otlpHttp,
      run: `vl-ref-${randomBytes(4).toString('hex')}`,
      sessions: 20,
      requests: 20,
      recordsPerRequest: 20,
    });
    await allHeld(reference);

    // Queries of the reference while the node is down (and around it), one after another (the node is back
    // within seconds): when each was asked, and its answer's size or its error.
    const answers: { at: number; got: number | string }[] = [];
    let querying = true;
    const queries = (async () => {
      while (querying) {
        const at = Date.now();
        const got = await idsOf(reference.run).then(
          (ids) => ids.size,
          (err: Error) => err.message,
        );
        answers.push({ at, got });
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - at))));
      }
    })();

    let crash: Promise<{ pid: number; killedAt: number; backMs: number }> | undefined;
    let stream: LogStreamResult;
    // A session too, while it happens: it must end well; what VictoriaLogs holds of it is printed.
    const session = s.session('victorialogs-killed');
    session.catch(() => {}); // awaited below
    try {
      stream = await sendLogStream({
        otlpHttp: s.otlpHttp,
        run: `vl-crash-${randomBytes(4).toString('hex')}`,
        sessions: 20,
        requests: 60,
        recordsPerRequest: 20,
        pauseMs: 100,
        onAck: (n) => {
          if (n !== 15) return;
          crash = s.crash(KILLED);
          crash.catch(() => {}); // awaited below
        },
      });
      expect(crash, 'the node was crashed mid-stream').toBeDefined();
    } finally {
      await crash?.catch(() => {});
      querying = false;
      await queries;
    }
    const { killedAt, backMs, pid } = await (crash as NonNullable<typeof crash>);
    const run = await session;
    expect(run.exitCode, run.output.slice(-1500)).toBe(0);

    // After the crash: every event, once the gateways' retries are through.
    const after = stream.records.filter((r) => r.firstTry >= killedAt);
    const afterStream = { ...stream, records: after };
    expect(after.length, 'events sent after the crash').toBeGreaterThan(100);
    await allHeld(afterStream);
    // Before it: measured (the killed node's in-memory window). Read until two reads agree (the retries settle).
    const beforeCrash = stream.records.filter((r) => r.firstTry < killedAt);
    let last = -1;
    const keptBefore = await untilDone(
      'the count of events sent before the crash never settled',
      async () => {
        const ids = await idsOf(stream.run);
        const have = beforeCrash.filter((r) => ids.has(r.id)).length;
        const settled = have === last || have === beforeCrash.length;
        last = have;
        return { done: settled ? have : undefined, progress: have, seen: `${have} of ${beforeCrash.length}` };
      },
      { stallMs: 60_000, maxMs: 180_000, intervalMs: 5000 },
    );

    // Queries: whole or an error naming VictoriaLogs; "whole" is what it holds of the reference now.
    const held = (await idsOf(reference.run)).size;
    const errors = answers.map((a) => a.got).filter((a): a is string => typeof a === 'string');
    const partial = answers.filter((a) => typeof a.got === 'number' && a.got < held);
    const away = answers.filter((a) => a.at >= killedAt && a.at <= killedAt + backMs);
    for (const e of errors) expect(e).toMatch(/VictoriaLogs/);
    expect(partial, `answers with fewer than the ${held} reference events VictoriaLogs holds`).toEqual([]);
    const sessionEvents = await untilDone(
      `session ${run.id}'s events never settled in VictoriaLogs`,
      async () => {
        const [inFiles, inVl] = await Promise.all([
          sessionRecords(stack().telemetryDir, 'logs', run.id),
          vlQuery(await url(), sessionFilter(run.id), { timeoutMs: 15_000 }),
        ]);
        return {
          done:
            inFiles.length > 0 && inVl.length >= inFiles.length
              ? `${inVl.length} of ${inFiles.length}`
              : undefined,
          progress: inVl.length,
          seen: `${inVl.length} of ${inFiles.length}`,
        };
      },
      { stallMs: 60_000, maxMs: 180_000 },
    ).catch((err: Error) => `not all (${err.message.slice(0, 200)})`);
    console.log(
      `victorialogs-killed: session ${run.id}: events in VictoriaLogs ${sessionEvents} of the files'`,
    );
    console.log(
      `victorialogs-killed: ${KILLED} (pid ${pid}) healthy again after ${backMs} ms; events sent after the crash ` +
        `${after.length}, all kept; sent before it ${beforeCrash.length}, kept ${keptBefore} ` +
        `(${beforeCrash.length - keptBefore} lost in its in-memory window); reference ${held} of ` +
        `${reference.records.length} held after; ${answers.length} queries meanwhile (${away.length} while it was away): ` +
        `${answers.length - errors.length} whole, ${errors.length} errors${errors[0] ? ` (e.g. ${errors[0].slice(0, 160)})` : ''}; ` +
        `stream resent ${stream.retriedRequests} request(s), failed attempts ${JSON.stringify(stream.failures)}`,
    );
  });
});
