// Made-up runs for the compat unit tests (compat-matrix, compat-markdown, public-reports): a session whose
// telemetry reached every sink with its script's totals, to be broken one field at a time by each test.
import type { CompatRun } from './compat-matrix.ts';
import type { SessionObservation } from './observe-session.ts';

export const expected = {
  tokens: { input: 100, output: 20, cacheRead: 0, cacheCreation: 0 },
  linesAdded: 3,
  linesRemoved: 1,
  modelCalls: 2,
  apiErrors: 0,
};

/** What a release that exports everything right leaves for a session of `expected`. */
export function complete(): SessionObservation {
  return {
    metrics: {
      'claude_code.token.usage': ['model', 'session.id', 'type'],
      'claude_code.cost.usage': ['model'],
    },
    events: { api_request: ['cost_usd', 'model'], user_prompt: ['prompt_length'] },
    spans: { 'claude_code.interaction': ['session.id'], 'claude_code.llm_request': ['model'] },
    spanEvents: {},
    resource: ['service.name', 'service.version'],
    spanTree: ['> claude_code.interaction', 'claude_code.interaction > claude_code.llm_request'],
    serviceVersion: '2.1.332',
    fileRecords: { traces: 3, metrics: 8, logs: 4 },
    backends: {
      prometheus: ['claude_code_token_usage_tokens_total', 'claude_code_cost_usage_USD_total'],
      jaeger: ['claude_code.interaction', 'claude_code.llm_request'],
      victorialogs: ['api_request', 'user_prompt'],
    },
    backendRecords: { jaeger: 3, victorialogs: 4 },
    egress: [],
    totals: {
      tokens: { input: 100, output: 20, cacheRead: 0, cacheCreation: 0 },
      cost: 0.0123,
      eventCost: 0.0123,
      linesAdded: 3,
      linesRemoved: 1,
      apiRequests: 2,
      apiErrors: 0,
    },
  };
}

export const run = (
  release: string,
  observation?: SessionObservation,
  over: Partial<CompatRun> = {},
): CompatRun => ({
  release,
  protocol: 'grpc',
  session: 'demo',
  sessionId: '00000000-0000-4000-8000-000000000000',
  exitCode: 0,
  status: 'completed',
  seconds: 9,
  expected,
  observation,
  ...over,
});

export const META = {
  generated: '2026-11-29',
  command: 'pnpm compat --versions 2.1.97,2.1.113,2.1.332',
  runSeconds: 600,
  runsPerCell: 3,
  stack: { collector: '0.159.0' },
  kinds: { demo: 'The demo.' },
};
