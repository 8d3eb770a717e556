// Recipe: export a real session with `pnpm export` and check the archive against what the sinks hold: the
// filtered telemetry against the files, the trace against Jaeger, the metric ranges and the summary against
// Prometheus and the script; then open report.html in headless Chromium, keep a screenshot
// (test-results/export-report.png) and check that the charts were drawn and the key numbers are on the page.
// A second session prints its environment's secrets with tool content logging on: none may reach the archive.
// Over 300 lines on purpose: it is one recipe a user follows top to bottom, each check against one sink.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import type { SessionSummary } from '../scripts/lib/export/analysis/summary.ts';
import { type Manifest, readArchive } from '../scripts/lib/export/archive/archive.ts';
import { COLORS, fmtInt, fmtUsd } from '../scripts/lib/export/report/report-html.ts';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { type JaegerTrace, jaegerTraces } from '../scripts/lib/sinks/jaeger.ts';
import { pointsOf, spansOf } from '../scripts/lib/sinks/otlp-records.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { SESSION_METRICS, sessionTokens, sessionTotal } from '../scripts/lib/sinks/session-totals.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { readEnvFile } from '../scripts/lib/stack/env-file.ts';
import { envFiles } from '../scripts/lib/stack/stack-files.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { renderedDom, requireChromium, screenshot } from './support/chromium.ts';
import { countColor, decodePng } from './support/png.ts';
import { expectedFor, runStackSession, type StackInfo, stack } from './support/stack.ts';

const ARTIFACTS = join(repoRoot, 'test-results');

interface Exported {
  id: string;
  code: number | null;
  stdout: string;
  stderr: string;
  dir: string;
  files: Map<string, Buffer>;
  text: (path: string) => string;
  manifest: Manifest;
}

/** Runs `pnpm export` (the script itself) for one session of the e2e stack; unpacks the archive in memory. */
const exportSession = (s: StackInfo, id: string, env: Record<string, string> = {}) =>
  exportChosen(s, id, ['--session', id], env);

