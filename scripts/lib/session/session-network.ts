// A session's own network: an internal Docker network created for one session and removed at its end. The stack's
// session-facing services (the gateway, the MCP servers, the egress proxy) are connected to it for that time under
// their service names, so a session reaches them and nothing else: not another session, not the collector or the
// stores, no route out. Its subnet is written into the session's credential, which the services accept only from
// that subnet. The networks double as the count of running sessions, for the per-user and total caps.
import { $ } from 'zx';
import { serviceContainers } from '../stack/compose.ts';

/** The services a session talks to, each reached on the session's network under its service name. */
export const SESSION_FACING_SERVICES = [
  'session-gateway',
  'mcp-file-ops',
  'mcp-database',
  'egress-proxy',
] as const;

const LABEL = {
  project: 'claude-code-telemetry.project',
  session: 'claude-code-telemetry.session',
  user: 'claude-code-telemetry.session-user',
} as const;

export interface SessionCaps {
  /** Sessions one user may run at once (SESSION_MAX_PER_USER, default 3). */
  perUser: number;
  /** Sessions the stack runs at once (SESSION_MAX_TOTAL, default 16). */
  total: number;
}

export function parseCaps(env: Record<string, string | undefined>): SessionCaps {
  const read = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw new Error(`${name}=${raw}: not a whole number of sessions from 1 to 1000`);
    return n;
  };
  return { perUser: read('SESSION_MAX_PER_USER', 3), total: read('SESSION_MAX_TOTAL', 16) };
}

/** Why a new session of `user` may not start, given the sessions running (by user); null when it may. */
export function capRefusal(running: string[], user: string, caps: SessionCaps): string | null {
  const mine = running.filter((u) => u === user).length;
  if (mine > caps.perUser)
    return `user ${user} already runs ${mine - 1} session(s), the most one user may run at once (SESSION_MAX_PER_USER=${caps.perUser}): wait for one to end`;
  if (running.length > caps.total)
    return `the stack already runs ${running.length - 1} session(s), the most it runs at once (SESSION_MAX_TOTAL=${caps.total}): wait for one to end`;
  return null;
}

export interface SessionNetwork {
  name: string;
  /** Its IPv4 subnet (CIDR): the only addresses the session's credential is good from. */
  subnet: string;
  /** Disconnects the services and removes the network; safe to call twice. */
  remove(): Promise<void>;
}

export interface NetworkTarget {
  project: string;
  /** Every compose file over stack/compose.yaml (an ephemeral scaled stack's overlay too). */
  overrides?: string[];
  /** The `docker compose` process's environment (interpolation values). */
  composeEnv: Record<string, string | undefined>;
  /**
   * True for the local stack: its env files and its topology (stack/.env.local). Default false: a stack given by
   * its values (composeEnv) takes nothing from the local one.
   */
  localEnv?: boolean;
}

const docker = $({ quiet: true, nothrow: true });

/** The users of the sessions of a project whose networks exist (each running session has one). */
async function runningSessionUsers(project: string): Promise<string[]> {
  const r =
    await docker`docker network ls --filter label=${`${LABEL.project}=${project}`} --format ${`{{.Label "${LABEL.user}"}}`}`;
  if (r.exitCode !== 0) throw new Error(`docker network ls failed: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * Creates the session's network, enforcing the caps (the new network counts itself: two sessions starting at once
 * may both be refused, never both admitted past the cap), and connects the session-facing services that run.
 */
export async function openSessionNetwork(
  t: NetworkTarget,
  session: { id: string; user: string },
  caps: SessionCaps,
): Promise<SessionNetwork> {
  const name = `${t.project}-s-${session.id.slice(0, 13)}`;
  const created =
    await docker`docker network create --internal --label ${`${LABEL.project}=${t.project}`} --label ${`${LABEL.session}=${session.id}`} --label ${`${LABEL.user}=${session.user}`} ${name}`;
  if (created.exitCode !== 0)
    throw new Error(`could not create the session's network ${name}: ${created.stderr.trim()}`);
  const connected: string[] = [];
  const remove = async () => {
    for (const id of connected.splice(0)) await docker`docker network disconnect --force ${name} ${id}`;
    await docker`docker network rm ${name}`;
  };
  try {
    const refusal = capRefusal(await runningSessionUsers(t.project), session.user, caps);
    if (refusal) throw new Error(refusal);
    const inspect =
      await docker`docker network inspect --format ${'{{range .IPAM.Config}}{{.Subnet}} {{end}}'} ${name}`;
    const subnet = inspect.stdout.split(/\s+/).find((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s));
    if (!subnet)
      throw new Error(`the session's network ${name} has no IPv4 subnet (${inspect.stdout.trim()})`);
    for (const service of SESSION_FACING_SERVICES) {
      // A failed `compose ps` throws (serviceContainers): only a service that truly does not run is passed over.
      const [id] = await serviceContainers(service, {
        project: t.project,
        overrides: t.overrides,
        localEnv: t.localEnv ?? false,
        env: t.composeEnv,
      });
      if (!id) continue; // not running (a fault spec stopped it): the session finds it missing, as it would
      const c = await docker`docker network connect --alias ${service} ${name} ${id}`;
      if (c.exitCode !== 0) throw new Error(`could not connect ${service} to ${name}: ${c.stderr.trim()}`);
      connected.push(id);
    }
    return { name, subnet, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** Removes networks of a project's sessions that are gone (a runner killed before it cleaned up); returns them. */
export async function pruneSessionNetworks(project: string): Promise<string[]> {
  const r =
    await docker`docker network ls --filter label=${`${LABEL.project}=${project}`} --format ${'{{.Name}}'}`;
  const removed: string[] = [];
  for (const name of r.stdout.split('\n').filter(Boolean)) {
    const inUse =
      await docker`docker network inspect --format ${'{{range .Containers}}{{.Name}} {{end}}'} ${name}`;
    if (/claude-code/.test(inUse.stdout)) continue; // a session still runs on it
    const ids =
      await docker`docker network inspect --format ${'{{range $id, $c := .Containers}}{{$id}} {{end}}'} ${name}`;
    for (const id of ids.stdout.split(/\s+/).filter(Boolean))
      await docker`docker network disconnect --force ${name} ${id}`;
    if ((await docker`docker network rm ${name}`).exitCode === 0) removed.push(name);
  }
  return removed;
}
