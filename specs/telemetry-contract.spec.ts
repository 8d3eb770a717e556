// Recipe: the telemetry contract of the pinned Claude Code release. The demo session is played on the pin and
// what it left in the sinks is compared with fixtures/contract/claude-code-telemetry.json (recorded with
// `pnpm compat --contract`): every metric, event and span name, the span tree, and each name's attribute keys.
// A release bump that drops or renames any of them fails here, naming what changed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inPrometheus } from '../scripts/lib/compat/compat-matrix.ts';
import { observeSession } from '../scripts/lib/compat/observe-session.ts';
import {
  CONTRACT_FILE,
  contractAdditions,
  contractBreaches,
  type TelemetryContract,
} from '../scripts/lib/compat/telemetry-contract.ts';
import { readEnvFile } from '../scripts/lib/stack/env-file.ts';
import { envFiles } from '../scripts/lib/stack/stack-files.ts';
import { runStackSession, stack } from './support/stack.ts';

const contract = JSON.parse(readFileSync(CONTRACT_FILE, 'utf8')) as TelemetryContract;

describe(`the telemetry contract of Claude Code ${contract.release}`, () => {
  it('is the contract of the release the stack runs', () => {
    const running =
      readEnvFile(envFiles.images).CLAUDE_CODE_VERSION ?? readEnvFile(envFiles.versions).CLAUDE_CODE_VERSION;
    expect(
      running,
      `the stack runs Claude Code ${running}, the contract is ${contract.release}'s: run pnpm compat --versions ${running} --contract`,
    ).toBe(contract.release);
  });

  it('holds: the demo session emits every contracted name, parent and attribute, and nothing unknown', async () => {
    const e2eStack = stack();
    const run = await runStackSession(e2eStack, { script: contract.session, user: 'contract-spec' });
    expect(run.exitCode, run.output.slice(-2000)).toBe(0);
    const o = await observeSession(run.plan.sessionId, e2eStack);
    const extra = contractAdditions(contract, o);
    if (extra.length)
      console.log(`telemetry contract: attribute keys beyond the contract: ${extra.join('; ')}`);
    expect(contractBreaches(contract, o)).toEqual([]);
    // And each contracted metric reached Prometheus, each span Jaeger, each event VictoriaLogs.
    expect(Object.keys(contract.metrics).filter((m) => !inPrometheus(m, o.backends.prometheus))).toEqual([]);
    expect(Object.keys(contract.spans).filter((n) => !o.backends.jaeger.includes(n))).toEqual([]);
    expect(Object.keys(contract.events).filter((n) => !o.backends.victorialogs.includes(n))).toEqual([]);
  });
});
