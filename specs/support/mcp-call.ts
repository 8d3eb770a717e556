// One MCP call over HTTP as the stack's clients make it, written once: as script source (`MCP_CALL`) for the specs
// that call from inside a container (the servers publish no port; a session's network reaches them by service
// name), and run in a service's own container by `mcpCallIn`. The servers are stateless: a tools/call needs no
// initialize, but `mcpInitAndCall` does both, as Claude Code does, for specs that check the handshake too.
import { type ComposedStack, nodeIn } from './compose-in.ts';

/** What a call came back with: HTTP statuses (0: unreachable) and the tools/call's body (text, as sent). */
export interface McpAnswer {
  /** The initialize's status (mcpInitAndCall only). */
  init?: number;
  status: number;
  body: string;
}

/**
 * Script source defining `mcpCall(url, headers, name, args)` (a tools/call) and `mcpInitAndCall(...)` (initialize,
 * then the call; a refused initialize is the answer). Both resolve to an McpAnswer, never throw.
 */
export const MCP_CALL = `
const mcpPost = (url, headers, body) => fetch(url, { method: 'POST', signal: AbortSignal.timeout(15000),
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
  body: JSON.stringify(body) });
const mcpCall = async (url, headers, name, args) => {
  try {
    const r = await mcpPost(url, headers, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } });
    return { status: r.status, body: await r.text() };
  } catch (e) { return { status: 0, body: 'unreachable: ' + (e.cause?.code ?? e.name) }; }
};
const mcpInitAndCall = async (url, headers, name, args) => {
  try {
    const init = await mcpPost(url, headers, { jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'spec', version: '1' } } });
    const text = await init.text();
    if (!init.ok) return { init: init.status, status: init.status, body: text };
    return { init: init.status, ...(await mcpCall(url, headers, name, args)) };
  } catch (e) { return { init: 0, status: 0, body: 'unreachable: ' + (e.cause?.code ?? e.name) }; }
};`;

/** An MCP server's endpoint as a container on its network (or the server's own) names it. */
export const mcpUrl = (host: string) => `http://${host}:8080/mcp`;

/** One tool call (initialize first) from inside an MCP server's own container, with these headers. */
export function mcpCallIn(
  stack: ComposedStack,
  service: 'mcp-file-ops' | 'mcp-database',
  headers: Record<string, string>,
  tool: string,
  args: Record<string, unknown>,
): Promise<McpAnswer> {
  return nodeIn<McpAnswer>(
    stack,
    service,
    `${MCP_CALL}
console.log(JSON.stringify(await mcpInitAndCall(${JSON.stringify(mcpUrl('localhost'))}, ${JSON.stringify(headers)}, ${JSON.stringify(tool)}, ${JSON.stringify(args)})));`,
  );
}
