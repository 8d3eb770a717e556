// Recipe: per-session limits. A session container runs hardened (no capabilities, no-new-privileges, read-only
// root, non-root) under the CPU, memory and process limits of the env file; a session over its wall clock or its
// memory is ended with status limit-exceeded in its record and a claude_code_telemetry.session_limit event in the
// sinks, and the stack and the next session carry on.
import { describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { containerSettings, processUid } from './support/container-settings.ts';
import { runStackSession, stack } from './support/stack.ts';

const LIMIT_EVENT = 'claude_code_telemetry.session_limit';

/** The session container of a compose project while it runs (compose run names it after the service). */
async function sessionContainer(project: string): Promise<string> {
  return waitFor(
    `no running claude-code container of project ${project}`,
    async () => {
      const r = await $({
        quiet: true,
      })`docker ps --filter label=com.docker.compose.project=${project} --filter label=com.docker.compose.service=claude-code --format {{.ID}}`;
      return r.stdout.trim().split('\n')[0] || undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

async function limitEvent(sessionId: string) {
  const e2eStack = stack();
  return waitFor(
    `no ${LIMIT_EVENT} event of session ${sessionId} in the files and VictoriaLogs`,
    async () => {
      const files = (await sessionRecords(e2eStack.telemetryDir, 'logs', sessionId)).filter(
        (r) => r.name === LIMIT_EVENT,
      );
      const vl = (await vlQuery(e2eStack.victorialogs, sessionFilter(sessionId))).filter(
        (e) => e._msg === LIMIT_EVENT,
      );
      return files.length && vl.length ? { files, vl } : undefined;
    },
    { timeoutMs: 30_000 },
  );
}

describe('per-session limits', () => {
  it('a session runs hardened under the limits, and is ended at its wall clock with a clear status', async () => {
    const e2eStack = stack();
    const env = {
      ...e2eStack.composeEnv,
      SESSION_TIMEOUT_SECONDS: '8',
      SESSION_PIDS_LIMIT: '300',
      SESSION_CPUS: '0.5',
    };
    const run = runStackSession(
      { ...e2eStack, composeEnv: env },
      { script: 'slow-answer', user: 'limits-spec' },
    );
    const id = await sessionContainer(e2eStack.project);
    const c = await containerSettings(id);
    const uid = await processUid(id);
    const out = await run;

    expect(c.capDrop).toEqual(['ALL']);
    expect(c.capAdd).toEqual([]);
    expect(c.securityOpt).toContain('no-new-privileges:true');
    expect(c.readOnlyRoot).toBe(true);
    expect(Object.keys(c.tmpfs).sort()).toEqual(['/home/node', '/tmp']);
    expect(uid).toBe(1000);
    expect(c.memory).toBe(2 * 1024 ** 3); // SESSION_MEMORY_LIMIT=2g (versions.env)
    expect(c.memorySwap).toBe(c.memory); // no swap beyond it
    expect(c.pidsLimit).toBe(300);
    expect(c.nanoCpus).toBe(0.5e9);
    // Its output in a bounded log on the host; outside names forwarded only to an unroutable server.
    expect(c.log).toEqual({ driver: 'local', options: { 'max-size': '10m', 'max-file': '3' } });
    expect(c.dns).toEqual(['192.0.2.1']);

    expect(out.metadata, out.output.slice(-1500)).toMatchObject({
      status: 'limit-exceeded',
      limit: { kind: 'time', description: 'the wall-clock limit of 8 s (SESSION_TIMEOUT_SECONDS)' },
    });
    expect(out.exitCode).not.toBe(0);
    const ev = await limitEvent(out.plan.sessionId);
    expect(ev.vl[0]).toMatchObject({ limit: 'time', 'user.name': 'limits-spec' });
  });

  it('a session over its memory limit is ended with status limit-exceeded (memory), and the next one runs', async () => {
    const e2eStack = stack();
    // Far below what the CLI needs to start: the kernel kills it in its cgroup.
    const env = { ...e2eStack.composeEnv, SESSION_MEMORY_LIMIT: '96m' };
    const out = await runStackSession(
      { ...e2eStack, composeEnv: env },
      { script: 'demo', user: 'limits-spec' },
    );
    expect(out.metadata, out.output.slice(-1500)).toMatchObject({
      status: 'limit-exceeded',
      limit: { kind: 'memory', description: 'the memory limit of 96m (SESSION_MEMORY_LIMIT)' },
    });
    const ev = await limitEvent(out.plan.sessionId);
    expect(ev.vl[0]).toMatchObject({ limit: 'memory' });

    const next = await runStackSession(e2eStack, { script: 'demo', user: 'limits-spec' });
    expect(next.exitCode, next.output.slice(-1500)).toBe(0);
    expect(next.metadata?.status).toBe('completed');
  });
});
