// The official MCP conformance suite against the file-ops server (see common/test/conformance-suite.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeConformance } from '@claude-code-telemetry/mcp-common/test/conformance-suite';
import { spawnHttpServer } from '@claude-code-telemetry/mcp-common/test/testing';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const token = 'c'.repeat(40);
describeConformance(
  'file-ops',
  () =>
    spawnHttpServer(
      entry,
      ['--root', mkdtempSync(join(tmpdir(), 'conformance-'))],
      { MCP_AUTH_TOKEN: token },
      60_000,
    ),
  token,
);
