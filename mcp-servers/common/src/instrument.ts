// One span and two metrics per tool call, named per the OpenTelemetry semantic conventions for MCP
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/): a SERVER span `tools/call {tool}` with
// mcp.method.name, gen_ai.tool.name, gen_ai.operation.name, jsonrpc.request.id, network.transport, error.type;
// plus Claude Code's `session.id`, so a session's MCP spans join its Claude Code telemetry.
// Expected failures (rule errors) become isError results naming the rule; anything else an isError result
// that says an internal error happened, without a stack trace.

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Telemetry } from './telemetry.ts';
import { refused, ruleOf } from './tool-result.ts';

export interface CallContext {
  transport: 'stdio' | 'http';
  /** Claude Code's session id (header or environment), when known. */
  sessionId?: string;
  /**
   * False when the session turned telemetry off (CLAUDE_CODE_ENABLE_TELEMETRY other than 1, sent in a header or
   * the environment): its calls then leave no span or metric, as the session itself leaves none.
   */
  telemetry?: boolean;
}

interface Extra {
  requestId?: string | number;
  sessionId?: string;
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
): { outcome: 'refused' | 'error'; errorType: string; result: CallToolResult } {
  const rule = ruleOf(err);
  const message = err instanceof Error ? err.message : String(err);
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
  handler: (args: A) => Promise<CallToolResult>,
): (args: A, extra: Extra) => Promise<CallToolResult> {
  return (args, extra) => {
    if (ctx.telemetry === false) return handler(args).catch((err: unknown) => asResult(tool, err).result);
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
          result = await handler(args);
          if (result.isError) {
            outcome = 'refused';
            errorType = 'tool_error';
          }
        } catch (err) {
          ({ outcome, errorType, result } = asResult(tool, err));
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
