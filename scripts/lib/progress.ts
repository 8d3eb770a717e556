// Long work says what it is doing: a step that can take more than a few seconds prints a line when it starts
// and then every `everyMs` while it runs ("still building jaeger ... 45 s"), so a cold build is never silent.

export type Log = (line: string) => void;

export async function withProgress<T>(
  what: string,
  work: () => Promise<T>,
  log: Log,
  everyMs = 15_000,
): Promise<T> {
  const started = Date.now();
  const timer = setInterval(
    () => log(`  ... ${what}: ${Math.round((Date.now() - started) / 1000)} s so far`),
    everyMs,
  );
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
