// The tool wrapper: a call past its time budget is a refused result naming the limit, a result over the response
// limit is refused naming its size, and error messages pass through the server's redaction.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  instrumentTool,
  maxResponseBytesFromEnv,
  responseBytes,
  toolMetrics,
} from './instrument.ts';
import { createTelemetry } from './telemetry.ts';
import { ok, RuleError } from './tool-result.ts';

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

describe('the response limit', () => {
  const returning = (result: CallToolResult, telemetryOn = true, maxResponseBytes = 1000) =>
    instrumentTool(
      telemetry,
      metrics,
      { transport: 'stdio', telemetry: telemetryOn },
      'big_tool',
      async () => result,
      { maxResponseBytes },
    )({}, { requestId: 7 });

  it('measures a result as the client gets it: content and structuredContent as JSON, in UTF-8 bytes', () => {
    const r = ok({ text: 'é\u0001' }, 'é\u0001');
    const json = JSON.stringify({ content: r.content, structuredContent: r.structuredContent });
    expect(json).toContain('\\u0001'); // a control character is 6 bytes of JSON
    expect(responseBytes(r)).toBe(Buffer.byteLength(json, 'utf8'));
    expect(responseBytes(r)).toBe(json.length + 2); // é is 2 bytes
  });

  it('refuses a result over the limit (response-too-large), naming its size, the limit and how to narrow, with telemetry on or off', async () => {
    // 200 control characters, twice: 2,400 bytes of escapes, over a 1,000-byte limit that 200 letters fit.
    const controls = '\u0001'.repeat(200);
    const big = ok({ content: controls }, controls);
    for (const telemetryOn of [true, false]) {
      spans.reset();
      const r = await returning(big, telemetryOn);
      expect(r.isError).toBe(true);
      expect(r.structuredContent).toBeUndefined();
      expect(text(r)).toBe(
        `refused (response-too-large): the result of big_tool is ${responseBytes(big)} bytes as JSON, over the response limit of 1000 bytes (MCP_MAX_RESPONSE_BYTES; the data is sent twice, as text and structured content, and JSON-escaped): ask for less (a smaller file, a narrower folder or pattern, fewer rows or columns)`,
      );
      if (telemetryOn)
        expect(spans.getFinishedSpans()[0]?.attributes).toMatchObject({
          'mcp.tool.outcome': 'refused',
          'error.type': 'response-too-large',
        });
    }
    const fits = ok({ content: 'x'.repeat(200) }, 'x'.repeat(200));
    expect(await returning(fits)).toEqual(fits);
    const exactly = await returning(fits, true, responseBytes(fits));
    expect(exactly).toEqual(fits);
    expect((await returning(fits, true, responseBytes(fits) - 1)).isError).toBe(true);
  });

  it('the limit comes from MCP_MAX_RESPONSE_BYTES (default 4 MiB); a bad value is an error naming the variable', () => {
    expect(maxResponseBytesFromEnv({})).toBe(DEFAULT_MAX_RESPONSE_BYTES);
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(4 * 1024 * 1024);
    expect(maxResponseBytesFromEnv({ MCP_MAX_RESPONSE_BYTES: '2048' })).toBe(2048);
    for (const bad of ['0', '-1', '1.5', 'lots', ''])
      expect(() => maxResponseBytesFromEnv({ MCP_MAX_RESPONSE_BYTES: bad }), bad).toThrow(
        `MCP_MAX_RESPONSE_BYTES must be a positive integer, not ${bad}`,
      );
  });
});
