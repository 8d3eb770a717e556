// The global setup of every project whose specs share one stack (`e2e` on the single-host topology,
// `e2e-scaled` on the scaled one): the images (built here when missing), then the whole stack brought up ONCE
// with testcontainers from the same compose files users run plus specs/compose.e2e.yaml
// (scripts/lib/testing/ephemeral-stack.ts), on folders of its own. A warm-up session must reach every sink before
// any spec starts. Teardown always removes the containers, volumes and folders; when a spec failed it writes the
// containers' logs to test-results/<lane>-container-logs.txt and prints only their last lines and the path (a CI
// log flooded with every container's output hides the failure); and it fails when the run left anything of its
// own in the local stack's folders (listed here before it started).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { repoRoot } from '../../scripts/lib/repo-root.ts';
import { waitForSessionInSinks } from '../../scripts/lib/sinks/session-sinks.ts';
import {
  runSessionIn,
  type StackTopology,
  startEphemeralStack,
} from '../../scripts/lib/testing/ephemeral-stack.ts';
import { imagesReady } from '../../scripts/lib/testing/images-ready.ts';
import { leftBySpecs, listFolders, localStackFolders, stackFolders } from './local-stack-folders.ts';
import type { StackInfo } from './stack.ts';

/** How many of the containers' last log lines a failed run prints, and how much of each (the rest is in the file). */
const PRINTED_LOG_LINES = 20;
const PRINTED_LINE_CHARS = 300;
/** How long the warm-up session may take to reach every sink, per topology (the scaled one has more hops). */
const WARMUP_SINKS_MS: Record<StackTopology, number> = { single: 60_000, scaled: 180_000 };

/**
 * A global setup for one shared stack of `topology`; `lane` names its log lines and its container-log file.
 * Returns the teardown.
 */
export async function sharedStackSetup(
  project: TestProject,
  lane: string,
  topology: StackTopology,
): Promise<() => Promise<void>> {
  await imagesReady(`${lane} setup`);
  const local = localStackFolders();
  const localBefore = listFolders(local);
  const stack = await startEphemeralStack({
    topology,
    progress: (line) => console.log(`${lane} setup: ${line}`),
  });
  console.log(
    `${lane} setup: ${topology} stack ${stack.project} healthy in ${(stack.startMs / 1000).toFixed(1)} s`,
  );
  const teardown = async () => {
    if (existsSync(stack.failureMarker)) {
      const logs = await stack.logs();
      const dir = join(repoRoot, 'test-results');
      const file = join(dir, `${lane}-container-logs.txt`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, logs);
      const lines = logs.trimEnd().split('\n');
      console.log(
        `${lane} teardown: a spec failed; the containers' logs (${lines.length} lines) are in ${file}; the last ` +
          `${Math.min(PRINTED_LOG_LINES, lines.length)}:\n${lines
            .slice(-PRINTED_LOG_LINES)
            .map((l) =>
              l.length > PRINTED_LINE_CHARS ? `${l.slice(0, PRINTED_LINE_CHARS)} … (${l.length} chars)` : l,
            )
            .join('\n')}`,
      );
    }
    // Before down(): the specs' folders are gone after it.
    const left = leftBySpecs(localBefore, listFolders(local), listFolders(stackFolders(stack.composeEnv)));
    await stack.down();
    console.log(`${lane} teardown: stack ${stack.project} removed with its volumes and ${stack.dataDir}`);
    if (left.length)
      throw new Error(
        `${lane} teardown: the specs left ${left.length} entries in the local stack's folders: ${left.join(', ')}`,
      );
  };
  let warmupSession: string;
  try {
    // Warm-up: one scripted session, and every sink must hold it before the specs start.
    const warm = await runSessionIn(stack, { script: 'demo', user: 'warmup' });
    if (warm.exitCode !== 0)
      throw new Error(`warm-up session failed (exit ${warm.exitCode}):\n${warm.output.slice(-2000)}`);
    const t0 = Date.now();
    await waitForSessionInSinks(warm.plan.sessionId, stack, WARMUP_SINKS_MS[topology]);
    console.log(
      `${lane} setup: warm-up session ${warm.plan.sessionId} in every sink ${Date.now() - t0} ms after it ended`,
    );
    warmupSession = warm.plan.sessionId;
  } catch (err) {
    writeFileSync(stack.failureMarker, 'warm-up');
    await teardown();
    throw err;
  }
  const { startMs: _, logs: __, down: ___, ...shared } = stack;
  const info: StackInfo = { ...shared, warmupSession };
  project.provide('stack', info);
  project.provide('localStackBefore', localBefore);
  return teardown;
}
