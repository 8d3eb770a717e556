import { describe, expect, it } from 'vitest';
import { hashSecrets, secretValues } from '../session/session-record.ts';
import { createScrubber } from './redact.ts';

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
