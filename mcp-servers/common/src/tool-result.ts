// Tool results as MCP clients expect them: `content` for people and models, `structuredContent` for programs,
// and `isError` results (not protocol errors) for expected failures, naming the rule that refused the call.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** An expected failure: a broken rule (sandbox, SQL, limits), reported to the client as an isError result. */
export class RuleError<R extends string = string> extends Error {
  readonly rule: R;
  constructor(rule: R, message: string) {
    super(message);
    this.rule = rule;
    this.name = new.target.name;
  }
}

export function ok<T extends Record<string, unknown>>(structured: T, text: string): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

export function refused(rule: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `refused (${rule}): ${message}` }] };
}

/** Any error with a string `rule` property (RuleError, PathRuleError, FileOpError, SqlRuleError ...). */
export function ruleOf(err: unknown): string | undefined {
  const rule = (err as { rule?: unknown } | null)?.rule;
  return typeof rule === 'string' ? rule : undefined;
}
