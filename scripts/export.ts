#!/usr/bin/env node
// `pnpm export`: session archives (.tar.gz) with the session's telemetry from the files, its traces from Jaeger,
// its metrics from Prometheus, its logs, a summary, a visual report and a manifest with every checksum; and their
// upload to S3.
//   pnpm export [--session ID ... | --all | --user NAME | --project NAME] [--since DURATION] [--out DIR]
//               [--to s3://BUCKET/PREFIX]
//   pnpm export list [--from s3://BUCKET/PREFIX]
//   pnpm export verify ARCHIVE | s3://BUCKET/KEY
// The command is in lib/export/export-cli.ts, imported after turning Node's compile cache on: it keeps the
// TypeScript-stripped, compiled modules between runs (start 0.2 s -> 0.06 s; this command is measured against
// `cat` by `pnpm bench export`). Cache: Node's default, in the system's temporary folder.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./lib/export/export-cli.ts');
