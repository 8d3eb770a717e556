// What `pnpm session` runs, decided from its options and the host's environment. Pure, so the choice between
// the scripted API and Anthropic's, and every variable handed to the container, is unit-tested.
import { randomUUID } from 'node:crypto';
import { CONTINUATIONS_ENV } from '../../../stack/claude-code/session-wrapper.ts';
import {
  BRANCH_NAME_RULE,
  isBranchName,
  isProjectName,
  isUserName,
  PROJECT_NAME_RULE,
  USER_NAME_RULE,
} from './session-credential.ts';
import { OTLP_PROTOCOLS, type OtlpProtocol, SESSION_ID } from './session-record.ts';

/** The user-name rule (its home: the session identity module), here for the code that reads users from records. */
export { USER_NAME } from './session-credential.ts';

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
  /**
   * The session's `project` label (--project; not the compose project): in its credential, stamped on every signal.
   * Default: the workspace's git remote (workspace-project.ts).
   */
  project?: string;
  /** Its `git.branch` label (--branch). Default: the workspace's HEAD branch. */
  branch?: string;
}

/**
 * Where a session sends its telemetry for each protocol Claude Code can export with: the session gateway on the
 * session's own network, which takes it only with the session's credential and stamps the verified user and session.
 */
export const OTLP_ENDPOINTS: Record<OtlpProtocol, string> = {
  'http/protobuf': 'http://session-gateway:8080',
  'http/json': 'http://session-gateway:8080',
  grpc: 'http://session-gateway:4317',
};

/** The model API as a session sees it: the session gateway, which holds the upstream key. */
export const MODEL_GATEWAY = 'http://session-gateway:8080';

export interface ScriptInfo {
  name: string;
  prompt: string;
  model: string;
  /** Further CLI runs of the same conversation (--resume, --continue), in order: the session wrapper runs them. */
  continuations?: { mode: string; prompt: string }[];
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
  /** --project and --branch as given (checked); the workspace's git fills what is not (session-run.ts). */
  project?: string;
  branch?: string;
}

export function planSession(
  o: SessionOptions,
  hostEnv: Record<string, string | undefined>,
  loadScript: (name: string) => ScriptInfo,
): SessionPlan {
  const sessionId = o.sessionId ?? randomUUID();
  if (!SESSION_ID.test(sessionId)) throw new Error(`--session-id must be a UUID, not ${sessionId}`);
  if (o.user !== undefined && !isUserName(o.user)) {
    throw new Error(`--user must be ${USER_NAME_RULE}, not ${JSON.stringify(o.user)}`);
  }
  if (o.project !== undefined && !isProjectName(o.project))
    throw new Error(`--project must be ${PROJECT_NAME_RULE}, not ${JSON.stringify(o.project)}`);
  if (o.branch !== undefined && !isBranchName(o.branch))
    throw new Error(`--branch must be ${BRANCH_NAME_RULE}, not ${JSON.stringify(o.branch)}`);
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
    // Through the gateway to the scripted API, which picks the script by this path.
    env.ANTHROPIC_BASE_URL = `${MODEL_GATEWAY}/scripts/${info.name}`;
    env.SESSION_SCRIPT = info.name;
    env.SESSION_PROMPT = o.prompt ?? info.prompt;
    env.SESSION_MODEL = o.model ?? info.model;
    // A script that goes on in more CLI runs (--resume, --continue): the wrapper runs them (--script is headless).
    if (info.continuations?.length) env[CONTINUATIONS_ENV] = JSON.stringify(info.continuations);
  } else {
    // The gateway holds the stack owner's key; the session sends only its own credential (as its API key).
    env.ANTHROPIC_BASE_URL = MODEL_GATEWAY;
    if (o.prompt) env.SESSION_PROMPT = o.prompt;
    if (o.model) env.SESSION_MODEL = o.model;
  }
  if (o.user) {
    env.SESSION_USER = o.user;
    // On every metric point, event and span (Claude Code copies resource attributes onto each): short on purpose.
    env.OTEL_RESOURCE_ATTRIBUTES = `user.name=${o.user}`;
  }
  // The credential-bearing variables (API key, OTLP headers, proxy URL, MCP token) are set when the session runs
  // (session-run.ts), by name only: the credential is minted for the session's network.
  if (o.noTelemetry) env.CLAUDE_CODE_ENABLE_TELEMETRY = '0';
  if (o.otlpProtocol !== undefined) {
    const protocol = o.otlpProtocol as OtlpProtocol;
    if (!OTLP_PROTOCOLS.includes(protocol))
      throw new Error(
        `--otlp-protocol must be one of ${OTLP_PROTOCOLS.join(', ')}, not ${JSON.stringify(o.otlpProtocol)}`,
      );
    env.OTEL_EXPORTER_OTLP_PROTOCOL = protocol;
    env.OTEL_EXPORTER_OTLP_ENDPOINT = OTLP_ENDPOINTS[protocol];
  }
  // A prompt or an interactive session with no key: say plainly that the scripted demo answers, not Anthropic.
  const notice =
    api === 'scripted' && !o.script && (o.prompt || o.interactive)
      ? `no ANTHROPIC_API_KEY in the environment: this session plays the scripted session ${script} (fixtures/sessions/${script}.json), whatever you type; set ANTHROPIC_API_KEY to talk to Anthropic, or choose a script with --script NAME`
      : undefined;
  return {
    sessionId,
    mode,
    api,
    script,
    env,
    passThrough,
    ...(notice ? { notice } : {}),
    ...(o.project !== undefined ? { project: o.project } : {}),
    ...(o.branch !== undefined ? { branch: o.branch } : {}),
  };
}
