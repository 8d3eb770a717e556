// One image build run: where it reports, what it learns once (the Go toolchain's version), and the environment of
// every Go build. Its own module so the context parts and the Prometheus build both lean on it without importing
// each other (context-parts.ts calls prometheus-module.ts; neither is imported back).
import { $, which } from 'zx';
import type { Log } from '../progress.ts';

/** The environment of every Go build here (also `pnpm bench load`'s telemetrygen): static binaries, go.mod as is. */
export const goEnv = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };

/** What one build run learns once (the Go toolchain's version) and where it reports. */
export interface BuildRun {
  log: Log;
  goVersion?: string;
}

/** The Go toolchain's version (`go env GOVERSION`), asked once per run; an error says how to install Go. */
export async function goVersion(run: BuildRun): Promise<string> {
  if (run.goVersion) return run.goVersion;
  if (!(await which('go', { nothrow: true }))) {
    throw new Error(
      'Go is needed to build the collector, Jaeger and the healthcheck probe, and `go` is not on PATH: install Go >= 1.24 (Debian trixie: apt-get install golang-go)',
    );
  }
  run.goVersion = (await $({ quiet: true })`go env GOVERSION`).stdout.trim();
  return run.goVersion;
}
