// The time limit timer of a statement on a query worker (query-runner.ts). A time limit that expires while its
// result is already waiting to be read (this process stalled past the limit) does not count: the expiry waits one
// turn of the event loop, in which pending results are read.

/**
 * Calls `expire` `ms` from now, unless cancelled first. The expiry waits for the check phase of the event loop
 * (setImmediate): I/O that arrived while this process was stalled past `ms`, such as a worker's result, is read in
 * the poll phase before it, and settling cancels the expiry. Returns the cancel function.
 */
export function deadline(ms: number, expire: () => void): () => void {
  let immediate: ReturnType<typeof setImmediate> | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(expire);
  }, ms);
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}
