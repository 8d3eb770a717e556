// The one HTTP client of the sink clients (Prometheus, Jaeger; and the host's own events to the collector): bounded in time, abortable, and failing with an error
// that names the backend, where it was asked, and why: "Jaeger unreachable at http://127.0.0.1:16686 (no answer
// within 5000 ms)", "Prometheus answered 400 Bad Request to /api/v1/query: parse error ...".

export interface RequestOptions {
  /** Per request (default 5000 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function getJson<T>(backend: string, url: string, o: RequestOptions = {}): Promise<T> {
  return (await get(backend, url, o)).json() as Promise<T>;
}

/** The body as text (VictoriaLogs answers queries with JSON lines). */
export async function getText(backend: string, url: string, o: RequestOptions = {}): Promise<string> {
  return (await get(backend, url, o)).text();
}

/** POSTs a JSON body (the host's own events to the collector); fails like a GET. */
export async function postJson(
  backend: string,
  url: string,
  body: unknown,
  o: RequestOptions = {},
): Promise<void> {
  await get(backend, url, o, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function get(
  backend: string,
  url: string,
  o: RequestOptions,
  init: RequestInit = {},
): Promise<Response> {
  const timeoutMs = o.timeoutMs ?? 5000;
  let res: Response;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    res = await fetch(url, { ...init, signal: o.signal ? AbortSignal.any([timeout, o.signal]) : timeout });
  } catch (err) {
    o.signal?.throwIfAborted();
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new Error(`${backend} unreachable at ${new URL(url).origin} (${why})`);
  }
  if (!res.ok) {
    // Prometheus explains a refusal in its JSON body ({"status":"error","error":"..."}), VictoriaLogs in plain
    // text: keep that.
    const body = await res.text().catch(() => '');
    let detail = '';
    try {
      const error = (JSON.parse(body) as { error?: string }).error;
      if (error) detail = `: ${error}`;
    } catch {
      if (body.trim()) detail = `: ${body.trim().slice(0, 300)}`;
    }
    throw new Error(
      `${backend} answered ${res.status} ${res.statusText} to ${new URL(url).pathname}${detail}`,
    );
  }
  return res;
}
