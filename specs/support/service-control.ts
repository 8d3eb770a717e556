// Stopping, starting and inspecting the services of an ephemeral stack (the fault specs'), by compose service name.
// A restarted container gets a new random host port, still on 127.0.0.1: `url()` reads it again each time.
import { $ } from 'zx';
import { waitFor } from '../../scripts/lib/wait-for.ts';
import { type ComposedStack, composeIn } from './compose-in.ts';

export type ServiceControl = ReturnType<typeof serviceControl>;

export function serviceControl(stack: ComposedStack) {
  const docker = (args: string[]) => $({ quiet: true })`docker ${args}`;
  const container = (service: string) => `${stack.project}-${service}-1`;
  const inspect = async (service: string, format: string) =>
    (await docker(['inspect', '--format', format, container(service)])).stdout.trim();
  async function healthy(service: string, timeoutMs = 60_000): Promise<void> {
    try {
      await waitFor(
        `${service} not healthy`,
        async () => ((await inspect(service, '{{.State.Health.Status}}')) === 'healthy' ? true : undefined),
        { timeoutMs, intervalMs: 500 },
      );
    } catch (err) {
      // Say why: the container's state and the end of its log.
      const state = await inspect(service, '{{json .State}}').catch((e: Error) => e.message);
      const logs = await $({ quiet: true, nothrow: true })`docker logs --tail 40 ${container(service)}`;
      throw new Error(
        `${(err as Error).message}; state: ${state}\nlast log lines:\n${logs.stdout}${logs.stderr}`,
      );
    }
  }
  return {
    docker,
    container,
    /** `docker compose` on the stack's files and project (never throws: check exitCode). */
    compose: (args: string[]) => composeIn(stack, args),
    /** A service's URL now (its port published on 127.0.0.1). */
    async url(service: string, port: number): Promise<string> {
      const out =
        (await docker(['port', container(service), `${port}/tcp`])).stdout.trim().split('\n')[0] ?? '';
      const host = /^127\.0\.0\.1:(\d+)$/.exec(out)?.[1];
      if (!host) throw new Error(`${service}'s port ${port} is not published on 127.0.0.1: ${out}`);
      return `http://127.0.0.1:${host}`;
    },
    healthy,
    /** When the service's container last started, and how often Docker restarted it: the same process or not. */
    async started(service: string): Promise<string> {
      return inspect(service, '{{.State.StartedAt}} restarts={{.RestartCount}}');
    },
    async running(service: string): Promise<boolean> {
      return (await inspect(service, '{{.State.Running}}')) === 'true';
    },
    /**
     * Crashes the service's main process as a crash would: SIGKILL to its PID on the host. Not `docker kill`,
     * which Docker counts as a stop, so the restart policy would leave it down. Then waits (bounded) until the
     * restart policy has started it again and it is healthy. Returns when it was killed and how long it was away.
     */
    async crash(
      service: string,
      timeoutMs = 300_000,
    ): Promise<{ pid: number; killedAt: number; backMs: number }> {
      const before = Number(await inspect(service, '{{.RestartCount}}'));
      const pid = Number(await inspect(service, '{{.State.Pid}}'));
      if (!(pid > 1)) throw new Error(`${service} has no running process to crash (pid ${pid})`);
      const t0 = Date.now();
      process.kill(pid, 'SIGKILL');
      await waitFor(
        `${service} (pid ${pid} killed) not restarted by its restart policy`,
        async () => (Number(await inspect(service, '{{.RestartCount}}')) > before ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await healthy(service, timeoutMs);
      return { pid, killedAt: t0, backMs: Date.now() - t0 };
    },
    /** The service's container logs (stdout and stderr). */
    async logs(service: string): Promise<string> {
      const r = await $({ quiet: true, nothrow: true })`docker logs ${container(service)}`;
      return r.stdout + r.stderr;
    },
  };
}
