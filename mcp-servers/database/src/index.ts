#!/usr/bin/env node
// mcp-database: argv and environment, then the transport. Tools: server.ts; rules: sql-rules.ts.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MAX_RESPONSE_BYTES, MAX_RESPONSE_ENV } from '@claude-code-telemetry/mcp-common/instrument';
import {
  COMMON_HELP,
  log,
  parseCommonArgs,
  positiveIntEnv,
  runMain,
  serve,
} from '@claude-code-telemetry/mcp-common/server-cli';
import { DEFAULT_TOOL_TIMEOUT_MS, TOOL_TIMEOUT_ENV } from '@claude-code-telemetry/mcp-common/time-budget';
import { DEFAULT_MAX_DATABASE_BYTES, hideDatabasePath, openDatabase } from './db.ts';
import { QueryRunner } from './query-runner.ts';
import { createDatabaseServer, NAME, VERSION } from './server.ts';
import { DEFAULT_MAX_WORKER_RSS_BYTES } from './worker-memory.ts';

const HELP = `Usage: mcp-database [--db FILE] [transport options]

SQLite over MCP: list_tables, describe_table, query (read-only, enforced by SQLite), and execute when enabled.
  --db FILE                  database file (default DATABASE_FILE or ./data.sqlite); created with demo rows when new
Environment:
  DATABASE_ALLOW_WRITES=1    register the write tool (off by default)
  DATABASE_MAX_ROWS          row limit of a query (default 500)
  DATABASE_MAX_RESULT_BYTES  byte limit of a query's rows as JSON (default 1048576; the response carries them twice)
  DATABASE_QUERY_TIMEOUT_MS  time limit of a statement, from the start of its execution (default 5000)
  DATABASE_QUERY_WORKERS     worker processes running queries, one query each at a time (default 4)
  DATABASE_QUERY_WORKERS_MAX more when all are busy (default 8); the last is kept for quick queries
  DATABASE_WORKER_MAX_RSS_BYTES  a worker whose memory passes this while it runs a statement is killed
                             (default ${DEFAULT_MAX_WORKER_RSS_BYTES}; Linux)
  DATABASE_MAX_BYTES         size limit of the database file for writes (default ${DEFAULT_MAX_DATABASE_BYTES})
  ${MAX_RESPONSE_ENV}     largest tool result, as JSON (default ${DEFAULT_MAX_RESPONSE_BYTES})
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
  // Every setting is read before anything starts: a bad value stops the server here, naming the variable.
  const timeoutMs = positiveIntEnv('DATABASE_QUERY_TIMEOUT_MS', 5000);
  const allowWrites = process.env.DATABASE_ALLOW_WRITES === '1';
  const maxWorkerRssBytes = positiveIntEnv('DATABASE_WORKER_MAX_RSS_BYTES', DEFAULT_MAX_WORKER_RSS_BYTES);
  const workers = positiveIntEnv('DATABASE_QUERY_WORKERS', 4);
  const maxWorkers = positiveIntEnv('DATABASE_QUERY_WORKERS_MAX', 8);
  const maxDatabaseBytes = positiveIntEnv('DATABASE_MAX_BYTES', DEFAULT_MAX_DATABASE_BYTES);
  const limits = {
    maxRows: positiveIntEnv('DATABASE_MAX_ROWS', 500),
    maxResultBytes: positiveIntEnv('DATABASE_MAX_RESULT_BYTES', 1024 * 1024),
    toolTimeoutMs: positiveIntEnv(TOOL_TIMEOUT_ENV, DEFAULT_TOOL_TIMEOUT_MS),
    maxResponseBytes: positiveIntEnv(MAX_RESPONSE_ENV, DEFAULT_MAX_RESPONSE_BYTES),
  };
  const path = resolve(file);
  const { db, created } = openDatabase(path);
  const say = log(NAME);
  const svc = {
    db,
    runner: new QueryRunner({ file: path, timeoutMs, workers, maxWorkers, maxWorkerRssBytes, log: say }),
    writer: allowWrites
      ? new QueryRunner({
          file: path,
          mode: 'write',
          timeoutMs,
          workers: 1,
          maxWorkerRssBytes,
          maxDatabaseBytes,
          log: say,
        })
      : undefined,
    ...limits,
    redact: hideDatabasePath(path, realpathSync(path)),
  };
  say(
    `database ${path}${created ? ' (created with demo tables)' : ''}; writes ${allowWrites ? 'ENABLED' : 'disabled'}`,
  );
  process.once('exit', () => {
    svc.runner.close();
    svc.writer?.close();
  });
  await serve({
    name: NAME,
    version: VERSION,
    common,
    createMcpServer: (ctx, telemetry, metrics) => createDatabaseServer(svc, telemetry, metrics, ctx),
  });
}

runMain(NAME, main);
