// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in package.json) against one of our
// servers over Streamable HTTP, as each server's conformance.test.ts runs it. The suite sends no Authorization
// header: it talks to the server through a local proxy that adds the token (tokenProxy), so the server runs as
// shipped, token required. Why a proxy and not a test-only no-auth mode: a mode that switches authentication off
// is one setting away from production; a proxy in the test changes nothing in the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformance, INITIALIZE, rawRequest, type SpawnedServer, tokenProxy } from './testing.ts';

/**
 * The scenarios that apply to a tools-only server: initialize, ping, tools-list and DNS-rebinding protection.
 * logging-set-level applies only to a server that declares logging (ours do not: a test says so); the tools-call,
 * resources and prompts scenarios call the suite's own reference tools, which our servers do not have.
 */
export const SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

export interface ConformanceSummary {
  passed: number;
  /** Checks that passed or failed (the suite's denominator; warnings are counted apart). */
  total: number;
  failed: number;
  warnings: number;
  /** The checks reported as WARNING, one line each. */
  warningLines: string[];
}

/** The suite's summary line (`Passed: 3/3, 0 failed, 1 warnings`) and its WARNING checks; undefined without one. */
export function conformanceSummary(out: string): ConformanceSummary | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the suite colours its output
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const m = /^Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings?$/m.exec(plain);
  if (!m) return undefined;
  const [passed, total, failed, warnings] = m.slice(1).map(Number) as [number, number, number, number];
  const warningLines = plain.split('\n').filter((l) => /\] WARNING\b/.test(l));
  return { passed, total, failed, warnings, warningLines };
}

/** Why a scenario's summary is not a pass (none passed, any failed), or undefined when it is one. */
export function conformanceFailure(summary: ConformanceSummary | undefined): string | undefined {
  if (!summary) return 'no summary line (Passed: n/m, ...) in the output';
  if (summary.failed > 0 || summary.passed !== summary.total) {
    return `${summary.failed} check(s) failed (${summary.passed}/${summary.total} passed)`;
  }
  if (summary.passed < 1) return 'no check passed (0/0): the scenario ran nothing';
  return undefined;
}

export function describeConformance(name: string, start: () => Promise<SpawnedServer>, token: string): void {
  describe(`${name}: the official MCP conformance suite over Streamable HTTP`, { timeout: 300_000 }, () => {
    let server: SpawnedServer;
    let proxy: Awaited<ReturnType<typeof tokenProxy>>;
    beforeAll(async () => {
      server = await start();
      proxy = await tokenProxy(server.url, token);
    }, 120_000);
    afterAll(async () => {
      await proxy?.close();
      await server?.stop();
    });

    it('still requires the token: a request without it is refused (the proxy adds it for the suite)', async () => {
      const r = await rawRequest(`${server.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: INITIALIZE,
      });
      expect(r.status).toBe(401);
    });

    it('declares no logging capability, so logging-set-level does not apply', async () => {
      const r = await rawRequest(`${proxy.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: INITIALIZE,
      });
      expect(r.status, r.body).toBe(200);
      const data = /^data: (.*)$/m.exec(r.body)?.[1] ?? r.body;
      const caps = (JSON.parse(data) as { result: { capabilities: Record<string, unknown> } }).result
        .capabilities;
      expect(caps.tools).toBeDefined();
      expect(caps.logging).toBeUndefined();
    });

    it.each(SCENARIOS)('passes %s: at least one check passed, none failed', async (scenario) => {
      const r = await conformance(`${proxy.url}/mcp`, scenario);
      expect(r.status, r.out).toBe(0);
      const summary = conformanceSummary(r.out);
      expect(conformanceFailure(summary), r.out).toBeUndefined();
      if (summary?.warnings) {
        console.warn(
          `${name}: conformance ${scenario}: ${summary.warnings} warning(s)\n${summary.warningLines.join('\n')}`,
        );
      }
    });
  });
}
