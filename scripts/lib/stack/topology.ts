// Which shape the local stack runs in: `single` (stack/compose.yaml: one collector, one process per store) or
// `scaled` (stack/compose.scaled.yaml over it: agents, gateways, clustered stores; issue 24). `pnpm stack:up
// --scaled | --single` writes the choice to stack/.env.local (STACK_TOPOLOGY); every command that talks to the local
// stack (stack:status, stack:down, stack:logs, pnpm session, pnpm usage) follows it through composeArgs. It applies
// to the local stack only: an ephemeral stack (the specs') names its own compose files and reads no .env.local.
// No zx here: compose.ts and the unit tests import it.
import { join } from 'node:path';
import { stackDir } from './stack-files.ts';

export type Topology = 'single' | 'scaled';
export const TOPOLOGIES: readonly Topology[] = ['single', 'scaled'];

/** The key in stack/.env.local. */
export const TOPOLOGY_KEY = 'STACK_TOPOLOGY';

export const SCALED_OVERLAY_FILE = join(stackDir, 'compose.scaled.yaml');

/** The compose files each topology adds over stack/compose.yaml, in order. */
export function topologyFiles(topology: Topology): string[] {
  return topology === 'scaled' ? [SCALED_OVERLAY_FILE] : [];
}

/** A topology named on the command line or in a file; anything else is an error naming where it came from. */
export function parseTopology(value: string, source: string): Topology {
  if ((TOPOLOGIES as readonly string[]).includes(value)) return value as Topology;
  throw new Error(
    `${source}: ${TOPOLOGY_KEY} must be one of ${TOPOLOGIES.join(', ')}, not ${JSON.stringify(value)}`,
  );
}

/** The local stack's topology, from .env.local's values (single when it names none). */
export function localTopology(local: Record<string, string>, source = 'stack/.env.local'): Topology {
  const value = local[TOPOLOGY_KEY];
  return value ? parseTopology(value, source) : 'single';
}

/**
 * The topology `stack:up` brings up: --scaled or --single if given (both: an error), else the one .env.local says,
 * else single.
 */
export function chosenTopology(
  flags: { scaled?: unknown; single?: unknown },
  local: Record<string, string>,
): Topology {
  if (flags.scaled && flags.single) throw new Error('--scaled and --single: choose one');
  if (flags.scaled) return 'scaled';
  if (flags.single) return 'single';
  return localTopology(local);
}
