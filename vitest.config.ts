import { defineConfig } from 'vitest/config';

// Five projects: `unit` is fast and needs no Docker; `e2e` brings one stack up that its specs share (see specs/);
// `e2e-own-stack` holds the specs that start a stack of their own; `e2e-long` the ones whose sessions last many
// minutes, on a stack of their own too; `e2e-scaled` brings one stack of the scaled topology up (agents, gateways,
// clustered stores) for its fault specs and the specs that must hold on both topologies. `pnpm test`
// (scripts/test.ts) runs `e2e` in one lane, `unit` then `e2e-own-stack` in another and `e2e-long` in a third, at the
// same time, and `e2e-scaled` after the first; `pnpm test:unit` / `pnpm test:e2e` / `pnpm test:scaled` run one kind.

/**
 * The specs that bring up a stack of their own (a crash, a full disk, a flood, a poisoned store must not touch the
 * stack the other specs share). One list: the e2e project leaves them out, e2e-own-stack takes exactly them, and
 * scripts/lib/testing/own-stack-specs.test.ts fails when a spec starts a stack without being on it.
 */
export const OWN_STACK_SPECS = [
  'specs/disk-full.spec.ts',
  'specs/faults.spec.ts',
  'specs/flood.spec.ts',
  'specs/jaeger-poison.spec.ts',
];

/**
 * The specs whose sessions last many minutes (the long session: over ten, mostly waiting on its scripted model),
 * each on a stack of its own: `pnpm test` runs them in a lane of their own, beside the others.
 */
export const LONG_SPECS = ['specs/long-session.spec.ts'];

/**
 * The specs that run on the scaled topology's shared stack: its own (specs/scaled/) and the single-host specs that
 * check a session in every sink, unchanged (issue 24: the same specs on both).
 */
export const SCALED_SPECS = [
  'specs/scaled/**/*.spec.ts',
  'specs/session-telemetry.spec.ts',
  'specs/concurrency.spec.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'scripts/**/*.test.ts',
            'stack/**/src/**/*.test.ts',
            'stack/*.test.ts',
            'stack/*/*.test.ts',
            'mcp-servers/*/src/**/*.test.ts',
            'fixtures/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: ['scripts/lib/testing/unit-tmpdir.ts'],
          environment: 'node',
          // `pnpm test:stress` runs this suite beside a busy loop per core: a test that spawns a shell or a server
          // can take seconds there, and Vitest's defaults (5 s a test, 10 s a hook) would measure the machine's
          // load, not the code (a unit test that spawns node-env.sh timed out at 5 s in a CI run). Tests that need
          // more say so.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['specs/**/*.spec.ts'],
          exclude: ['**/node_modules/**', 'specs/scaled/**', ...OWN_STACK_SPECS, ...LONG_SPECS],
          globalSetup: ['specs/global-setup.ts'],
          setupFiles: ['specs/support/failure-marker.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 900_000,
          // One stack per run: spec files share it, so they run one after another.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e-own-stack',
          include: OWN_STACK_SPECS,
          globalSetup: ['specs/own-stack-setup.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 900_000,
          // Each spec's stack is started and removed by the spec: one at a time beside the shared stack.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e-long',
          include: LONG_SPECS,
          globalSetup: ['specs/own-stack-setup.ts'],
          environment: 'node',
          testTimeout: 1_800_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e-scaled',
          include: SCALED_SPECS,
          globalSetup: ['specs/scaled-setup.ts'],
          setupFiles: ['specs/support/failure-marker.ts'],
          environment: 'node',
          // Jaeger over OpenSearch on two busy cores: one query may take seconds (scripts/lib/sinks/jaeger.ts).
          env: { JAEGER_QUERY_TIMEOUT_MS: '15000' },
          // A fault spec waits for a JVM to come back and a cluster to be green again, on two busy cores.
          testTimeout: 900_000,
          // The scaled stack may take 600 s to be healthy, then the warm-up session must reach every sink.
          hookTimeout: 1_200_000,
          // One stack per run, its faults included: spec files run one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
