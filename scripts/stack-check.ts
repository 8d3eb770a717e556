#!/usr/bin/env node
// `pnpm stack:check [--session ID]`: did a session's telemetry reach every sink? Waits (bounded) until
// Prometheus, Jaeger and the telemetry files hold the session's data, prints what each holds, and exits 1
// naming the sink that does not. Then puts the model usage the session gateway observed beside what Claude Code
// reported (export/analysis/usage.ts) on one line, and warns when they differ (exit 0: a difference is the session's word
// against the gateway's, not a broken sink). Default session: the latest record in the sessions folder (read
// through record-files.ts: records that break its rules, or start in the future, are passed over with a warning).
import { argv } from 'zx';
import { sessionUsage, type UsageComparison, usageLine } from './lib/export/analysis/usage.ts';
import { latestSessionRecord } from './lib/session/record-metadata.ts';
import { SESSION_ID } from './lib/session/session-record.ts';
import { describeSessionInSinks, sessionEvents, waitForSessionInSinks } from './lib/sinks/session-sinks.ts';
import { hostUrls } from './lib/stack/host-urls.ts';
import { readLocalEnv } from './lib/stack/local-env.ts';
import { waitFor } from './lib/wait-for.ts';

if (argv.help || argv.h) {
  console.log(`Usage: pnpm stack:check [--session ID] [--timeout MS]

Checks that the session's metrics are in Prometheus, its trace in Jaeger, its events in VictoriaLogs and its spans,
points and events in the telemetry files; then prints the session gateway's observed usage beside Claude Code's
reported usage, with a warning (exit status 0) when they differ. Default: the latest session in SESSIONS_DIR;
timeout 30000 ms.`);
  process.exit(0);
}
const local = readLocalEnv();
const sessionsDir = local.SESSIONS_DIR ?? 'sessions';

function latest(): string {
  const { record, problems } = latestSessionRecord(sessionsDir);
  for (const p of problems) console.error(`check: warning: ${p.file} ${p.why}`);
  return record.sessionId;
}

/**
 * The session's usage, observed and reported, once the gateway's events (sent in batches, a second apart) cover
 * Claude Code's model calls, or as they stand after a bounded wait.
 */
async function usageOf(session: string, telemetryDir: string, timeoutMs: number): Promise<UsageComparison> {
  let last: UsageComparison | undefined;
  try {
    return await waitFor(
      `the session gateway's events of session ${session} covering Claude Code's model calls`,
      async () => {
        last = sessionUsage(session, await sessionEvents(telemetryDir, session));
        return last.observed.modelCalls >= last.reported.modelCalls ? last : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    );
  } catch {
    return last ?? sessionUsage(session, await sessionEvents(telemetryDir, session));
  }
}

try {
  if (argv.session && !SESSION_ID.test(String(argv.session)))
    throw new Error(
      `--session takes a session id (a UUID), not ${JSON.stringify(String(argv.session).slice(0, 80))}`,
    );
  const session = argv.session ? String(argv.session) : latest();
  console.log(`check: session ${session}`);
  const telemetryDir = local.TELEMETRY_DIR ?? 'telemetry';
  const timeoutMs = Number(argv.timeout ?? 30_000);
  const found = await waitForSessionInSinks(session, { ...hostUrls(), telemetryDir }, timeoutMs);
  for (const [sink, what] of Object.entries(describeSessionInSinks(found)))
    console.log(`check: ${sink.padEnd(12)} ok    ${what}`);
  const usage = await usageOf(session, telemetryDir, Math.min(timeoutMs, 10_000));
  console.log(`check: ${'usage'.padEnd(12)} ${usage.equal ? 'ok  ' : 'WARN'}  ${usageLine(usage)}`);
  for (const note of usage.notes) console.log(`check: ${'usage'.padEnd(12)} note  ${note}`);
} catch (err) {
  console.error(`check: FAIL  ${(err as Error).message}`);
  process.exit(1);
}
