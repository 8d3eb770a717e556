// The tool wrapper: a call past its time budget is a refused result naming the limit, and error messages pass
// through the server's redaction.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { instrumentTool, toolMetrics } from './instrument.ts';
import { createTelemetry } from './telemetry.ts';
import { RuleError } from './tool-result.ts';

const spans = new InMemorySpanExporter();
const telemetry = createTelemetry({ serviceName: 't', serviceVersion: '0', spanExporter: spans, env: {} });
const metrics = toolMetrics(telemetry);
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

describe('instrumentTool', () => {
  it('ends a call past its budget with a refused result, aborting the handler signal, with telemetry on or off', async () => {
    for (const telemetryOn of [true, false]) {
      spans.reset();
      let signal: AbortSignal | undefined;
      const call = instrumentTool(
        telemetry,
        metrics,
        { transport: 'stdio', telemetry: telemetryOn },
        'slow_tool',
        (_args: object, s) => {
          signal = s;
          return new Promise<CallToolResult>(() => {});
        },
        { timeoutMs: 50 },
      );
      const r = await call({}, { requestId: 1 });
      expect(r.isError).toBe(true);
      expect(text(r)).toBe(
        'refused (time-limit): slow_tool ran over the time budget of 50 ms per tool call (MCP_TOOL_TIMEOUT_MS) and was stopped',
      );
      expect(signal?.aborted).toBe(true);
      if (telemetryOn)
        expect(spans.getFinishedSpans()[0]?.attributes).toMatchObject({
          'mcp.tool.outcome': 'refused',
          'error.type': 'time-limit',
        });
    }
  });

  it('redacts refusals and internal errors alike', async () => {
    const redact = (m: string) => m.replaceAll('/srv/secret/root', '.');
    const failing = (err: Error) =>
      instrumentTool(
        telemetry,
        metrics,
        { transport: 'stdio' },
        'tool',
        async () => {
          throw err;
        },
        { redact },
      )({}, {});
    expect(text(await failing(new RuleError('not-found', '/srv/secret/root/x does not exist')))).toBe(
      'refused (not-found): ./x does not exist',
    );
    expect(text(await failing(new Error("ENOTDIR: not a directory, mkdir '/srv/secret/root/a/b'")))).toBe(
      "internal error in tool: ENOTDIR: not a directory, mkdir './a/b'",
    );
  });
});
