// Test helper: a telemetry folder and session records made of the recorded Claude Code payloads in
// fixtures/otlp, with the session ids the test chooses, spread over rotated backups and the current files.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../repo-root.ts';
import type { Signal } from '../sinks/telemetry-files.ts';

const RECORDED = {
  rich: '24d8f026-2266-49e1-a446-b14cab385b74',
  default: 'f64e9de3-1362-4921-848e-6ed37a5d35fb',
} as const;
export type Variant = keyof typeof RECORDED;

/**
 * One recorded export request of `signal`, as a line for session `id`; with `user`, every resource also carries
 * `user.name` (what `pnpm session --user` adds; the recordings ran without it).
 */
export function recordedLine(signal: Signal, variant: Variant, id: string, user?: string): string {
  const text = readFileSync(join(repoRoot, 'fixtures', 'otlp', `${variant}-${signal}.jsonl`), 'utf8').trim();
  const line = text.replaceAll(RECORDED[variant], id);
  if (user === undefined) return line;
  const req = JSON.parse(line) as Record<string, { resource?: { attributes?: unknown[] } }[]>;
  for (const key of ['resourceSpans', 'resourceMetrics', 'resourceLogs'])
    for (const r of req[key] ?? []) {
      r.resource ??= {};
      r.resource.attributes = [
        ...(r.resource.attributes ?? []),
        { key: 'user.name', value: { stringValue: user } },
      ];
    }
  return JSON.stringify(req);
}

/**
 * Writes, for each signal, a rotated backup holding `sessions[0]` and the current file holding the others, each
 * line followed by `noise` lines of a session nobody exports.
 */
export function writeTelemetry(
  dir: string,
  sessions: { id: string; variant: Variant; user?: string }[],
  noise = 0,
): void {
  mkdirSync(dir, { recursive: true });
  const other = '99999999-9999-4999-8999-999999999999';
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    sessions.forEach((s, i) => {
      const file = join(dir, i === 0 ? `${signal}-2026-11-23T10-00-00.000.jsonl` : `${signal}.jsonl`);
      appendFileSync(file, `${recordedLine(signal, s.variant, s.id, s.user)}\n`);
      for (let n = 0; n < noise; n++) appendFileSync(file, `${recordedLine(signal, 'default', other)}\n`);
    });
  }
}

export function writeSessionRecord(
  sessionsDir: string,
  id: string,
  extra: { log?: string; secrets?: object; user?: string | null } = {},
): void {
  const dir = join(sessionsDir, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'metadata.json'),
    JSON.stringify({
      sessionId: id,
      status: 'completed',
      mode: 'headless',
      api: 'scripted',
      script: 'demo',
      model: null,
      user: extra.user === undefined ? 'tester' : extra.user,
      claudeVersion: '2.1.197 (Claude Code)',
      telemetry: { enabled: true, protocol: 'http/protobuf', endpoint: 'http://otel-collector:4318' },
      startedAt: '2026-11-23T21:19:01.000Z',
      endedAt: '2026-11-23T21:19:04.000Z',
      durationMs: 3000,
      exitCode: 0,
      signal: null,
      files: { log: 'session.log', metadata: 'metadata.json' },
    }),
  );
  writeFileSync(join(dir, 'session.log'), extra.log ?? `# claude-code-telemetry session ${id}\n`);
  if (extra.secrets) writeFileSync(join(dir, 'secrets.json'), JSON.stringify(extra.secrets));
}
