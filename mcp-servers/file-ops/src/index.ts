#!/usr/bin/env node
import { MAX_RESPONSE_ENV } from '@claude-code-telemetry/mcp-common/instrument';
// mcp-file-ops: argv and environment, then the transport. Tools: server.ts; logic: lib.ts; sandbox: path-rules.ts.
import {
  COMMON_HELP,
  log,
  parseCommonArgs,
  positiveIntEnv,
  runMain,
  serve,
} from '@claude-code-telemetry/mcp-common/server-cli';
import { TOOL_TIMEOUT_ENV } from '@claude-code-telemetry/mcp-common/time-budget';
import { DEFAULT_LIMITS } from './lib.ts';
import { createSandbox, userSandbox } from './path-rules.ts';
import { requireProcFd } from './sandbox-fd.ts';
import { createFileOpsServer, NAME, VERSION } from './server.ts';

const HELP = `Usage: mcp-file-ops [--root DIR ...] [transport options]

File operations confined to the root folders (default: FILE_OPS_ROOTS, comma-separated, or the current folder).
  --root DIR         an allowed root (repeatable); relative paths start at the first, \`[root N]/x\` is x in root N
Environment: FILE_OPS_MAX_READ_BYTES, FILE_OPS_MAX_WRITE_BYTES (default ${DEFAULT_LIMITS.maxReadBytes}),
  FILE_OPS_MAX_LIST_ENTRIES (default ${DEFAULT_LIMITS.maxListEntries}),
  ${MAX_RESPONSE_ENV} (largest tool result, as JSON; default ${DEFAULT_LIMITS.maxResponseBytes})
${COMMON_HELP}`;

async function main() {
  const { common, rest, help } = parseCommonArgs(process.argv.slice(2));
  if (help) {
    process.stderr.write(`${HELP}\n`);
    return;
  }
  // Every file operation is bound to its sandbox through /proc/self/fd (sandbox-fd.ts): without it, no start.
  requireProcFd();
  const roots: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--root' && rest[i + 1]) roots.push(rest[++i] as string);
    else if (rest[i]?.startsWith('--root=')) roots.push((rest[i] as string).slice(7));
    else throw new Error(`unknown argument ${rest[i]} (see --help)`);
  }
  if (roots.length === 0)
    roots.push(...(process.env.FILE_OPS_ROOTS?.split(',').filter(Boolean) ?? [process.cwd()]));
  const ops = {
    sandbox: await createSandbox(roots),
    limits: {
      ...DEFAULT_LIMITS,
      maxReadBytes: positiveIntEnv('FILE_OPS_MAX_READ_BYTES', DEFAULT_LIMITS.maxReadBytes),
      maxWriteBytes: positiveIntEnv('FILE_OPS_MAX_WRITE_BYTES', DEFAULT_LIMITS.maxWriteBytes),
      maxListEntries: positiveIntEnv('FILE_OPS_MAX_LIST_ENTRIES', DEFAULT_LIMITS.maxListEntries),
      maxResponseBytes: positiveIntEnv(MAX_RESPONSE_ENV, DEFAULT_LIMITS.maxResponseBytes),
      toolTimeoutMs: positiveIntEnv(TOOL_TIMEOUT_ENV, DEFAULT_LIMITS.toolTimeoutMs),
    },
  };
  log(NAME)(`roots: ${ops.sandbox.roots.join(', ')}`);
  await serve({
    name: NAME,
    version: VERSION,
    common,
    // A session's own credential confines its calls to its user's folder of the first root; the server's token
    // (the host's tools and tests) sees every root.
    createMcpServer: async (ctx, telemetry, metrics) =>
      createFileOpsServer(
        ctx.user ? { ...ops, sandbox: await userSandbox(ops.sandbox, ctx.user) } : ops,
        telemetry,
        metrics,
        ctx,
      ),
  });
}

runMain(NAME, main);
