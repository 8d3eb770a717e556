// What each tier of a stack costs under `pnpm bench load`, from the kernel's own accounting of each container's
// control group (cgroup v1 or v2, read under /sys/fs/cgroup; `docker stats` takes 2 s a call and samples once):
// CPU time (cpuacct.usage / cpu.stat usage_usec: every process of the container, the JVM's threads and a shell
// wrapper included, where /proc/<pid> of the main process would miss children) and memory, the working set as
// `docker stats` shows it (usage minus inactive page cache: a store's written files sit in the page cache and are
// not its memory), sampled every SAMPLE_MS while a step runs and counted at its peak.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';

const SAMPLE_MS = 250;

/** A tier of a topology: the compose services that belong to it, by name. */
export interface Tier {
  name: string;
  services: RegExp;
}

/**
 * The tiers of each topology, in the order a span crosses them. Single host: one collector does the agents' and the
 * gateways' work, and Jaeger (Badger) is collector, store and query in one. Scaled: the Jaeger query service is left
 * out (the bench's counting queries are its only load), and so are the services no span crosses (session gateway,
 * MCP servers, egress proxy, the S3 gateway).
 */
export const TIERS: Record<'single' | 'scaled', Tier[]> = {
  single: [
    { name: 'collector', services: /^otel-collector$/ },
    { name: 'jaeger (badger)', services: /^jaeger$/ },
    { name: 'victorialogs', services: /^victorialogs$/ },
    { name: 'prometheus', services: /^prometheus$/ },
  ],
  scaled: [
    { name: 'agents', services: /^(otel-collector|otel-agent-\d+)$/ },
    { name: 'gateways', services: /^otel-gateway-\d+$/ },
    { name: 'jaeger collectors', services: /^jaeger-collector-\d+$/ },
    { name: 'opensearch', services: /^opensearch-\d+$/ },
    { name: 'victorialogs', services: /^victorialogs(-storage-\d+)?$/ },
    { name: 'prometheus', services: /^prometheus$/ },
  ],
};

/** One running container of a compose project: its service and where the kernel accounts for it. */
export interface Node {
  service: string;
  container: string;
  cpu?: () => number | undefined;
  memory?: () => number | undefined;
}

/** Per tier over one window: its nodes, CPU seconds of all of them, the peak working set (per node and summed). */
export interface TierUsage {
  tier: string;
  nodes: number;
  cpuSeconds?: number;
  /** The highest working set any one node of the tier reached. */
  peakNode?: number;
  /** Each node's peak, summed: the tier's peak at most (the nodes need not peak at once). */
  peakSum?: number;
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const num = (text: string | undefined, key?: string): number | undefined => {
  if (text === undefined) return undefined;
  const v = key ? new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] : text.trim();
  return v === undefined || v === '' ? undefined : Number(v);
};

/** Where each cgroup controller (and the v2 hierarchy, as '') is mounted, from /proc/mounts. */
function cgroupMounts(): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const line of (read('/proc/mounts') ?? '').split('\n')) {
    const [, dir, type, opts] = line.split(' ');
    if (type === 'cgroup2' && dir) mounts.set('', dir);
    if (type === 'cgroup' && dir) for (const o of opts?.split(',') ?? []) mounts.set(o, dir);
  }
  return mounts;
}

