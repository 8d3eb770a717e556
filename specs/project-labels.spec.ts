// Recipe: `pnpm session --project NAME --branch B` puts project and git.branch on every signal of the session, in
// all four sinks (Prometheus labels, VictoriaLogs fields and stream, Jaeger tags, the telemetry files), from the
// session's credential: a session that writes another project into its own OTEL_RESOURCE_ATTRIBUTES is stamped
// with its credential's all the same, and one without a project in its credential keeps none, whatever it claims.
// `pnpm export --project NAME` then takes exactly the session whose credential named it. And Claude Code's
// cumulative sums carry cli_process_start in Prometheus (each CLI process its own series).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import type { SessionOutcome } from '../scripts/lib/session/session-run.ts';
import { jaegerTraces } from '../scripts/lib/sinks/jaeger.ts';
import { stringAttr } from '../scripts/lib/sinks/otlp.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { quoted, sessionFilter, vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { runStackSession, type StackInfo, stack } from './support/stack.ts';

const tag = randomUUID().slice(0, 8);
const PROJECT = `spec-acme/widgets-${tag}`;
const BRANCH = 'feature/labels';
/** What each session writes into its own resource attributes: another project and branch. */
const FORGED = 'project=forged/other,git.branch=forged-branch';

let e2eStack: StackInfo;
/** Run with --project/--branch, forging another project in its own environment. */
let labelled: SessionOutcome;
/** Run without a project in its credential, claiming PROJECT itself. */
let claimer: SessionOutcome;

beforeAll(async () => {
  e2eStack = stack();
  labelled = await runStackSession(
    e2eStack,
    { script: 'demo', user: 'spec-project', project: PROJECT, branch: BRANCH },
    { OTEL_RESOURCE_ATTRIBUTES: `user.name=spec-project,${FORGED}` },
  );
  expect(labelled.exitCode, labelled.output.slice(-2000)).toBe(0);
  claimer = await runStackSession(
    e2eStack,
    { script: 'demo', user: 'spec-claimer' },
    { OTEL_RESOURCE_ATTRIBUTES: `user.name=spec-claimer,project=${PROJECT},git.branch=${BRANCH}` },
  );
  expect(claimer.exitCode, claimer.output.slice(-2000)).toBe(0);
  for (const s of [labelled, claimer]) await waitForSessionInSinks(s.plan.sessionId, e2eStack, 60_000);
});

const idOf = (s: SessionOutcome) => s.plan.sessionId;

