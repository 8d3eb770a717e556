// A session's own network for the ingest specs, made as `pnpm session` makes one: an internal Docker network with
// the session gateway connected to it. A script then runs in a container on it (the session gateway's image: it
// has node), reaching exactly what a session reaches, with credentials bound to the network's subnet.
import { randomBytes } from 'node:crypto';
import { mintSessionCredential } from '../../scripts/lib/session/session-credential.ts';
import type { EphemeralStack } from '../../scripts/lib/testing/ephemeral-stack.ts';
import { serviceControl } from './service-control.ts';

export interface SessionNetwork {
  name: string;
  subnet: string;
  /** A credential for `user`'s session `sessionId`, good from this network only. */
  credential(user: string, sessionId: string): string;
  /** Runs an ES module script in a container on the network; its last stdout line, parsed as JSON. */
  run(script: string, timeoutMs?: number): Promise<unknown>;
  remove(): Promise<void>;
}

export async function sessionNetwork(
  s: Pick<EphemeralStack, 'project' | 'override' | 'composeEnv'>,
): Promise<SessionNetwork> {
  const c = serviceControl(s);
  const name = `${s.project}-ingest-${randomBytes(4).toString('hex')}`;
  const gateway = c.container('session-gateway');
  await c.docker(['network', 'create', '--internal', name]);
  await c.docker(['network', 'connect', name, gateway]);
  const subnet = (
    await c.docker(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Subnet}}', name])
  ).stdout.trim();
  const image = s.composeEnv.SESSION_GATEWAY_IMAGE;
  if (!image) throw new Error('no SESSION_GATEWAY_IMAGE in the stack env: run pnpm stack:images first');
  const secret = s.composeEnv.MCP_SESSION_SECRET as string;
  return {
    name,
    subnet,
    credential: (user, sessionId) =>
      mintSessionCredential(secret, { user, sessionId, expiresAt: Date.now() + 600_000, network: subnet }),
    async run(script, timeoutMs = 120_000) {
      const r = await c.docker([
        'run',
        '--rm',
        '--network',
        name,
        '--stop-timeout',
        String(Math.ceil(timeoutMs / 1000)),
        '--entrypoint',
        'node',
        image,
        '--input-type=module',
        '-e',
        script,
      ]);
      const last = r.stdout.trim().split('\n').pop() ?? '';
      try {
        return JSON.parse(last);
      } catch {
        throw new Error(
          `the script in ${name} printed no JSON: ${r.stdout.slice(-2000)} ${r.stderr.slice(-2000)}`,
        );
      }
    },
    async remove() {
      await c.docker(['network', 'disconnect', '--force', name, gateway]).catch(() => {});
      await c.docker(['network', 'rm', name]).catch(() => {});
    },
  };
}
