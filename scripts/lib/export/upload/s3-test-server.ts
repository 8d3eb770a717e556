// A real S3 service for the tests of the upload: versitygw, the scaled stack's s3-gateway, run on the host over a
// temporary folder. The binary is built from its Go module at the stack's pin (S3_GATEWAY_VERSION in
// stack/versions.env) into .cache/go/bin, once (cold: about 2 minutes here), like telemetrygen for the benchmarks.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { goEnv } from '../../images/build-run.ts';
import { repoRoot } from '../../repo-root.ts';
import { readEnvFile, required } from '../../stack/env-file.ts';
import { envFiles } from '../../stack/stack-files.ts';
import { waitFor } from '../../wait-for.ts';

export const VERSITYGW_MODULE = 'github.com/versity/versitygw/cmd/versitygw';

/** The binary at the stack's pin, built with `go install` when missing. */
export async function ensureVersitygw(log: (line: string) => void = () => {}): Promise<string> {
  const version = required(readEnvFile(envFiles.versions), 'S3_GATEWAY_VERSION');
  const gobin = join(repoRoot, '.cache', 'go', 'bin', `versitygw-v${version}`);
  const bin = join(gobin, 'versitygw');
  if (existsSync(bin)) return bin;
  log(`building versitygw v${version} from its Go module into ${gobin}`);
  await $({
    quiet: true,
    env: { ...goEnv, GOBIN: gobin },
    timeout: '15m',
  })`go install -trimpath ${`${VERSITYGW_MODULE}@v${version}`}`;
  if (!existsSync(bin)) throw new Error(`go install ${VERSITYGW_MODULE}@v${version} did not produce ${bin}`);
  return bin;
}

export interface TestS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The folder it serves: one folder per bucket, one file per object. */
  dir: string;
  stop: () => Promise<void>;
}

/** A port free now (the gateway cannot be asked to pick one and say which). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Whether GET /health answers 200 (versitygw's health path, unauthenticated, when VGW_HEALTH names it). */
const healthy = (port: number) =>
  new Promise<boolean>((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/health', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });

/** versitygw on 127.0.0.1 over a new temporary folder, with keys of its own; stop() ends it and removes the folder. */
export async function startTestS3(bin: string): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 's3-gateway-'));
  const accessKeyId = `test${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(20).toString('hex');
  let child: ChildProcess | undefined;
  let output = '';
  // A port taken between freePort() and the gateway's bind (another test's) makes it exit: try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = spawn(bin, ['--quiet', 'posix', dir], {
      // Keys through the environment, not the command line (which `ps` shows).
      env: {
        PATH: process.env.PATH,
        VGW_PORT: `127.0.0.1:${port}`,
        VGW_HEALTH: '/health',
        ROOT_ACCESS_KEY_ID: accessKeyId,
        ROOT_SECRET_ACCESS_KEY: secretAccessKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    output = '';
    proc.stdout?.on('data', (d: Buffer) => {
      output = (output + d).slice(-4000);
    });
    proc.stderr?.on('data', (d: Buffer) => {
      output = (output + d).slice(-4000);
    });
    let exited = false;
    proc.on('exit', () => {
      exited = true;
    });
    // Up: it answers its health path and still runs (a gateway that lost the port to another process exits, and
    // what answers there is not it). Bounded by its start: it answers or exits.
    const up = await waitFor(
      () => `versitygw on 127.0.0.1:${port} to answer (output: ${output.trim().slice(-500)})`,
      async () => (exited ? false : (await healthy(port)) && !exited ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    if (up) {
      child = proc;
      const endpoint = `http://127.0.0.1:${port}`;
      return {
        endpoint,
        accessKeyId,
        secretAccessKey,
        dir,
        stop: async () => {
          if (child && child.exitCode === null) {
            const gone = new Promise((r) => child?.once('exit', r));
            child.kill('SIGTERM');
            await gone;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (attempt >= 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `versitygw exited before answering, ${attempt} times (last output: ${output.trim().slice(-500)})`,
      );
    }
  }
}
