import { describe, expect, it } from 'vitest';
import { egressLogsRequest, parseAccessLine } from './access-line.ts';

const id = '7c0e8d5e-6a0b-4a43-9d0e-2f8b6c1d9a11';

describe('the egress access line', () => {
  it('parses an allowed CONNECT of a session, naming its user and session', () => {
    expect(
      parseAccessLine(
        `1764403200.123 alice+${id} 172.20.0.5 CONNECT api.anthropic.com:443 200 TCP_TUNNEL 160.79.104.10`,
      ),
    ).toEqual({
      timeMs: 1764403200123,
      user: 'alice',
      sessionId: id,
      client: '172.20.0.5',
      method: 'CONNECT',
      target: 'api.anthropic.com:443',
      host: 'api.anthropic.com',
      status: 200,
      squidStatus: 'TCP_TUNNEL',
      decision: 'allowed',
    });
  });

  it('marks a refused request denied, and one without a proxy user as anonymous', () => {
    const denied = parseAccessLine(
      `1764403201.000 bob.smith+${id} 172.20.0.6 GET http://10.1.2.3:8080/x 403 TCP_DENIED -`,
    );
    expect(denied).toMatchObject({
      user: 'bob.smith',
      sessionId: id,
      host: '10.1.2.3',
      decision: 'denied',
      status: 403,
    });
    const anonymous = parseAccessLine('1764403202.000 - 172.20.0.7 GET http://example.org/ 407 TCP_DENIED -');
    expect(anonymous).toMatchObject({ user: null, sessionId: null, decision: 'denied', status: 407 });
    expect(parseAccessLine('garbage')).toBeNull();
  });

  it('becomes a claude_code_telemetry.egress event with the session id, user and decision', () => {
    const a = parseAccessLine(
      `1764403201.000 bob+${id} 172.20.0.6 GET http://10.1.2.3:8080/x 403 TCP_DENIED -`,
    );
    const req = egressLogsRequest(a ? [a] : []) as {
      resourceLogs: {
        scopeLogs: { logRecords: { attributes: { key: string; value: Record<string, string> }[] }[] }[];
      }[];
    };
    const attrs = Object.fromEntries(
      (req.resourceLogs[0]?.scopeLogs[0]?.logRecords[0]?.attributes ?? []).map((x) => [
        x.key,
        Object.values(x.value)[0],
      ]),
    );
    expect(attrs).toMatchObject({
      'event.name': 'claude_code_telemetry.egress',
      'session.id': id,
      'user.name': 'bob',
      decision: 'denied',
      host: '10.1.2.3',
      status: '403',
    });
  });
});
