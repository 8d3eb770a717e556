// A session script saved while the server runs is played at once (no restart), and a changed one is re-read.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplayServer } from './server.ts';
import { watchSessionScripts } from './session-script.ts';

const demo = fileURLToPath(new URL('../../../fixtures/sessions/demo.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'replay-scripts-'));
const replay = createReplayServer({ loaded: watchSessionScripts(dir), log: () => {} });
let base: string;
beforeAll(async () => {
  base = await replay.listen();
});
afterAll(() => replay.close());

const ask = (script: string) =>
  fetch(`${base}/scripts/${script}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-claude-code-session-id': `s-${script}-${Date.now()}` },
    body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 100, messages: [] }),
  });

describe('session scripts without a restart', () => {
  it('plays a script saved after the server started, and forgets a removed one', async () => {
    const before = await ask('later');
    expect(before.status).toBe(400);
    expect(await before.text()).toContain('no session script named later');
    copyFileSync(demo, join(dir, 'later.json'));
    const after = await ask('later');
    expect(after.status, await after.clone().text()).toBe(200);
    expect(((await (await fetch(`${base}/health`)).json()) as { scripts: string[] }).scripts).toEqual([
      'later',
    ]);
    rmSync(join(dir, 'later.json'));
    expect((await ask('later')).status).toBe(400);
  });
});