describe('a session run with --project and --branch', () => {
  it('has project and git_branch on every Claude Code series in Prometheus, none forged', async () => {
    const id = idOf(labelled);
    const series = await waitFor(
      `the token series of session ${id} in Prometheus`,
      async () => {
        const r = await promQuery(
          e2eStack.prometheus,
          `claude_code_token_usage_tokens_total{session_id="${id}"}`,
        );
        return r.length ? r : undefined;
      },
      { timeoutMs: 30_000 },
    );
    for (const s of series) expect(s.metric).toMatchObject({ project: PROJECT, git_branch: BRANCH });
    // Claude Code's series (the MCP servers' own metrics carry the session id only, no user and no project).
    const all = await promQuery(
      e2eStack.prometheus,
      `count by (__name__, project, git_branch) ({__name__=~"claude_code_.+", session_id="${id}"})`,
    );
    expect(all.length).toBeGreaterThan(2);
    for (const s of all)
      expect(s.metric, s.metric.__name__).toMatchObject({ project: PROJECT, git_branch: BRANCH });
  });

  it('has them on every event in VictoriaLogs, and project is a stream field', async () => {
    const id = idOf(labelled);
    const events = await vlQuery(e2eStack.victorialogs, sessionFilter(id));
    expect(events.length).toBeGreaterThan(2);
    for (const e of events) {
      expect(e.project, e._msg).toBe(PROJECT);
      expect(e['git.branch'], e._msg).toBe(BRANCH);
    }
    // Claude Code's events: project on their resource, so a stream field (the gateway's events are its own stream).
    const own = events.filter((e) => e._stream?.includes('service.name="claude-code"'));
    expect(own.length).toBeGreaterThan(2);
    for (const e of own) expect(e._stream, e._msg).toContain(`project=${quoted(PROJECT)}`);
    const byStream = await vlQuery(
      e2eStack.victorialogs,
      `{project=${quoted(PROJECT)}} ${sessionFilter(id)}`,
    );
    expect(byStream.length).toBe(own.length);
  });

  it('has them as tags of every Claude Code span and its process in Jaeger', async () => {
    const id = idOf(labelled);
    const traces = await waitFor(
      `the traces of session ${id} in Jaeger`,
      async () => {
        const t = await jaegerTraces(e2eStack.jaeger, 'claude-code', id);
        return t.length ? t : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const tag = (tags: { key: string; value: unknown }[] | undefined, key: string) =>
      tags?.find((t) => t.key === key)?.value;
    let spans = 0;
    for (const t of traces) {
      for (const p of Object.values(t.processes) as {
        serviceName: string;
        tags?: { key: string; value: unknown }[];
      }[])
        if (p.serviceName === 'claude-code') {
          expect(tag(p.tags, 'project')).toBe(PROJECT);
          expect(tag(p.tags, 'git.branch')).toBe(BRANCH);
        }
      for (const sp of t.spans) {
        if (tag(sp.tags, 'session.id') !== id) continue;
        spans++;
        expect(tag(sp.tags, 'project'), sp.operationName).toBe(PROJECT);
      }
    }
    expect(spans).toBeGreaterThan(0);
  });

  it('has them on every span, point and event the session sent, in the telemetry files', async () => {
    const id = idOf(labelled);
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      // What came through the gateway carries the verified user (the MCP servers' own spans, keyed by session id
      // only, carry neither user nor project).
      const records = (await sessionRecords(e2eStack.telemetryDir, signal, id)).filter(
        (r) => stringAttr(r.item, 'user.name') === 'spec-project',
      );
      expect(records.length, signal).toBeGreaterThan(0);
      for (const r of records) {
        expect(stringAttr(r.item, 'project'), `${signal} ${r.name}`).toBe(PROJECT);
        expect(stringAttr(r.item, 'git.branch'), `${signal} ${r.name}`).toBe(BRANCH);
      }
    }
  });

  it("has each CLI process's cumulative sums as series of their own (cli_process_start)", async () => {
    const r = await promQuery(
      e2eStack.prometheus,
      `claude_code_token_usage_tokens_total{session_id="${idOf(labelled)}"}`,
    );
    expect(r.length).toBeGreaterThan(0);
    for (const s of r) expect(s.metric.cli_process_start).toMatch(/^\d{16,20}$/);
  });
});

describe('a session claiming a project its credential does not name', () => {
  it('keeps no project and no branch in Prometheus, VictoriaLogs or the files', async () => {
    const id = idOf(claimer);
    const labelled = await promQuery(
      e2eStack.prometheus,
      `count by (__name__) ({session_id="${id}", project!=""}) or count by (__name__) ({session_id="${id}", git_branch!=""})`,
    );
    expect(labelled).toEqual([]);
    expect((await promQuery(e2eStack.prometheus, `count({session_id="${id}"})`)).length).toBe(1);
    const events = await vlQuery(e2eStack.victorialogs, sessionFilter(id));
    expect(events.length).toBeGreaterThan(2);
    for (const e of events) expect([e.project, e['git.branch']], e._msg).toEqual([undefined, undefined]);
    for (const r of await sessionRecords(e2eStack.telemetryDir, 'metrics', id))
      expect(stringAttr(r.item, 'project'), r.name).toBeUndefined();
  });
});

describe('pnpm export --project', () => {
  const cli = (args: string[]) =>
    $({
      nothrow: true,
      quiet: true,
    })`node ${join(repoRoot, 'scripts/export.ts')} ${args} --telemetry-dir ${e2eStack.telemetryDir} --sessions-dir ${e2eStack.sessionsDir}`;

  it('takes exactly the session whose credential named the project, not the one that claimed it', async () => {
    const dry = await cli(['--project', PROJECT, '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would export ${idOf(labelled)} (1 session(s) of project ${PROJECT})`);
    expect(dry.stdout).not.toContain(idOf(claimer));
  });

  it('refuses an unknown project, exit 2, naming the projects known', async () => {
    const none = await cli(['--project', `nobody/${tag}`, '--dry-run']);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain(`no sessions of project "nobody/${tag}" known`);
    expect(none.stderr).toContain(PROJECT);
    const bad = await cli(['--project', 'a"b', '--dry-run']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--project must be 1-128');
  });
});
