// Access without the host: outside users log in over SSH and get an interactive Claude Code session, nothing
// else. Their sshd Match block forces one command, `sudo` to the stack's owner running scripts/ssh-session.ts;
// sudo sets SUDO_USER to the login name, which becomes the session's user. The user never types it, and never
// gets a shell, the Docker socket or the stack's secrets. This module plans the two drop-in files (pure, tested);
// `pnpm ssh:setup` writes them, and the SSH access spec uses the same plan with a sshd of its own.
import { join } from 'node:path';
import { repoRoot } from '../repo-root.ts';

export interface SshAccessOptions {
  /** Who may log in for sessions: a group (`Match Group`) or one user (`Match User`, the spec's). */
  match: { group: string } | { user: string };
  /** The account that runs the stack (may use Docker): sessions run as it, through sudo. */
  stackOwner: string;
  /** Node, by absolute path (sudo's secure_path need not have it). */
  node: string;
  /** Extra arguments for ssh-session.ts (the spec's --stack-env FILE). */
  args?: string[];
}

export const SESSION_SCRIPT = join(repoRoot, 'scripts', 'ssh-session.ts');
const NAME = /^[a-z_][a-z0-9_.-]{0,31}$/;
const SAFE = /^[A-Za-z0-9_./:=@%+-]+$/;

/** The command sshd forces for a login, and sudo allows: node ssh-session.ts [args], as the stack's owner. */
export function sessionCommand(o: SshAccessOptions): string[] {
  return [o.node, SESSION_SCRIPT, ...(o.args ?? [])];
}

export function planSshAccess(o: SshAccessOptions): { sshdConfig: string; sudoers: string } {
  const who = 'group' in o.match ? o.match.group : o.match.user;
  if (!NAME.test(who)) throw new Error(`not a Unix user or group name: ${JSON.stringify(who)}`);
  if (!NAME.test(o.stackOwner)) throw new Error(`not a Unix user name: ${JSON.stringify(o.stackOwner)}`);
  const command = sessionCommand(o);
  const bad = command.find((w) => !SAFE.test(w));
  if (bad) throw new Error(`a path or argument sudoers could not match literally: ${JSON.stringify(bad)}`);
  const line = command.join(' ');
  const match = 'group' in o.match ? `Match Group ${who}` : `Match User ${who}`;
  const sudoWho = 'group' in o.match ? `%${who}` : who;
  const alias = `CLAUDE_CODE_SESSION_${who.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  return {
    sshdConfig: [
      '# claude-code-telemetry: these accounts get an interactive Claude Code session, nothing else (no shell,',
      '# no forwarding). The session runs as the stack owner through sudo, which attests the login name.',
      match,
      `    ForceCommand /usr/bin/sudo -n -u ${o.stackOwner} ${line}`,
      '    PermitTTY yes',
      '    AllowTcpForwarding no',
      '    AllowStreamLocalForwarding no',
      '    AllowAgentForwarding no',
      '    X11Forwarding no',
      '    PermitTunnel no',
      '',
    ].join('\n'),
    sudoers: [
      '# claude-code-telemetry: the SSH session command, and only it, as the stack owner (SUDO_USER names the login).',
      `Cmnd_Alias ${alias} = ${line}`,
      '# Kept so the command can refuse a login that asked for a command (sshd sets it; sudo would drop it).',
      `Defaults!${alias} env_keep += "SSH_ORIGINAL_COMMAND"`,
      `${sudoWho} ALL=(${o.stackOwner}) NOPASSWD: ${alias}`,
      '',
    ].join('\n'),
  };
}
