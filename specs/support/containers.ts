// One image at a time, for the specs that check a single image: testcontainers' GenericContainer, with every
// published port bound to 127.0.0.1 (testcontainers binds all interfaces by default; the stack's rule is
// loopback only) on a random host port. `runOnce` runs a command to completion and returns its output.
import type { Readable } from 'node:stream';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';

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

/** Everything a container prints (stdout and stderr, in order), from its start. */
function logBuffer() {
  let text = '';
  let ended: Promise<void> = Promise.resolve();
  const consumer = (stream: Readable) => {
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      text += d;
    });
    ended = new Promise((resolve) => stream.once('end', () => resolve()));
  };
  return { consumer, text: () => text, ended: () => ended };
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
  logs(): string;
  exec(cmd: string[]): Promise<{ exitCode: number; output: string }>;
  remove(): Promise<void>;
}

export async function startContainer(o: ContainerOptions): Promise<Started> {
  const logs = logBuffer();
  const c = new LoopbackContainer(o.image)
    .withExposedPorts(...(o.ports ?? []))
    .withEnvironment(o.env ?? {})
    .withBindMounts(o.bindMounts ?? [])
    .withTmpFs(o.tmpFs ?? {})
    .withLogConsumer(logs.consumer)
    .withStartupTimeout(60_000)
    // Readiness is each spec's own probe (waitFor on its health endpoint): testcontainers' port check runs a shell
    // inside the container, and the collector and Jaeger images have none (FROM scratch).
    .withWaitStrategy(Wait.forAll([]));
  const container = await c.start();
  return {
    container,
    url(port, path = '/') {
      return `http://127.0.0.1:${container.getMappedPort(port)}${path}`;
    },
    logs: logs.text,
    async exec(cmd) {
      const r = await container.exec(cmd);
      return { exitCode: r.exitCode, output: r.output };
    },
    async remove() {
      await container.stop({ remove: true, removeVolumes: true, timeout: 5_000 });
    },
  };
}

/** Runs IMAGE [ARGS] (with ENTRYPOINT, when given) with no network, to completion; fails unless it exits 0. */
export async function runOnce(
  image: string,
  args: string[],
  entrypoint?: string,
): Promise<{ output: string }> {
  const logs = logBuffer();
  let c = new GenericContainer(image)
    .withNetworkMode('none')
    .withCommand(args)
    .withLogConsumer(logs.consumer)
    .withWaitStrategy(Wait.forOneShotStartup())
    .withStartupTimeout(60_000);
  if (entrypoint) c = c.withEntrypoint([entrypoint]);
  let container: StartedTestContainer | undefined;
  try {
    container = await c.start();
    await Promise.race([logs.ended(), new Promise((r) => setTimeout(r, 5_000))]);
    return { output: logs.text() };
  } catch (err) {
    throw new Error(
      `${image} ${[entrypoint, ...args].filter(Boolean).join(' ')} did not exit 0: ${(err as Error).message}\n${logs.text()}`,
    );
  } finally {
    await container?.stop({ remove: true, timeout: 1_000 }).catch(() => {});
  }
}
