// One span and two metrics per tool call, named per the OpenTelemetry semantic conventions for MCP
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/): a SERVER span `tools/call {tool}` with
// mcp.method.name, gen_ai.tool.name, gen_ai.operation.name, jsonrpc.request.id, network.transport, error.type;
// plus Claude Code's `session.id`, so a session's MCP spans join its Claude Code telemetry.
// Expected failures (rule errors) become isError results naming the rule; anything else an isError result
// that says an internal error happened, without a stack trace. Every call runs within a time budget
// (time-budget.ts), and error messages pass through the server's `redact` (e.g. absolute paths made relative).
// No result is larger than the response limit (MCP_MAX_RESPONSE_BYTES, default 4 MiB, as JSON): a client reads a
// response as one message (the SDK's stdio client ends its connection at 10 MiB), and a result carries its data
// twice (text and structuredContent), JSON-escaped (a control character is 6 bytes), so 1 MiB of file can be
// 12 MiB of response. A larger result is refused (`response-too-large`), naming its size and the limit.

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Telemetry } from './telemetry.ts';
import { DEFAULT_TOOL_TIMEOUT_MS, withTimeBudget } from './time-budget.ts';
import { RuleError, refused, ruleOf } from './tool-result.ts';

export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
export const MAX_RESPONSE_ENV = 'MCP_MAX_RESPONSE_BYTES';

export class ResponseTooLargeError extends RuleError<'response-too-large'> {}

/** MCP_MAX_RESPONSE_BYTES, or the default; anything but a positive integer is an error naming the variable. */
export function maxResponseBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_RESPONSE_ENV];
  if (raw === undefined) return DEFAULT_MAX_RESPONSE_BYTES;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0)
    throw new Error(`${MAX_RESPONSE_ENV} must be a positive integer, not ${raw}`);
  return v;
}

/** A result's size as the client receives it: its content and structuredContent as JSON, in UTF-8 bytes. */
export function responseBytes(result: CallToolResult): number {
  return Buffer.byteLength(
    JSON.stringify({ content: result.content, structuredContent: result.structuredContent }),
    'utf8',
  );
}

/** The result, or a ResponseTooLargeError naming its size, the limit and how to ask for less. */
function withinResponseLimit(tool: string, result: CallToolResult, limit: number): CallToolResult {
  const bytes = responseBytes(result);
  if (bytes <= limit) return result;
  throw new ResponseTooLargeError(
    'response-too-large',
    `the result of ${tool} is ${bytes} bytes as JSON, over the response limit of ${limit} bytes (${MAX_RESPONSE_ENV}; the data is sent twice, as text and structured content, and JSON-escaped): ask for less (a smaller file, a narrower folder or pattern, fewer rows or columns)`,
  );
}

export interface CallContext {
  transport: 'stdio' | 'http';
  /** Claude Code's session id (its signed credential, a header or the environment), when known. */
  sessionId?: string;
  /** The session's user, from its signed credential (http only): decides the file-ops root. */
  user?: string;
  /**
   * False only for a stdio server started with CLAUDE_CODE_ENABLE_TELEMETRY other than 1 in its own environment
   * (it runs inside the session, as part of it). Never set for HTTP: a client cannot turn the stack's servers'
   * telemetry off (http-server.ts).
   */
  telemetry?: boolean;
}

interface Extra {
  requestId?: string | number;
  sessionId?: string;
  /** Aborted by the SDK when the client cancels the request. */
  signal?: AbortSignal;
}

export interface ToolOptions {
  /** The call's time budget (default DEFAULT_TOOL_TIMEOUT_MS): past it the handler's signal aborts. */
  timeoutMs?: number;
  /** Rewrites error messages before they reach the client (e.g. absolute server paths to relative ones). */
  redact?: (message: string) => string;
  /** The largest result sent, as JSON bytes (default MCP_MAX_RESPONSE_BYTES or DEFAULT_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

export interface ToolMetrics {
  duration: ReturnType<Telemetry['meter']['createHistogram']>;
  calls: ReturnType<Telemetry['meter']['createCounter']>;
}

export function toolMetrics(telemetry: Telemetry): ToolMetrics {
  return {
    duration: telemetry.meter.createHistogram('mcp.server.operation.duration', {
      unit: 's',
      description: 'MCP request duration as observed on the server, from receipt until the result is sent.',
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30] },
    }),
    calls: telemetry.meter.createCounter('mcp.server.tool.calls', {
      unit: '{call}',
      description: 'Tool calls handled, by tool and outcome (success, refused, error).',
    }),
  };
}

/** An exception from a tool as its result: a rule it broke (refused), or an internal error without a stack. */
function asResult(
  tool: string,
  err: unknown,
  redact: (message: string) => string = (m) => m,
): { outcome: 'refused' | 'error'; errorType: string; result: CallToolResult } {
  const rule = ruleOf(err);
  const message = redact(err instanceof Error ? err.message : String(err));
  if (rule) return { outcome: 'refused', errorType: rule, result: refused(rule, message) };
  return {
    outcome: 'error',
    errorType: err instanceof Error ? err.name : 'Error',
    result: { isError: true, content: [{ type: 'text', text: `internal error in ${tool}: ${message}` }] },
  };
}

export function instrumentTool<A>(
  telemetry: Telemetry,
  metrics: ToolMetrics,
  ctx: CallContext,
  tool: string,
  handler: (args: A, signal: AbortSignal) => Promise<CallToolResult>,
  options: ToolOptions = {},
): (args: A, extra: Extra) => Promise<CallToolResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? maxResponseBytesFromEnv();
  const run = async (args: A, extra: Extra | undefined) =>
    withinResponseLimit(
      tool,
      await withTimeBudget(tool, timeoutMs, (signal) => handler(args, signal), extra?.signal),
      maxResponseBytes,
    );
  return (args, extra) => {
    if (ctx.telemetry === false)
      return run(args, extra).catch((err: unknown) => asResult(tool, err, options.redact).result);
    const base: Attributes = {
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': tool,
      'gen_ai.operation.name': 'execute_tool',
      'network.transport': ctx.transport === 'stdio' ? 'pipe' : 'tcp',
      ...(ctx.transport === 'http' ? { 'network.protocol.name': 'http' } : {}),
      ...(ctx.sessionId ? { 'session.id': ctx.sessionId } : {}),
    };
    return telemetry.tracer.startActiveSpan(
      `tools/call ${tool}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          ...base,
          ...(extra?.requestId !== undefined ? { 'jsonrpc.request.id': String(extra.requestId) } : {}),
          ...(extra?.sessionId ? { 'mcp.session.id': extra.sessionId } : {}),
        },
      },
      async (span) => {
        const started = performance.now();
        let outcome: 'success' | 'refused' | 'error' = 'success';
        let errorType: string | undefined;
        let result: CallToolResult;
        try {
          result = await run(args, extra);
          if (result.isError) {
            outcome = 'refused';
            errorType = 'tool_error';
          }
        } catch (err) {
          ({ outcome, errorType, result } = asResult(tool, err, options.redact));
          if (outcome === 'error') span.recordException(err instanceof Error ? err : new Error(String(err)));
        }
        span.setAttribute('mcp.tool.outcome', outcome);
        if (errorType) {
          span.setAttribute('error.type', errorType);
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
        }
        span.end();
        const attrs: Attributes = {
          ...base,
          'mcp.tool.outcome': outcome,
          ...(errorType ? { 'error.type': errorType } : {}),
        };
        metrics.duration.record((performance.now() - started) / 1000, attrs);
        metrics.calls.add(1, attrs);
        return result;
      },
    );
  };
}
