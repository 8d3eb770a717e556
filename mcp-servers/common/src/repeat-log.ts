// Repeated log lines in summary: the first line of a kind is logged when it comes; the rest of its interval are
// counted and logged as one line when the interval ends (and again each interval while they keep coming). A flood
// of refused requests then costs one or two lines per kind and interval, not one per request. Kinds are a small
// fixed set chosen by the caller, never a value taken from a request, so the state stays bounded.

export interface RepeatLog {
  /** Logs `line` now if it is the first of its kind in the interval, otherwise counts it. */
  note(kind: string, line: string): void;
  /** Logs the pending summaries and stops the timers. */
  close(): void;
}

interface Window {
  count: number;
  latest: string;
  timer: ReturnType<typeof setTimeout>;
}

export function repeatLog(log: (line: string) => void, intervalMs = 60_000): RepeatLog {
  const windows = new Map<string, Window>();
  const seconds = intervalMs >= 1000 ? `${Math.round(intervalMs / 1000)} s` : `${intervalMs} ms`;
  const summary = (kind: string, w: Window) =>
    `${w.count} more like this (${kind}) in the last ${seconds}, latest: ${w.latest}`;
  const open = (kind: string) => {
    const timer = setTimeout(() => end(kind), intervalMs);
    timer.unref?.();
    windows.set(kind, { count: 0, latest: '', timer });
  };
  const end = (kind: string) => {
    const w = windows.get(kind);
    if (!w) return;
    windows.delete(kind);
    if (w.count > 0) {
      log(summary(kind, w));
      // Still coming: keep counting, so a steady flood is one summary line per interval.
      open(kind);
    }
  };
  return {
    note(kind, line) {
      const w = windows.get(kind);
      if (w) {
        w.count++;
        w.latest = line;
        return;
      }
      log(line);
      open(kind);
    },
    close() {
      for (const [kind, w] of windows) {
        clearTimeout(w.timer);
        if (w.count > 0) log(summary(kind, w));
      }
      windows.clear();
    },
  };
}
