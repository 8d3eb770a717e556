// The events the host emits about a session (not the session's own telemetry): written by the host's recorder,
// sent to the collector's own port, so no session can forge or suppress them.

/**
 * The event that says a limit ended the session, as an OTLP/HTTP JSON logs request: the same session.id and
 * user.name as Claude Code's own events, so it lands beside them in every sink and in the session's archive.
 */
export function limitEventRequest(o: {
  sessionId: string;
  user: string | null;
  kind: 'time' | 'memory' | 'processes';
  description: string;
  /** Whether the host saw the limit, or only the session's wrapper reported it. */
  source?: 'observed' | 'reported';
  timeMs: number;
}): unknown {
  const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
  const nanos = `${BigInt(o.timeMs) * 1_000_000n}`;
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            str('service.name', 'claude-code-session'),
            ...(o.user ? [str('user.name', o.user)] : []),
          ],
        },
        scopeLogs: [
          {
            scope: { name: 'claude_code_telemetry.session_recorder' },
            logRecords: [
              {
                timeUnixNano: nanos,
                observedTimeUnixNano: nanos,
                severityNumber: 13,
                severityText: 'WARN',
                body: { stringValue: 'claude_code_telemetry.session_limit' },
                attributes: [
                  str('event.name', 'claude_code_telemetry.session_limit'),
                  str('session.id', o.sessionId),
                  ...(o.user ? [str('user.name', o.user)] : []),
                  str('limit', o.kind),
                  str('message', `the session was ended by ${o.description}`),
                  str('telemetry.source', o.source ?? 'observed'),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}
