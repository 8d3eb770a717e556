// Squid's logfile daemon (squid.conf: logfile_daemon, access_log daemon:...). Squid writes commands on stdin, one
// per line: `L<line>` to log a line, `R` rotate, `T` truncate, `O` reopen, `F` flush, `r<n>`/`b<n>` settings.
// Squid treats this process's death as fatal (its next write fails: "I don't handle this error well!", and Squid
// exits, taking every session's egress with it), so this process does as little as it can and never exits while
// stdin is open: it splits the input into bounded lines (byte-lines.ts), writes each access line, escaped, to
// stderr (the container's log), and hands it to a child, egress-sender.ts, which parses it and sends the events
// to the collector. A child that dies is restarted (with a growing pause if it keeps dying) and given again the
// lines it had not confirmed as sent; nothing it does can take Squid down.
import { type ChildProcess, fork } from 'node:child_process';
import { excerpt, type Line, lineSplitter } from './byte-lines.ts';

const say = (line: string) => process.stderr.write(`egress log daemon: ${line}\n`);
process.on('uncaughtException', (err) => say(`survived an unexpected error: ${err?.message ?? 'unknown'}`));
process.on('unhandledRejection', () => say('survived an unexpected rejection'));

/** An access line over this many bytes is cut (and reported as unparsed). */
const MAX_LINE = 1024 * 1024;
/** Lines kept for a sender that keeps failing; beyond it the oldest are dropped (they are on stderr). */
const MAX_UNSENT = 20_000;
const SENDER = new URL('./egress-sender.ts', import.meta.url);

export interface SenderLine {
  seq: number;
  line: Line;
}

function runDaemon() {
  const unsent = new Map<number, Line>();
  let seq = 0;
  let sender: ChildProcess | null = null;
  let restartDelay = 200;
  let startedAt = 0;
  let ending = false;

  function deliver(child: ChildProcess, items: SenderLine[]) {
    if (!items.length || !child.connected) return;
    try {
      child.send(items, (err) => {
        if (err) say(`could not hand ${items.length} line(s) to the sender: ${err.message}`);
      });
    } catch (err) {
      say(`could not hand ${items.length} line(s) to the sender: ${(err as Error).message}`);
    }
  }

  function startSender() {
    if (ending) return;
    let child: ChildProcess;
    try {
      child = fork(SENDER, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    } catch (err) {
      say(`could not start the sender: ${(err as Error).message}; retrying in ${restartDelay} ms`);
      setTimeout(startSender, restartDelay);
      restartDelay = Math.min(restartDelay * 2, 5000);
      return;
    }
    startedAt = Date.now();
    child.on('error', (err) => say(`sender error: ${err.message}`));
    child.on('message', (m: unknown) => {
      const acked = (m as { acked?: unknown })?.acked;
      if (Array.isArray(acked)) for (const s of acked) unsent.delete(s as number);
    });
    child.on('spawn', () => {
      // Lines logged before this point wait in `unsent`: all of them go now, in order.
      sender = child;
      say(`sender started (pid ${child.pid})`);
      deliver(
        child,
        [...unsent].map(([s, line]) => ({ seq: s, line })),
      );
    });
    child.on('exit', (code, signal) => {
      if (sender === child) sender = null;
      if (ending) return;
      // A sender that lived a while was not crash-looping: start the next one quickly.
      if (Date.now() - startedAt > 30_000) restartDelay = 200;
      say(
        `sender (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting in ${restartDelay} ms with ${unsent.size} unsent line(s)`,
      );
      setTimeout(startSender, restartDelay);
      restartDelay = Math.min(restartDelay * 2, 5000);
    });
  }

  function logged(line: Line) {
    process.stderr.write(
      `access: ${/^[\x20-\x7e]*$/.test(line.text) && !line.cut ? line.text : excerpt(line.text, 4096)}\n`,
    );
    seq += 1;
    unsent.set(seq, line);
    if (unsent.size > MAX_UNSENT) {
      const oldest = unsent.keys().next().value as number;
      unsent.delete(oldest);
      say(`over ${MAX_UNSENT} unsent lines: the oldest dropped (its access line is above in this log)`);
    }
    if (sender) deliver(sender, [{ seq, line }]);
  }

  function command(line: Line) {
    // L: a line to log. R, T, O, F, r, b: file commands and settings, and there is no file.
    if (line.text.startsWith('L')) logged({ ...line, text: line.text.slice(1), bytes: line.bytes - 1 });
  }

  const lines = lineSplitter(MAX_LINE);
  process.stdin.on('data', (chunk: Buffer) => {
    for (const line of lines.push(chunk)) command(line);
  });
  process.stdin.on('error', (err) => say(`stdin: ${err.message}`));
  // Squid is done (its stdin closes; on shutdown or reconfigure it also sends SIGTERM): give the sender a few
  // seconds to send what it holds, then go.
  let finishing = false;
  const finish = () => {
    if (finishing) return;
    finishing = true;
    const last = lines.end();
    if (last) command(last);
    const deadline = Date.now() + 5000;
    const poll = setInterval(() => {
      if (unsent.size && Date.now() < deadline) return;
      clearInterval(poll);
      ending = true;
      if (unsent.size)
        say(`${unsent.size} line(s) not sent at exit; their access lines are above in this log`);
      sender?.kill();
      process.exit(0);
    }, 100);
  };
  process.stdin.on('end', finish);
  process.on('SIGTERM', finish);
  startSender();
}
runDaemon();
