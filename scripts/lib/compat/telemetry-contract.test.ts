import { describe, expect, it } from 'vitest';
import type { SessionObservation } from './observe-session.ts';
import { contractAdditions, contractBreaches, type TelemetryContract } from './telemetry-contract.ts';

const contract: TelemetryContract = {
  release: '2.1.332',
  session: 'demo',
  metrics: { 'claude_code.token.usage': ['model', 'type'] },
  events: { api_request: ['cost_usd', 'model'] },
  spans: { 'claude_code.interaction': [], 'claude_code.llm_request': ['model'] },
  spanTree: ['> claude_code.interaction', 'claude_code.interaction > claude_code.llm_request'],
};

const observed = (over: Partial<SessionObservation> = {}) =>
  ({
    metrics: { 'claude_code.token.usage': ['model', 'type'] },
    events: { api_request: ['cost_usd', 'model'] },
    spans: { 'claude_code.interaction': [], 'claude_code.llm_request': ['model'] },
    spanTree: ['> claude_code.interaction', 'claude_code.interaction > claude_code.llm_request'],
    ...over,
  }) as SessionObservation;

describe('contractBreaches', () => {
  it('finds nothing when the session emits exactly the contract', () => {
    expect(contractBreaches(contract, observed())).toEqual([]);
  });

  it('names what disappeared, what is new, a lost attribute and a changed parent', () => {
    const o = observed({
      metrics: {},
      events: { api_request: ['model'], hook_execution_complete: ['hook_name'] },
      spanTree: ['> claude_code.interaction', '> claude_code.llm_request'],
    });
    expect(contractBreaches(contract, o)).toEqual([
      'metric claude_code.token.usage disappeared',
      'event api_request lost attribute(s) cost_usd',
      'event hook_execution_complete is new (not in the contract)',
      'span tree: claude_code.interaction > claude_code.llm_request is gone',
      'span tree: > claude_code.llm_request is new',
    ]);
  });

  it('reports attribute keys beyond the contract without calling them a breach', () => {
    const o = observed({ events: { api_request: ['client_request_id', 'cost_usd', 'model'] } });
    expect(contractBreaches(contract, o)).toEqual([]);
    expect(contractAdditions(contract, o)).toEqual(['event api_request: client_request_id']);
  });
});