/** Runs `pnpm export` with the selectors given (`id` names what is exported, for messages). */
async function exportChosen(
  s: StackInfo,
  id: string,
  select: string[],
  env: Record<string, string> = {},
): Promise<Exported> {
  const out = mkdtempSync(join(tmpdir(), 'export-spec-'));
  const r = await $({
    nothrow: true,
    quiet: true,
    env: { ...process.env, ...env },
  })`node ${join(repoRoot, 'scripts/export.ts')} ${select} --telemetry-dir ${s.telemetryDir} --sessions-dir ${s.sessionsDir} --prometheus ${s.prometheus} --jaeger ${s.jaeger} --out ${out}`;
  const archive = readdirSync(out).find((f) => f.endsWith('.tar.gz'));
  if (r.exitCode !== 0 || !archive)
    throw new Error(`pnpm export failed (exit ${r.exitCode}):\n${r.stdout}${r.stderr}`);
  const files = await readArchive(join(out, archive));
  const top = archive.slice(0, -'.tar.gz'.length);
  const text = (path: string) => {
    const data = files.get(`${top}/${path}`);
    if (!data) throw new Error(`${path} not in ${archive}`);
    return data.toString('utf8');
  };
  // the archive unpacked with tar, as a user would, for the browser
  await $`tar -xzf ${join(out, archive)} -C ${out}`;
  return {
    id,
    code: r.exitCode,
    stdout: r.stdout,
    stderr: r.stderr,
    dir: join(out, top),
    files,
    text,
    manifest: JSON.parse(text('manifest.json')) as Manifest,
  };
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('pnpm export of a real session', () => {
  const expected = expectedFor('demo');
  let e2eStack: StackInfo;
  let exported: Exported;

  beforeAll(async () => {
    e2eStack = stack();
    const session = await runStackSession(e2eStack, { script: 'demo', user: 'export-spec' });
    expect(session.exitCode, session.output.slice(-2000)).toBe(0);
    const id = session.plan.sessionId;
    await waitForSessionInSinks(id, e2eStack, 60_000);
    // The gateway sends its events in batches, a second apart: wait for its record of every call too.
    await waitFor(
      `the telemetry files never held ${expected.modelCalls} gateway_request events of session ${id}`,
      async () =>
        (await sessionRecords(e2eStack.telemetryDir, 'logs', id)).filter(
          (l) => l.name === 'claude_code_telemetry.gateway_request',
        ).length >= expected.modelCalls || undefined,
      { timeoutMs: 20_000 },
    );
    exported = await exportSession(e2eStack, id);
  });

  it('writes a complete archive: nothing missing, every file in the manifest, verify passes', async () => {
    expect(exported.manifest.sessions).toEqual([exported.id]);
    expect(exported.manifest.missing).toEqual([]);
    const paths = exported.manifest.files.map((f) => f.path);
    for (const p of [
      'README.md',
      'summary.json',
      'report.html',
      'otlp/traces.jsonl',
      'otlp/metrics.jsonl',
      'otlp/logs.jsonl',
      `jaeger/${exported.id}.json`,
      `prometheus/${exported.id}.json`,
      `sessions/${exported.id}/metadata.json`,
      `sessions/${exported.id}/session.log`,
      `sessions/${exported.id}/transcript.jsonl`,
    ])
      expect(paths).toContain(p);
    const pin = readEnvFile(envFiles.versions).CLAUDE_CODE_VERSION;
    expect(exported.manifest.versions).toMatchObject({ 'claude-code': pin, CLAUDE_CODE_VERSION: pin });
    expect(exported.manifest.versions.OTELCOL_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(exported.manifest.content).toMatchObject({
      userPrompts: false,
      toolDetails: false,
      toolContent: false,
    });
    const archive = readdirSync(join(exported.dir, '..')).find((f) => f.endsWith('.tar.gz')) as string;
    const verify = await $({
      nothrow: true,
      quiet: true,
    })`node ${join(repoRoot, 'scripts/export.ts')} verify ${join(exported.dir, '..', archive)}`;
    expect(verify.exitCode, verify.stderr).toBe(0);
  });

  it('holds the session’s spans and events exactly as the telemetry files do, and only them', async () => {
    for (const signal of ['traces', 'logs'] as const) {
      const inFiles = await sessionRecords(e2eStack.telemetryDir, signal, exported.id);
      const archived = exported.manifest.telemetry[signal];
      expect(archived?.records, signal).toBe(inFiles.length);
      expect(exported.text(`otlp/${signal}.jsonl`)).not.toContain(e2eStack.warmupSession);
    }
    // metric points: Claude Code's stopped with the session (the MCP servers' cumulative points go on)
    const ccPoints = (lines: Record<string, unknown>[]) =>
      lines
        .flatMap((req) =>
          (
            (req.resourceMetrics as {
              resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            }[]) ?? []
          )
            .filter((rm) =>
              rm.resource.attributes.some(
                (a) => a.key === 'service.name' && a.value.stringValue === 'claude-code',
              ),
            )
            .flatMap((rm) => pointsOf({ resourceMetrics: [rm] })),
        )
        .filter((p) => p.session === exported.id);
    const archivedPoints = ccPoints(jsonLines(exported.text('otlp/metrics.jsonl')));
    expect(archivedPoints.length).toBeGreaterThan(0);
    expect(new Set(archivedPoints.map((p) => p.metric))).toContain('claude_code.token.usage');
  });

  it('holds the session’s traces as Jaeger returns them, Claude Code’s and the MCP servers’', async () => {
    const archived = JSON.parse(exported.text(`jaeger/${exported.id}.json`)) as { data: JaegerTrace[] };
    const ids = new Set(archived.data.map((t) => t.traceID));
    const fromJaeger = [
      ...(await jaegerTraces(e2eStack.jaeger, 'claude-code', exported.id)),
      ...(await jaegerTraces(e2eStack.jaeger, 'mcp-file-ops', exported.id)),
      ...(await jaegerTraces(e2eStack.jaeger, 'mcp-database', exported.id)),
    ];
    expect(fromJaeger.length).toBeGreaterThan(1);
    for (const t of fromJaeger) {
      expect(ids, `trace ${t.traceID} in Jaeger, not in the archive`).toContain(t.traceID);
      expect(archived.data.find((a) => a.traceID === t.traceID)?.spans.length).toBe(t.spans.length);
    }
    expect(exported.manifest.files.find((f) => f.path === `jaeger/${exported.id}.json`)?.records).toBe(
      archived.data.reduce((n, t) => n + t.spans.length, 0),
    );
    // the loadable form: every span names its process, every process its service
    for (const t of archived.data)
      for (const span of t.spans) expect(t.processes[span.processID]?.serviceName).toBeTruthy();
    // Jaeger's Claude Code spans are the archived OTLP ones
    const otlpSpans = jsonLines(exported.text('otlp/traces.jsonl'))
      .flatMap(spansOf)
      .filter((sp) => sp.service === 'claude-code');
    const jaegerSpans = archived.data.flatMap((t) =>
      t.spans.filter((sp) => t.processes[sp.processID]?.serviceName === 'claude-code'),
    );
    expect(jaegerSpans.length).toBe(otlpSpans.length);
    expect(jaegerSpans.filter((sp) => sp.operationName === 'claude_code.llm_request')).toHaveLength(
      expected.modelCalls,
    );
  });

  it('holds Prometheus ranges of every Claude Code metric, ending at the totals Prometheus has', async () => {
    const prom = JSON.parse(exported.text(`prometheus/${exported.id}.json`)) as {
      metrics: Record<string, { result: { metric: Record<string, string>; values: [number, string][] }[] }>;
    };
    for (const name of ['claude_code_session_count_total', SESSION_METRICS.tokens, SESSION_METRICS.cost])
      expect(Object.keys(prom.metrics)).toContain(name);
    const lastByType: Record<string, number> = {};
    for (const series of prom.metrics[SESSION_METRICS.tokens]?.result ?? []) {
      const type = series.metric.type as string;
      lastByType[type] = (lastByType[type] ?? 0) + Number(series.values.at(-1)?.[1]);
    }
    expect(lastByType).toEqual(await sessionTokens(e2eStack.prometheus, exported.id));
    expect(lastByType).toEqual(expected.tokens);
  });

  it('sums up the session in summary.json as the script and Prometheus say', async () => {
    const summary = (JSON.parse(exported.text('summary.json')) as { sessions: SessionSummary[] })
      .sessions[0] as SessionSummary;
    const { input, output, cacheRead, cacheCreation } = expected.tokens;
    expect(summary.tokens).toEqual({ ...expected.tokens, total: input + output + cacheRead + cacheCreation });
    expect(summary.modelCalls.count).toBe(expected.modelCalls);
    expect(summary.toolCalls.calls).toBe(expected.toolUses.length);
    expect(summary.toolCalls.successRate).toBe(1);
    expect(Object.keys(summary.toolCalls.byTool).sort()).toEqual([...new Set(expected.toolUses)].sort());
    expect(summary.linesOfCode).toEqual({ added: expected.linesAdded, removed: expected.linesRemoved });
    const cost = Number(await sessionTotal(e2eStack.prometheus, SESSION_METRICS.cost, exported.id));
    expect(summary.costUsd).toBeCloseTo(cost, 6);
    expect(summary.modelCalls.latency.p50Ms).toBeGreaterThan(0);
    expect(summary.wrapper).toMatchObject({ status: 'completed', exitCode: 0, user: 'export-spec' });
    // The gateway's observed usage beside Claude Code's reported: equal, as the script says, in the manifest too.
    expect(summary.usage).toMatchObject({
      equal: true,
      differences: [],
      notes: [],
      observed: { modelCalls: expected.modelCalls, forged: 0, tokens: summary.tokens },
      reported: { modelCalls: expected.modelCalls, tokens: summary.tokens },
    });
    expect(summary.usage.observed.costUsd).toBeCloseTo(summary.costUsd, 6);
    expect(exported.manifest.usage?.[exported.id]).toEqual(summary.usage);
  });

  it('has a report.html that Chromium renders offline: charts drawn, key numbers shown', async () => {
    requireChromium();
    const html = join(exported.dir, 'report.html');
    const report = readFileSync(html, 'utf8');
    expect(report).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//); // nothing to fetch
    const dom = await renderedDom(html);
    expect(dom).toContain('data-rendered="true"'); // its load script ran
    for (const chart of ['tokens', 'cost', 'timeline']) {
      const tag = new RegExp(`<svg[^>]*data-chart="${chart}"[^>]*>`).exec(dom)?.[0] ?? '';
      expect(tag, `chart ${chart}`).toMatch(/data-rendered-width="[1-9]\d*"/);
      const marks = Number(/data-rendered-marks="(\d+)"/.exec(tag)?.[1]);
      expect(marks, `marks drawn in chart ${chart}`).toBeGreaterThanOrEqual(chart === 'tokens' ? 4 : 1);
    }
    const summary = (JSON.parse(exported.text('summary.json')) as { sessions: SessionSummary[] })
      .sessions[0] as SessionSummary;
    const shown = (key: string) => new RegExp(`data-key="${key}">([^<]*)<`).exec(dom)?.[1];
    expect(shown('tokens')).toBe(fmtInt(summary.tokens.total));
    expect(shown('cost')).toBe(fmtUsd(summary.costUsd));
    expect(shown('modelCalls')).toBe(String(expected.modelCalls));
    expect(shown('toolCalls')).toBe(`${expected.toolUses.length} (100.0% ok)`);
    expect(shown('tokens.cacheRead')).toBe(fmtInt(expected.tokens.cacheRead));
    // observed beside reported, and the record's provenance (written by this host's recorder)
    expect(shown('usage')).toBe('equal');
    expect(shown('usage.observed.modelCalls')).toBe(String(expected.modelCalls));
    expect(shown('usage.reported.modelCalls')).toBe(String(expected.modelCalls));
    expect(dom).toMatch(/data-key="provenance\.observed"><code>sessionId<\/code>, <code>user<\/code>/);
    expect(dom).toContain('data-key="provenance.refused"');
    // The conversation from the transcript, turn by turn: one tool call row per tool_use of the script.
    expect(dom.match(/<tr data-turn="tool call">/g) ?? []).toHaveLength(expected.toolUses.length);
    expect(dom).toContain('<tr data-turn="user">');

    mkdirSync(ARTIFACTS, { recursive: true });
    const png = join(ARTIFACTS, 'export-report.png');
    const img = decodePng(await screenshot(html, png));
    console.log(`export spec: report screenshot ${png} (${img.width}x${img.height})`);
    expect(img.width).toBe(820);
    // the charts' own colours are on screen: lines of each token type, the cost line, the tool bars
    for (const [what, color] of Object.entries({
      input: COLORS.input,
      cacheRead: COLORS.cacheRead,
      cacheCreation: COLORS.cacheCreation,
      cost: COLORS.cost,
      tools: COLORS.toolOk,
    }))
      expect(countColor(img, color, 10), `${what} pixels (${color}) in the screenshot`).toBeGreaterThan(200);
  });
});

describe('pnpm export of a failed session', () => {
  it('archives a session whose only model call failed (529): the error in summary, trace and report', async () => {
    requireChromium();
    const e2eStack = stack();
    const failed = await runStackSession(e2eStack, { script: 'api-error-529', user: 'export-spec' });
    expect(failed.exitCode).not.toBe(0);
    const id = failed.plan.sessionId;
    await waitFor(
      `no api_error event and error span of session ${id} in the files and Jaeger`,
      async () =>
        (await sessionRecords(e2eStack.telemetryDir, 'logs', id)).some(
          (l) => l.name === 'claude_code.api_error',
        ) &&
        (await jaegerTraces(e2eStack.jaeger, 'claude-code', id)).some((t) =>
          t.spans.some((sp) => sp.operationName === 'claude_code.llm_request'),
        )
          ? true
          : undefined,
      { timeoutMs: 20_000 },
    );
    const exported = await exportSession(e2eStack, id);
    expect(exported.manifest.missing).toEqual([]);
    const summary = (JSON.parse(exported.text('summary.json')) as { sessions: SessionSummary[] })
      .sessions[0] as SessionSummary;
    expect(summary).toMatchObject({
      modelCalls: { count: 0, errors: 1 },
      tokens: { total: 0 },
      wrapper: { status: 'failed' },
      usage: { equal: true, observed: { modelCalls: 0 }, reported: { modelCalls: 0, errors: 1 } },
    });
    const trace = JSON.parse(exported.text(`jaeger/${id}.json`)) as { data: JaegerTrace[] };
    const llm = trace.data
      .flatMap((t) => t.spans)
      .find((sp) => sp.operationName === 'claude_code.llm_request');
    const tags = Object.fromEntries((llm?.tags ?? []).map((t) => [t.key, t.value]));
    expect(tags.success).toBe(false);
    expect(String(tags.status_code)).toBe('529');
    const dom = await renderedDom(join(exported.dir, 'report.html'));
    expect(dom).toContain('data-rendered="true"');
    expect(dom).toContain('No model calls in this session');
    expect(/<svg[^>]*data-chart="timeline"[^>]*data-rendered-marks="([1-9]\d*)"/.test(dom)).toBe(true);
    expect(dom).toContain('API errors');
  });
});

describe('pnpm export --user', () => {
  it("archives every session of one user, and none of another user's", async () => {
    const e2eStack = stack();
    const tag = randomBytes(4).toString('hex');
    const users = [`export-a-${tag}`, `export-b-${tag}`] as const;
    const ids: string[] = [];
    for (const user of users) {
      const run = await runStackSession(e2eStack, { script: 'demo', user });
      expect(run.exitCode, run.output.slice(-2000)).toBe(0);
      ids.push(run.plan.sessionId);
    }
    const [mine, theirs] = ids as [string, string];
    for (const id of ids) await waitForSessionInSinks(id, e2eStack, 60_000);

    const cli = (args: string[]) =>
      $({
        nothrow: true,
        quiet: true,
      })`node ${join(repoRoot, 'scripts/export.ts')} ${args} --telemetry-dir ${e2eStack.telemetryDir} --sessions-dir ${e2eStack.sessionsDir}`;
    const dry = await cli(['--user', users[1], '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would export ${theirs} (1 session(s) of user ${users[1]})`);
    const nobody = await cli(['--user', `nobody-${tag}`, '--dry-run']);
    expect(nobody.exitCode).toBe(2);
    expect(nobody.stderr).toContain(`no sessions of user "nobody-${tag}" known`);
    expect(nobody.stderr).toMatch(new RegExp(`users known: .*${users[0]}, ${users[1]}`));

    const exported = await exportChosen(e2eStack, mine, ['--user', users[0], '--since', '1h']);
    expect(exported.manifest.sessions).toEqual([mine]);
    expect(exported.manifest.selection).toMatchObject({
      by: 'filter',
      user: users[0],
      since: { duration: '1h' },
    });
    expect(exported.manifest.missing).toEqual([]);
    const paths = exported.manifest.files.map((f) => f.path);
    expect(paths).toContain(`sessions/${mine}/metadata.json`);
    expect(paths.filter((p) => p.includes(theirs))).toEqual([]);
    expect(JSON.parse(exported.text(`sessions/${mine}/metadata.json`))).toMatchObject({ user: users[0] });
    for (const signal of ['traces', 'logs']) {
      const text = exported.text(`otlp/${signal}.jsonl`);
      expect(text, signal).toContain(mine);
      expect(text.includes(theirs), `${signal} holds the other user's session`).toBe(false);
      expect(text.includes(users[1]), `${signal} names the other user`).toBe(false);
    }
    const points = jsonLines(exported.text('otlp/metrics.jsonl')).flatMap((req) => pointsOf(req));
    expect(points.length).toBeGreaterThan(0);
    expect(new Set(points.map((p) => p.session))).toEqual(new Set([mine]));
    expect(readdirSync(join(exported.dir, '..')).find((f) => f.endsWith('.tar.gz'))).toMatch(
      new RegExp(`^claude-code-user-${users[0]}-sessions-1-`),
    );
  });
});

describe('pnpm export keeps secrets out', () => {
  it("archives the transcripts of a session's subagents beside its own", async () => {
    const e2eStack = stack();
    const run = await runStackSession(e2eStack, { script: 'subagent', user: 'export-spec' });
    expect(run.exitCode, run.output.slice(-1500)).toBe(0);
    const id = run.plan.sessionId;
    const agents = run.metadata?.files.subagentTranscripts ?? [];
    expect(agents, 'the subagent session left no subagent transcript in its record').toHaveLength(1);
    await waitForSessionInSinks(id, e2eStack);
    const exported = await exportSession(e2eStack, id);
    const agent = exported.text(`sessions/${id}/${agents[0]}`);
    expect(agent.trim().split('\n').length).toBeGreaterThan(0);
    expect(exported.manifest.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([`sessions/${id}/transcript.jsonl`, `sessions/${id}/${agents[0]}`]),
    );
  });

  it('removes a planted API key and bearer token that reached the telemetry', async () => {
    const e2eStack = stack();
    const apiKey = `sk-ant-api03-${randomBytes(24).toString('base64url')}`;
    const bearer = randomBytes(20).toString('hex');
    const session = await runStackSession(
      e2eStack,
      { script: 'secret-prompt', user: 'secrets-spec' },
      {
        // the secrets in the session's environment (the scripted API ignores the key)...
        ANTHROPIC_API_KEY: apiKey,
        DEPLOY_BEARER_TOKEN: bearer,
        // ...and pasted into the prompt, with prompt and tool logging on: the telemetry carries them
        // (the bare token has no telltale shape: only the session's recorded secret hashes can find it)
        SESSION_PROMPT: `Deploy with the key ${apiKey}, the token ${bearer} ("Authorization: Bearer ${bearer}").`,
        OTEL_LOG_USER_PROMPTS: '1',
        OTEL_LOG_TOOL_DETAILS: '1',
        OTEL_LOG_TOOL_CONTENT: '1',
      },
    );
    expect(session.exitCode, session.output.slice(-2000)).toBe(0);
    const id = session.plan.sessionId;
    await waitForSessionInSinks(id, e2eStack, 60_000);

    // the leak is real: the raw telemetry holds both secrets
    const raw = [
      ...(await sessionRecords(e2eStack.telemetryDir, 'logs', id)),
      ...(await sessionRecords(e2eStack.telemetryDir, 'traces', id)),
    ]
      .map((r) => JSON.stringify(r.item))
      .join('\n');
    expect(raw).toContain(apiKey);
    expect(raw).toContain(bearer);

    const exported = await exportSession(e2eStack, id, {
      MCP_AUTH_TOKEN: e2eStack.composeEnv.MCP_AUTH_TOKEN as string,
    });
    expect(exported.manifest.content).toMatchObject({ userPrompts: true, toolDetails: true });
    for (const [name, data] of exported.files) {
      const text = data.toString('utf8');
      expect(text.includes(apiKey), `API key in ${name}`).toBe(false);
      expect(text.includes(bearer), `bearer token in ${name}`).toBe(false);
      expect(text.includes(e2eStack.composeEnv.MCP_AUTH_TOKEN as string), `MCP token in ${name}`).toBe(false);
    }
    expect(exported.text('otlp/logs.jsonl')).toContain('[REDACTED:');
    expect(
      exported.manifest.redactions['session-secret'],
      'found by the session secret hashes',
    ).toBeGreaterThan(0);
    expect(exported.manifest.redactions['anthropic-api-key'], 'found by shape').toBeGreaterThan(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(
      join(ARTIFACTS, 'export-secrets-manifest.json'),
      JSON.stringify(exported.manifest, null, 2),
    );
  });
});
