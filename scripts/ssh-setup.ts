#!/usr/bin/env node
// `pnpm ssh:setup`: lets outside users start interactive Claude Code sessions over SSH without a shell on the host.
// Writes an sshd drop-in (Match Group -> ForceCommand) and a sudoers drop-in (that command only, as the stack's
// owner), checks both with sshd -t and visudo -c, and says what is left to do. The plan is scripts/lib/ssh/.
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { $, argv } from 'zx';
import { planSshAccess } from './lib/ssh/ssh-access.ts';

const HELP = `Usage: pnpm ssh:setup [--group NAME] [--stack-owner USER] [--dry-run]

Members of the group log in over SSH and get an interactive Claude Code session (their login name is the
session's user), nothing else. Needs root (it writes under /etc).
  --group NAME        who may log in for sessions (default: claude-code-users)
  --stack-owner USER  the account that runs the stack and may use Docker (default: you, ${userInfo().username})
  --dry-run           print both files, write nothing`;

async function main(): Promise<number> {
  if (argv.help || argv.h) {
    console.log(HELP);
    return 0;
  }
  const group = String(argv.group ?? 'claude-code-users');
  const stackOwner = String(argv['stack-owner'] ?? userInfo().username);
  const plan = planSshAccess({ match: { group }, stackOwner, node: process.execPath });
  const sshdFile = '/etc/ssh/sshd_config.d/claude-code-telemetry.conf';
  const sudoersFile = '/etc/sudoers.d/claude-code-telemetry';
  if (argv['dry-run']) {
    console.log(`# ${sshdFile}\n${plan.sshdConfig}\n# ${sudoersFile}\n${plan.sudoers}`);
    return 0;
  }
  if (process.getuid?.() !== 0)
    throw new Error('run it as root (it writes /etc/ssh and /etc/sudoers.d): sudo pnpm ssh:setup');
  const tmp = join('/etc/sudoers.d', '.claude-code-telemetry.new');
  writeFileSync(tmp, plan.sudoers, { mode: 0o440 });
  const check = await $({ nothrow: true, quiet: true })`visudo -cf ${tmp}`;
  if (check.exitCode !== 0) {
    await $({ nothrow: true })`rm -f ${tmp}`;
    throw new Error(`visudo refused the sudoers drop-in: ${check.stderr.trim() || check.stdout.trim()}`);
  }
  await $`mv ${tmp} ${sudoersFile}`;
  writeFileSync(sshdFile, plan.sshdConfig, { mode: 0o644 });
  const sshd = await $({ nothrow: true, quiet: true })`/usr/sbin/sshd -t`;
  if (sshd.exitCode !== 0) throw new Error(`sshd -t refused the configuration: ${sshd.stderr.trim()}`);
  console.log(`ssh:setup: wrote ${sshdFile} and ${sudoersFile} (both checked)`);
  console.log(`ssh:setup: next: groupadd -f ${group}; usermod -aG ${group} USER (for each outside user);`);
  console.log(
    'ssh:setup:       reload sshd (systemctl reload ssh); users log in with: ssh -t USER@this-host',
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`ssh:setup: error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
