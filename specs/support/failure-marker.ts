// setupFiles of the e2e project: when a test fails, leave a marker so the global teardown prints the logs.
import { writeFileSync } from 'node:fs';
import { afterEach, inject } from 'vitest';

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') writeFileSync(inject('stack').failureMarker, ctx.task.name);
});
