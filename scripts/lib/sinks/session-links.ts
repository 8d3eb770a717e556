// Where a person looks at a session in the running stack: the VictoriaLogs UI on the session's events, on the
// host port the stack publishes (stack/host-urls.ts).
import { hostUrls } from '../stack/host-urls.ts';
import { sessionFilter, vlUiUrl } from './victorialogs.ts';

/** The session's events, oldest first, in the VictoriaLogs UI. */
export const sessionEventsUrl = (sessionId: string, env: NodeJS.ProcessEnv = process.env): string =>
  vlUiUrl(hostUrls(env).victorialogs, `${sessionFilter(sessionId)} | sort by (_time)`);
