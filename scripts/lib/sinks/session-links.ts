// Where a person looks at a session in the running stack: the VictoriaLogs UI on the session's events, on the
// host port the stack publishes (127.0.0.1, VICTORIALOGS_PORT, default 9428).
import { sessionFilter, vlUiUrl } from './victorialogs.ts';

export const victoriaLogsBase = (env: NodeJS.ProcessEnv = process.env): string =>
  `http://127.0.0.1:${env.VICTORIALOGS_PORT ?? '9428'}`;

/** The session's events, oldest first, in the VictoriaLogs UI. */
export const sessionEventsUrl = (sessionId: string, env: NodeJS.ProcessEnv = process.env): string =>
  vlUiUrl(victoriaLogsBase(env), `${sessionFilter(sessionId)} | sort by (_time)`);
