// The README inside every archive: what each file is and how to open it.
import type { Selection } from '../selection/choose-sessions.ts';

/** How the sessions were chosen, in words (the manifest's `selection`). */
function chosen(selection: Selection | undefined): string {
  if (!selection?.user && !selection?.since && !selection?.project) return '';
  const parts = [
    selection.user ? `every session of user ${selection.user}` : 'every session',
    selection.project ? `of project ${selection.project}` : '',
    selection.since ? `active in the last ${selection.since.duration} (since ${selection.since.from})` : '',
  ];
  return `Chosen: ${parts.filter(Boolean).join(' ')}.\n`;
}

export function archiveReadme(sessions: string[], incomplete: boolean, selection?: Selection): string {
  return `# Claude Code session archive

Session${sessions.length > 1 ? 's' : ''}: ${sessions.join(', ')}
${chosen(selection)}${incomplete ? '\n**This archive is incomplete**: `manifest.json` (`missing`) and the top of `report.html` say what is absent and why.\n' : ''}
Start with \`report.html\`: open it in any browser (it needs no network). It shows the figures of the session,
charts of tokens and cost over time, a timeline of model and tool calls, and tables by model and by tool. It puts
the model usage the session gateway observed (outside the session's reach) beside what Claude Code reported (the
session's own word) and flags every difference, and says which fields and files of the session's record the host
observed and which the session reported (\`metadata.json\`: \`provenance\`, \`reported\`).

| File | What it is | How to open it |
|---|---|---|
| \`manifest.json\` | Format version, session ids and how they were chosen (\`selection\`: --session, --all, the latest, or --user/--since), time range, versions of the stack's components and of Claude Code, every file with its size, sha256 and record count, what is missing and why, whether prompt/tool content is present, secrets removed (counts by rule), each session's \`usage\` (observed, reported, differences) | any JSON viewer; \`pnpm export verify ARCHIVE\` checks every file against it |
| \`summary.json\` | Per session: tokens by type, cost, model calls (latency, time to first token, by model; API attempts, retries and errors, the retried ones included), tool calls by tool with success rate and latency, subagents, workflow runs, hook executions, raw API bodies, lines of code, duration; \`usage\`: the gateway's observed requests, tokens and cost beside Claude Code's reported ones, and each difference in words | any JSON viewer, \`jq\` |
| \`report.html\` | The visual report | a browser |
| \`otlp/traces.jsonl\`, \`otlp/metrics.jsonl\`, \`otlp/logs.jsonl\` | The session's spans, metric points and events (Claude Code's, the MCP servers' and the session gateway's), exactly as the OpenTelemetry Collector wrote them, filtered by session id out of the current and rotated telemetry files: one OTLP/JSON export request per line | \`jq\`; replay into any OTLP/HTTP endpoint: \`while read -r l; do curl -sf -H 'Content-Type: application/json' -d "$l" http://127.0.0.1:4318/v1/traces; done < otlp/traces.jsonl\` (likewise \`/v1/metrics\`, \`/v1/logs\`) |
| \`jaeger/<session>.json\` | The session's traces as Jaeger's query API returns them (\`{"data": [trace, ...]}\`) | Jaeger UI: Search, "Upload JSON" (drop the file) |
| \`prometheus/<session>.json\` | Prometheus \`query_range\` results for every metric series of the session (label \`session_id\`) over its window, with the queries and the step | any JSON viewer; the queries can be rerun in Prometheus |
| \`sessions/<session>/session.log\`, \`metadata.json\` | The session wrapper's log (what the CLI printed) and record (mode, status, exit code, duration, versions); \`terminal.log\` + \`terminal.timing\` for interactive sessions | a text viewer; \`scriptreplay --log-timing terminal.timing --log-out terminal.log\` |
| \`sessions/<session>/transcript.jsonl\` | Claude Code's own transcript of the conversation (one JSON object per message or content block: prompts, answers, tool calls and their results), redacted like the log | \`jq\`; report.html's conversation section |

Prompts, responses and tool content are in the telemetry only when the session ran with Claude Code's
\`OTEL_LOG_USER_PROMPTS\`, \`OTEL_LOG_TOOL_DETAILS\` (and related) switches on; \`manifest.json\` (\`content\`) says which.
Raw API bodies (\`OTEL_LOG_RAW_API_BODIES=1\`: api_request_body and api_response_body events) hold the prompt and
the conversation whatever those switches say: they are kept only for a session that logged its prompts and redacted
none of its content, and otherwise their \`body\` is \`<REDACTED>\`, as Claude Code redacts a prompt.
Secrets (API keys, bearer tokens, secret-named variables, the stack's own tokens and the session's environment
secrets) are removed while exporting and replaced by \`[REDACTED:<rule>]\`.
`;
}
