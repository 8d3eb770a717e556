#!/usr/bin/env node
// `pnpm stack:setup`: the stack's local configuration: generated secrets (MCP token, Grafana admin password, the S3
// gateway's root keys) in stack/.env.local (0600, not committed), the telemetry and session directories (with the
// scaled topology's per-collector folders in them), and who owns them.
// Idempotent: existing secrets are kept.
import { argv } from 'zx';
import { envFiles } from './lib/stack/compose.ts';
import { hostIds, planLocalEnv, readLocalEnv, setupLocalEnv } from './lib/stack/local-env.ts';

if (argv.help || argv.h) {
  console.log(`Usage: pnpm stack:setup [--dry-run]

Writes stack/.env.local (generated secrets, directories, owner ids) and creates the directories, with the scaled
topology's own folders in them: TELEMETRY_DIR/gateway-N (each gateway collector's files) and QUEUE_DIR/agent-N,
QUEUE_DIR/gateway-N (each collector's queue). The topology itself is chosen by pnpm stack:up --scaled | --single.
Environment: TELEMETRY_DIR (default ./telemetry), SESSIONS_DIR (default ./sessions), QUEUE_DIR (default ./queue:
the collector's persistent sending queues, best on another disk than the telemetry files).`);
  process.exit(0);
}
if (argv['dry-run']) {
  const { values, generated } = planLocalEnv(readLocalEnv(), hostIds(), process.env);
  console.log(`setup: would write ${envFiles.local} with ${Object.keys(values).join(', ')}`);
  console.log(`setup: would generate ${generated.join(', ') || 'nothing (secrets exist)'}`);
  console.log(`setup: would create ${values.TELEMETRY_DIR}, ${values.SESSIONS_DIR} and ${values.QUEUE_DIR}`);
  process.exit(0);
}
for (const line of setupLocalEnv()) console.log(`setup: ${line}`);
