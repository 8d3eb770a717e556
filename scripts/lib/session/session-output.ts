// How the verbs that run a session (`pnpm session`, the demo of `pnpm stack:up`) show it: the stream rendered for a
// person (stream-render.ts) by default, or the CLI's raw stream-json with `--json`; and the one line that says how
// the session ended (status, time, exit code, and the limit that ended it, if one did). Interactive sessions own the
// terminal and are never rendered (runSession gives them the terminal itself).
import type { RunOptions, SessionOutcome } from './session-run.ts';
import { type StreamRender, streamRender } from './stream-render.ts';

export interface SessionOutput {
  /** For runSession: undefined keeps the raw stream (runSession prints it as it comes). */
  onData?: RunOptions['onData'];
  /** The stream ended: prints what the renderer still held. */
  end(): void;
}

interface Sink {
  write(text: string | Uint8Array): unknown;
}

export function sessionOutput(
  json: boolean,
  out: Sink = process.stdout,
  err: Sink = process.stderr,
): SessionOutput {
  if (json) return { end() {} };
  let render: StreamRender | undefined;
  return {
    onData(chunk, stream, plan) {
      // The container's stderr (entrypoint and wrapper notes, the CLI's own errors) is text already.
      if (stream === 'stderr') {
        err.write(chunk);
        return;
      }
      render ??= streamRender({ prompt: plan.env.SESSION_PROMPT });
      const text = render.write(chunk);
      if (text) out.write(text);
    },
    end() {
      const text = render?.end();
      if (text) out.write(text);
    },
  };
}

/** How a session ended, in one line: its status, time and exit code, and the limit that ended it. */
export function outcomeLine(o: SessionOutcome): string {
  const m = o.metadata;
  if (!m) return `${o.plan.sessionId} exit ${o.exitCode} (no record: see above)`;
  const limit = m.limit ? `: ${m.limit.kind} limit, ${m.limit.description}` : '';
  const time = m.durationMs === null ? '' : ` in ${(m.durationMs / 1000).toFixed(1)} s`;
  return `${o.plan.sessionId} ${m.status}${limit}${time}, exit ${m.exitCode ?? o.exitCode}`;
}
