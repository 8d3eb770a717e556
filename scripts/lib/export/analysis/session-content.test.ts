import { describe, expect, it } from 'vitest';
import { recordedSession } from '../../testing/recorded-otlp.ts';
import { rawBodiesShown, sessionContent } from './session-content.ts';

describe('session content', () => {
  it('tells what content each session logged', () => {
    const retry = recordedSession('retry');
    const raw = recordedSession('raw-bodies');
    const hooks = recordedSession('hooks');
    const content = sessionContent(
      [...retry.events, ...raw.events, ...hooks.events],
      [...retry.spans, ...raw.spans, ...hooks.spans],
    );
    expect(content.get(retry.sessionId)).toEqual({
      prompts: 'redacted',
      responses: 'redacted',
      toolDetails: 'none',
      toolOutput: 'none',
    });
    expect(content.get(raw.sessionId)).toEqual({
      prompts: 'shown',
      responses: 'shown',
      toolDetails: 'none',
      toolOutput: 'none',
    });
    // a Bash call with the OTEL_LOG_TOOL_* switches off: no tool_parameters, no tool.output
    expect(content.get(hooks.sessionId)).toMatchObject({ toolDetails: 'redacted', toolOutput: 'redacted' });
    expect(rawBodiesShown(content.get(retry.sessionId))).toBe(false);
    expect(rawBodiesShown(content.get(raw.sessionId))).toBe(true);
    expect(
      rawBodiesShown({ prompts: 'shown', responses: 'shown', toolDetails: 'shown', toolOutput: 'redacted' }),
    ).toBe(false);
    expect(rawBodiesShown(undefined)).toBe(false);
  });
});
