// The official MCP conformance suite against the database server (see common/src/conformance-suite.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeConformance } from '@claude-code-telemetry/mcp-common/conformance-suite';
import { spawnHttpServer } from '@claude-code-telemetry/mcp-common/testing';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const token = 'd'.repeat(40);
describeConformance(
  'database',
  () =>
    spawnHttpServer(
      entry,
      ['--db', join(mkdtempSync(join(tmpdir(), 'conformance-')), 'demo.sqlite')],
      { MCP_AUTH_TOKEN: token },
      60_000,
    ),
  token,
);
