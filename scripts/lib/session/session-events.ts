// The events the host emits about a session (not the session's own telemetry): written by the host's recorder,
// sent to the collector's own port, so no session can forge or suppress them.
import { eventRequest } from '../sinks/otlp.ts';

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
  const user: Record<string, string> = o.user ? { 'user.name': o.user } : {};
  return eventRequest({
    resource: { 'service.name': 'claude-code-session', ...user },
    scope: 'claude_code_telemetry.session_recorder',
    name: 'claude_code_telemetry.session_limit',
    timeMs: o.timeMs,
    severity: { number: 13, text: 'WARN' },
    attributes: {
      'session.id': o.sessionId,
      ...user,
      limit: o.kind,
      message: `the session was ended by ${o.description}`,
      'telemetry.source': o.source ?? 'observed',
    },
  });
}
