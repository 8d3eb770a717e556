// The file-ops tools: registration only (schemas, descriptions, annotations); the work is in lib.ts and every
// path goes through path-rules.ts. Each call has a time budget and a response limit; its results and errors name
// paths relative to the root (`[root N]/...` in a root after the first), never where the roots are.
import {
  type CallContext,
  instrumentTool,
  type ToolMetrics,
} from '@claude-code-telemetry/mcp-common/instrument';
import type { Telemetry } from '@claude-code-telemetry/mcp-common/telemetry';
import { ok } from '@claude-code-telemetry/mcp-common/tool-result';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { MAX_EDITS } from './edits.ts';
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
import { MAX_DIFF_CHARS } from './unified-diff.ts';

export const NAME = 'file-ops';
export const VERSION = '0.1.0';

const path = z
  .string()
  .describe(
    'Path of the file or folder: relative to the first root, `[root N]/...` in root N, or absolute inside a root',
  );
const resultPath = z
  .string()
  .describe('The path relative to its root (`.` is the first root, `[root N]/...` a path in root N)');
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
      maxResponseBytes: ops.limits.maxResponseBytes,
      redact: (message) => redactRoots(ops.sandbox, message),
    });

  server.registerTool(
    'read_file',
    {
      title: 'Read file',
      description: `Read a UTF-8 text file inside the allowed roots (at most ${ops.limits.maxReadBytes} bytes).`,
      inputSchema: { path },
      outputSchema: { path: resultPath, size: z.number(), content: z.string() },
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
      outputSchema: { path: resultPath, bytesWritten: z.number(), created: z.boolean() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    wrap('write_file', async (a: { path: string; content: string; createDirectories?: boolean }, signal) => {
      const r = await writeTextFile(ops, a.path, a.content, a.createDirectories ?? false, signal);
      return ok(r, `${r.created ? 'created' : 'replaced'} ${r.path} (${r.bytesWritten} bytes)`);
    }),
  );

  server.registerTool(
    'list_directory',
    {
      title: 'List directory',
      description: `List the entries of a folder inside the allowed roots, with their type and size, sorted by name (at most ${ops.limits.maxListEntries}: use search_files in larger folders).`,
      inputSchema: { path },
      outputSchema: {
        path: resultPath,
        entries: z.array(z.object({ name: z.string(), type: entryType, size: z.number() })),
        truncated: z
          .boolean()
          .describe(`True when the folder has more than ${ops.limits.maxListEntries} entries`),
        note: z.string().optional().describe('What was left out and how to find it'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('list_directory', async ({ path: p }: { path: string }, signal) => {
      const r = await listDirectory(ops, p, signal);
      const text = r.entries
        .map((e) => `[${e.type === 'directory' ? 'DIR' : e.type.toUpperCase()}] ${e.name}`)
        .join('\n');
      return ok(r, (text || '(empty)') + (r.note ? `\n(${r.note})` : ''));
    }),
  );

  server.registerTool(
    'get_file_info',
    {
      title: 'File info',
      description: 'Type, size, times and permissions of a file or folder inside the allowed roots.',
      inputSchema: { path },
      outputSchema: {
        path: resultPath,
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
      outputSchema: { path: resultPath, created: z.boolean() },
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
        path: resultPath,
        pattern: z.string(),
        matches: z.array(z.string()).describe('Paths relative to the folder searched'),
        truncated: z.boolean().describe('True when there were more matches than maxResults'),
        unreadable: z.number().describe('Folders below that could not be read and were skipped'),
        note: z.string().optional().describe('Why the matches may be incomplete'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('search_files', async (a: { path: string; pattern: string; maxResults?: number }, signal) => {
      const r = await searchFiles(ops, a.path, a.pattern, a.maxResults, signal);
      return ok(
        r,
        (r.matches.length ? r.matches.join('\n') + (r.truncated ? '\n(truncated)' : '') : 'no matches') +
          (r.note ? `\n(${r.note})` : ''),
      );
    }),
  );

  server.registerTool(
    'edit_file',
    {
      title: 'Edit file',
      description: `Replace exact text in a file; each oldText must occur exactly once. Returns a unified diff (cut at ${MAX_DIFF_CHARS} characters); dryRun previews without writing. At most ${MAX_EDITS} edits, of at most ${ops.limits.maxWriteBytes} bytes in all, and the edited file within the write limit.`,
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
          .max(MAX_EDITS)
          .describe(`Edits, applied in order (at most ${MAX_EDITS})`),
        dryRun: z.boolean().optional().describe('Preview the diff without writing (default false)'),
      },
      outputSchema: {
        path: resultPath,
        diff: z.string(),
        diffTruncated: z.boolean().describe(`True when the diff was cut at ${MAX_DIFF_CHARS} characters`),
        applied: z.boolean(),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    wrap(
      'edit_file',
      async (
        a: { path: string; edits: { oldText: string; newText: string }[]; dryRun?: boolean },
        signal,
      ) => {
        const r = await editFile(ops, a.path, a.edits, a.dryRun ?? false, signal);
        return ok(r, r.diff || '(no change)');
      },
    ),
  );

  return server;
}
