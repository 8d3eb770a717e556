#!/usr/bin/env node
// mcp-database: argv and environment, then the transport. Tools: server.ts; rules: sql-rules.ts.
import { resolve } from 'node:path';
import {
  COMMON_HELP,
  log,
  parseCommonArgs,
  positiveIntEnv,
  runMain,
  serve,
} from '@claude-code-telemetry/mcp-common/server-cli';
import { openDatabase } from './db.ts';
import { QueryRunner } from './query-runner.ts';
import { createDatabaseServer, NAME, VERSION } from './server.ts';

const HELP = `Usage: mcp-database [--db FILE] [transport options]

SQLite over MCP: list_tables, describe_table, query (read-only, enforced by SQLite), and execute when enabled.
  --db FILE                  database file (default DATABASE_FILE or ./data.sqlite); created with demo rows when new
Environment:
  DATABASE_ALLOW_WRITES=1    register the write tool (off by default)
  DATABASE_MAX_ROWS          row limit of a query (default 500)
  DATABASE_QUERY_TIMEOUT_MS  time limit of a query (default 5000)
${COMMON_HELP}`;

async function main() {
  const { common, rest, help } = parseCommonArgs(process.argv.slice(2));
  if (help) {
    process.stderr.write(`${HELP}\n`);
    return;
  }
  let file = process.env.DATABASE_FILE ?? 'data.sqlite';
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--db' && rest[i + 1]) file = rest[++i] as string;
    else if (rest[i]?.startsWith('--db=')) file = (rest[i] as string).slice(5);
    else throw new Error(`unknown argument ${rest[i]} (see --help)`);
  }
  const path = resolve(file);
  const { db, created } = openDatabase(path);
  const svc = {
    db,
    runner: new QueryRunner(path, positiveIntEnv('DATABASE_QUERY_TIMEOUT_MS', 5000)),
    allowWrites: process.env.DATABASE_ALLOW_WRITES === '1',
    maxRows: positiveIntEnv('DATABASE_MAX_ROWS', 500),
  };
  const say = log(NAME);
  say(
    `database ${path}${created ? ' (created with demo tables)' : ''}; writes ${svc.allowWrites ? 'ENABLED' : 'disabled'}`,
  );
  process.once('exit', () => svc.runner.close());
  await serve({
    name: NAME,
    version: VERSION,
    common,
    createMcpServer: (ctx, telemetry, metrics) => createDatabaseServer(svc, telemetry, metrics, ctx),
  });
}

runMain(NAME, main);
