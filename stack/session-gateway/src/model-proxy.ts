// The model route: a verified session's Messages API request, admitted by its budgets, sent upstream with the
// gateway's key (never the session's credential), and the answer passed back as it comes: status and headers
// unchanged (429/529 with retry-after reach Claude Code as from the API), headers flushed at once, each body chunk
// written to the client when it arrives while a parser reads the usage from the same bytes. A client that goes
// away aborts the upstream request. Each request ends as one record (SQLite) and one OTLP event.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionIdentity } from '@claude-code-telemetry/mcp-common/session-credential';
import type { Dispatcher } from 'undici';
import type { BudgetStore, Finished } from './budgets.ts';
import { priceOf } from './pricing.ts';
import { emptyUsage, usageParserFor } from './usage.ts';
import type { EventExporter } from './usage-event.ts';

export interface ProxyOptions {
  /** The API's base URL (its path, if any, is put before the request's path). */
  upstream: URL;
  dispatcher: Dispatcher;
  /** The upstream key, sent as x-api-key; none when undefined (the scripted API needs none). */
  apiKey?: string;
  maxBodyBytes: number;
  maxStreams: number;
  budgets: BudgetStore;
  events: EventExporter;
  /** Upstream failures, by kind (the server's bounded log). */
  note: (kind: string, line: string) => void;
  now?: () => number;
}

/** Request headers never sent upstream: hop-by-hop, the client's credentials, and what undici sets itself. */
const DROP_REQUEST = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'content-length',
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'cookie',
  // Asked as identity so the usage can be read from the bytes (a gzip stream could not be).
  'accept-encoding',
]);
const DROP_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
]);

const named = (v: string | string[] | undefined) =>
  new Set(
    (Array.isArray(v) ? v.join(',') : (v ?? ''))
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );

export function upstreamHeaders(
  headers: IncomingMessage['headers'],
  apiKey: string | undefined,
): Record<string, string | string[]> {
  const listed = named(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined && !DROP_REQUEST.has(k) && !listed.has(k)) out[k] = v;
  out['accept-encoding'] = 'identity';
  if (apiKey) out['x-api-key'] = apiKey;
  return out;
}

export function clientHeaders(headers: Record<string, string | string[] | undefined>) {
  const listed = named(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined && !DROP_RESPONSE.has(k) && !listed.has(k)) out[k] = v;
  return out;
}

export function apiError(res: ServerResponse, status: number, type: string, message: string, headers = {}) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ type: 'error', error: { type, message } }));
}

class TooLarge extends Error {}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new TooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) throw new TooLarge();
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function modelProxy(o: ProxyOptions) {
  const now = o.now ?? (() => performance.timeOrigin + performance.now());
  const basePath = o.upstream.pathname.replace(/\/$/, '');
  let streams = 0;

  return async function proxy(req: IncomingMessage, res: ServerResponse, who: SessionIdentity) {
    const t0 = now();
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const attempt = Number(req.headers['x-stainless-retry-count'] ?? 0) || 0;
    const record = (f: Finished) =>
      o.events.emit({
        ...f,
        time: Date.now(),
        user: who.user,
        sessionId: who.sessionId,
        ...(who.project ? { project: who.project } : {}),
        ...(who.branch ? { branch: who.branch } : {}),
        path,
        attempt,
      });
    const blank = {
      requestId: null,
      model: null,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      costUsd: 0,
      priceKnown: true,
      ttfbMs: null,
    };

    if (streams >= o.maxStreams) {
      apiError(
        res,
        529,
        'overloaded_error',
        `the session gateway has ${o.maxStreams} model streams open (GATEWAY_MAX_STREAMS): retry shortly`,
        { 'retry-after': '1' },
      );
      return;
    }
    const admitted = o.budgets.admit({ user: who.user, sessionId: who.sessionId, path, attempt });
    if (!admitted.ok) {
      apiError(res, 429, 'rate_limit_error', admitted.message, {
        'retry-after': String(admitted.retryAfterSeconds),
        'x-should-retry': 'false',
      });
      record({ ...blank, status: 429, durationMs: now() - t0, outcome: `budget:${admitted.budget}` });
      return;
    }
    streams++;
    const controller = new AbortController();
    let finished = false;
    const done = (f: Omit<Finished, 'durationMs'>) => {
      if (finished) return;
      finished = true;
      streams--;
      const full = { ...f, durationMs: now() - t0 };
      admitted.finish(full);
      record(full);
    };
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });

    let body: Buffer;
    try {
      body = await readBody(req, o.maxBodyBytes);
    } catch (err) {
      if (err instanceof TooLarge) {
        apiError(
          res,
          413,
          'request_too_large',
          `request body over the session gateway's limit of ${o.maxBodyBytes} bytes (GATEWAY_MAX_BODY_BYTES)`,
          { connection: 'close' },
        );
        done({ ...blank, status: 413, outcome: 'too-large' });
      } else done({ ...blank, status: 499, outcome: 'client-aborted' });
      return;
    }

    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await o.dispatcher.request({
        origin: o.upstream.origin,
        path: basePath + (req.url ?? '/'),
        method: 'POST',
        headers: upstreamHeaders(req.headers, o.apiKey),
        body,
        signal: controller.signal,
      });
    } catch (err) {
      if (controller.signal.aborted) {
        done({ ...blank, status: 499, outcome: 'client-aborted' });
        return;
      }
      const e = err as Error & { code?: string };
      o.note(
        'upstream-unreachable',
        `session-gateway: the model API at ${o.upstream.origin} failed: ${e.code ?? e.message}`,
      );
      apiError(
        res,
        502,
        'api_error',
        `the session gateway could not reach the model API (${e.code ?? e.message})`,
      );
      done({ ...blank, status: 502, outcome: 'upstream-unreachable' });
      return;
    }

    const headers = clientHeaders(upstream.headers);
    const requestId =
      String(upstream.headers['request-id'] ?? upstream.headers['x-request-id'] ?? '') || null;
    const parser = usageParserFor(upstream.headers['content-type'] as string | undefined);
    res.writeHead(upstream.statusCode, headers);
    res.flushHeaders();
    let ttfbMs: number | null = null;
    let outcome = 'ok';
    try {
      for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
        ttfbMs ??= now() - t0;
        if (!res.write(chunk))
          await new Promise<void>((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        parser?.push(chunk);
        if (res.destroyed) break;
      }
      res.end();
    } catch (err) {
      outcome = controller.signal.aborted ? 'client-aborted' : 'upstream-aborted';
      if (outcome === 'upstream-aborted')
        o.note(
          'upstream-aborted',
          `session-gateway: a response from the model API broke off: ${(err as Error).message}`,
        );
      res.destroy();
    }
    if (res.destroyed && outcome === 'ok' && !res.writableFinished) outcome = 'client-aborted';
    if (controller.signal.aborted) upstream.body.destroy();
    const usage = parser?.end() ?? emptyUsage();
    const price = priceOf(usage.model, usage);
    done({
      requestId,
      model: usage.model,
      status: upstream.statusCode,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cacheReadTokens: usage.cacheReadTokens,
      cacheCreationTokens: usage.cacheCreationTokens,
      costUsd: price.usd,
      // A response that carried no model and no tokens (an API error) costs nothing: that price is known.
      priceKnown:
        price.known ||
        (usage.model === null &&
          usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheCreationTokens === 0),
      ttfbMs,
      outcome,
    });
  };
}
