// One image at a time, for the specs that check a single image: testcontainers' GenericContainer, with every
// published port bound to 127.0.0.1 (testcontainers binds all interfaces by default; the stack's rule is
// loopback only) on a random host port. `runOnce` runs a command to completion and returns its output.
import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer, Wait } from 'testcontainers';

// No Ryuk image without a registry: each spec removes what it starts.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

/** A GenericContainer whose exposed ports are published on 127.0.0.1 only. */
export class LoopbackContainer extends GenericContainer {
  override withExposedPorts(...ports: number[]): this {
    super.withExposedPorts(...ports);
    for (const port of ports)
      this.hostConfig.PortBindings = {
        ...this.hostConfig.PortBindings,
        [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '0' }],
      };
    return this;
  }
}

export interface ContainerOptions {
  image: string;
  ports?: number[];
  env?: Record<string, string>;
  bindMounts?: { source: string; target: string; mode?: 'ro' | 'rw' }[];
  tmpFs?: Record<string, string>;
}

export interface Started {
  container: StartedTestContainer;
  url(port: number, path?: string): string;
  /** Everything it printed so far, stderr then stdout. */
  logs(): Promise<string>;
  exec(cmd: string[]): Promise<{ exitCode: number; output: string }>;
  remove(): Promise<void>;
}

export async function startContainer(o: ContainerOptions): Promise<Started> {
  const c = new LoopbackContainer(o.image)
    .withExposedPorts(...(o.ports ?? []))
    .withEnvironment(o.env ?? {})
    .withBindMounts(o.bindMounts ?? [])
    .withTmpFs(o.tmpFs ?? {})
    .withStartupTimeout(60_000)
    // Readiness is each spec's own probe (waitFor on its health endpoint): testcontainers' port check runs a shell
    // inside the container, and the collector and Jaeger images have none (FROM scratch).
    .withWaitStrategy(Wait.forAll([]));
  const container = await c.start();
  // The rule this class exists for, checked on what Docker did: every published port on 127.0.0.1.
  const client = await getContainerRuntimeClient();
  const info = await client.container.inspect(client.container.getById(container.getId()));
  const bindings = Object.values(info.NetworkSettings.Ports ?? {}).flatMap((b) => b ?? []);
  const open = bindings.filter((b) => b.HostIp !== '127.0.0.1');
  if (open.length || bindings.length < (o.ports?.length ?? 0)) {
    await container.stop({ remove: true });
    throw new Error(`${o.image}: ports not published on 127.0.0.1 only: ${JSON.stringify(bindings)}`);
  }
  return {
    container,
    url(port, path = '/') {
      return `http://127.0.0.1:${container.getMappedPort(port)}${path}`;
    },
    async logs() {
      return (await dockerLogs(container.getId())).output;
    },
    async exec(cmd) {
      const r = await container.exec(cmd);
      return { exitCode: r.exitCode, output: r.output };
    },
    async remove() {
      await container.stop({ remove: true, removeVolumes: true, timeout: 5_000 });
    },
  };
}

/** Docker's multiplexed log format: frames of [stream, 0, 0, 0, size (u32 BE)] + payload; stdout and stderr. */
export function demuxDockerLog(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[][] = [[], [], []];
  for (let at = 0; at + 8 <= buf.length; ) {
    const kind = buf[at] ?? 1;
    const size = buf.readUInt32BE(at + 4);
    out[kind === 2 ? 2 : 1]?.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return {
    stdout: Buffer.concat(out[1] ?? []).toString('utf8'),
    stderr: Buffer.concat(out[2] ?? []).toString('utf8'),
  };
}

/** A container's output so far, read from Docker (not followed: a followed stream can lose a last line). */
async function dockerLogs(id: string): Promise<{ stdout: string; stderr: string; output: string }> {
  const client = await getContainerRuntimeClient();
  const raw = (await client.container
    .getById(id)
    .logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  const { stdout, stderr } = demuxDockerLog(raw);
  return { stdout, stderr, output: stderr + stdout };
}

/**
 * Runs IMAGE [ARGS] (with ENTRYPOINT, when given) with no network, to completion; fails unless it exits 0. Its
 * output is read from Docker once it has exited.
 */
export async function runOnce(
  image: string,
  args: string[],
  entrypoint?: string,
): Promise<{ stdout: string; stderr: string; output: string }> {
  let c = new GenericContainer(image)
    .withNetworkMode('none')
    .withCommand(args)
    .withWaitStrategy(Wait.forOneShotStartup())
    .withStartupTimeout(60_000);
  if (entrypoint) c = c.withEntrypoint([entrypoint]);
  let container: StartedTestContainer | undefined;
  try {
    container = await c.start();
    return await dockerLogs(container.getId());
  } catch (err) {
    throw new Error(
      `${image} ${[entrypoint, ...args].filter(Boolean).join(' ')} did not exit 0: ${(err as Error).message}`,
    );
  } finally {
    await container?.stop({ remove: true, timeout: 1_000 }).catch(() => {});
  }
}
