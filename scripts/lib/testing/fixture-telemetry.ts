// Test helper: a telemetry folder and session records made of the recorded Claude Code payloads in
// fixtures/otlp, with the session ids the test chooses, spread over rotated backups and the current files. The
// requests are walked with sinks/otlp.ts and the records written through session/session-record.ts (their one
// home), so a fixture cannot drift from the shapes it stands in for.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../repo-root.ts';
import {
  RECORD_FILES,
  recordPaths,
  type SecretHashes,
  writeHashes,
  writeMetadata,
} from '../session/session-record.ts';
import { walk } from '../sinks/otlp.ts';
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
  const req = JSON.parse(line) as Record<string, unknown>;
  // Each resource once (walk visits it with each of its items); the recorded ones all carry items.
  for (const resource of new Set([...walk(signal, req)].map((v) => v.resource)))
    resource.attributes = [
      ...(resource.attributes ?? []),
      { key: 'user.name', value: { stringValue: user } },
    ];
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

/**
 * A completed headless session's record (metadata, log, and with `secrets` the secret hashes), written by the record
 * module's own writers.
 */
export function writeSessionRecord(
  sessionsDir: string,
  id: string,
  extra: { log?: string; secrets?: SecretHashes; user?: string | null } = {},
): void {
  const paths = recordPaths(sessionsDir, id);
  mkdirSync(paths.dir, { recursive: true });
  writeMetadata(paths, {
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
    files: { log: RECORD_FILES.log, metadata: RECORD_FILES.metadata },
  });
  writeFileSync(paths.log, extra.log ?? `# claude-code-telemetry session ${id}\n`);
  if (extra.secrets) writeHashes(paths, extra.secrets);
}
