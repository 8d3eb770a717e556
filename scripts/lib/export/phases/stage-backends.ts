// Export phase "fetch backends": per session, its traces from Jaeger (jaeger/<id>.json) and its Prometheus series
// over its window (prometheus/<id>.json). A backend that is down, slow, or missing part of the session makes the
// archive smaller, never silent: `missing` says what and why.
import type { JaegerTrace } from '../../sinks/jaeger.ts';
import { fetchJaegerTraces, fetchPrometheusRanges } from './backend-fetch.ts';
import { type Staging, writeJson } from './staging.ts';

export interface BackendTargets {
  /** Base URLs; null when the backend is not to be asked (it is then listed as missing). */
  jaeger: string | null;
  prometheus: string | null;
  timeoutMs?: number;
}

const spanCount = (traces: JaegerTrace[]) => traces.reduce((n, t) => n + t.spans.length, 0);

export async function stageBackends(
  st: Staging,
  b: BackendTargets,
  session: { id: string; window: { start: number; end: number }; traceIds: string[]; modelCalls: number },
): Promise<void> {
  const { id, window } = session;
  if (b.jaeger) {
    try {
      const traces = await fetchJaegerTraces(b.jaeger, id, window, session.traceIds, b.timeoutMs, st.signal);
      writeStaged(st, `jaeger/${id}.json`, traces, spanCount(traces.data));
      st.log(`jaeger: ${traces.data.length} trace(s), ${spanCount(traces.data)} span(s) for ${id}`);
    } catch (err) {
      const partial = (err as { partial?: { data: JaegerTrace[] } }).partial;
      if (partial) writeStaged(st, `jaeger/${id}.json`, partial, spanCount(partial.data));
      st.missing.push({
        what: `Jaeger trace${partial ? 's (some)' : ''} of session ${id}`,
        why: (err as Error).message,
      });
      st.log(`jaeger: MISSING for ${id}: ${(err as Error).message}`);
    }
  } else
    st.missing.push({ what: `Jaeger trace of session ${id}`, why: 'Jaeger was not asked (--no-jaeger)' });
  if (b.prometheus) {
    try {
      const ranges = await fetchPrometheusRanges(b.prometheus, id, window, b.timeoutMs, st.signal);
      const series = Object.values(ranges.metrics).reduce((n, m) => n + m.result.length, 0);
      writeStaged(st, `prometheus/${id}.json`, ranges, series);
      st.log(
        `prometheus: ${Object.keys(ranges.metrics).length} metric(s) over ${ranges.window.start} .. ${ranges.window.end} for ${id}`,
      );
      if (!Object.keys(ranges.metrics).length && session.modelCalls)
        st.missing.push({
          what: `Prometheus series of session ${id}`,
          why: 'Prometheus holds none (retention, or scraped before the session ended)',
        });
    } catch (err) {
      st.missing.push({ what: `Prometheus metrics of session ${id}`, why: (err as Error).message });
      st.log(`prometheus: MISSING for ${id}: ${(err as Error).message}`);
    }
  } else
    st.missing.push({
      what: `Prometheus metrics of session ${id}`,
      why: 'Prometheus was not asked (--no-prometheus)',
    });
}

function writeStaged(st: Staging, path: string, value: unknown, records: number): void {
  writeJson(st, path, value);
  st.recordCounts.set(path, records);
}
