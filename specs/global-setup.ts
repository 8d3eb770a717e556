// e2e global setup: one single-host stack that the e2e specs share, and its warm-up session
// (support/stack-setup.ts, shared with the scaled project's scaled-setup.ts).
import type { TestProject } from 'vitest/node';
import { sharedStackSetup } from './support/stack-setup.ts';

export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return sharedStackSetup(project, 'e2e', 'single');
}
