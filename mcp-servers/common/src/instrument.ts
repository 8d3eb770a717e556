// One span and two metrics per tool call, named per the OpenTelemetry semantic conventions for MCP
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/): a SERVER span `tools/call {tool}` with
// mcp.method.name, gen_ai.tool.name, gen_ai.operation.name, jsonrpc.request.id, network.transport, error.type;
// plus Claude Code's `session.id`, so a session's MCP spans join its Claude Code telemetry.
// Expected failures (rule errors) become isError results naming the rule; anything else an isError result
// that says an internal error happened, without a stack trace. Every call runs within a time budget
// (time-budget.ts), and error messages pass through the server's `redact` (e.g. absolute paths made relative).

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Telemetry } from './telemetry.ts';
import { DEFAULT_TOOL_TIMEOUT_MS, withTimeBudget } from './time-budget.ts';
import { refused, ruleOf } from './tool-result.ts';

export interface CallContext {
  transport: 'stdio' | 'http';
  /** Claude Code's session id (its signed credential, a header or the environment), when known. */
  sessionId?: string;
  /** The session's user, from its signed credential (http only): decides the file-ops root. */
  user?: string;
  /**
   * False when the session turned telemetry off (CLAUDE_CODE_ENABLE_TELEMETRY other than 1, sent in a header or
   * the environment): its calls then leave no span or metric, as the session itself leaves none.
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
  const run = (args: A, extra: Extra | undefined) =>
    withTimeBudget(tool, timeoutMs, (signal) => handler(args, signal), extra?.signal);
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
