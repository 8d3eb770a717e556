// The log daemon's child (log-daemon.ts starts it, and again if it dies): parses each access line it is handed
// (access-line.ts; a line it cannot parse becomes an event saying so, with a bounded excerpt) and sends the events
// to the collector as claude_code_telemetry.egress logs, batched each second. A collector that is down is retried
// for about 15 s; after that the events are said lost on stderr, where their access lines are. Each line is
// confirmed to the daemon once its batch is sent (or given up), so a sender that dies first gets it again.
import { egressLogsRequest, type ParsedLine, parseAccessLine } from './access-line.ts';
import { excerpt } from './byte-lines.ts';
import type { SenderLine } from './log-daemon.ts';

const endpoint = process.env.EGRESS_OTLP_ENDPOINT ?? 'http://otel-collector:4318';
const say = (line: string) => process.stderr.write(`egress log sender: ${line}\n`);

async function send(batch: ParsedLine[], tries = 5): Promise<void> {
  for (let i = 1; i <= tries; i++) {
    try {
      const r = await fetch(`${endpoint}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(egressLogsRequest(batch)),
        signal: AbortSignal.timeout(5000),
      });
      if (r.ok) return;
      say(`the collector answered HTTP ${r.status} (try ${i} of ${tries})`);
    } catch (err) {
      say(`could not reach ${endpoint} (try ${i} of ${tries}): ${(err as Error).message}`);
    }
    if (i < tries) await new Promise((r) => setTimeout(r, 1000 * i));
  }
  say(`${batch.length} egress event(s) not delivered to the collector; their access lines are in this log`);
}

function run() {
  let pending: { seq: number; parsed: ParsedLine }[] = [];
  process.on('message', (m: unknown) => {
    if (!Array.isArray(m)) return;
    for (const item of m as SenderLine[]) {
      const parsed: ParsedLine = item.line.cut
        ? {
            ok: false,
            unparsed: {
              timeMs: Date.now(),
              error: `access line of ${item.line.bytes} bytes, cut`,
              excerpt: excerpt(item.line.text, 300),
            },
          }
        : parseAccessLine(item.line.text);
      pending.push({ seq: item.seq, parsed });
    }
  });
  setInterval(() => {
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    void send(batch.map((b) => b.parsed)).then(() => {
      if (process.connected) process.send?.({ acked: batch.map((b) => b.seq) });
    });
  }, 1000);
  // The daemon is gone (Squid closed it): nothing more will come.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 6000).unref());
}
run();
