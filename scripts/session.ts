#!/usr/bin/env node
// `pnpm session`: one Claude Code session in the running stack. Scripted (fixtures/sessions) by default; with a
// real ANTHROPIC_API_KEY in the environment, --prompt and --interactive sessions go to Anthropic instead.
import { argv } from 'zx';
import { PROJECT_NAME_RULE } from './lib/session/session-credential.ts';
import { outcomeLine, sessionOutput } from './lib/session/session-output.ts';
import { OTLP_PROTOCOLS } from './lib/session/session-record.ts';
import { runSession } from './lib/session/session-run.ts';
import { sessionEventsUrl } from './lib/sinks/session-links.ts';

const HELP = `Usage: pnpm session [--script NAME | --prompt TEXT | --interactive] [--user NAME] [--model M] [--session-id UUID]
                    [--project NAME] [--branch B] [--otlp-protocol ${OTLP_PROTOCOLS.join('|')}] [--json]

  --script NAME     play fixtures/sessions/NAME.json against the scripted API (default: demo)
  --prompt TEXT     a headless session with this prompt (Anthropic's API when ANTHROPIC_API_KEY is set)
  --interactive     attach this terminal to Claude Code in the container; the terminal is recorded with timing
  --user NAME       label every metric, event and span of the session with user.name=NAME
  --project NAME    label every signal project=NAME; default: the workspace's git remote origin
                    (owner/repo), read from its .git, never by running git.
                    NAME: ${PROJECT_NAME_RULE}
  --branch B        label every signal git.branch=B; default: the workspace's HEAD branch
                    (both are signed into the session's credential: what the session sends itself is overwritten)
  --no-telemetry    run with telemetry off (nothing may reach the sinks)
  --otlp-protocol P how Claude Code exports: ${OTLP_PROTOCOLS.join(', ')} (default http/protobuf; the port follows)
  --json            print Claude Code's raw stream-json instead of the session rendered for reading
The session's log and metadata land in sessions/<session id>/ (SESSIONS_DIR).`;

if (argv.help || argv.h) {
  console.log(HELP);
  process.exit(0);
}
const output = sessionOutput(Boolean(argv.json));
try {
  const out = await runSession(
    {
      script: argv.script ? String(argv.script) : undefined,
      prompt: argv.prompt ? String(argv.prompt) : undefined,
      interactive: Boolean(argv.interactive),
      user: argv.user ? String(argv.user) : undefined,
      model: argv.model ? String(argv.model) : undefined,
      sessionId: argv['session-id'] ? String(argv['session-id']) : undefined,
      noTelemetry: argv.telemetry === false,
      otlpProtocol: argv['otlp-protocol'] === undefined ? undefined : String(argv['otlp-protocol']),
      project: argv.project === undefined ? undefined : String(argv.project),
      branch: argv.branch === undefined ? undefined : String(argv.branch),
    },
    { onData: output.onData },
  );
  output.end();
  const m = out.metadata;
  console.log(`session: ${outcomeLine(out)}`);
  console.log(`session: log and metadata in ${out.dir}`);
  if (m?.telemetry.enabled)
    console.log(`session: its events in VictoriaLogs: ${sessionEventsUrl(out.plan.sessionId)}`);
  process.exit(out.exitCode);
} catch (err) {
  console.error(`session: error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
