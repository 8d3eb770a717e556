// e2e global setup: the stack's images (built here when missing), then the whole stack brought up ONCE with
// testcontainers from the same stack/compose.yaml users run plus specs/compose.e2e.yaml (scripts/lib/
// ephemeral-stack.ts), on folders of its own. A warm-up session must reach every sink before any spec starts.
// Teardown always removes the containers, volumes and folders, prints the containers' logs when a spec failed,
// and fails when the run left anything of its own in the local stack's folders (listed here before it started).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { runSessionIn, startEphemeralStack } from '../scripts/lib/testing/ephemeral-stack.ts';
import { imagesReady } from '../scripts/lib/testing/images-ready.ts';
import { leftBySpecs, listFolders, localStackFolders, stackFolders } from './support/local-stack-folders.ts';
import type { StackInfo } from './support/stack.ts';

export default async function setup(project: TestProject) {
  await imagesReady('e2e setup');
  const local = localStackFolders();
  const localBefore = listFolders(local);
  const stack = await startEphemeralStack();
  console.log(`e2e setup: stack ${stack.project} healthy in ${(stack.startMs / 1000).toFixed(1)} s`);
  const teardown = async () => {
    if (existsSync(stack.failureMarker)) {
      const logs = await stack.logs();
      const file = join(repoRoot, 'test-results', 'e2e-container-logs.txt');
      mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
      writeFileSync(file, logs);
      console.log(
        `e2e teardown: a spec failed; the containers' logs are in ${file}:\n${logs.split('\n').slice(-80).join('\n')}`,
      );
    }
    // Before down(): the specs' folders are gone after it.
    const left = leftBySpecs(localBefore, listFolders(local), listFolders(stackFolders(stack.composeEnv)));
    await stack.down();
    console.log(`e2e teardown: stack ${stack.project} removed with its volumes and ${stack.dataDir}`);
    if (left.length)
      throw new Error(
        `e2e teardown: the specs left ${left.length} entries in the local stack's folders: ${left.join(', ')}`,
      );
  };
  let warmupSession: string;
  try {
    // Warm-up: one scripted session, and all three sinks must hold it before the specs start.
    const warm = await runSessionIn(stack, { script: 'demo', user: 'warmup' });
    if (warm.exitCode !== 0)
      throw new Error(`warm-up session failed (exit ${warm.exitCode}):\n${warm.output.slice(-2000)}`);
    const t0 = Date.now();
    await waitForSessionInSinks(warm.plan.sessionId, stack, 60_000);
    console.log(
      `e2e setup: warm-up session ${warm.plan.sessionId} in every sink ${Date.now() - t0} ms after it ended`,
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
