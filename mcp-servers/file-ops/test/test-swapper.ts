// The attacker of sandbox-race.test.ts, as its own process (so it races the server's thread pool for real):
// swaps the folder DIR, inside the sandbox, with a symlink, and back, holding each state a random few
// microseconds, until the file STOP exists or MAX_MS milliseconds have passed. The symlink points to each TARGET
// in turn (a folder outside holding a secret, `/proc/self`). Leaves DIR a folder; prints its swap count.
// Usage: node test-swapper.ts DIR STOP MAX_MS TARGET...
import { existsSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';

const [dir, stop, ms, ...targets] = process.argv.slice(2);
if (!dir || !stop || !ms || targets.length === 0)
  throw new Error('usage: test-swapper.ts DIR STOP MAX_MS TARGET...');
const hidden = `${dir}.hidden`;
const end = Date.now() + Number(ms);
/** A call with createDirectories may make DIR again while it is away: that new folder is removed first. */
const put = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
    // The calls may keep filling it meanwhile: retried until it is gone.
    rmSync(dir, { recursive: true, force: true, maxRetries: 1000, retryDelay: 0 });
    put(fn);
  }
};
/** Holds a state for a random time up to `us` microseconds, so that every gap between a check and a use is hit. */
const hold = (us: number) => {
  const until = process.hrtime.bigint() + BigInt(Math.floor(Math.random() * us * 1000));
  while (process.hrtime.bigint() < until);
};
let swaps = 0;
while (Date.now() < end && !existsSync(stop)) {
  renameSync(dir, hidden);
  put(() => symlinkSync(targets[swaps % targets.length] as string, dir));
  hold(300);
  unlinkSync(dir);
  put(() => renameSync(hidden, dir));
  hold(3000);
  swaps++;
}
process.stdout.write(`${swaps}\n`);
