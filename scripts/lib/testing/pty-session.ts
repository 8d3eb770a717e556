// Drives a program through a pseudo-terminal (util-linux `script` gives it one), as a person at a terminal would:
// wait for text on the screen, type, wait again. Used by the interactive spec and `pnpm compat` alike to run the
// interactive demo session in an ephemeral stack (runInteractiveDemo), so it lives in the harness both share.
import { type ChildProcess, spawn } from 'node:child_process';
import type { SessionOptions } from '../session/session-plan.ts';
import { shellQuote } from '../session/session-record.ts';
import type { SessionOutcome } from '../session/session-run.ts';
import { waitFor } from '../wait-for.ts';
import { type EphemeralStack, runSessionIn } from './ephemeral-stack.ts';

export const ANSI =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are what we strip
  /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007|\u001b[()][0-9A-Za-z]|\u001b[>=78]/g;

/** The TUI moves the cursor instead of printing spaces: screens are compared without white space. */
export const squeeze = (t: string) => t.replace(/\s+/g, '');

export interface PtySession {
  /** Waits until the (escape-stripped) screen shows `text`; the error quotes the end of the screen. */
  waitScreen(what: string, text: string, timeoutMs: number): Promise<void>;
  screen(): string;
  type(text: string): void;
  /** The exit code, or 'timeout' when it has not ended within timeoutMs. */
  exit(timeoutMs: number): Promise<number | null | 'timeout'>;
  kill(): void;
}

/** Starts `command` (a shell command line: quote it with session-record.ts's shellQuote) on a 120x40 pseudo-terminal. */
export function ptySession(command: string, env: Record<string, string>): PtySession {
  const child: ChildProcess = spawn('script', ['-q', '-f', '-e', '-c', command, '/dev/null'], {
    env: { ...process.env, ...env, TERM: 'xterm-256color', COLUMNS: '120', LINES: '40' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  child.stdout?.on('data', (d: Buffer) => {
    screen += d.toString().replace(ANSI, '');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    async waitScreen(what, text, timeoutMs) {
      try {
        await waitFor(what, async () => (squeeze(screen).includes(squeeze(text)) ? true : undefined), {
          timeoutMs,
        });
      } catch (err) {
        throw new Error(`${(err as Error).message}; the terminal ended with:\n${screen.slice(-1500)}`);
      }
    },
    screen: () => screen,
    type: (text) => {
      child.stdin?.write(text);
    },
    exit: (timeoutMs) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([
        exited,
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    },
    kill: () => child.kill('SIGKILL'),
  };
}

/** The demo script's interactive session: the prompt typed, the scripted answer awaited, then /exit. */
export async function playInteractiveDemo(tty: PtySession): Promise<number | null | 'timeout'> {
  await tty.waitScreen('Claude Code showed no input prompt', 'for shortcuts', 60_000);
  tty.type('please create the greeting');
  tty.type('\r');
  await tty.waitScreen(
    'the scripted answer never appeared on the terminal',
    'Done: hello.py greets warmly',
    60_000,
  );
  tty.type('/exit');
  await tty.waitScreen('the /exit command was not echoed', '/exit', 10_000);
  tty.type('\r');
  return tty.exit(30_000);
}

/** How the terminal of an interactive session ended: its exit code, or 'timeout' (not within 30 s of /exit). */
export type Played = number | null | 'timeout';

/** The demo's interactive session in an ephemeral stack, played on a pseudo-terminal; the terminal closed after. */
export async function runInteractiveDemo(
  stack: Pick<EphemeralStack, 'project' | 'overrides' | 'composeEnv' | 'sessionsDir'>,
  options: Omit<SessionOptions, 'interactive' | 'script'>,
): Promise<{ outcome: SessionOutcome; played: Played }> {
  let played: Played = null;
  const outcome = await runSessionIn(stack, { ...options, interactive: true }, undefined, {
    terminal: async (argv, env) => {
      const tty = ptySession(shellQuote(argv), env);
      try {
        played = await playInteractiveDemo(tty);
        return played === 'timeout' ? null : played;
      } finally {
        tty.kill();
      }
    },
  });
  return { outcome, played };
}
