// Reads the facts docker-plan.ts decides on. Every probe tolerates a missing command.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { $, which } from 'zx';
import type { HostFacts } from './docker-plan.ts';

export async function readOsRelease(file = '/etc/os-release'): Promise<Record<string, string>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return parseOsRelease(text);
}

export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2].replace(/^["']|["']$/g, '');
  }
  return out;
}

/** First non-empty line of a command's stderr, to quote in a message. */
export function firstLine(text: string): string | null {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? null
  );
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const p = await $({ nothrow: true, quiet: true, timeout: '20s' })`${cmd} ${args}`;
  return { ok: p.exitCode === 0, stdout: p.stdout.trim(), stderr: p.stderr.trim() };
}

export interface DockerFacts {
  dockerClient: string | null;
  engine: string | null;
  engineError: string | null;
  compose: string | null;
}

export async function readDockerFacts(): Promise<DockerFacts> {
  if (!(await which('docker', { nothrow: true }))) {
    return { dockerClient: null, engine: null, engineError: 'no `docker` command on PATH', compose: null };
  }
  const [client, server, compose] = await Promise.all([
    run('docker', ['version', '--format', '{{.Client.Version}}']),
    run('docker', ['version', '--format', '{{.Server.Version}}']),
    run('docker', ['compose', 'version', '--short']),
  ]);
  return {
    dockerClient: client.stdout.split('\n')[0] || null,
    engine: server.ok && server.stdout ? server.stdout : null,
    engineError: server.ok ? null : firstLine(server.stderr),
    compose: compose.ok && compose.stdout ? compose.stdout.replace(/^v/, '') : null,
  };
}

export async function readHostFacts(): Promise<HostFacts> {
  const os = await readOsRelease();
  const [docker, apt, dockerd, chromium, sudo, pid1] = await Promise.all([
    readDockerFacts(),
    which('apt-get', { nothrow: true }),
    which('dockerd', { nothrow: true }),
    which('chromium', { nothrow: true }),
    which('sudo', { nothrow: true }),
    readFile('/proc/1/comm', 'utf8').catch(() => ''),
  ]);
  return {
    platform: process.platform,
    osId: os.ID ?? null,
    osCodename: os.VERSION_CODENAME ?? null,
    isRoot: process.getuid?.() === 0,
    hasApt: Boolean(apt),
    hasSystemd: pid1.trim() === 'systemd',
    ...docker,
    dockerdInstalled: Boolean(dockerd),
    chromium: Boolean(chromium),
    sshd: existsSync('/usr/sbin/sshd'),
    sudo: Boolean(sudo),
  };
}
