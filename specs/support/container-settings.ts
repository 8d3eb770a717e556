// What a running container was allowed, read with `docker inspect`: the settings the hardening and limits specs
// check, and the figures the issue note lists per container.
import { $ } from 'zx';

export interface ContainerSettings {
  name: string;
  user: string;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  readOnlyRoot: boolean;
  tmpfs: Record<string, string>;
  memory: number;
  memorySwap: number;
  nanoCpus: number;
  pidsLimit: number | null;
  privileged: boolean;
  /** The engine's log of the container's output: its driver and options (rotation, size). */
  log: { driver: string; options: Record<string, string> };
  /** DNS servers the container's resolver forwards outside names to (none: the engine's own upstreams). */
  dns: string[];
}

export async function containerSettings(id: string): Promise<ContainerSettings> {
  const r = await $({ quiet: true })`docker inspect ${id}`;
  const [c] = JSON.parse(r.stdout) as {
    Name: string;
    Config: { User: string };
    HostConfig: {
      CapAdd: string[] | null;
      CapDrop: string[] | null;
      SecurityOpt: string[] | null;
      ReadonlyRootfs: boolean;
      Tmpfs: Record<string, string> | null;
      Memory: number;
      MemorySwap: number;
      NanoCpus: number;
      PidsLimit: number | null;
      Privileged: boolean;
      LogConfig: { Type: string; Config: Record<string, string> | null };
      Dns: string[] | null;
    };
  }[];
  if (!c) throw new Error(`docker inspect ${id}: no such container`);
  const h = c.HostConfig;
  return {
    name: c.Name.replace(/^\//, ''),
    user: c.Config.User,
    capAdd: h.CapAdd ?? [],
    capDrop: h.CapDrop ?? [],
    securityOpt: h.SecurityOpt ?? [],
    readOnlyRoot: h.ReadonlyRootfs,
    tmpfs: h.Tmpfs ?? {},
    memory: h.Memory,
    memorySwap: h.MemorySwap,
    nanoCpus: h.NanoCpus,
    log: { driver: h.LogConfig.Type, options: h.LogConfig.Config ?? {} },
    dns: h.Dns ?? [],
    pidsLimit: h.PidsLimit,
    privileged: h.Privileged,
  };
}

/** The user a container's main process runs as, by uid (from /proc, so images without `id` answer too). */
export async function processUid(id: string): Promise<number> {
  const pid = (await $({ quiet: true })`docker inspect --format {{.State.Pid}} ${id}`).stdout.trim();
  const status = (await $({ quiet: true })`cat /proc/${pid}/status`).stdout;
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  if (uid === undefined) throw new Error(`no Uid line in /proc/${pid}/status of container ${id}`);
  return Number(uid);
}
