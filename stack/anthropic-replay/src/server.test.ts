// The scripted Messages API speaks the real protocol: SSE event order, usage, tool_use blocks, the
// non-streaming fallback, scripted errors, and clear errors for everything it cannot answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplayServer } from './server.ts';
import { type LoadedScripts, parseSessionScript } from './session-script.ts';

const script = parseSessionScript(
  'two-turns',
  JSON.stringify({
    description: 'a tool call, an overload, then an answer',
    prompt: 'do it',
    turns: [
      {
        content: [
          { type: 'text', text: 'Writing the file now, in a few chunks of text.' },
          {
            type: 'tool_use',
            name: 'Write',
            input: { file_path: '/workspace/{{session_id}}/a.txt', content: 'one\ntwo\n' },
          },
        ],
        usage: {
          input_tokens: 11,
          output_tokens: 22,
          cache_read_input_tokens: 33,
          cache_creation_input_tokens: 44,
        },
      },
      { error: { status: 529 } },
      { content: [{ type: 'text', text: 'done' }], usage: { input_tokens: 5, output_tokens: 6 } },
    ],
  }),
);
const loaded: LoadedScripts = {
  scripts: new Map([[script.name, script]]),
  invalid: new Map([['broken', 'session script broken is malformed: turns: Too small']]),
};
const logs: Record<string, unknown>[] = [];
const replay = createReplayServer({ loaded, log: (e) => logs.push(e) });
let base: string;
beforeAll(async () => {
  base = await replay.listen();
});
afterAll(() => replay.close());

function post(path: string, body: unknown, session: string, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-claude-code-session-id': session,
      'x-api-key': 'sk-ant-secret-key',
      authorization: 'Bearer secret-token',
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

function parseSse(text: string) {
  return text
    .trim()
    .split('\n\n')
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      return {
        event: eventLine?.replace('event: ', ''),
        data: JSON.parse(dataLine?.replace('data: ', '') ?? '{}'),
      };
    });
}

describe('streaming (SSE)', () => {
  it('plays a turn as the Messages API event sequence, with usage and tool_use input as JSON deltas', async () => {
    const res = await post('/scripts/two-turns/v1/messages?beta=true', { model: 'm-1', stream: true }, 's1');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('request-id')).toMatch(/^req_replay_/);
    const events = parseSse(await res.text());
    const order = events.map((e) => e.event);
    expect(order[0]).toBe('message_start');
    expect(order.at(-2)).toBe('message_delta');
    expect(order.at(-1)).toBe('message_stop');
    expect(order.filter((e) => e === 'content_block_start')).toHaveLength(2);
    expect(order.filter((e) => e === 'content_block_stop')).toHaveLength(2);
    // every block's deltas come between its start and stop
    for (const index of [0, 1]) {
      const at = events.map((e, i) => ({ e, i })).filter(({ e }) => e.data.index === index);
      expect(at[0]?.e.event).toBe('content_block_start');
      expect(at.at(-1)?.e.event).toBe('content_block_stop');
    }
    expect(events[0]?.data.message).toMatchObject({
      model: 'm-1',
      role: 'assistant',
      usage: { input_tokens: 11, cache_read_input_tokens: 33, cache_creation_input_tokens: 44 },
    });
    const text = events
      .filter((e) => e.data.delta?.type === 'text_delta')
      .map((e) => e.data.delta.text)
      .join('');
    expect(text).toBe('Writing the file now, in a few chunks of text.');
    const json = events
      .filter((e) => e.data.delta?.type === 'input_json_delta')
      .map((e) => e.data.delta.partial_json)
      .join('');
    // {{session_id}} is filled per session: each session works in its own folder
    expect(JSON.parse(json)).toEqual({ file_path: '/workspace/s1/a.txt', content: 'one\ntwo\n' });
    expect(
      events.find((e) => e.event === 'content_block_start' && e.data.index === 1)?.data.content_block,
    ).toMatchObject({
      type: 'tool_use',
      name: 'Write',
      id: expect.stringMatching(/^toolu_/),
    });
    expect(events.at(-2)?.data).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: {
        input_tokens: 11,
        output_tokens: 22,
        cache_read_input_tokens: 33,
        cache_creation_input_tokens: 44,
      },
    });
  });

  it('plays the scripted error with its status and API error type, then the next turn', async () => {
    const err = await post('/scripts/two-turns/v1/messages', { stream: true }, 's1');
    expect(err.status).toBe(529);
    expect(await err.json()).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    const last = await post('/scripts/two-turns/v1/messages', { stream: true }, 's1');
    expect(parseSse(await last.text()).at(-2)?.data.delta.stop_reason).toBe('end_turn');
  });

  it('answers a request after the script ended with a clear 400, not a hang', async () => {
    const res = await post('/scripts/two-turns/v1/messages', { stream: true }, 's1');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'session script two-turns has 3 turn(s) and all were played for session s1: request 4 has no answer',
    );
  });
});

describe('non-streaming fallback', () => {
  it('answers the same turn as one JSON message, per session', async () => {
    const res = await post('/scripts/two-turns/v1/messages', { model: 'm-2' }, 's2');
    expect(res.status).toBe(200);
    const msg = (await res.json()) as {
      content: { type: string }[];
      stop_reason: string;
      usage: unknown;
      model: string;
    };
    expect(msg).toMatchObject({ type: 'message', model: 'm-2', stop_reason: 'tool_use' });
    expect(msg.content.map((c) => c.type)).toEqual(['text', 'tool_use']);
    expect(msg.usage).toEqual({
      input_tokens: 11,
      output_tokens: 22,
      cache_read_input_tokens: 33,
      cache_creation_input_tokens: 44,
    });
  });
});

