// e2e-scaled global setup: one stack of the scaled topology (stack/compose.scaled.yaml: agents, gateways,
// OpenSearch, a VictoriaLogs cluster, the S3 gateway) that the scaled project's specs share, and its warm-up
// session, provided exactly as the e2e project's `stack` so the shared specs run on it unchanged
// (support/stack-setup.ts).
import type { TestProject } from 'vitest/node';
import { sharedStackSetup } from './support/stack-setup.ts';

export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return sharedStackSetup(project, 'scaled', 'scaled');
}
