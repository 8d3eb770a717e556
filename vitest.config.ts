import { defineConfig } from 'vitest/config';

// Two projects: `unit` is fast and needs no Docker; `e2e` brings the stack up (see specs/).
// `pnpm test` runs both; `pnpm test:unit` / `pnpm test:e2e` run one.
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
          globalSetup: ['specs/global-setup.ts'],
          setupFiles: ['specs/support/failure-marker.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 900_000,
          // One stack per run: spec files share it, so they run one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
