import { describe, expect, it } from 'vitest';
import { planSshAccess, SESSION_SCRIPT } from './ssh-access.ts';

describe('planSshAccess', () => {
  it('forces the session command for the group, and lets sudo run that command only, as the stack owner', () => {
    const p = planSshAccess({
      match: { group: 'claude-code-users' },
      stackOwner: 'stack',
      node: '/usr/local/bin/node',
    });
    expect(p.sshdConfig).toContain('Match Group claude-code-users\n');
    expect(p.sshdConfig).toContain(
      `    ForceCommand /usr/bin/sudo -n -u stack /usr/local/bin/node ${SESSION_SCRIPT}\n`,
    );
    for (const off of [
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
      'X11Forwarding no',
      'PermitTunnel no',
    ])
      expect(p.sshdConfig).toContain(off);
    expect(p.sudoers).toContain(
      `Cmnd_Alias CLAUDE_CODE_SESSION_CLAUDE_CODE_USERS = /usr/local/bin/node ${SESSION_SCRIPT}\n`,
    );
    expect(p.sudoers).toContain(
      'Defaults!CLAUDE_CODE_SESSION_CLAUDE_CODE_USERS env_keep += "SSH_ORIGINAL_COMMAND"\n',
    );
    expect(p.sudoers).toContain(
      '%claude-code-users ALL=(stack) NOPASSWD: CLAUDE_CODE_SESSION_CLAUDE_CODE_USERS\n',
    );
  });

  it('matches one user with extra arguments (the spec), and refuses names and paths it could not match literally', () => {
    const p = planSshAccess({
      match: { user: 'cct-ssh-1' },
      stackOwner: 'root',
      node: '/n',
      args: ['--stack-env', '/tmp/s.env'],
    });
    expect(p.sudoers).toContain(
      `Cmnd_Alias CLAUDE_CODE_SESSION_CCT_SSH_1 = /n ${SESSION_SCRIPT} --stack-env /tmp/s.env\n`,
    );
    expect(p.sudoers).toContain('cct-ssh-1 ALL=(root) NOPASSWD: CLAUDE_CODE_SESSION_CCT_SSH_1\n');
    expect(() => planSshAccess({ match: { group: 'bad group' }, stackOwner: 'root', node: '/n' })).toThrow(
      'not a Unix user or group name: "bad group"',
    );
    expect(() => planSshAccess({ match: { group: 'g' }, stackOwner: 'root', node: '/my node' })).toThrow(
      'a path or argument sudoers could not match literally: "/my node"',
    );
  });
});
