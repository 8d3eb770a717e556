#!/usr/bin/env node
// anthropic-replay: the scripted Messages API. Options from argv or the environment.
import { parseArgs } from 'node:util';
import { createReplayServer } from './server.ts';
import { watchSessionScripts } from './session-script.ts';

const { values } = parseArgs({
  options: {
    scripts: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'default-script': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`Usage: anthropic-replay [--scripts DIR] [--host ADDR] [--port N] [--default-script NAME]
Environment: REPLAY_SCRIPTS_DIR, REPLAY_HOST, REPLAY_PORT, REPLAY_DEFAULT_SCRIPT
Plays fixtures/sessions/*.json to Claude Code: ANTHROPIC_BASE_URL=http://HOST:PORT/scripts/NAME\n`);
  process.exit(0);
}
const dir = values.scripts ?? process.env.REPLAY_SCRIPTS_DIR ?? 'fixtures/sessions';
const port = Number(values.port ?? process.env.REPLAY_PORT ?? 8080);
// Scripts are read again whenever the folder changes: a script saved while the stack runs plays at once.
const loaded = watchSessionScripts(dir);
for (const [name, why] of loaded().invalid)
  process.stderr.write(`anthropic-replay: refusing script ${name}: ${why}\n`);
const replay = createReplayServer({
  loaded,
  defaultScript: values['default-script'] ?? process.env.REPLAY_DEFAULT_SCRIPT,
  host: values.host ?? process.env.REPLAY_HOST ?? '127.0.0.1',
  port,
});
const url = await replay.listen();
process.stderr.write(`anthropic-replay: serving ${loaded().scripts.size} script(s) from ${dir} at ${url}\n`);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => void replay.close().then(() => process.exit(0)));
