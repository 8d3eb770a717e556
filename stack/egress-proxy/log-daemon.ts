// Squid's logfile daemon (squid.conf: logfile_daemon, access_log daemon:...): Squid writes commands on stdin, one
// per line: `L<line>` to log a line, `R` rotate, `T` truncate, `O` reopen, `F` flush, `r<n>`/`b<n>` settings. Each
// logged line goes to stderr (the container's log, rotated by the engine; no file grows in the read-only
// container's small /tmp) and, as a claude_code_telemetry.egress event, to the collector (batched each second), so
// every attempt of a session reaches the sinks and its archive. A collector that is down is retried for about 15 s;
// after that the events are said lost on stderr, where their lines are.
import { createInterface } from 'node:readline';
import { type EgressAttempt, egressLogsRequest, parseAccessLine } from './access-line.ts';

const endpoint = process.env.EGRESS_OTLP_ENDPOINT ?? 'http://otel-collector:4318';
const say = (line: string) => process.stderr.write(`egress log daemon: ${line}\n`);

let pending: EgressAttempt[] = [];
async function send(batch: EgressAttempt[], tries = 5): Promise<void> {
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
    await new Promise((r) => setTimeout(r, 1000 * i));
  }
  say(
    `${batch.length} egress event(s) not delivered to the collector; their access lines are above in this log`,
  );
}
setInterval(() => {
  if (!pending.length) return;
  const batch = pending;
  pending = [];
  void send(batch);
}, 1000);

const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
lines.on('line', (raw) => {
  const cmd = raw[0];
  const data = raw.slice(1);
  if (cmd !== 'L') return; // R, T, O, F, r, b: file commands, and there is no file
  process.stderr.write(`access: ${data}\n`);
  const attempt = parseAccessLine(data);
  if (attempt) pending.push(attempt);
});
lines.on('close', () => {
  const batch = pending;
  pending = [];
  if (!batch.length) process.exit(0);
  void send(batch, 1).then(() => process.exit(0));
});
