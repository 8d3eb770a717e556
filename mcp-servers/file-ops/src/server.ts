// The file-ops tools: registration only (schemas, descriptions, annotations); the work is in lib.ts and every
// path goes through path-rules.ts. Each call has a time budget, and its errors name paths relative to the root.
import {
  type CallContext,
  instrumentTool,
  type ToolMetrics,
} from '@claude-code-telemetry/mcp-common/instrument';
import type { Telemetry } from '@claude-code-telemetry/mcp-common/telemetry';
import { ok } from '@claude-code-telemetry/mcp-common/tool-result';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { MAX_PATTERN_LENGTH, MAX_WILDCARDS } from './glob.ts';
import {
  createDirectory,
  editFile,
  type FileOps,
  fileInfo,
  listDirectory,
  readTextFile,
  searchFiles,
  writeTextFile,
} from './lib.ts';
import { redactRoots } from './path-rules.ts';

export const NAME = 'file-ops';
export const VERSION = '0.1.0';

const path = z
  .string()
  .describe('Path of the file or folder: relative to the first root, or absolute inside a root');
const entryType = z.enum(['file', 'directory', 'symlink', 'other']);

export function createFileOpsServer(
  ops: FileOps,
  telemetry: Telemetry,
  metrics: ToolMetrics,
  ctx: CallContext,
) {
  const server = new McpServer({ name: NAME, version: VERSION });
  const wrap = <A>(
    tool: string,
    fn: (args: A, signal: AbortSignal) => ReturnType<typeof ok> | Promise<ReturnType<typeof ok>>,
  ) =>
    instrumentTool<A>(telemetry, metrics, ctx, tool, async (args, signal) => fn(args, signal), {
      timeoutMs: ops.limits.toolTimeoutMs,
      redact: (message) => redactRoots(ops.sandbox, message),
    });

  server.registerTool(
    'read_file',
    {
      title: 'Read file',
      description: `Read a UTF-8 text file inside the allowed roots (at most ${ops.limits.maxReadBytes} bytes).`,
      inputSchema: { path },
      outputSchema: { path: z.string(), size: z.number(), content: z.string() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('read_file', async ({ path: p }: { path: string }) => {
      const r = await readTextFile(ops, p);
      return ok(r, r.content);
    }),
  );

  server.registerTool(
    'write_file',
    {
      title: 'Write file',
      description: `Create or replace a UTF-8 text file inside the allowed roots, atomically (at most ${ops.limits.maxWriteBytes} bytes).`,
      inputSchema: {
        path,
        content: z.string().describe('The whole new content of the file'),
        createDirectories: z.boolean().optional().describe('Create missing parent folders (default false)'),
      },
      outputSchema: { path: z.string(), bytesWritten: z.number(), created: z.boolean() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    wrap('write_file', async (a: { path: string; content: string; createDirectories?: boolean }) => {
      const r = await writeTextFile(ops, a.path, a.content, a.createDirectories ?? false);
      return ok(r, `${r.created ? 'created' : 'replaced'} ${r.path} (${r.bytesWritten} bytes)`);
    }),
  );

  server.registerTool(
    'list_directory',
    {
      title: 'List directory',
      description: 'List the entries of a folder inside the allowed roots, with their type and size.',
      inputSchema: { path },
      outputSchema: {
        path: z.string(),
        entries: z.array(z.object({ name: z.string(), type: entryType, size: z.number() })),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('list_directory', async ({ path: p }: { path: string }) => {
      const r = await listDirectory(ops, p);
      const text = r.entries
        .map((e) => `[${e.type === 'directory' ? 'DIR' : e.type.toUpperCase()}] ${e.name}`)
        .join('\n');
      return ok(r, text || '(empty)');
    }),
  );

  server.registerTool(
    'get_file_info',
    {
      title: 'File info',
      description: 'Type, size, times and permissions of a file or folder inside the allowed roots.',
      inputSchema: { path },
      outputSchema: {
        path: z.string(),
        type: entryType,
        size: z.number(),
        modified: z.string(),
        created: z.string(),
        permissions: z.string(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('get_file_info', async ({ path: p }: { path: string }) => {
      const r = await fileInfo(ops, p);
      return ok(
        r,
        Object.entries(r)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n'),
      );
    }),
  );

  server.registerTool(
    'create_directory',
    {
      title: 'Create directory',
      description: 'Create a folder (and missing parents) inside the allowed roots; succeeds if it exists.',
      inputSchema: { path },
      outputSchema: { path: z.string(), created: z.boolean() },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    wrap('create_directory', async ({ path: p }: { path: string }) => {
      const r = await createDirectory(ops, p);
      return ok(r, `${r.created ? 'created' : 'exists'}: ${r.path}`);
    }),
  );

  server.registerTool(
    'search_files',
    {
      title: 'Search files by name',
      description:
        'Find files and folders whose name matches a pattern (* and ?), below a folder inside the roots. Symlinks are not followed.',
      inputSchema: {
        path,
        pattern: z
          .string()
          .min(1)
          .describe(
            `Name pattern: * any characters, ? one character; case-insensitive; at most ${MAX_PATTERN_LENGTH} characters and ${MAX_WILDCARDS} *`,
          ),
        maxResults: z
          .number()
          .int()
          .positive()
          .optional()
          .describe(`At most this many matches (cap ${ops.limits.maxSearchResults})`),
      },
      outputSchema: {
        path: z.string(),
        pattern: z.string(),
        matches: z.array(z.string()),
        truncated: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('search_files', async (a: { path: string; pattern: string; maxResults?: number }, signal) => {
      const r = await searchFiles(ops, a.path, a.pattern, a.maxResults, signal);
      return ok(
        r,
        r.matches.length ? r.matches.join('\n') + (r.truncated ? '\n(truncated)' : '') : 'no matches',
      );
    }),
  );

  server.registerTool(
    'edit_file',
    {
      title: 'Edit file',
      description:
        'Replace exact text in a file; each oldText must occur exactly once. Returns a unified diff; dryRun previews without writing.',
      inputSchema: {
        path,
        edits: z
          .array(
            z.object({
              oldText: z.string().describe('Text to find: must occur exactly once'),
              newText: z.string().describe('Text to put in its place'),
            }),
          )
          .min(1)
          .describe('Edits, applied in order'),
        dryRun: z.boolean().optional().describe('Preview the diff without writing (default false)'),
      },
      outputSchema: { path: z.string(), diff: z.string(), applied: z.boolean() },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    wrap(
      'edit_file',
      async (a: { path: string; edits: { oldText: string; newText: string }[]; dryRun?: boolean }) => {
        const r = await editFile(ops, a.path, a.edits, a.dryRun ?? false);
        return ok(r, r.diff || '(no change)');
      },
    ),
  );

  return server;
}
