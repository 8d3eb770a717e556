#!/usr/bin/env node
// `pnpm stack:up | stack:down | stack:status | stack:logs`: the telemetry stack in one command.
//   up: setup (secrets, directories), images (built here if missing), every service healthy, then a demo
//       session; prints where to look.
import { existsSync } from 'node:fs';
import { $, argv } from 'zx';
import { buildImages, parseMode } from './lib/images/build-images.ts';
import { pruneSessionNetworks } from './lib/session/session-network.ts';
import { outcomeLine, sessionOutput } from './lib/session/session-output.ts';
import { RECORD_FILES } from './lib/session/session-record.ts';
import { runSession } from './lib/session/session-run.ts';
import { sessionEventsUrl } from './lib/sinks/session-links.ts';
import { vlUiUrl } from './lib/sinks/victorialogs.ts';
import { compose, envFiles } from './lib/stack/compose.ts';
import { readEnvFile } from './lib/stack/env-file.ts';
import { hostUrls } from './lib/stack/host-urls.ts';
import { readLocalEnv, setupLocalEnv } from './lib/stack/local-env.ts';

const HELP = `Usage: pnpm stack:up [--no-demo] [--no-grafana] [--build] [--json]
       pnpm stack:down [--volumes]
       pnpm stack:status
       pnpm stack:logs [SERVICE] [--follow]

  up       setup, images (built when missing; --build rebuilds what changed), all services healthy, a demo session
           (--no-demo skips it; --json prints its raw stream-json); Grafana too where its official image can be
           had (--no-grafana leaves it out)
  down     stop and remove the containers (--volumes also deletes Prometheus data, workspace and database volumes)
  status   the services and their health
  logs     the services' logs`;

const say = (line: string) => console.log(`stack: ${line}`);

async function up(): Promise<number> {
  for (const line of setupLocalEnv()) say(line);
  if (argv.build || !existsSync(envFiles.images)) {
    say('images: building what is missing (pnpm stack:images)');
    const r = await buildImages({ mode: parseMode(process.env.STACK_IMAGES ?? 'auto') });
    say(`images: ${r.mode} mode, ready in ${r.totalSeconds.toFixed(1)} s`);
  }
  const images = readEnvFile(envFiles.images);
  // Grafana is part of the stack wherever its official image can be had (it cannot be built here).
  const profiles: string[] = [];
  if (argv.grafana !== false) {
    const grafana = images.GRAFANA_IMAGE ?? '';
    const have = (await $({ nothrow: true, quiet: true })`docker image inspect ${grafana}`).exitCode === 0;
    if (have || images.STACK_IMAGES_MODE === 'online') profiles.push('--profile', 'grafana');
    else
      say(
        `Grafana left out: ${grafana} is not here and cannot be built offline; look at metrics in Prometheus's UI (below) and at a session's report.html (pnpm export)`,
      );
  }
  const started = Date.now();
  say('starting services and waiting until every one is healthy ...');
  const r = await compose([...profiles, 'up', '--detach', '--wait', '--wait-timeout', '180'], {
    nothrow: true,
  });
  if (r.exitCode !== 0) {
    say(
      'not every service became healthy within 180000 ms: `pnpm stack:status` and `pnpm stack:logs` say why',
    );
    return r.exitCode ?? 1;
  }
  say(`healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  let demo = 0;
  if (argv.demo !== false) {
    say('demo session: fixtures/sessions/demo.json against the scripted API');
    const output = sessionOutput(Boolean(argv.json));
    const out = await runSession({ script: 'demo', user: 'demo' }, { onData: output.onData });
    output.end();
    demo = out.exitCode;
    say(`demo session ${outcomeLine(out)}, record in ${out.dir}`);
    say(`its events, live: ${sessionEventsUrl(out.plan.sessionId)}`);
  }
  printWhere(profiles.length > 0);
  return demo;
}

function printWhere(grafana: boolean) {
  const local = readLocalEnv();
  const u = hostUrls();
  console.log(`
  Jaeger (traces)       ${u.jaeger}   API: /api/services, /api/traces?service=claude-code
  Prometheus (metrics)  ${u.prometheus}/query?g0.expr=${encodeURIComponent('sum by (type) (claude_code_token_usage_tokens_total)')}&g0.tab=table
  VictoriaLogs (events) ${vlUiUrl(u.victorialogs, '* | stats by (event.name) count()')}
  Grafana (dashboards)  ${grafana ? `${u.grafana}    user admin, password GRAFANA_ADMIN_PASSWORD in stack/.env.local` : 'not running (offline: no image)'}
  OTLP in               grpc ${u.otlpGrpc}, http ${u.otlpHttp.replace('http://', '')}
  Telemetry files       ${local.TELEMETRY_DIR}/{traces,metrics,logs}.jsonl (rotated)
  Sending queues        ${local.QUEUE_DIR} (what the backends have not taken yet)
  Session records       ${local.SESSIONS_DIR}/<session id>/{${RECORD_FILES.log},${RECORD_FILES.metadata}}
  More sessions         pnpm session --script demo | --prompt "..." | --interactive   [--user NAME]
  Export a session      pnpm export [--session ID]   (an archive with report.html; pnpm export list)`);
}

async function main(): Promise<number> {
  const verb = String(argv._[0] ?? '');
  if (argv.help || argv.h || !verb) {
    console.log(HELP);
    return verb ? 0 : 64;
  }
  switch (verb) {
    case 'up':
      return up();
    case 'down': {
      const code =
        (
          await compose(
            ['--profile', 'grafana', 'down', '--remove-orphans', ...(argv.volumes ? ['--volumes'] : [])],
            { nothrow: true },
          )
        ).exitCode ?? 1;
      // Networks of sessions whose runner was stopped before it removed them.
      const project = readLocalEnv().STACK_PROJECT ?? 'claude-code-telemetry';
      for (const name of await pruneSessionNetworks(project))
        say(`removed the left-over session network ${name}`);
      return code;
    }
    case 'status':
      return (await compose(['ps', '--all'], { nothrow: true })).exitCode ?? 1;
    case 'logs':
      return (
        (
          await compose(
            ['logs', ...(argv.follow || argv.f ? ['--follow'] : []), ...argv._.slice(1).map(String)],
            { nothrow: true },
          )
        ).exitCode ?? 1
      );
    default:
      console.error(`stack: unknown command ${verb}\n${HELP}`);
      return 64;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`stack: error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
