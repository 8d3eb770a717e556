import { defineConfig } from 'vitest/config';

// Four projects: `unit` is fast and needs no Docker; `e2e` brings one stack up that its specs share (see specs/);
// `e2e-own-stack` holds the specs that start a stack of their own; `e2e-long` the ones whose sessions last many
// minutes, on a stack of their own too. `pnpm test` (scripts/test.ts) runs `e2e` in one lane, `unit` then
// `e2e-own-stack` in another and `e2e-long` in a third, at the same time; `pnpm test:unit` / `pnpm test:e2e` run one
// kind.

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
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['specs/**/*.spec.ts'],
          exclude: ['**/node_modules/**', ...OWN_STACK_SPECS, ...LONG_SPECS],
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
    ],
  },
});
