import { describe, expect, it } from 'vitest';
import { conversationOf, TURN_TEXT_MAX } from './transcript.ts';

const line = (o: unknown) => JSON.stringify(o);

describe('conversationOf', () => {
  it('turns transcript lines into who said what, tool calls and results in order', () => {
    const jsonl = [
      line({ type: 'summary', summary: 'x' }),
      line({
        type: 'user',
        timestamp: '2026-11-25T10:00:00.000Z',
        message: { role: 'user', content: 'Write hello.py' },
      }),
      line({
        type: 'assistant',
        timestamp: '2026-11-25T10:00:01.000Z',
        message: { role: 'assistant', content: [{ type: 'text', text: 'On it.' }] },
      }),
      line({
        type: 'assistant',
        timestamp: '2026-11-25T10:00:01.500Z',
        message: {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 't1', name: 'Write', input: { file_path: 'hello.py' } }],
        },
      }),
      line({
        type: 'user',
        timestamp: '2026-11-25T10:00:02.000Z',
        message: {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'File created' }] },
          ],
        },
      }),
      '{not json',
      '',
    ].join('\n');
    expect(conversationOf(jsonl)).toEqual([
      { time: '2026-11-25T10:00:00.000Z', role: 'user', text: 'Write hello.py' },
      { time: '2026-11-25T10:00:01.000Z', role: 'assistant', text: 'On it.' },
      { time: '2026-11-25T10:00:01.500Z', role: 'tool call', text: 'Write {"file_path":"hello.py"}' },
      { time: '2026-11-25T10:00:02.000Z', role: 'tool result', text: 'File created' },
    ]);
  });

  it('cuts a long turn and marks a failed tool result', () => {
    const long = 'x'.repeat(TURN_TEXT_MAX + 10);
    const turns = conversationOf(
      [
        line({ type: 'assistant', message: { content: [{ type: 'text', text: long }] } }),
        line({
          type: 'user',
          message: { content: [{ type: 'tool_result', is_error: true, content: 'denied' }] },
        }),
      ].join('\n'),
    );
    expect(turns[0]?.text).toHaveLength(TURN_TEXT_MAX + ` … (${long.length} characters)`.length);
    expect(turns[1]).toEqual({ time: null, role: 'tool result', text: '(error) denied' });
  });

  it('tells a task notification (a background subagent or workflow done) from what the user typed', () => {
    // the shape Claude Code 2.1.332 wrote when a workflow finished (origin.kind task-notification)
    const turns = conversationOf(
      [
        line({ type: 'user', message: { role: 'user', content: 'Use a workflow to count the files.' } }),
        line({
          type: 'user',
          origin: { kind: 'task-notification', producer: 'session-task', runId: '0mx1kq7e9-c21ccbc8' },
          message: { role: 'user', content: '<task-notification>\n<status>completed</status>' },
        }),
      ].join('\n'),
    );
    expect(turns.map((t) => t.role)).toEqual(['user', 'notification']);
  });
});
