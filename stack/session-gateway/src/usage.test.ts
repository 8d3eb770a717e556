// The usage read from a response as it passes: the scripted API's own SSE and JSON for a turn, cut at every byte
// (chunks from the network split anywhere), an error body, and the bounds.
import { encodeSse, messageJson, sseEvents } from '@claude-code-telemetry/anthropic-replay/messages';
import { parseSessionScript } from '@claude-code-telemetry/anthropic-replay/session-script';
import { describe, expect, it } from 'vitest';
import { jsonUsageParser, sseUsageParser, usageParserFor } from './usage.ts';

const script = parseSessionScript(
  'u',
  JSON.stringify({
    description: 'usage',
    prompt: 'p',
    turns: [
      {
        content: [
          { type: 'text', text: 'héllo wörld, in a few chunks of text ✓' },
          { type: 'tool_use', name: 'Write', input: { a: 'b' } },
        ],
        usage: {
          input_tokens: 11,
          output_tokens: 22,
          cache_read_input_tokens: 33,
          cache_creation_input_tokens: 44,
        },
      },
    ],
  }),
);
const turn = script.turns[0] as Parameters<typeof sseEvents>[0];
const ids = { messageId: 'msg_1', toolUseIds: ['toolu_1'] };
const expected = {
  model: 'claude-sonnet-4-5',
  inputTokens: 11,
  outputTokens: 22,
  cacheReadTokens: 33,
  cacheCreationTokens: 44,
  seen: true,
};

describe('SSE usage', () => {
  const bytes = Buffer.from(encodeSse(sseEvents(turn, 'claude-sonnet-4-5', ids)));
  it('reads message_start and message_delta usage, whole', () => {
    const p = sseUsageParser();
    p.push(bytes);
    expect(p.end()).toEqual(expected);
  });
  it('reads the same however the bytes are cut (every split point, multi-byte characters included)', () => {
    for (let cut = 1; cut < bytes.length; cut += 1) {
      const p = sseUsageParser();
      p.push(bytes.subarray(0, cut));
      p.push(bytes.subarray(cut));
      expect(p.end(), `cut at ${cut}`).toEqual(expected);
    }
  });
  it('reads CRLF lines and one byte at a time', () => {
    const crlf = Buffer.from(bytes.toString('utf8').replaceAll('\n', '\r\n'));
    const p = sseUsageParser();
    for (const b of crlf) p.push(Uint8Array.of(b));
    expect(p.end()).toEqual(expected);
  });
  it('takes the final output count from message_delta (message_start says 0)', () => {
    const p = sseUsageParser();
    p.push(
      Buffer.from(
        'event: message_start\ndata: {"type":"message_start","message":{"model":"m","usage":{"input_tokens":5,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":99}}\n\n',
      ),
    );
    expect(p.end()).toMatchObject({ inputTokens: 5, outputTokens: 99 });
  });
  it('skips a line over 1 MiB and still reads the usage after it', () => {
    const p = sseUsageParser();
    p.push(Buffer.from(`event: content_block_delta\ndata: ${'x'.repeat(2 * 1024 * 1024)}\n\n`));
    p.push(bytes);
    expect(p.end()).toEqual(expected);
  });
  it('says when a stream carried no usage (cut before message_start)', () => {
    const p = sseUsageParser();
    p.push(Buffer.from('event: ping\ndata: {"type":"ping"}\n\n'));
    expect(p.end()).toMatchObject({ seen: false, inputTokens: 0 });
  });
});

describe('JSON usage', () => {
  it('reads a message body', () => {
    const p = jsonUsageParser();
    const body = Buffer.from(JSON.stringify(messageJson(turn, 'claude-sonnet-4-5', ids)));
    p.push(body.subarray(0, 10));
    p.push(body.subarray(10));
    expect(p.end()).toEqual(expected);
  });
  it('reads no usage from an error body', () => {
    const p = jsonUsageParser();
    p.push(Buffer.from('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'));
    expect(p.end()).toMatchObject({ seen: false });
  });
  it('chooses by content type, and none for other types', () => {
    expect(usageParserFor('text/event-stream; charset=utf-8')).not.toBeNull();
    expect(usageParserFor('application/json')).not.toBeNull();
    expect(usageParserFor('text/html')).toBeNull();
    expect(usageParserFor(undefined)).toBeNull();
  });
});
