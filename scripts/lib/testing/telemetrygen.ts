// telemetrygen, the OpenTelemetry load generator, for `pnpm bench load`: built on the host from its Go module
// (pinned in stack/versions.env) into .cache/go/bin, and run for an exact number of spans at a given rate.
// Its traces: each worker makes `traces` traces of one parent and `childSpans` children, and waits its rate
// limiter (`--rate`, per worker) before every span, so spans per second = workers x rate.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { goEnv } from '../images/build-run.ts';
import { type Log, withProgress } from '../progress.ts';
import { repoRoot } from '../repo-root.ts';
import { readEnvFile, required } from '../stack/env-file.ts';
import { envFiles } from '../stack/stack-files.ts';

export const TELEMETRYGEN_MODULE =
  'github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen';

export function telemetrygenVersion(): string {
  return required(readEnvFile(envFiles.versions), 'TELEMETRYGEN_VERSION');
}

/** The binary, built with `go install` when missing (cold: a minute or two). */
export async function ensureTelemetrygen(log: Log): Promise<string> {
  const version = telemetrygenVersion();
  const gobin = join(repoRoot, '.cache', 'go', 'bin', `telemetrygen-v${version}`);
  const bin = join(gobin, 'telemetrygen');
  if (existsSync(bin)) return bin;
  log(`building telemetrygen v${version} from its Go module into ${gobin}`);
  const started = Date.now();
  await withProgress(
    `go install ${TELEMETRYGEN_MODULE}@v${version}`,
    () =>
      $({
        quiet: true,
        env: { ...goEnv, GOBIN: gobin },
        timeout: '15m',
      })`go install -trimpath ${`${TELEMETRYGEN_MODULE}@v${version}`}`,
    log,
  );
  if (!existsSync(bin))
    throw new Error(`go install ${TELEMETRYGEN_MODULE}@v${version} did not produce ${bin}`);
  log(`built telemetrygen v${version} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return bin;
}

export interface TraceLoad {
  /** host:port of an OTLP gRPC receiver (plain text). */
  endpoint: string;
  service: string;
  workers: number;
  /** Spans per second, per worker. */
  ratePerWorker: number;
  /** Traces per worker. */
  traces: number;
  childSpans: number;
  /** Spans per export request (the SDK's batch span processor; its queue holds 2048 and drops beyond). */
  batchSize: number;
}

/** Spans one load makes: telemetrygen makes at least one child per trace. */
export const loadSpans = (l: Pick<TraceLoad, 'workers' | 'traces' | 'childSpans'>): number =>
  l.workers * l.traces * (1 + Math.max(1, l.childSpans));

export interface LoadRun {
  exitCode: number;
  wallMs: number;
  /** Lines telling of a failed export or a refusal (the SDK's error handler, zap's ERROR/WARN lines). */
  errors: string[];
  output: string;
}

// A failed export: the OTel Go SDK's error handler prints it with Go's standard logger ("2026/11/25 15:15:02
// traces export: ..."); telemetrygen's own zap lines have a level column. gRPC's connection chatter (grpc_log)
// mentions "error" on every normal close and is left out: a failed connection fails an export, reported above.
const ERROR_LINE = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d |\t(ERROR|DPANIC|PANIC|FATAL)\t|\tWARN\t(?!.*grpc_log)/;

/** Runs one load to its end, killed after `timeoutMs`; never throws for a failed run (see exitCode, errors). */
export async function runTraceLoad(bin: string, l: TraceLoad, timeoutMs: number): Promise<LoadRun> {
  const args = [
    'traces',
    '--otlp-endpoint',
    l.endpoint,
    '--otlp-insecure',
    '--service',
    l.service,
    '--workers',
    String(l.workers),
    '--rate',
    String(l.ratePerWorker),
    '--traces',
    String(l.traces),
    '--child-spans',
    String(l.childSpans),
    '--batch-size',
    String(l.batchSize),
  ];
  const started = Date.now();
  const r = await $({ quiet: true, nothrow: true, timeout: timeoutMs })`${bin} ${args}`;
  const output = r.stderr + r.stdout;
  return {
    exitCode: r.exitCode ?? -1,
    wallMs: Date.now() - started,
    errors: output.split('\n').filter((line) => ERROR_LINE.test(line)),
    output,
  };
}