/** A process's cgroup folders for CPU and memory (v1 per controller, else v2); undefined where not readable. */
function cgroupReaders(pid: number): Pick<Node, 'cpu' | 'memory'> {
  const mounts = cgroupMounts();
  const lines = (read(`/proc/${pid}/cgroup`) ?? '').split('\n').map((l) => l.split(':'));
  const v1 = (controller: string) => {
    const line = lines.find(([, c]) => c?.split(',').includes(controller));
    const mount = mounts.get(controller);
    return line?.[2] && mount ? join(mount, line[2]) : undefined;
  };
  const cpuDir = v1('cpuacct');
  const memDir = v1('memory');
  if (cpuDir && memDir)
    return {
      cpu: () => {
        const ns = num(read(join(cpuDir, 'cpuacct.usage')));
        return ns === undefined ? undefined : ns / 1e9;
      },
      memory: () => {
        const usage = num(read(join(memDir, 'memory.usage_in_bytes')));
        const inactive = num(read(join(memDir, 'memory.stat')), 'total_inactive_file');
        return usage === undefined ? undefined : usage - Math.min(inactive ?? 0, usage);
      },
    };
  const unified = lines.find(([id, c]) => id === '0' && c === '')?.[2];
  const mount = mounts.get('');
  if (!unified || !mount) return {};
  const dir = join(mount, unified);
  return {
    cpu: () => {
      const us = num(read(join(dir, 'cpu.stat')), 'usage_usec');
      return us === undefined ? undefined : us / 1e6;
    },
    memory: () => {
      const current = num(read(join(dir, 'memory.current')));
      const inactive = num(read(join(dir, 'memory.stat')), 'inactive_file');
      return current === undefined ? undefined : current - Math.min(inactive ?? 0, current);
    },
  };
}

/** One container as a node of a tier, with its cgroup readers (none when it is not running or not readable). */
export async function containerNode(service: string, container: string): Promise<Node> {
  const pid = Number(
    (await $({ quiet: true, nothrow: true })`docker inspect --format {{.State.Pid}} ${container}`).stdout,
  );
  return { service, container, ...(pid > 0 ? cgroupReaders(pid) : {}) };
}

/** The running containers of a compose project that belong to one of `tiers`, with their cgroup readers. */
export async function projectNodes(project: string, tiers: Tier[]): Promise<Node[]> {
  const out = (
    await $({
      quiet: true,
    })`docker ps --filter ${`label=com.docker.compose.project=${project}`} --format ${'{{.Label "com.docker.compose.service"}} {{.Names}}'}`
  ).stdout;
  const nodes: Node[] = [];
  for (const line of out.trim().split('\n')) {
    const [service, container] = line.trim().split(' ');
    if (service && container && tiers.some((t) => t.services.test(service)))
      nodes.push(await containerNode(service, container));
  }
  return nodes.sort((a, b) => a.service.localeCompare(b.service));
}

/**
 * Starts measuring `nodes`: CPU from now, memory sampled every SAMPLE_MS. `cpu()` reads the CPU used so far
 * (call it when the window should end: e.g. before the bench's own queries load a store); `stop()` ends the
 * sampling and sums per tier.
 */
export function measureTiers(tiers: Tier[], nodes: Node[]) {
  const cpu0 = nodes.map((n) => n.cpu?.());
  const peaks = nodes.map((n) => n.memory?.());
  const sample = () =>
    nodes.forEach((n, i) => {
      const m = n.memory?.();
      if (m !== undefined) peaks[i] = Math.max(peaks[i] ?? 0, m);
    });
  const timer = setInterval(sample, SAMPLE_MS);
  let cpu1: (number | undefined)[] | undefined;
  const cpu = () => {
    cpu1 = nodes.map((n) => n.cpu?.());
  };
  const stop = (): TierUsage[] => {
    clearInterval(timer);
    sample();
    if (!cpu1) cpu();
    return tiers.map((t) => {
      const idx = nodes.flatMap((n, i) => (t.services.test(n.service) ? [i] : []));
      const known = <T>(xs: (T | undefined)[]): T[] | undefined =>
        xs.length && xs.every((x) => x !== undefined) ? (xs as T[]) : undefined;
      const used = known(
        idx.map((i) => (cpu1?.[i] ?? NaN) - (cpu0[i] ?? NaN)).map((v) => (Number.isNaN(v) ? undefined : v)),
      );
      const mem = known(idx.map((i) => peaks[i]));
      return {
        tier: t.name,
        nodes: idx.length,
        cpuSeconds: used?.reduce((a, b) => a + b, 0),
        peakNode: mem ? Math.max(...mem) : undefined,
        peakSum: mem?.reduce((a, b) => a + b, 0),
      };
    });
  };
  return { cpu, stop };
}
