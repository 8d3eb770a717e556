#!/usr/bin/env node
// `pnpm stack:up | stack:down | stack:status | stack:logs`: the telemetry stack in one command.
//   up: setup (secrets, directories), images (built here if missing), every service healthy, then a demo
//       session; prints where to look. --scaled / --single choose the topology (lib/stack/topology.ts), kept in
//       stack/.env.local for every later command.
//   down, status, logs: whichever topology the local stack runs.
import { existsSync } from 'node:fs';
import { $, argv } from 'zx';
import { buildImages, parseMode } from './lib/images/build-images.ts';
import { pruneSessionNetworks } from './lib/session/session-network.ts';
import { outcomeLine, sessionOutput } from './lib/session/session-output.ts';
import { RECORD_FILES } from './lib/session/session-record.ts';
import { runSession } from './lib/session/session-run.ts';
import { sessionEventsUrl } from './lib/sinks/session-links.ts';
import { vlUiUrl } from './lib/sinks/victorialogs.ts';
import { compose, envFiles, localStackTopology } from './lib/stack/compose.ts';
import { readEnvFile } from './lib/stack/env-file.ts';
import { hostUrls } from './lib/stack/host-urls.ts';
import { readLocalEnv, setupLocalEnv, writeLocalTopology } from './lib/stack/local-env.ts';
import { chosenTopology, type Topology } from './lib/stack/topology.ts';

const HELP = `Usage: pnpm stack:up [--scaled | --single] [--no-demo] [--no-grafana] [--build] [--json]
       pnpm stack:down [--volumes]
       pnpm stack:status
       pnpm stack:logs [SERVICE] [--follow]

  up       setup, images (built when missing; --build rebuilds what changed), all services healthy, a demo session
           (--no-demo skips it; --json prints its raw stream-json); Grafana too where its official image can be
           had (--no-grafana leaves it out). --scaled: the scaled topology (stack/compose.scaled.yaml: agent and
           gateway collectors, OpenSearch, a VictoriaLogs cluster, an S3 gateway); --single: one host's. Without
           either, the one stack/.env.local names (STACK_TOPOLOGY), else single; the choice is kept there.
  down     stop and remove the containers, whichever topology runs (--volumes also deletes the stores' data,
           workspace and database volumes)
  status   the services and their health
  logs     the services' logs`;

const say = (line: string) => console.log(`stack: ${line}`);

/** How long `up` waits for every service to be healthy: the scaled topology starts five JVMs on two cores. */
const UP_WAIT_SECONDS: Record<Topology, number> = { single: 180, scaled: 600 };

async function up(): Promise<number> {
  const topology = chosenTopology({ scaled: argv.scaled, single: argv.single }, readLocalEnv());
  for (const line of setupLocalEnv()) say(line);
  writeLocalTopology(topology);
  say(
    `topology: ${topology}${topology === 'scaled' ? ' (stack/compose.scaled.yaml over stack/compose.yaml)' : ''}`,
  );
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
  const wait = UP_WAIT_SECONDS[topology];
  say('starting services and waiting until every one is healthy ...');
  // --remove-orphans: the other topology's services, when the stack changes from one to the other.
  const r = await compose(
    [...profiles, 'up', '--detach', '--remove-orphans', '--wait', '--wait-timeout', String(wait)],
    { nothrow: true, topology },
  );
  if (r.exitCode !== 0) {
    say(
      `not every service became healthy within ${wait * 1000} ms: \`pnpm stack:status\` and \`pnpm stack:logs\` say why`,
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
  printWhere(profiles.length > 0, topology);
  return demo;
}

function printWhere(grafana: boolean, topology: Topology) {
  const local = readLocalEnv();
  const u = hostUrls();
  const files =
    topology === 'scaled'
      ? `${local.TELEMETRY_DIR}/gateway-N/{traces,metrics,logs}.jsonl (one set per gateway collector, rotated)`
      : `${local.TELEMETRY_DIR}/{traces,metrics,logs}.jsonl (rotated)`;
  console.log(`
  Jaeger (traces)       ${u.jaeger}   API: /api/services, /api/traces?service=claude-code
  Prometheus (metrics)  ${u.prometheus}/query?g0.expr=${encodeURIComponent('sum by (type) (claude_code_token_usage_tokens_total)')}&g0.tab=table
  VictoriaLogs (events) ${vlUiUrl(u.victorialogs, '* | stats by (event.name) count()')}
  Grafana (dashboards)  ${grafana ? `${u.grafana}    user admin, password GRAFANA_ADMIN_PASSWORD in stack/.env.local` : 'not running (offline: no image)'}
  OTLP in               grpc ${u.otlpGrpc}, http ${u.otlpHttp.replace('http://', '')}
  Telemetry files       ${files}
  Sending queues        ${local.QUEUE_DIR} (what the backends have not taken yet)
  Session records       ${local.SESSIONS_DIR}/<session id>/{${RECORD_FILES.log},${RECORD_FILES.metadata}}
  More sessions         pnpm session --script demo | --prompt "..." | --interactive   [--user NAME]
  Export a session      pnpm export [--session ID]   (an archive with report.html; pnpm export list)${
    topology === 'scaled'
      ? `
  S3 gateway (archives) http://127.0.0.1:${process.env.S3_GATEWAY_PORT ?? '7070'}   keys S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY in stack/.env.local`
      : ''
  }`);
}

/** Removes the volumes compose made for the project that are left (none once `down --volumes` took them all). */
async function removeProjectVolumes(project: string): Promise<string[]> {
  const ls = await $({
    quiet: true,
    nothrow: true,
  })`docker volume ls -q --filter ${`label=com.docker.compose.project=${project}`}`;
  if (ls.exitCode !== 0) throw new Error(`docker volume ls failed: ${ls.stderr.trim()}`);
  const removed: string[] = [];
  for (const name of ls.stdout.split('\n').filter(Boolean)) {
    const rm = await $({ quiet: true, nothrow: true })`docker volume rm ${name}`;
    if (rm.exitCode !== 0) throw new Error(`docker volume rm ${name} failed: ${rm.stderr.trim()}`);
    removed.push(name);
  }
  return removed;
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
      // The local topology's files, and --remove-orphans for the containers of the other one (a stack changed from
      // one topology to the other); --profile resize takes a resized scaled stack's third gateway too.
      const code =
        (
          await compose(
            [
              '--profile',
              'grafana',
              '--profile',
              'resize',
              'down',
              '--remove-orphans',
              ...(argv.volumes ? ['--volumes'] : []),
            ],
            { nothrow: true },
          )
        ).exitCode ?? 1;
      const project = readLocalEnv().STACK_PROJECT ?? 'claude-code-telemetry';
      // The other topology's volumes, which the local topology's files do not name.
      if (argv.volumes)
        for (const name of await removeProjectVolumes(project)) say(`removed the volume ${name}`);
      // Networks of sessions whose runner was stopped before it removed them.
      for (const name of await pruneSessionNetworks(project))
        say(`removed the left-over session network ${name}`);
      return code;
    }
    case 'status':
      say(`topology: ${localStackTopology()}`);
      return (await compose(['--profile', 'resize', 'ps', '--all'], { nothrow: true })).exitCode ?? 1;
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
