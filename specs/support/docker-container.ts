// Starts one container with the docker CLI, its ports published on 127.0.0.1 only (random host ports), for
// specs that check a single image. The whole stack is brought up with testcontainers elsewhere.
import { $ } from 'zx';

export interface ContainerOptions {
  image: string;
  ports?: number[];
  args?: string[];
  env?: Record<string, string>;
  /** host:container[:ro] bind mounts */
  volumes?: string[];
  tmpfs?: string[];
  entrypoint?: string;
}

export interface StartedContainer {
  id: string;
  url(port: number, path?: string): string;
  logs(): Promise<string>;
  exec(cmd: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  remove(): Promise<void>;
}

export async function startContainer(o: ContainerOptions): Promise<StartedContainer> {
  const flags = [
    ...(o.ports ?? []).flatMap((p) => ['-p', `127.0.0.1::${p}`]),
    ...Object.entries(o.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    ...(o.volumes ?? []).flatMap((v) => ['-v', v]),
    ...(o.tmpfs ?? []).flatMap((t) => ['--tmpfs', t]),
    ...(o.entrypoint ? ['--entrypoint', o.entrypoint] : []),
  ];
  const id = (await $({ quiet: true })`docker run -d ${flags} ${o.image} ${o.args ?? []}`).stdout.trim();
  const mapped = new Map<number, string>();
  for (const port of o.ports ?? []) {
    const out =
      (await $({ quiet: true })`docker port ${id} ${`${port}/tcp`}`).stdout.trim().split('\n')[0] ?? '';
    const hostPort = /^127\.0\.0\.1:(\d+)$/.exec(out)?.[1];
    if (!hostPort)
      throw new Error(`${o.image}: port ${port} is not published on 127.0.0.1 (docker port: ${out})`);
    mapped.set(port, hostPort);
  }
  return {
    id,
    url(port, path = '/') {
      const hostPort = mapped.get(port);
      if (!hostPort) throw new Error(`${o.image}: port ${port} was not published`);
      return `http://127.0.0.1:${hostPort}${path}`;
    },
    async logs() {
      const r = await $({ quiet: true, nothrow: true })`docker logs ${id}`;
      return r.stdout + r.stderr;
    },
    async exec(cmd) {
      const r = await $({ quiet: true, nothrow: true })`docker exec ${id} ${cmd}`;
      return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    async remove() {
      await $({ quiet: true, nothrow: true })`docker rm -f -v ${id}`;
    },
  };
}

/** `docker run --rm IMAGE ARGS`: its exit code and output. */
export async function runOnce(image: string, args: string[], entrypoint?: string) {
  const ep = entrypoint ? ['--entrypoint', entrypoint] : [];
  const r = await $({ quiet: true, nothrow: true })`docker run --rm --network none ${ep} ${image} ${args}`;
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}
