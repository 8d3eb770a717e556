// Recipe (scaled topology): a session reaches none of the scaled tier's services. From inside a running session
// (its own internal network), the new services (agents and gateways behind the collector's name aside, the stores,
// Jaeger's collectors, the S3 gateway) do not resolve, do not answer at their addresses on the stack's network, and
// the egress proxy refuses them (403).
// Positive control: the session's own gateway resolves and answers from the same container.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { $ } from 'zx';
import type { SessionOutcome } from '../../scripts/lib/session/session-run.ts';
import * as ou from '../support/outside-user.ts';
import { runStackSession, stack } from '../support/stack.ts';

/** The scaled topology's services a session must not reach: name and port. */
const SCALED_BACKENDS: [string, number][] = [
  ['opensearch-1', 9200],
  ['otel-gateway-1', 4318],
  ['victorialogs-storage-1', 9428],
  ['s3-gateway', 7070],
  ['jaeger-collector-1', 4317],
];

describe('scaled: a session reaches none of the scaled services', () => {
  it('by name, directly or through the egress proxy; its own gateway answers', async () => {
    const e = stack();
    const id = randomUUID();
    const container = ou.sessionContainer(e.project, id);
    // A session that stays up about two minutes touching nothing, probed while it runs.
    const run: Promise<SessionOutcome> = runStackSession(e, {
      script: 'outside-user-wait',
      user: 'hostile-scaled',
      sessionId: id,
    });
    run.catch(() => {});
    try {
      await ou.waitForContainer(container, run);
      // By address too: each service's address on the stack's own network, asked from the host. (Only the session
      // gateway by name over HTTP: names that do not resolve would hold the resolver threads HTTP needs.)
      const tcp = await Promise.all(
        SCALED_BACKENDS.map(async ([n, port]) => [
          n,
          await ou.addressOn(`${e.project}-${n}-1`, `${e.project}_default`),
          port,
        ]),
      );
      const targets = {
        tcp,
        names: [...SCALED_BACKENDS.map(([n]) => n), 'otel-gateways', 'jaeger-collectors', 'session-gateway'],
        http: [['gateway', 'http://session-gateway:8080/health']],
        proxy: SCALED_BACKENDS.map(([n, port]) => [n, 'GET', `http://${n}:${port}/`]),
      };
      const r = await ou.execIn<Record<'tcp' | 'names' | 'http' | 'proxy', Record<string, string | number>>>(
        container,
        ou.NETWORK_PROBE,
        { TARGETS: JSON.stringify(targets) },
      );
      console.info(`hostile-scaled: ${JSON.stringify(r)}`);
      const { 'session-gateway': own, ...names } = r.names;
      for (const [name, v] of Object.entries(names)) expect(String(v), `resolve ${name}`).toMatch(/^error /);
      expect(String(own), 'the session resolves its own gateway').toMatch(/^resolved /);
      const { gateway, ...direct } = r.http;
      for (const [label, v] of Object.entries(direct))
        expect(String(v), `http ${label}`).toMatch(/^unreachable/);
      expect(String(gateway), 'the session gateway answers').toMatch(/^200 /);
      for (const [label, v] of Object.entries(r.proxy)) expect(String(v), `proxy ${label}`).toMatch(/^403/);
    } finally {
      // The probe is done: the session need not wait out its script.
      await $({ quiet: true, nothrow: true })`docker rm --force ${container}`;
      await run.catch(() => {});
    }
  });
});
