// Polls until `probe` returns a value (not undefined), or fails naming what was awaited and for how long.
// No sleeps in specs: every wait is bounded and says what it waited for.
export async function waitFor<T>(
  /** What is awaited; a function to say what was last seen. */
  what: string | (() => string),
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`${typeof what === 'function' ? what() : what} after ${timeoutMs} ms${cause}`);
}
