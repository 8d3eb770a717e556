#!/usr/bin/env node
// The command sshd forces for outside users (see `pnpm ssh:setup`): an interactive Claude Code session for the
// logged-in user, run as the stack's owner through sudo. The user is the login name sudo attests (SUDO_USER), or
// this process's own account when run directly; never something the user typed. Anything else (a command, no
// terminal) is refused with a line that says why.
import { userInfo } from 'node:os';
import { argv } from 'zx';
import { runSession } from './lib/session/session-run.ts';
import { readEnvFile } from './lib/stack/env-file.ts';

const HELP = `Usage (forced by sshd; see pnpm ssh:setup): node scripts/ssh-session.ts [--stack-env FILE]

Starts an interactive Claude Code session for the user who logged in (SUDO_USER, set by sudo).
  --stack-env FILE  the compose project and values of another stack (KEY=VALUE lines; the specs' own stack)`;

const say = (line: string) => process.stderr.write(`claude-code session: ${line}\n`);

async function main(): Promise<number> {
  if (argv.help || argv.h) {
    console.log(HELP);
    return 0;
  }
  if (process.env.SSH_ORIGINAL_COMMAND) {
    say('this account starts interactive Claude Code sessions only: log in without a command (ssh -t HOST)');
    return 64;
  }
  if (!process.stdin.isTTY) {
    say('an interactive session needs a terminal: log in with ssh -t');
    return 64;
  }
  const user = process.env.SUDO_USER || userInfo().username;
  if (!user || user === 'root') {
    say('no login user to run the session for (SUDO_USER is unset or root)');
    return 77;
  }
  const stackEnv = argv['stack-env'] ? readEnvFile(String(argv['stack-env'])) : undefined;
  const out = await runSession(
    { interactive: true, user },
    stackEnv
      ? {
          project: stackEnv.STACK_PROJECT,
          overrides: stackEnv.STACK_OVERRIDE ? [stackEnv.STACK_OVERRIDE] : [],
          composeEnv: stackEnv,
          sessionsDir: stackEnv.SESSIONS_DIR,
        }
      : {},
  );
  say(`session ${out.plan.sessionId} of ${user}: ${out.metadata?.status ?? 'no record'}`);
  return out.exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
