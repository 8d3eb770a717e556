// The scripted Messages API server. Routes:
//   HEAD / or /scripts/{name}               Claude Code's preflight
//   GET  /health                            scripts loaded and refused
//   POST /v1/messages                       plays the default script (REPLAY_DEFAULT_SCRIPT)
//   POST /scripts/{name}/v1/messages        plays script {name} (ANTHROPIC_BASE_URL=http://host/scripts/{name})
// Each Claude Code session (x-claude-code-session-id) plays its script from the first turn, then on through the
// turns of its continuations (the --resume / --continue runs of the same conversation). Anything else is a
// clear error response and a log line, never a hang. Logs never hold keys or tokens: only allow-listed headers.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeSse, errorBody, messageJson, sseEvents } from './messages.ts';
import {
  API_ERRORS,
  fillTurn,
  isErrorTurn,
  type LoadedScripts,
  playedTurns,
  type SessionScript,
} from './session-script.ts';

export interface ReplayOptions {
  /** The scripts, or a function giving them as they are now (watchSessionScripts: new files play at once). */
  loaded: LoadedScripts | (() => LoadedScripts);
  defaultScript?: string;
  host?: string;
  port?: number;
  log?: (entry: Record<string, unknown>) => void;
}

const MAX_BODY = 32 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new Error(`request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  if (typeof parsed !== 'object' || parsed === null) throw new Error('request body is not a JSON object');
  return parsed as Record<string, unknown>;
}

export function createReplayServer(o: ReplayOptions) {
  const log = o.log ?? ((e) => process.stdout.write(`${JSON.stringify(e)}\n`));
  /** Next turn index per (script, session). */
  const progress = new Map<string, number>();
  let requestCount = 0;

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://replay');
    let loaded: LoadedScripts;
    try {
      loaded = typeof o.loaded === 'function' ? o.loaded() : o.loaded;
    } catch (err) {
      send(res, 500, errorBody('api_error', `the session scripts cannot be read: ${(err as Error).message}`));
      return;
    }
    const sessionHeader = req.headers['x-claude-code-session-id'];
    const session = typeof sessionHeader === 'string' ? sessionHeader.slice(0, 128) : 'no-session';
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      method: req.method,
      path: url.pathname,
      session,
    };
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      log({
        ...entry,
        status,
        ...(status >= 400 ? { error: (body as { error?: { message?: string } }).error?.message } : {}),
      });
      send(res, status, body, headers);
    };

    // Claude Code's preflight: HEAD on the base URL (with or without a script prefix).
    if (req.method === 'HEAD' && /^(\/scripts\/[A-Za-z0-9._-]+)?\/?$/.test(url.pathname)) {
      res.writeHead(200).end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/health') {
      send(res, 200, {
        status: 'ok',
        scripts: [...loaded.scripts.keys()],
        invalid: Object.fromEntries(loaded.invalid),
      });
      return;
    }
    const m = /^(?:\/scripts\/([A-Za-z0-9._-]+))?\/v1\/messages$/.exec(url.pathname);
    if (!m || req.method !== 'POST') {
      reply(
        404,
        errorBody(
          'not_found_error',
          `no route ${req.method} ${url.pathname}: this server answers POST /v1/messages, POST /scripts/{name}/v1/messages and HEAD /`,
        ),
      );
      return;
    }
    const name = m[1] ?? o.defaultScript;
    entry.script = name;
    if (!name) {
      reply(
        400,
        errorBody(
          'invalid_request_error',
          'no script chosen: use ANTHROPIC_BASE_URL=http://host/scripts/{name} or set REPLAY_DEFAULT_SCRIPT',
        ),
      );
      return;
    }
    const invalid = loaded.invalid.get(name);
    if (invalid) {
      reply(500, errorBody('api_error', invalid));
      return;
    }
    const script: SessionScript | undefined = loaded.scripts.get(name);
    if (!script) {
      // 400, not 404: Claude Code reports a 404 as a model that may not exist, which would mislead.
      reply(
        400,
        errorBody(
          'invalid_request_error',
          `no session script named ${name}: add fixtures/sessions/${name}.json (have: ${[...loaded.scripts.keys()].join(', ')})`,
        ),
      );
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = await readJson(req);
    } catch (err) {
      reply(400, errorBody('invalid_request_error', (err as Error).message));
      return;
    }
    const key = `${name}\u0000${session}`;
    const index = progress.get(key) ?? 0;
    entry.turn = index + 1;
    entry.stream = body.stream === true;
    const all = playedTurns(script);
    const scripted = all[index];
    if (!scripted) {
      reply(
        400,
        errorBody(
          'invalid_request_error',
          `session script ${name} has ${all.length} turn(s) and all were played for session ${session}: request ${index + 1} has no answer`,
        ),
      );
      return;
    }
    progress.set(key, index + 1);
    const turn = isErrorTurn(scripted) ? scripted : fillTurn(scripted, { session_id: session });
    const requestId = `req_replay_${++requestCount}_${randomBytes(4).toString('hex')}`;
    if (isErrorTurn(turn)) {
      const { type, message } = API_ERRORS[turn.error.status];
      const headers: Record<string, string> = { 'request-id': requestId };
      if (turn.error.status === 429) headers['retry-after'] = '1';
      if (turn.error.status === 529 || turn.error.status === 500) headers['x-should-retry'] = 'true';
      reply(turn.error.status, errorBody(type, turn.error.message ?? message), headers);
      return;
    }
    if (turn.delay_ms) await new Promise((r) => setTimeout(r, turn.delay_ms));
    const ids = {
      messageId: `msg_replay_${requestCount}_${randomBytes(6).toString('hex')}`,
      toolUseIds: turn.content
        .filter((b) => b.type === 'tool_use')
        .map(() => `toolu_replay_${randomBytes(8).toString('hex')}`),
    };
    const model = typeof body.model === 'string' && body.model ? body.model : script.model;
    if (body.stream === true) {
      log({ ...entry, status: 200, requestId });
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'request-id': requestId,
      });
      res.end(encodeSse(sseEvents(turn, model, ids)));
      return;
    }
    log({ ...entry, status: 200, requestId });
    send(res, 200, messageJson(turn, model, ids), { 'request-id': requestId });
  });

  return {
    server,
    async listen(): Promise<string> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
      });
      const a = server.address() as AddressInfo;
      return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
