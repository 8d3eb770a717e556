import { describe, expect, it } from 'vitest';
import { limitEventRequest } from './session-events.ts';

describe('session events', () => {
  it('builds the session_limit event with the session id and user of the session', () => {
    const req = limitEventRequest({
      sessionId: 'abc',
      user: 'alice',
      kind: 'memory',
      description: 'the memory limit of 64m (SESSION_MEMORY_LIMIT)',
      timeMs: 1_700_000_000_000,
    }) as {
      resourceLogs: {
        scopeLogs: {
          logRecords: {
            timeUnixNano: string;
            attributes: { key: string; value: { stringValue: string } }[];
          }[];
        }[];
      }[];
    };
    const rec = req.resourceLogs[0]?.scopeLogs[0]?.logRecords[0];
    expect(rec?.timeUnixNano).toBe('1700000000000000000');
    expect(Object.fromEntries(rec?.attributes.map((a) => [a.key, a.value.stringValue]) ?? [])).toEqual({
      'event.name': 'claude_code_telemetry.session_limit',
      'session.id': 'abc',
      'user.name': 'alice',
      limit: 'memory',
      message: 'the session was ended by the memory limit of 64m (SESSION_MEMORY_LIMIT)',
      'telemetry.source': 'observed',
    });
  });
});
