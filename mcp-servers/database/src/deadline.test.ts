// The time limit timer: it does not expire when the result came while this process was stalled past the limit.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deadline } from './deadline.ts';

describe('deadline: the time limit timer', { timeout: 120_000 }, () => {
  it('does not expire when the result arrived while this process was stalled past the limit', async () => {
    // A child that answers a message, then writes a file: once the file exists, the answer is in the pipe.
    const sent = join(mkdtempSync(join(tmpdir(), 'deadline-')), 'sent');
    const child = spawn(
      process.execPath,
      [
        '-e',
        `process.on('message', () => process.send('result', () => require('node:fs').writeFileSync(${JSON.stringify(sent)}, '')));
         process.send('ready');`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    try {
      await new Promise((resolve) => child.once('message', resolve));
      await new Promise((resolve) => child.send('go', resolve));
      let outcome = '';
      const cancel = deadline(50, () => {
        outcome ||= 'expired';
      });
      child.once('message', () => {
        outcome ||= 'result';
        cancel();
      });
      // Stall this process (no event loop) until the answer is in the pipe and the limit has passed.
      const t0 = Date.now();
      while (!(existsSync(sent) && Date.now() - t0 > 200) && Date.now() - t0 < 60_000) {
        /* stalled */
      }
      expect(existsSync(sent), 'the child answered within 60 s').toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(outcome).toBe('result');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('expires when no result comes', async () => {
    const expired = await new Promise<boolean>((resolve) => {
      deadline(10, () => resolve(true));
    });
    expect(expired).toBe(true);
  });
});
