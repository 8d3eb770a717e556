// Recipe: one user's session cannot read or write another user's workspace, by any tool. Each session mounts only
// its user's folder of WORKSPACES_DIR, and the file-ops server decides the root from the session's signed
// credential, not from anything the client can set: a forged credential is refused, and headers naming another
// session or user change nothing.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mintSessionCredential } from '../scripts/lib/session/session-credential.ts';
import { mcpCallIn } from './support/mcp-call.ts';
import { runStackSession, type StackInfo, stack } from './support/stack.ts';

const SECRET = `bob's secret ${Date.now()}`;

/** A tools/call to the file-ops server from inside its own container (it publishes no port), as a session would. */
const callFileOps = (
  stack: StackInfo,
  headers: Record<string, string>,
  tool: string,
  args: Record<string, unknown>,
) => mcpCallIn(stack, 'mcp-file-ops', headers, tool, args);

describe('per-user workspaces', () => {
  let e2eStack: StackInfo;
  let bob: string;
  beforeAll(() => {
    e2eStack = stack();
    bob = join(e2eStack.composeEnv.WORKSPACES_DIR as string, 'bob');
    mkdirSync(bob, { recursive: true, mode: 0o777 });
    writeFileSync(join(bob, 'secret.txt'), `${SECRET}\n`, { mode: 0o666 });
  });

  it("a session of alice reaches none of bob's files, by built-in tools or file-ops, and writes nothing there", async () => {
    const before = readdirSync(bob).sort();
    const out = await runStackSession(e2eStack, { script: 'isolation-probe', user: 'alice' });
    expect(out.exitCode, out.output.slice(-2000)).toBe(0);
    // Every attempt's result went back to the model: none of them carried the secret.
    expect(out.output).not.toContain(SECRET);
    const transcript = join(out.dir, 'transcript.jsonl');
    expect(existsSync(transcript)).toBe(true);
    const text = readFileSync(transcript, 'utf8');
    expect(text).not.toContain(SECRET);
    // The file-ops calls were refused as outside the sandbox (not, say, "file not found" in bob's folder).
    expect(text).toMatch(/outside|not inside|escapes|root/i);
    expect(readdirSync(bob).sort()).toEqual(before);
    expect(readFileSync(join(bob, 'secret.txt'), 'utf8')).toBe(`${SECRET}\n`);
  });

  it("file-ops serves alice's credential alice's folder only, whatever headers say, and refuses a forged one", async () => {
    const secret = e2eStack.composeEnv.MCP_SESSION_SECRET as string;
    const alice = mintSessionCredential(secret, {
      user: 'alice',
      sessionId: '11111111-1111-4111-8111-111111111111',
      expiresAt: Date.now() + 600_000,
    });
    const asAlice = { authorization: `Bearer ${alice}` };
    // Headers naming bob (a session header and made-up user headers) change nothing.
    const forgedHeaders = {
      ...asAlice,
      'x-claude-code-session-id': 'bob-session',
      'x-user': 'bob',
      'x-claude-code-user': 'bob',
    };
    const read = await callFileOps(e2eStack, forgedHeaders, 'read_file', { path: 'bob/secret.txt' });
    expect(read.status).toBe(200);
    expect(read.body).not.toContain(SECRET);
    expect(read.body).toContain('"isError":true');
    const outside = await callFileOps(e2eStack, forgedHeaders, 'read_file', { path: '../bob/secret.txt' });
    expect(outside.body).not.toContain(SECRET);
    expect(outside.body).toContain('"isError":true');
    // A credential whose payload was changed to bob's, keeping alice's signature: refused.
    const [prefix, , mac] = alice.split('.');
    const payload = Buffer.from(
      JSON.stringify({ u: 'bob', s: '11111111-1111-4111-8111-111111111111', e: Date.now() + 600_000 }),
    ).toString('base64url');
    const forged = await callFileOps(
      e2eStack,
      { authorization: `Bearer ${prefix}.${payload}.${mac}` },
      'read_file',
      {
        path: 'secret.txt',
      },
    );
    expect(forged.status).toBe(401);
    expect(forged.body).toContain('session credential with a wrong signature');
    expect(forged.body).not.toContain(SECRET);
    // Bob's own credential does read bob's file: the refusals above are isolation, not a broken server.
    const bobs = mintSessionCredential(secret, {
      user: 'bob',
      sessionId: '22222222-2222-4222-8222-222222222222',
      expiresAt: Date.now() + 600_000,
    });
    const own = await callFileOps(e2eStack, { authorization: `Bearer ${bobs}` }, 'read_file', {
      path: 'secret.txt',
    });
    expect(own.status).toBe(200);
    expect(own.body).toContain(SECRET);
  });
});
