// Recipe: access without the host. An outside user logs in over SSH (a sshd of this spec's own on 127.0.0.1,
// configured with the same plan `pnpm ssh:setup` writes) and gets an interactive Claude Code session whose user is
// the login name, attested by sudo, never typed; asking for a command instead gets a refusal, not a shell.
// Needs root (a test account, a sudoers drop-in, sshd): the spec says so and skips otherwise.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { planSshAccess } from '../scripts/lib/ssh/ssh-access.ts';
import { formatEnvFile } from '../scripts/lib/stack/env-file.ts';
import { playInteractiveDemo, ptySession } from '../scripts/lib/testing/pty-session.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { stack } from './support/stack.ts';

const why =
  process.getuid?.() !== 0
    ? 'not root (it creates a test account, a sudoers drop-in and runs sshd)'
    : !existsSync('/usr/sbin/sshd')
      ? 'no /usr/sbin/sshd (Debian package openssh-server; scripts/bootstrap.sh installs it)'
      : !existsSync('/usr/bin/sudo')
        ? 'no /usr/bin/sudo (Debian package sudo; scripts/bootstrap.sh installs it)'
        : '';
if (why) console.log(`ssh-access spec skipped: ${why}`);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

describe.skipIf(Boolean(why))('interactive sessions over SSH, without a shell on the host', () => {
  const user = `cct-ssh-${randomBytes(3).toString('hex')}`;
  const sudoers = `/etc/sudoers.d/${user}`;
  let dir = '';
  let port = 0;
  let sshd: ChildProcess | undefined;
  const ssh = (extra: string[]) => [
    'ssh',
    '-i',
    join(dir, 'id'),
    '-p',
    String(port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'BatchMode=yes',
    ...extra,
    `${user}@127.0.0.1`,
  ];

  beforeAll(async () => {
    const e2eStack = stack();
    dir = mkdtempSync(join(tmpdir(), 'cct-ssh-'));
    chmodSync(dir, 0o755);
    await $({ quiet: true })`useradd --create-home --shell /bin/sh ${user}`;
    await $({ quiet: true })`usermod -p ${'*'} ${user}`; // no password, but not locked: keys only
    await $({ quiet: true })`ssh-keygen -q -t ed25519 -N ${''} -f ${join(dir, 'id')}`;
    await $({ quiet: true })`ssh-keygen -q -t ed25519 -N ${''} -f ${join(dir, 'host')}`;
    const home = `/home/${user}`;
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(join(home, '.ssh/authorized_keys'), readFileSync(join(dir, 'id.pub')), { mode: 0o600 });
    await $({ quiet: true })`chown -R ${user}: ${join(home, '.ssh')}`;
    // The stack this session command runs in: the specs' own (root-only: it holds the stack's secrets).
    const stackEnv = join(dir, 'stack.env');
    writeFileSync(
      stackEnv,
      formatEnvFile(
        { ...e2eStack.composeEnv, STACK_OVERRIDE: e2eStack.override, SESSIONS_DIR: e2eStack.sessionsDir },
        ['ssh-access spec'],
      ),
      { mode: 0o600 },
    );
    const plan = planSshAccess({
      match: { user },
      stackOwner: 'root',
      node: process.execPath,
      args: ['--stack-env', stackEnv],
    });
    writeFileSync(sudoers, plan.sudoers, { mode: 0o440 });
    await $({ quiet: true })`visudo -cf ${sudoers}`;
    port = await freePort();
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'AuthorizedKeysFile .ssh/authorized_keys',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PermitRootLogin no',
        `AllowUsers ${user}`,
        plan.sshdConfig,
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true });
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    sshd.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    await waitFor(
      () => `sshd not listening on 127.0.0.1:${port}; its log: ${log}`,
      () =>
        new Promise<true | undefined>((resolve) => {
          const c = connect(port, '127.0.0.1', () => {
            c.destroy();
            resolve(true);
          });
          c.on('error', () => resolve(undefined));
        }),
      { timeoutMs: 15_000 },
    );
  });

  afterAll(async () => {
    sshd?.kill('SIGTERM');
    rmSync(sudoers, { force: true });
    await $({ quiet: true, nothrow: true })`userdel --remove ${user}`;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a login gets an interactive session whose user is the login name', async () => {
    const e2eStack = stack();
    const before = new Set(readdirSync(e2eStack.sessionsDir));
    const tty = ptySession(
      ssh(['-tt'])
        .map((w) => `'${w}'`)
        .join(' '),
      {},
    );
    try {
      expect(await playInteractiveDemo(tty), tty.screen().slice(-1500)).toBe(0);
    } finally {
      tty.kill();
    }
    const records = readdirSync(e2eStack.sessionsDir)
      .filter((d) => !before.has(d))
      .map(
        (d) =>
          JSON.parse(readFileSync(join(e2eStack.sessionsDir, d, 'metadata.json'), 'utf8')) as Record<
            string,
            unknown
          >,
      );
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ user, mode: 'interactive', status: 'completed' });
  });

  it('a login asking for a command, or without a terminal, is refused: no shell', async () => {
    const r = await $({ nothrow: true, quiet: true, stdio: ['ignore', 'pipe', 'pipe'] })`${ssh(['-T'])} id`;
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).not.toContain('uid=');
    expect(r.stderr).toContain('this account starts interactive Claude Code sessions only');
    const noTty = await $({ nothrow: true, quiet: true, stdio: ['ignore', 'pipe', 'pipe'] })`${ssh(['-T'])}`;
    expect(noTty.exitCode).not.toBe(0);
    expect(noTty.stderr).toContain('an interactive session needs a terminal');
  });
});
