// The collectors `pnpm bench load` measures, seen from the host: a collector container's published ports, its
// process's peak memory (the kernel's high-water mark, VmHWM, which is exact where sampling would miss a spike),
// the memory limiter's bound it logged at start, its own accepted-spans counter, and the no-op collector: the
// same image with stack/otel-collector/bench-noop.yaml, every port published on 127.0.0.1 only.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { repoRoot } from '../repo-root.ts';
import { getText } from '../sinks/http-json.ts';
import { waitFor } from '../wait-for.ts';

const q = $({ quiet: true });

/** The host port Docker published a container port on; an error naming both when it did not, or not on 127.0.0.1. */
export async function publishedPort(container: string, port: number): Promise<number> {
  const out = (await q`docker port ${container} ${`${port}/tcp`}`).stdout.trim().split('\n');
  const loopback = out.map((l) => /^127\.0\.0\.1:(\d+)$/.exec(l.trim())).find(Boolean);
  if (!loopback?.[1] || out.some((l) => !l.startsWith('127.0.0.1:')))
    throw new Error(`${container}: port ${port} is not published on 127.0.0.1 only (docker port: ${out})`);
  return Number(loopback[1]);
}

/** The host pid of a container's main process (the collector runs as pid 1 in its container). */
export async function containerPid(container: string): Promise<number> {
  const pid = Number((await q`docker inspect --format {{.State.Pid}} ${container}`).stdout.trim());
  if (!(pid > 0)) throw new Error(`${container} is not running (docker inspect: pid ${pid})`);
  return pid;
}

/**
 * A process's peak resident memory in bytes since start or the last reset (VmHWM); undefined when its /proc entry
 * is not readable from here (Docker running in a VM).
 */
export function peakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time a process (all its threads) has used, in seconds (utime + stime of /proc/<pid>/stat, in the kernel's
 * USER_HZ ticks of 10 ms); undefined when not readable from here.
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a new peak (VmHWM := current RSS); false when not allowed (not root nor the owner): peaks then add up. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** What the memory limiter said at start: its hard limit, and what it was derived from. */
export async function memoryLimiterBound(container: string): Promise<string> {
  const r = await $({ quiet: true, nothrow: true })`docker logs ${container}`;
  const logs = r.stdout + r.stderr;
  const limit = /Memory limiter configured.*?"limit_mib": (\d+).*?"spike_limit_mib": (\d+)/.exec(logs);
  if (!limit) return `not found in ${container}'s log`;
  const pct = /Using percentage memory limiter.*?"total_memory_mib": (\d+), "limit_percentage": (\d+)/.exec(
    logs,
  );
  const from = pct ? ` (${pct[2]} % of ${pct[1]} MiB)` : '';
  return `${limit[1]} MiB${from}, refusing from ${Number(limit[1]) - Number(limit[2])} MiB (spike ${limit[2]} MiB)`;
}

/** The collector's otelcol_receiver_accepted_spans over OTLP gRPC, from its own metrics endpoint (:8888). */
export async function acceptedSpans(metricsUrl: string): Promise<number> {
  const text = await getText('collector metrics', metricsUrl);
  let sum = 0;
  for (const m of text.matchAll(/^otelcol_receiver_accepted_spans(?:_total)?\{([^}]*)\} (\S+)$/gm))
    if (m[1]?.includes('transport="grpc"')) sum += Number(m[2]);
  return sum;
}

export interface NoopCollector {
  container: string;
  /** host:port of its OTLP gRPC receiver. */
  otlpGrpc: string;
  metricsUrl: string;
  remove(): Promise<void>;
}

export const NOOP_CONFIG = join(repoRoot, 'stack/otel-collector/bench-noop.yaml');

/**
 * The collector image with only a no-op exporter behind its receiver and processors, under the stack collector's
 * memory limit (`memory`, e.g. 512m: its memory limiter sizes itself from it); ready once its health check answers.
 */
export async function startNoopCollector(image: string, memory: string): Promise<NoopCollector> {
  const container = `cct-bench-noop-${randomBytes(4).toString('hex')}`;
  const remove = async () => {
    await $({ quiet: true, nothrow: true })`docker rm -f -v ${container}`;
  };
  try {
    await q`docker run -d --name ${container} --memory ${memory} -p 127.0.0.1::4317 -p 127.0.0.1::8888 -p 127.0.0.1::13133 -v ${`${NOOP_CONFIG}:/etc/otelcol/config.yaml:ro`} ${image} --config=/etc/otelcol/config.yaml`;
    const health = await publishedPort(container, 13133);
    await waitFor(
      `${container} (${image}, no-op exporter) not healthy on 127.0.0.1:${health}`,
      async () => ((await getText('no-op collector', `http://127.0.0.1:${health}/`)) ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    return {
      container,
      otlpGrpc: `127.0.0.1:${await publishedPort(container, 4317)}`,
      metricsUrl: `http://127.0.0.1:${await publishedPort(container, 8888)}/metrics`,
      remove,
    };
  } catch (err) {
    await remove();
    throw err;
  }
}
