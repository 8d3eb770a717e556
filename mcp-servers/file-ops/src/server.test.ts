// Every file-ops tool through a real MCP client (in-process transport), the path attacks through the tools,
// and the spans each call leaves.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolMetrics } from '@claude-code-telemetry/mcp-common/instrument';
import { createTelemetry } from '@claude-code-telemetry/mcp-common/telemetry';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTree, PATH_ATTACKS } from '../test/test-tree.ts';
import { DEFAULT_LIMITS, searchFiles } from './lib.ts';
import { createSandbox } from './path-rules.ts';
import { createFileOpsServer } from './server.ts';

const tree = makeTree();
const spans = new InMemorySpanExporter();
const telemetry = createTelemetry({
  serviceName: 'mcp-file-ops',
  serviceVersion: 'test',
  spanExporter: spans,
  env: {},
});
let client: Client;

/** Every file below a folder (links not followed) with a hash of its content or link target. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out[full] = `-> ${readlinkSync(full)}`;
      else if (st.isDirectory()) walk(full);
      else if (!st.isFile())
        out[full] = `special ${st.mode.toString(8)}`; // a FIFO: reading it would block
      else out[full] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

beforeAll(async () => {
  const ops = {
    sandbox: await createSandbox([tree.root]),
    limits: { ...DEFAULT_LIMITS, maxReadBytes: 64, maxWriteBytes: 64 },
  };
  const server = createFileOpsServer(ops, telemetry, toolMetrics(telemetry), {
    transport: 'stdio',
    sessionId: 'sess-1',
  });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(a);
});
afterAll(() => client?.close());

describe('file-ops tools', () => {
  it('lists its tools with schemas, descriptions and annotations', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'create_directory',
      'edit_file',
      'get_file_info',
      'list_directory',
      'read_file',
      'search_files',
      'write_file',
    ]);
    for (const t of tools) {
      expect(t.description, t.name).toBeTruthy();
      expect(t.outputSchema, t.name).toBeDefined();
      for (const [field, schema] of Object.entries(t.inputSchema.properties ?? {})) {
        expect((schema as { description?: string }).description, `${t.name}.${field}`).toBeTruthy();
      }
    }
    const read = tools.find((t) => t.name === 'read_file');
    expect(read?.annotations).toMatchObject({ readOnlyHint: true });
    expect(tools.find((t) => t.name === 'write_file')?.annotations).toMatchObject({ destructiveHint: true });
  });

  it('read_file returns content and structured content', async () => {
    const r = await call('read_file', { path: 'hello.txt' });
    expect(r.isError).toBeFalsy();
    expect(text(r)).toBe('hello\n');
    expect(r.structuredContent).toEqual({ path: 'hello.txt', size: 6, content: 'hello\n' });
  });

  it('write_file writes atomically, then read_file sees it; missing parents need createDirectories', async () => {
    const w = await call('write_file', { path: 'sub/new.txt', content: 'one\ntwo\n' });
    expect(w.structuredContent).toMatchObject({ bytesWritten: 8, created: true });
    expect(readFileSync(join(tree.root, 'sub/new.txt'), 'utf8')).toBe('one\ntwo\n');
    expect(readdirSync(join(tree.root, 'sub')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const missing = await call('write_file', { path: 'made/here/x.txt', content: 'x' });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toContain('parent-missing');
    const made = await call('write_file', { path: 'made/here/x.txt', content: 'x', createDirectories: true });
    expect(made.isError).toBeFalsy();
  });

  it('list_directory, get_file_info, create_directory, search_files', async () => {
    const list = await call('list_directory', { path: '.' });
    const entries = (list.structuredContent as { entries: { name: string; type: string }[] }).entries;
    expect(entries).toContainEqual({ name: 'hello.txt', type: 'file', size: 6 });
    expect(entries.find((e) => e.name === 'link-out')?.type).toBe('symlink');
    const info = await call('get_file_info', { path: 'hello.txt' });
    expect(info.structuredContent).toMatchObject({ type: 'file', size: 6 });
    const dir = await call('create_directory', { path: 'sub/created' });
    expect(dir.structuredContent).toMatchObject({ created: true });
    const found = await call('search_files', { path: '.', pattern: '*.TXT' });
    const matches = (found.structuredContent as { matches: string[] }).matches;
    expect(matches).toContain('hello.txt');
    expect(matches.some((m) => m.includes('secret'))).toBe(false); // never through link-out
  });

  it('edit_file previews a diff with dryRun, then applies it', async () => {
    writeFileSync(join(tree.root, 'edit.txt'), 'a\nb\nc\n');
    const preview = await call('edit_file', {
      path: 'edit.txt',
      edits: [{ oldText: 'b', newText: 'B' }],
      dryRun: true,
    });
    expect(text(preview)).toContain('-b\n+B');
    expect(readFileSync(join(tree.root, 'edit.txt'), 'utf8')).toBe('a\nb\nc\n');
    const applied = await call('edit_file', { path: 'edit.txt', edits: [{ oldText: 'b', newText: 'B' }] });
    expect(applied.structuredContent).toMatchObject({ applied: true });
    expect(readFileSync(join(tree.root, 'edit.txt'), 'utf8')).toBe('a\nB\nc\n');
    const ambiguous = await call('edit_file', { path: 'edit.txt', edits: [{ oldText: '\n', newText: '' }] });
    expect(text(ambiguous)).toContain('edit-ambiguous');
  });

  it('search_files: a many-wildcard pattern against a long name is matched in bounded time, nothing changes', async () => {
    writeFileSync(join(tree.root, 'sub', 'a'.repeat(250)), 'long name');
    const before = snapshot(tree.root);
    // 8 and 32 `*`: as a regular expression the first took 18.7 s and stalled the server.
    for (const pattern of [`${'*a'.repeat(8)}*b`, `${'*a'.repeat(31)}*b`]) {
      const r = await call('search_files', { path: '.', pattern });
      expect(r.isError, pattern).toBeFalsy();
      expect(r.structuredContent, pattern).toMatchObject({ matches: [], truncated: false });
    }
    const found = await call('search_files', { path: '.', pattern: `${'*a'.repeat(8)}*` });
    expect((found.structuredContent as { matches: string[] }).matches).toContain(
      join('sub', 'a'.repeat(250)),
    );
    expect(snapshot(tree.root)).toEqual(before);
  });

  it('search_files refuses a pattern over its bounds, naming the bound', async () => {
    expect(text(await call('search_files', { path: '.', pattern: `${'*a'.repeat(33)}` }))).toBe(
      'refused (too-many-wildcards): the pattern has 33 * wildcards, over the limit of 32',
    );
    expect(text(await call('search_files', { path: '.', pattern: 'x'.repeat(300) }))).toBe(
      'refused (pattern-too-long): the pattern is 300 characters, over the limit of 255',
    );
  });

  it('search_files stops walking when its call is over budget', async () => {
    const ops = { sandbox: await createSandbox([tree.root]), limits: DEFAULT_LIMITS };
    const over = AbortSignal.abort(new Error('over budget'));
    await expect(searchFiles(ops, '.', '*', undefined, over)).rejects.toThrow('over budget');
  });

  it('errors name paths relative to the root, even from the file system', async () => {
    const r = await call('create_directory', { path: 'hello.txt/sub' });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe('refused (not-a-directory): hello.txt/sub: its folder hello.txt is not a directory');
    expect(text(await call('create_directory', { path: 'hello.txt' }))).toBe(
      'refused (not-a-directory): hello.txt is not a directory',
    );
    const abs = await call('read_file', { path: join(tree.root, 'nested', 'missing.txt') });
    expect(text(abs)).toBe('refused (not-found): nested/missing.txt does not exist');
  });

  it('states the size limits in the error', async () => {
    writeFileSync(join(tree.root, 'big.txt'), 'x'.repeat(100));
    expect(text(await call('read_file', { path: 'big.txt' }))).toBe(
      'refused (too-large): big.txt is 100 bytes, over the read limit of 64 bytes',
    );
    expect(text(await call('write_file', { path: 'w.txt', content: 'y'.repeat(65) }))).toBe(
      'refused (too-large): content is 65 bytes, over the write limit of 64 bytes',
    );
  });
});

describe('path attacks through the tools', () => {
  const attacks = PATH_ATTACKS(tree);
  let before: Record<string, string>;
  beforeAll(() => {
    before = { ...snapshot(tree.outside), ...snapshot(tree.evil) };
  });

  it.each(attacks)('read_file %j (must exist: %s) -> isError naming %s', async (path, _mustExist, rule) => {
    const r = await call('read_file', { path });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(new RegExp(`^refused \\((${rule}|root-itself)\\)`));
    expect(text(r)).not.toContain(`${tree.root}/`); // never where the root is
    if (!path.includes(tree.base)) expect(text(r)).not.toContain(tree.base);
  });

  it.each(attacks.filter(([, , rule]) => rule !== 'not-found'))(
    'write_file %j (must exist: %s) -> isError naming %s',
    async (path, _m, rule) => {
      const r = await call('write_file', { path, content: 'pwned' });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(new RegExp(`^refused \\((${rule}|root-itself)\\)`));
    },
  );

  it.each(attacks.filter(([, , rule]) => rule !== 'not-found'))(
    'edit, list, info, mkdir, search %j are refused',
    async (path) => {
      for (const [tool, args] of [
        ['edit_file', { path, edits: [{ oldText: 'secret', newText: 'pwned' }] }],
        ['list_directory', { path }],
        ['get_file_info', { path }],
        ['create_directory', { path }],
        ['search_files', { path, pattern: '*' }],
      ] as const) {
        const r = await call(tool, args);
        expect(r.isError, `${tool} ${JSON.stringify(path)}`).toBe(true);
        expect(text(r), tool).toMatch(/^refused \(/);
      }
    },
  );

  it('left every file outside the roots as it was', () => {
    expect({ ...snapshot(tree.outside), ...snapshot(tree.evil) }).toEqual(before);
  });
});

describe('tool-call spans', () => {
  it('one SERVER span per call, named and attributed per the MCP semantic conventions, with the session id', async () => {
    spans.reset();
    await call('read_file', { path: 'hello.txt' });
    await call('read_file', { path: '../outside/secret.txt' });
    const [good, bad] = spans.getFinishedSpans();
    expect(good?.name).toBe('tools/call read_file');
    expect(good?.kind).toBe(1); // SpanKind.SERVER
    expect(good?.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'read_file',
      'gen_ai.operation.name': 'execute_tool',
      'network.transport': 'pipe',
      'session.id': 'sess-1',
      'mcp.tool.outcome': 'success',
    });
    expect(good?.attributes['jsonrpc.request.id']).toBeDefined();
    expect(bad?.attributes).toMatchObject({ 'mcp.tool.outcome': 'refused', 'error.type': 'outside-roots' });
    expect(bad?.status.code).toBe(2); // SpanStatusCode.ERROR
  });

  it('records nothing for a session that turned telemetry off, and still answers', async () => {
    const ops = { sandbox: await createSandbox([tree.root]), limits: DEFAULT_LIMITS };
    const quiet = createFileOpsServer(ops, telemetry, toolMetrics(telemetry), {
      transport: 'http',
      sessionId: 'sess-off',
      telemetry: false,
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await quiet.connect(b);
    const c = new Client({ name: 'test', version: '1.0.0' });
    await c.connect(a);
    spans.reset();
    const ok = (await c.callTool({ name: 'read_file', arguments: { path: 'hello.txt' } })) as CallToolResult;
    const bad = (await c.callTool({
      name: 'read_file',
      arguments: { path: '../outside/secret.txt' },
    })) as CallToolResult;
    expect(ok.isError).toBeFalsy();
    expect(text(bad)).toMatch(/^refused \(outside-roots\)/);
    expect(spans.getFinishedSpans()).toEqual([]);
    await c.close();
  });
});
