// The Messages API wire format for one scripted turn: the SSE event sequence of a streamed reply, and the JSON
// body of a non-streamed one (Claude Code retries without `stream` when a stream breaks).
// Reference: https://docs.anthropic.com/en/api/messages-streaming
import { type ReplyTurn, stopReason } from './session-script.ts';

export interface TurnIds {
  messageId: string;
  /** tool_use ids, one per tool_use block, in order */
  toolUseIds: string[];
}

function usageOf(turn: ReplyTurn) {
  return {
    input_tokens: turn.usage.input_tokens,
    cache_creation_input_tokens: turn.usage.cache_creation_input_tokens,
    cache_read_input_tokens: turn.usage.cache_read_input_tokens,
    output_tokens: turn.usage.output_tokens,
  };
}

function contentBlocks(turn: ReplyTurn, ids: TurnIds) {
  let tool = 0;
  return turn.content.map((b) =>
    b.type === 'text'
      ? { type: 'text', text: b.text }
      : { type: 'tool_use', id: ids.toolUseIds[tool++], name: b.name, input: b.input },
  );
}

export function messageJson(turn: ReplyTurn, model: string, ids: TurnIds) {
  return {
    id: ids.messageId,
    type: 'message',
    role: 'assistant',
    model,
    content: contentBlocks(turn, ids),
    stop_reason: stopReason(turn),
    stop_sequence: null,
    usage: usageOf(turn),
  };
}

/** Splits a string into chunks, as the API streams text and tool input in several deltas. */
export function chunks(s: string, size = 24): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out.length ? out : [''];
}

export function sseEvents(turn: ReplyTurn, model: string, ids: TurnIds): { event: string; data: unknown }[] {
  const usage = usageOf(turn);
  const events: { event: string; data: unknown }[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: ids.messageId,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 0 },
        },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
  ];
  contentBlocks(turn, ids).forEach((block, index) => {
    if (block.type === 'text') {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
      });
      for (const text of chunks(block.text as string)) {
        events.push({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text } },
        });
      }
    } else {
      events.push({
        event: 'content_block_start',
        data: {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        },
      });
      for (const partial_json of chunks(JSON.stringify(block.input))) {
        events.push({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } },
        });
      }
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push(
    {
      event: 'message_delta',
      data: { type: 'message_delta', delta: { stop_reason: stopReason(turn), stop_sequence: null }, usage },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return events;
}

export function encodeSse(events: { event: string; data: unknown }[]): string {
  return events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join('');
}

export function errorBody(type: string, message: string) {
  return { type: 'error', error: { type, message } };
}
