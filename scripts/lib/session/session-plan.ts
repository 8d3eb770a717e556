// What `pnpm session` runs, decided from its options and the host's environment. Pure, so the choice between
// the scripted API and Anthropic's, and every variable handed to the container, is unit-tested.
import { randomUUID } from 'node:crypto';
import { SESSION_ID } from './session-record.ts';

export interface SessionOptions {
  script?: string;
  prompt?: string;
  interactive?: boolean;
  user?: string;
  model?: string;
  sessionId?: string;
  /** Turn telemetry off for this session (the negative specs). */
  noTelemetry?: boolean;
  /** How Claude Code exports: http/protobuf (the stack's default), http/json or grpc; the collector port follows. */
  otlpProtocol?: string;
}

/** The collector's OTLP endpoint (inside the compose network) for each protocol Claude Code can export with. */
export const OTLP_ENDPOINTS: Record<string, string> = {
  'http/protobuf': 'http://otel-collector:4318',
  'http/json': 'http://otel-collector:4318',
  grpc: 'http://otel-collector:4317',
};

export interface ScriptInfo {
  name: string;
  prompt: string;
  model: string;
}

export interface SessionPlan {
  sessionId: string;
  mode: 'headless' | 'interactive';
  api: 'scripted' | 'anthropic';
  script?: string;
  /** Variables set in the container. Secrets are passed by name only (see `passThrough`). */
  env: Record<string, string>;
  /** Host variables handed over by name (docker compose run -e NAME), so their values never reach a command line. */
  passThrough: string[];
  /** Said to the user before the session starts, when the session is not what they may think it is. */
  notice?: string;
}

/** A session's user (`--user`): 1-64 letters, digits or . _ @ -. The export, the workspaces and the proxy name use it. */
export const USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export function planSession(
  o: SessionOptions,
  hostEnv: Record<string, string | undefined>,
  loadScript: (name: string) => ScriptInfo,
): SessionPlan {
  const sessionId = o.sessionId ?? randomUUID();
  if (!SESSION_ID.test(sessionId)) throw new Error(`--session-id must be a UUID, not ${sessionId}`);
  if (o.user !== undefined && !USER_NAME.test(o.user)) {
    throw new Error(`--user must be 1-64 letters, digits or . _ @ -, not ${JSON.stringify(o.user)}`);
  }
  if (o.script && (o.prompt || o.interactive)) {
    throw new Error('--script plays a whole scripted session: it goes without --prompt and --interactive');
  }
  const realKey = Boolean(hostEnv.ANTHROPIC_API_KEY);
  const api: SessionPlan['api'] =
    !o.script && (o.prompt || o.interactive) && realKey ? 'anthropic' : 'scripted';
  const mode: SessionPlan['mode'] = o.interactive ? 'interactive' : 'headless';
  const env: Record<string, string> = {
    CLAUDE_CODE_SESSION_ID: sessionId,
    SESSION_MODE: mode,
    SESSION_API: api,
  };
  const passThrough: string[] = [];
  let script: string | undefined;
  if (api === 'scripted') {
    script = o.script ?? 'demo';
    const info = loadScript(script);
    env.ANTHROPIC_BASE_URL = `http://anthropic-replay:8080/scripts/${info.name}`;
    // The scripted API checks no key; Claude Code wants one to be set.
    env.ANTHROPIC_API_KEY = 'scripted-session-no-key';
    env.SESSION_SCRIPT = info.name;
    env.SESSION_PROMPT = o.prompt ?? info.prompt;
    env.SESSION_MODEL = o.model ?? info.model;
  } else {
    passThrough.push('ANTHROPIC_API_KEY');
    if (o.prompt) env.SESSION_PROMPT = o.prompt;
    if (o.model) env.SESSION_MODEL = o.model;
  }
  if (o.user) {
    env.SESSION_USER = o.user;
    // On every metric point, event and span (Claude Code copies resource attributes onto each): short on purpose.
    env.OTEL_RESOURCE_ATTRIBUTES = `user.name=${o.user}`;
  }
  // The egress proxy logs each attempt under this name (USER+SESSION_ID; not a secret, a label).
  const proxy = `http://${encodeURIComponent(o.user ?? 'default')}+${sessionId}:session@egress-proxy:3128`;
  env.HTTPS_PROXY = proxy;
  env.HTTP_PROXY = proxy;
  if (o.noTelemetry) env.CLAUDE_CODE_ENABLE_TELEMETRY = '0';
  if (o.otlpProtocol !== undefined) {
    const endpoint = OTLP_ENDPOINTS[o.otlpProtocol];
    if (!endpoint)
      throw new Error(
        `--otlp-protocol must be one of ${Object.keys(OTLP_ENDPOINTS).join(', ')}, not ${JSON.stringify(o.otlpProtocol)}`,
      );
    env.OTEL_EXPORTER_OTLP_PROTOCOL = o.otlpProtocol;
    env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  }
  // A prompt or an interactive session with no key: say plainly that the scripted demo answers, not Anthropic.
  const notice =
    api === 'scripted' && !o.script && (o.prompt || o.interactive)
      ? `no ANTHROPIC_API_KEY in the environment: this session plays the scripted session ${script} (fixtures/sessions/${script}.json), whatever you type; set ANTHROPIC_API_KEY to talk to Anthropic, or choose a script with --script NAME`
      : undefined;
  return { sessionId, mode, api, script, env, passThrough, ...(notice ? { notice } : {}) };
}
