// What the specs share about the running stack (handed over by global-setup.ts with provide/inject), and how
// they run a scripted session in it with a fresh session id.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { repoRoot } from '../../scripts/lib/repo-root.ts';
import type { SessionOptions } from '../../scripts/lib/session-plan.ts';
import { runSession, type SessionOutcome } from '../../scripts/lib/session-run.ts';
import { type Expected, expectedTelemetry } from '../../stack/anthropic-replay/src/expectations.ts';
import { parseSessionScript } from '../../stack/anthropic-replay/src/session-script.ts';

export interface StackInfo {
  project: string;
  override: string;
  prometheus: string;
  jaeger: string;
  otlpHttp: string;
  telemetryDir: string;
  sessionsDir: string;
  /** Interpolation values for `docker compose` (secrets included: never print them). */
  composeEnv: Record<string, string>;
  warmupSession: string;
  /** A file the failure hook writes, so the teardown prints the containers' logs. */
  failureMarker: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export const stack = (): StackInfo => inject('stack');

export function expectedFor(script: string): Expected {
  const file = join(repoRoot, 'fixtures/sessions', `${script}.json`);
  return expectedTelemetry(parseSessionScript(script, readFileSync(file, 'utf8')));
}

/** Runs one session in the e2e stack (quiet: its output is in the returned outcome and its session log). */
export function runStackSession(
  s: StackInfo,
  o: SessionOptions,
  extraEnv?: Record<string, string>,
): Promise<SessionOutcome> {
  return runSession(o, {
    extraEnv,
    project: s.project,
    overrides: [s.override],
    composeEnv: s.composeEnv,
    sessionsDir: s.sessionsDir,
    quiet: true,
  });
}
