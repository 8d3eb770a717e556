// One line of the egress proxy's access log (squid.conf's `egress` logformat) and the event it becomes:
//   %ts.%03tu %un %>a %rm %ru %>Hs %Ss %<a
//   1764403200.123 alice+7c0e8d5e-6a0b-4a43-9d0e-2f8b6c1d9a11 172.20.0.5 CONNECT api.anthropic.com:443 200 TCP_TUNNEL 160.79.104.10
// The proxy user name is USER+SESSION_ID (pnpm session sets it in the session's proxy URL).

export interface EgressAttempt {
  timeMs: number;
  user: string | null;
  sessionId: string | null;
  client: string;
  method: string;
  /** The URL, or host:port for CONNECT. */
  target: string;
  host: string;
  status: number;
  squidStatus: string;
  decision: 'allowed' | 'denied';
}

const SESSION = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseAccessLine(line: string): EgressAttempt | null {
  const f = line.trim().split(/\s+/);
  if (f.length < 7) return null;
  const [ts, un, client, method, target, status, squidStatus] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const timeMs = Math.round(Number(ts) * 1000);
  if (!Number.isFinite(timeMs)) return null;
  let user: string | null = null;
  let sessionId: string | null = null;
  const name = un === '-' ? '' : decodeURIComponent(un);
  const plus = name.lastIndexOf('+');
  if (plus > 0 && SESSION.test(name.slice(plus + 1))) {
    user = name.slice(0, plus);
    sessionId = name.slice(plus + 1);
  } else if (SESSION.test(name)) sessionId = name;
  else if (name) user = name;
  let host = target;
  try {
    host = method === 'CONNECT' ? (target.split(':')[0] ?? target) : new URL(target).hostname;
  } catch {}
  const code = Number(status);
  const denied = squidStatus.startsWith('TCP_DENIED') || code === 403 || code === 407;
  return {
    timeMs,
    user,
    sessionId,
    client,
    method,
    target,
    host,
    status: code,
    squidStatus,
    decision: denied ? 'denied' : 'allowed',
  };
}

/** The attempts as one OTLP/HTTP JSON logs request: claude_code_telemetry.egress events with the session's id. */
export function egressLogsRequest(attempts: EgressAttempt[]): unknown {
  const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
  return {
    resourceLogs: [
      {
        resource: { attributes: [str('service.name', 'egress-proxy')] },
        scopeLogs: [
          {
            scope: { name: 'claude_code_telemetry.egress_proxy' },
            logRecords: attempts.map((a) => {
              const nanos = `${BigInt(a.timeMs) * 1_000_000n}`;
              return {
                timeUnixNano: nanos,
                observedTimeUnixNano: nanos,
                severityNumber: a.decision === 'denied' ? 13 : 9,
                severityText: a.decision === 'denied' ? 'WARN' : 'INFO',
                body: { stringValue: 'claude_code_telemetry.egress' },
                attributes: [
                  str('event.name', 'claude_code_telemetry.egress'),
                  ...(a.sessionId ? [str('session.id', a.sessionId)] : []),
                  ...(a.user ? [str('user.name', a.user)] : []),
                  str('decision', a.decision),
                  str('method', a.method),
                  str('host', a.host),
                  str('target', a.target),
                  { key: 'status', value: { intValue: String(a.status) } },
                  str('squid_status', a.squidStatus),
                  str('client.address', a.client),
                ],
              };
            }),
          },
        ],
      },
    ],
  };
}
