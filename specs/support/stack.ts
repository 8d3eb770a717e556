// What the specs share about the running stack (handed over by global-setup.ts with provide/inject), and how
// they run a scripted session in it with a fresh session id.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { repoRoot } from '../../scripts/lib/repo-root.ts';
import type { SessionOptions } from '../../scripts/lib/session/session-plan.ts';
import type { SessionOutcome } from '../../scripts/lib/session/session-run.ts';
import { type EphemeralStack, runSessionIn } from '../../scripts/lib/testing/ephemeral-stack.ts';
import { type Expected, expectedTelemetry } from '../../stack/anthropic-replay/src/expectations.ts';
import { parseSessionScript } from '../../stack/anthropic-replay/src/session-script.ts';

/** The ephemeral stack as the specs see it (what global-setup.ts provides), plus the warm-up session. */
export type StackInfo = Omit<EphemeralStack, 'startMs' | 'logs' | 'down'> & { warmupSession: string };

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
export const runStackSession = (
  e2eStack: StackInfo,
  options: SessionOptions,
  extraEnv?: Record<string, string>,
): Promise<SessionOutcome> => runSessionIn(e2eStack, options, extraEnv);
