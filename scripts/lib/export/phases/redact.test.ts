import { describe, expect, it } from 'vitest';
import { hashSecrets, secretValues } from '../../session/session-record.ts';
import { recordedLines, recordedSession } from '../../testing/recorded-otlp.ts';
import { REDACTED, sessionContent } from '../analysis/session-content.ts';
import { createScrubber, redactRawBodies, redactRawBodyRecords } from './redact.ts';

const KEY = 'sk-ant-api03-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm';
const TOKEN = 'f3a9c1d27b8e4f60a5d3c2b1e0f9a8b7';

describe('secret scrubbing', () => {
  it('removes Anthropic keys and bearer credentials by their shape', () => {
    const s = createScrubber();
    const out = s.scrub(`key ${KEY} and {"Authorization":"Bearer ${TOKEN}"}`);
    expect(out).not.toContain(KEY);
    expect(out).not.toContain(TOKEN);
    expect(out).toBe('key [REDACTED:anthropic-api-key] and {"Authorization":"Bearer [REDACTED:credential]"}');
    expect(s.counts).toEqual({ 'anthropic-api-key': 1, 'authorization-credential': 1 });
  });

  it('removes values of secret-named variables as env prints them, and leaves other variables', () => {
    const s = createScrubber();
    const out = s.scrub(
      'HOME=/home/node\\nGITHUB_TOKEN=ghp_abcdefgh12345678\\nDB_PASSWORD=hunter2hunter2\\nPATH=/usr/bin',
    );
    expect(out).toBe(
      'HOME=/home/node\\nGITHUB_TOKEN=[REDACTED:secret-variable]\\nDB_PASSWORD=[REDACTED:secret-variable]\\nPATH=/usr/bin',
    );
  });

  it('removes known values wherever they appear, longest first', () => {
    const s = createScrubber({ values: ['mcp-token-0123456789', 'short'] });
    expect(s.scrub('x-mcp-token-0123456789-y short')).toBe('x-[REDACTED:known-secret]-y short');
    expect(s.counts).toEqual({ 'known-secret': 1 });
  });

  it('removes a session secret known only by salted hash, in plain text and inside JSON escapes', () => {
    const hashes = hashSecrets({ ANTHROPIC_AUTH_TOKEN: TOKEN, HOME: '/home/node', SHORT_KEY: 'abc' });
    expect(hashes.sha256).toHaveLength(1);
    expect(JSON.stringify(hashes)).not.toContain(TOKEN);
    const s = createScrubber({ hashes: [hashes] });
    const json = JSON.stringify({ output: `${TOKEN}\nnext line`, url: `https://x/?t=${TOKEN}&a=1` });
    const out = s.scrub(json);
    expect(out).not.toContain(TOKEN);
    expect(JSON.parse(out)).toEqual({
      output: '[REDACTED:session-secret]\nnext line',
      url: 'https://x/?t=[REDACTED:session-secret]&a=1',
    });
    expect(s.counts['session-secret']).toBe(2);
  });

  it('removes a session secret after an escaped newline in JSON held in a JSON string (a raw API body)', () => {
    const s = createScrubber({ hashes: [hashSecrets({ ANTHROPIC_AUTH_TOKEN: TOKEN })] });
    const body = JSON.stringify({ messages: [{ content: `env says:\n${TOKEN}\nend` }] });
    const line = JSON.stringify({ body });
    expect(line).toContain(`\\\\n${TOKEN}`); // the OTLP line holds it as \\n before the token
    const out = s.scrub(line);
    expect(out).not.toContain(TOKEN);
    expect(JSON.parse(JSON.parse(out).body)).toEqual({
      messages: [{ content: 'env says:\n[REDACTED:session-secret]\nend' }],
    });
  });

  it('keeps ordinary text as it is', () => {
    const s = createScrubber({ hashes: [hashSecrets({ API_KEY: TOKEN })], values: ['secret-value-1'] });
    const text =
      '{"name":"claude_code.api_request","input_tokens":1200,"model":"claude-sonnet-4-5-20250929"}';
    expect(s.scrub(text)).toBe(text);
    expect(s.counts).toEqual({});
  });

  it('takes secret-looking variables from an environment', () => {
    expect(secretValues({ MCP_AUTH_TOKEN: 'abcdefgh1234', USER: 'someone-long-name', PWD_KEY: 'x' })).toEqual(
      ['abcdefgh1234'],
    );
  });
});

// Raw API bodies, recorded with Claude Code 2.1.332 (scripts/lib/testing/recorded-otlp.ts): it sends the prompt in
// them whatever OTEL_LOG_USER_PROMPTS says.
describe('raw API bodies', () => {
  it('redacts the bodies of a session that did not log its prompts: the prompt is not left in them', () => {
    const { sessionId, events, spans } = recordedSession('retry');
    const content = sessionContent(events, spans);
    const [line] = recordedLines('retry', 'logs');
    expect(line?.split('Say hello.').length).toBe(3); // in both request bodies, and nowhere else
    const req = JSON.parse(line as string);
    expect(redactRawBodies(req, content)).toBe(3); // two attempts' requests, one response
    const out = JSON.stringify(req);
    expect(out).not.toContain('Say hello.');
    expect(out).not.toContain('Hello! The API was busy'); // the answer, in the response body
    expect(out.split(`"key":"body","value":{"stringValue":"${REDACTED}"}`).length).toBe(4);
    expect(out).toContain('"key":"body_length"'); // what the body was stays: its length, ids, model
    expect(redactRawBodies(req, content)).toBe(0); // once
    expect(redactRawBodyRecords(events, content)).toBe(3);
    expect(events.filter((e) => e.attrs.body === REDACTED && e.session === sessionId)).toHaveLength(3);
    // with no knowledge of the session, the same
    expect(redactRawBodies(JSON.parse(line as string), new Map())).toBe(3);
  });

  it('keeps the bodies of a session that logged its prompts and answers, and scrubs keys out of them', () => {
    const { events, spans } = recordedSession('raw-bodies');
    const [line] = recordedLines('raw-bodies', 'logs');
    const req = JSON.parse(line as string);
    expect(redactRawBodies(req, sessionContent(events, spans))).toBe(0);
    const text = JSON.stringify(req);
    expect(text).toContain('then say hello.'); // the prompt, in the request body
    const s = createScrubber();
    const out = s.scrub(text);
    for (const secret of ['sk-ant-api03-FAKEfake0123456789abcdefXYZ', 'f3a9c1d27b8e4f60a5d3c2b1e0f9a8b7'])
      expect(out).not.toContain(secret);
    // in user_prompt's prompt and prompt_text, and in the request body
    expect(s.counts['anthropic-api-key']).toBe(3);
    expect(s.counts['authorization-credential']).toBe(3);
    expect(JSON.parse(out)).toBeTruthy();
  });
});
