import { describe, expect, it } from 'vitest';
import { planSession, type ScriptInfo } from './session-plan.ts';
import { SESSION_ID } from './session-record.ts';

const scripts = (name: string): ScriptInfo => {
  if (name !== 'demo' && name !== 'errors') throw new Error(`no session script ${name}`);
  return { name, prompt: `prompt of ${name}`, model: 'claude-sonnet-4-5-20250929' };
};
const id = '7c0e8d5e-6a0b-4a43-9d0e-2f8b6c1d9a11';

describe('planSession', () => {
  it('plays the demo script against the scripted API by default, with a fresh UUID session id', () => {
    const p = planSession({}, {}, scripts);
    expect(p.sessionId).toMatch(SESSION_ID);
    expect(p).toMatchObject({ mode: 'headless', api: 'scripted', script: 'demo', passThrough: [] });
    expect(p.env).toMatchObject({
      CLAUDE_CODE_SESSION_ID: p.sessionId,
      ANTHROPIC_BASE_URL: 'http://session-gateway:8080/scripts/demo',
      SESSION_PROMPT: 'prompt of demo',
      SESSION_MODEL: 'claude-sonnet-4-5-20250929',
    });
    expect(planSession({}, {}, scripts).sessionId).not.toBe(p.sessionId);
  });

  it('sends --prompt and --interactive to Anthropic (through the gateway) when the stack has a key, never the key', () => {
    const p = planSession({ prompt: 'hello', sessionId: id }, { ANTHROPIC_API_KEY: 'sk-ant-real' }, scripts);
    expect(p).toMatchObject({ api: 'anthropic', passThrough: [] });
    expect(JSON.stringify(p)).not.toContain('sk-ant-real');
    expect(p.env.ANTHROPIC_BASE_URL).toBe('http://session-gateway:8080');
    expect(p.env.ANTHROPIC_API_KEY).toBeUndefined();
    const i = planSession({ interactive: true }, { ANTHROPIC_API_KEY: 'sk-ant-real' }, scripts);
    expect(i).toMatchObject({ mode: 'interactive', api: 'anthropic' });
  });

  it('without a key, --prompt and --interactive use the scripted API (demo) with that prompt, and say so', () => {
    const p = planSession({ prompt: 'hello' }, {}, scripts);
    expect(p).toMatchObject({ api: 'scripted', script: 'demo' });
    expect(p.env.SESSION_PROMPT).toBe('hello');
    expect(p.notice).toMatch(
      /no ANTHROPIC_API_KEY.*plays the scripted session demo \(fixtures\/sessions\/demo\.json\)/,
    );
    const i = planSession({ interactive: true }, {}, scripts);
    expect(i).toMatchObject({ mode: 'interactive', api: 'scripted' });
    expect(i.notice).toContain('set ANTHROPIC_API_KEY');
    // Nothing to say when the user chose the script, or a key is there.
    expect(planSession({ script: 'errors' }, {}, scripts).notice).toBeUndefined();
    expect(
      planSession({ prompt: 'hi' }, { ANTHROPIC_API_KEY: 'sk-ant-real' }, scripts).notice,
    ).toBeUndefined();
  });

  it('leaves every credential-bearing variable to the run (minted for the session network, passed by name)', () => {
    const p = planSession({ user: 'alice', sessionId: id }, {}, scripts);
    for (const k of [
      'HTTPS_PROXY',
      'HTTP_PROXY',
      'ANTHROPIC_API_KEY',
      'MCP_SESSION_TOKEN',
      'OTEL_EXPORTER_OTLP_HEADERS',
    ])
      expect(p.env[k], k).toBeUndefined();
  });

  it('labels every signal with --user through a short resource attribute list', () => {
    expect(planSession({ user: 'alice' }, {}, scripts).env).toMatchObject({
      SESSION_USER: 'alice',
      OTEL_RESOURCE_ATTRIBUTES: 'user.name=alice',
    });
  });

  it('exports over the protocol asked for, to the session gateway port that speaks it', () => {
    expect(planSession({ otlpProtocol: 'grpc' }, {}, scripts).env).toMatchObject({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://session-gateway:4317',
    });
    expect(planSession({ otlpProtocol: 'http/json' }, {}, scripts).env).toMatchObject({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://session-gateway:8080',
    });
    // Unset: the compose file's default (http/protobuf to the gateway's 8080) applies.
    expect(planSession({}, {}, scripts).env.OTEL_EXPORTER_OTLP_PROTOCOL).toBeUndefined();
    expect(() => planSession({ otlpProtocol: 'udp' }, {}, scripts)).toThrow(
      '--otlp-protocol must be one of http/protobuf, http/json, grpc, not "udp"',
    );
  });

  it('refuses what it cannot honour, clearly', () => {
    expect(() => planSession({ sessionId: 'not-a-uuid' }, {}, scripts)).toThrow(
      '--session-id must be a UUID, not not-a-uuid',
    );
    expect(() => planSession({ user: 'a,b=c' }, {}, scripts)).toThrow('--user must be 1-64 letters');
    expect(() => planSession({ script: 'demo', prompt: 'x' }, {}, scripts)).toThrow('goes without --prompt');
    expect(() => planSession({ script: 'nope' }, {}, scripts)).toThrow('no session script nope');
  });

  it("takes --project and --branch by their rules, and puts neither in the session's environment", () => {
    const p = planSession({ project: 'acme/widgets', branch: 'main' }, {}, scripts);
    expect(p).toMatchObject({ project: 'acme/widgets', branch: 'main' });
    expect(JSON.stringify(p.env)).not.toContain('acme/widgets');
    expect(() => planSession({ project: 'a b' }, {}, scripts)).toThrow(
      '--project must be 1-128 letters, digits or . _ - /',
    );
    expect(() => planSession({ project: 'x'.repeat(129) }, {}, scripts)).toThrow('--project must be');
    expect(() => planSession({ branch: 'a;b' }, {}, scripts)).toThrow('--branch must be 1-128');
  });

  it('turns telemetry off for --no-telemetry', () => {
    expect(planSession({ noTelemetry: true }, {}, scripts).env.CLAUDE_CODE_ENABLE_TELEMETRY).toBe('0');
  });
});