describe('everything else is a clear error', () => {
  it('HEAD preflight answers 200 on the base URL', async () => {
    expect((await fetch(`${base}/`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${base}/scripts/two-turns`, { method: 'HEAD' })).status).toBe(200);
  });

  it('unknown path, unknown script, malformed script, no script, bad JSON', async () => {
    const unknownPath = await post('/v1/complete', {}, 's3');
    expect(unknownPath.status).toBe(404);
    expect(await unknownPath.json()).toMatchObject({ error: { type: 'not_found_error' } });
    const unknownScript = await post('/scripts/nope/v1/messages', {}, 's3');
    // 400 invalid_request_error: Claude Code would report a 404 as a model that may not exist.
    expect(unknownScript.status).toBe(400);
    expect(await unknownScript.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        message: 'no session script named nope: add fixtures/sessions/nope.json (have: two-turns)',
      },
    });
    const broken = await post('/scripts/broken/v1/messages', {}, 's3');
    expect(broken.status).toBe(500);
    expect(((await broken.json()) as { error: { message: string } }).error.message).toContain('malformed');
    expect((await post('/v1/messages', {}, 's3')).status).toBe(400);
    const badJson = await fetch(`${base}/scripts/two-turns/v1/messages`, { method: 'POST', body: '{oops' });
    expect(badJson.status).toBe(400);
  });

  it('logs each request without keys or tokens', () => {
    const text = JSON.stringify(logs);
    expect(logs.length).toBeGreaterThan(5);
    expect(text).not.toContain('sk-ant-secret-key');
    expect(text).not.toContain('secret-token');
    expect(logs.some((l) => l.status === 404 && String(l.error).includes('no route'))).toBe(true);
  });
});

describe('parseSessionScript', () => {
  it('names the file and the path of each problem', () => {
    expect(() =>
      parseSessionScript('x', '{"description":"d","prompt":"p","turns":[{"error":{"status":418}}]}'),
    ).toThrow(/^session script x is malformed: turns\.0/);
    expect(() => parseSessionScript('y', 'not json')).toThrow('session script y: not JSON');
  });
});

describe('a script with continuations', () => {
  const chained = parseSessionScript(
    'chained',
    JSON.stringify({
      description: 'a first run, then --resume and /compact',
      prompt: 'first',
      turns: [{ content: [{ type: 'text', text: 'one' }], usage: { input_tokens: 1, output_tokens: 1 } }],
      continuations: [
        {
          mode: 'resume',
          prompt: 'again',
          turns: [{ content: [{ type: 'text', text: 'two' }], usage: { input_tokens: 2, output_tokens: 2 } }],
        },
        {
          mode: 'continue',
          prompt: '/compact',
          turns: [
            { content: [{ type: 'text', text: 'summary' }], usage: { input_tokens: 3, output_tokens: 3 } },
          ],
        },
      ],
    }),
  );
  const other = createReplayServer({
    loaded: { scripts: new Map([[chained.name, chained]]), invalid: new Map() },
    log: () => {},
  });
  let url: string;
  beforeAll(async () => {
    url = await other.listen();
  });
  afterAll(() => other.close());

  it("plays the first run's turns, then each continuation's, for the same session, then says it is over", async () => {
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${url}/scripts/chained/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-claude-code-session-id': 'resumed-1' },
        body: JSON.stringify({ model: 'm', stream: false }),
      });
      expect(r.status).toBe(200);
      texts.push(((await r.json()) as { content: { text: string }[] }).content[0]?.text ?? '');
    }
    expect(texts).toEqual(['one', 'two', 'summary']);
    const over = await fetch(`${url}/scripts/chained/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-claude-code-session-id': 'resumed-1' },
      body: JSON.stringify({ model: 'm' }),
    });
    expect(over.status).toBe(400);
    expect(await over.text()).toContain('has 3 turn(s) and all were played');
  });

  it('refuses more than 10 continuations, naming the limit', () => {
    const run = {
      mode: 'resume',
      prompt: 'p',
      turns: [{ content: [{ type: 'text', text: 't' }], usage: { input_tokens: 1, output_tokens: 1 } }],
    };
    expect(() =>
      parseSessionScript(
        'many',
        JSON.stringify({
          description: 'd',
          prompt: 'p',
          turns: run.turns,
          continuations: Array(11).fill(run),
        }),
      ),
    ).toThrow(/continuations: .*10/);
  });
});

describe('a late answer', () => {
  it('waits delay_ms before the first byte, and refuses a delay over 60 s', async () => {
    const turn = { content: [{ type: 'text', text: 'late' }], usage: { input_tokens: 1, output_tokens: 1 } };
    const late = parseSessionScript(
      'late',
      JSON.stringify({ description: 'd', prompt: 'p', turns: [{ ...turn, delay_ms: 400 }] }),
    );
    const s = createReplayServer({
      loaded: { scripts: new Map([[late.name, late]]), invalid: new Map() },
      log: () => {},
    });
    const url = await s.listen();
    try {
      const t0 = Date.now();
      const r = await fetch(`${url}/scripts/late/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-claude-code-session-id': 'late-1' },
        body: JSON.stringify({ model: 'm' }),
      });
      expect(r.status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    } finally {
      await s.close();
    }
    expect(() =>
      parseSessionScript(
        'later',
        JSON.stringify({ description: 'd', prompt: 'p', turns: [{ ...turn, delay_ms: 60_001 }] }),
      ),
    ).toThrow(/turns\.0\.delay_ms/);
  });
});
