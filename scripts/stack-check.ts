#!/usr/bin/env node
// `pnpm stack:check [--session ID]`: did a session's telemetry reach every sink? Waits (bounded) until
// Prometheus, Jaeger and the telemetry files hold the session's data, prints what each holds, and exits 1
// naming the sink that does not. Default session: the latest record in the sessions folder (read through
// record-files.ts: records that break its rules, or start in the future, are passed over with a warning).
import { argv } from 'zx';
import { latestSessionRecord } from './lib/session/record-metadata.ts';
import { SESSION_ID } from './lib/session/session-record.ts';
import { describeSessionInSinks, waitForSessionInSinks } from './lib/sinks/session-sinks.ts';
import { hostUrls } from './lib/stack/host-urls.ts';
import { readLocalEnv } from './lib/stack/local-env.ts';

if (argv.help || argv.h) {
  console.log(`Usage: pnpm stack:check [--session ID] [--timeout MS]

Checks that the session's metrics are in Prometheus, its trace in Jaeger, its events in VictoriaLogs and its spans,
points and events in the telemetry files. Default: the latest session in SESSIONS_DIR; timeout 30000 ms.`);
  process.exit(0);
}
const local = readLocalEnv();
const sessionsDir = local.SESSIONS_DIR ?? 'sessions';

function latest(): string {
  const { record, problems } = latestSessionRecord(sessionsDir);
  for (const p of problems) console.error(`check: warning: ${p.file} ${p.why}`);
  return record.sessionId;
}

try {
  if (argv.session && !SESSION_ID.test(String(argv.session)))
    throw new Error(
      `--session takes a session id (a UUID), not ${JSON.stringify(String(argv.session).slice(0, 80))}`,
    );
  const session = argv.session ? String(argv.session) : latest();
  console.log(`check: session ${session}`);
  const found = await waitForSessionInSinks(
    session,
    {
      ...hostUrls(),
      telemetryDir: local.TELEMETRY_DIR ?? 'telemetry',
    },
    Number(argv.timeout ?? 30_000),
  );
  for (const [sink, what] of Object.entries(describeSessionInSinks(found)))
    console.log(`check: ${sink.padEnd(12)} ok    ${what}`);
} catch (err) {
  console.error(`check: FAIL  ${(err as Error).message}`);
  process.exit(1);
}
