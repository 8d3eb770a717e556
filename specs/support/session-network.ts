// A session's own network for the ingest specs, made as `pnpm session` makes one: an internal Docker network with
// the session gateway connected to it. A script then runs in a container on it (the session gateway's image: it
// has node), reaching exactly what a session reaches, with credentials bound to the network's subnet.
// The gateway joins under its service name (--alias, as `pnpm session` connects it): without the alias a container
// on the network cannot resolve `session-gateway` (Docker names a container on a network it joined later only by
// its id), and every request of the script failed before it left the container.
// A script is bounded: its container is named, and removed (killed) when its time is up or the network is removed,
// and the script exits by itself shortly after, so a timed-out spec leaves no load running for the next one.
import { randomBytes } from 'node:crypto';
import { mintSessionCredential } from '../../scripts/lib/session/session-credential.ts';
import type { EphemeralStack } from '../../scripts/lib/testing/ephemeral-stack.ts';
import { serviceControl } from './service-control.ts';

export interface SessionNetwork {
  name: string;
  subnet: string;
  /** A credential for `user`'s session `sessionId`, good from this network only. */
  credential(user: string, sessionId: string): string;
  /**
   * Runs an ES module script in a container on the network; its last stdout line, parsed as JSON. Past `timeoutMs`
   * the container is removed and run() throws.
   */
  run(script: string, timeoutMs?: number): Promise<unknown>;
  /**
   * Joins a stack service to the network under its service name (as `pnpm session` joins the session-facing
   * services); the returned function takes it off again (remove() does too).
   */
  join(service: string): Promise<() => Promise<void>>;
  /** Removes the scripts' containers still running, takes the services off, then removes the network. */
  remove(): Promise<void>;
}

export async function sessionNetwork(
  s: Pick<EphemeralStack, 'project' | 'overrides' | 'composeEnv'>,
): Promise<SessionNetwork> {
  const c = serviceControl(s);
  const name = `${s.project}-ingest-${randomBytes(4).toString('hex')}`;
  await c.docker(['network', 'create', '--internal', name]);
  const joined = new Set<string>();
  const leave = async (container: string) => {
    joined.delete(container);
    await c.docker(['network', 'disconnect', '--force', name, container]).catch(() => {});
  };
  const join = async (service: string) => {
    const container = c.container(service);
    await c.docker(['network', 'connect', '--alias', service, name, container]);
    joined.add(container);
    return () => leave(container);
  };
  await join('session-gateway');
  const subnet = (
    await c.docker(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Subnet}}', name])
  ).stdout.trim();
  const image = s.composeEnv.SESSION_GATEWAY_IMAGE;
  if (!image) throw new Error('no SESSION_GATEWAY_IMAGE in the stack env: run pnpm stack:images first');
  const secret = s.composeEnv.MCP_SESSION_SECRET as string;
  const running = new Set<string>();
  const kill = (container: string) => c.docker(['rm', '--force', container]).catch(() => {});
  return {
    name,
    subnet,
    join,
    credential: (user, sessionId) =>
      mintSessionCredential(secret, { user, sessionId, expiresAt: Date.now() + 600_000, network: subnet }),
    async run(script, timeoutMs = 120_000) {
      const container = `${name}-run-${randomBytes(4).toString('hex')}`;
      running.add(container);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        void kill(container);
      }, timeoutMs);
      try {
        const r = await c
          .docker([
            'run',
            '--rm',
            '--name',
            container,
            '--network',
            name,
            '--entrypoint',
            'node',
            image,
            '--input-type=module',
            '-e',
            // Its own deadline too: the container ends even if this process dies before it can remove it.
            `setTimeout(() => process.exit(124), ${timeoutMs + 5000}).unref();\n${script}`,
          ])
          .catch((err: { stdout?: string; stderr?: string }) => {
            if (timedOut) throw new Error(`the script in ${name} did not end within ${timeoutMs} ms: killed`);
            throw err;
          });
        if (timedOut) throw new Error(`the script in ${name} did not end within ${timeoutMs} ms: killed`);
        const last = r.stdout.trim().split('\n').pop() ?? '';
        try {
          return JSON.parse(last);
        } catch {
          throw new Error(
            `the script in ${name} printed no JSON: ${r.stdout.slice(-2000)} ${r.stderr.slice(-2000)}`,
          );
        }
      } finally {
        clearTimeout(timer);
        running.delete(container);
      }
    },
    async remove() {
      await Promise.all([...running].map(kill));
      await Promise.all([...joined].map(leave));
      await c.docker(['network', 'rm', name]).catch(() => {});
    },
  };
}
