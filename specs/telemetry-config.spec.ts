// Recipe: where users configure telemetry, and the session kinds that break it. The same scripted session runs
// with its telemetry configured in the CLI's environment (env: the positive control), in the env block of the
// user's ~/.claude/settings.json (settings) and in the managed settings, /etc/claude-code/managed-settings.json
// (managed); each must reach every sink (Prometheus, Jaeger, VictoriaLogs, the files) with its script's exact
// totals, and a command hook in the session reads the CLI's own environment to prove where the configuration came
// from (names only). Then: a session with hooks (their events), one with 13 OTEL_RESOURCE_ATTRIBUTES entries (on
// every signal), one exporting http/json. SESSION_TELEMETRY_CONFIG and SESSION_HOOKS: stack/claude-code/
// telemetry-config.ts. Every expected number comes from the script (fixtures/sessions/*.json).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SessionOutcome } from '../scripts/lib/session/session-run.ts';
import { jaegerTraces } from '../scripts/lib/sinks/jaeger.ts';
import { dataPoints, type ExportRequest, logRecords, spans, stringAttr } from '../scripts/lib/sinks/otlp.ts';
import type { EventRecord } from '../scripts/lib/sinks/otlp-records.ts';
import { countBy, sessionEvents, waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionTokens } from '../scripts/lib/sinks/session-totals.ts';
import { exportRequests, signalFiles } from '../scripts/lib/sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import type { Expected } from '../stack/anthropic-replay/src/expectations.ts';
import { HOOK_EVENTS } from '../stack/claude-code/telemetry-config.ts';
import { expectedFor, runStackSession, type StackInfo, stack } from './support/stack.ts';

/** What the stack hands every session (compose and pnpm session): the ones each path must carry to the CLI. */
const CONFIG_VARIABLES = [
  'CLAUDE_CODE_ENABLE_TELEMETRY',
  'CLAUDE_CODE_ENHANCED_TELEMETRY_BETA',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_LOGS_HEADERS',
  'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_LOGS_EXPORTER',
  'OTEL_METRICS_EXPORTER',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_EXPORTER',
];
const CONFIGS = ['env', 'settings', 'managed'] as const;
/** 13 entries: user.name (pnpm session's) and 12 more. */
const ATTRIBUTES: Record<string, string> = {
  'user.name': 'tc-attrs',
  ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`cct.attr.${i + 1}`, `value-${i + 1}`])),
};
const WAIT = { timeoutMs: 60_000, intervalMs: 500 };

let e2eStack: StackInfo;
const outcomes = new Map<string, SessionOutcome>();
const failures = new Map<string, unknown>();

interface Run {
  name: string;
  script: string;
  user: string;
  env?: Record<string, string>;
  otlpProtocol?: string;
}
const RUNS: Run[] = [
  ...CONFIGS.map((c) => ({
    name: c,
    script: 'demo',
    user: `tc-${c}`,
    env: { SESSION_TELEMETRY_CONFIG: c, SESSION_HOOKS: '1' },
  })),
  { name: 'hooks', script: 'hooks', user: 'tc-hooks', env: { SESSION_HOOKS: '1' } },
  {
    name: 'attributes',
    script: 'hooks',
    user: 'tc-attrs',
    env: {
      OTEL_RESOURCE_ATTRIBUTES: Object.entries(ATTRIBUTES)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  },
  { name: 'http/json', script: 'hooks', user: 'tc-json', otlpProtocol: 'http/json' },
  { name: 'bad-config', script: 'hooks', user: 'tc-bad', env: { SESSION_TELEMETRY_CONFIG: 'Managed' } },
];

beforeAll(async () => {
  e2eStack = stack();
  // Three at a time: the machine has two cores, and each session's CLI takes one at most.
  const queue = [...RUNS];
  const worker = async () => {
    for (let r = queue.shift(); r; r = queue.shift()) {
      const run = r;
      try {
        outcomes.set(
          run.name,
          await runStackSession(
            e2eStack,
            { script: run.script, user: run.user, otlpProtocol: run.otlpProtocol },
            run.env,
          ),
        );
      } catch (err) {
        failures.set(run.name, err);
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
});

/** A session of RUNS that ran and exited 0. */
function completed(name: string): SessionOutcome {
  if (failures.has(name)) throw failures.get(name);
  const s = outcomes.get(name);
  if (!s) throw new Error(`session ${name} did not run`);
  expect(s.exitCode, `${name}: ${s.output.slice(-2000)}`).toBe(0);
  return s;
}

/** The session's events in the telemetry files. */
const fileEvents = (id: string) => sessionEvents(e2eStack.telemetryDir, id);

const sum = (xs: Iterable<unknown>) => [...xs].reduce<number>((a, x) => a + Number(x ?? 0), 0);

/** The tokens of a session's api_request events (files or VictoriaLogs): the script's, when none is lost. */
function eventTokens(events: { [k: string]: unknown }[]): Expected['tokens'] {
  return {
    input: sum(events.map((e) => e.input_tokens)),
    output: sum(events.map((e) => e.output_tokens)),
    cacheRead: sum(events.map((e) => e.cache_read_tokens)),
    cacheCreation: sum(events.map((e) => e.cache_creation_tokens)),
  };
}

/**
 * The session is in every sink with its script's exact totals: tokens by type in Prometheus, one llm_request span
 * per model call in Jaeger, one api_request event per model call in the files and in VictoriaLogs, their tokens
 * the script's. Returns the session's events in the files.
 */
async function expectExactInEverySink(id: string, expected: Expected): Promise<EventRecord[]> {
  await waitForSessionInSinks(id, e2eStack, WAIT.timeoutMs);
  const tokens = await waitFor(
    () => `Prometheus tokens of session ${id} never matched the script's ${JSON.stringify(expected.tokens)}`,
    async () => {
      const t = await sessionTokens(e2eStack.prometheus, id);
      const same = Object.entries(expected.tokens).every(([k, v]) => t[k] === v);
      return same && Object.keys(t).length === Object.keys(expected.tokens).length ? t : undefined;
    },
    WAIT,
  );
  expect(tokens).toEqual(expected.tokens);
  const llm = await waitFor(
    `Jaeger never held ${expected.modelCalls} llm_request spans of session ${id}`,
    async () => {
      const n = (await jaegerTraces(e2eStack.jaeger, 'claude-code', id))
        .flatMap((t) => t.spans)
        .filter((s) => s.operationName === 'claude_code.llm_request').length;
      return n >= expected.modelCalls ? n : undefined;
    },
    WAIT,
  );
  expect(llm).toBe(expected.modelCalls);
  const events = await waitFor(
    `the files never held ${expected.modelCalls} api_request events of session ${id}`,
    async () => {
      const ev = await fileEvents(id);
      return ev.filter((e) => e.name === 'api_request').length >= expected.modelCalls ? ev : undefined;
    },
    WAIT,
  );
  const apiRequests = events.filter((e) => e.name === 'api_request');
  expect(apiRequests).toHaveLength(expected.modelCalls);
  expect(eventTokens(apiRequests.map((e) => e.attrs))).toEqual(expected.tokens);
  const vl = await waitFor(
    `VictoriaLogs never held ${expected.modelCalls} api_request events of session ${id}`,
    async () => {
      const got = await vlQuery(e2eStack.victorialogs, `${sessionFilter(id)} event.name:=api_request`);
      return got.length >= expected.modelCalls ? got : undefined;
    },
    WAIT,
  );
  expect(vl).toHaveLength(expected.modelCalls);
  expect(eventTokens(vl)).toEqual(expected.tokens);
  return events;
}

interface HookLine {
  event: string;
  tool: string | null;
  cli: string[] | null;
  hook: string[];
  error?: string;
}

/** What the session's hooks wrote (stack/claude-code/env-hook.ts), from its user's workspace on this host. */
function hookLines(s: SessionOutcome, user: string): HookLine[] {
  const file = join(
    e2eStack.composeEnv.WORKSPACES_DIR ?? '',
    user,
    `telemetry-hooks-${s.plan.sessionId}.jsonl`,
  );
  if (!existsSync(file)) throw new Error(`no hook output ${file}: did the session's hooks run?`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as HookLine);
}

/** One hook run per event fired: SessionStart, UserPromptSubmit and Stop once, the tool hooks once per tool call. */
const hookRuns = (expected: Expected) => ({
  SessionStart: 1,
  UserPromptSubmit: 1,
  PreToolUse: expected.toolUses.length,
  PostToolUse: expected.toolUses.length,
  Stop: 1,
});

describe.each(CONFIGS)('telemetry configured in %s', (config) => {
  const expected = expectedFor('demo');

  it("reaches every sink with the script's exact totals", async () => {
    const s = completed(config);
    await expectExactInEverySink(s.plan.sessionId, expected);
  });

  it(
    config === 'env'
      ? "the CLI's own environment holds the telemetry variables (the positive control)"
      : "no telemetry variable is in the CLI's own environment; its children get them from the settings",
    () => {
      const s = completed(config);
      const lines = hookLines(s, `tc-${config}`);
      expect(countBy(lines, (l) => l.event)).toEqual(hookRuns(expected));
      for (const l of lines) {
        expect(l.error, JSON.stringify(l)).toBeUndefined();
        // The hook's environment is what Claude Code hands its children: its own environment and its settings'
        // env block, less the OTEL_* variables (2.1.332 keeps those from its children). With the settings paths,
        // the switch there came from the settings file: Claude Code read it.
        expect(l.hook, l.event).toEqual([
          'CLAUDE_CODE_ENABLE_TELEMETRY',
          'CLAUDE_CODE_ENHANCED_TELEMETRY_BETA',
        ]);
        if (config === 'env') expect(l.cli, l.event).toEqual(expect.arrayContaining(CONFIG_VARIABLES));
        else expect(l.cli, l.event).toEqual([]);
      }
    },
  );

  it(
    config === 'managed'
      ? 'Claude Code says it resolved managed settings from the file'
      : 'Claude Code resolved no managed settings file',
    async () => {
      const s = completed(config);
      const resolved = await waitFor(
        `no managed_settings_resolved event of session ${s.plan.sessionId} in the files`,
        async () => {
          const ev = (await fileEvents(s.plan.sessionId)).filter(
            (e) => e.name === 'managed_settings_resolved',
          );
          return ev.length ? ev : undefined;
        },
        WAIT,
      );
      const sources = resolved.map((e) => e.attrs['managed_settings.sources']);
      if (config === 'managed') expect(sources).toContainEqual(['file']);
      else for (const src of sources) expect(JSON.stringify(src)).not.toContain('file');
    },
  );
});

describe('a session with hooks', () => {
  const expected = expectedFor('hooks');

  it("registers the 5 hooks, runs each with a start and a successful complete event, and keeps the script's totals", async () => {
    const s = completed('hooks');
    const events = await expectExactInEverySink(s.plan.sessionId, expected);
    const runs = hookRuns(expected);
    const hooks = await waitFor(
      `not every hook event of session ${s.plan.sessionId} in the files`,
      async () => {
        const ev = (await fileEvents(s.plan.sessionId)).filter((e) => e.name.startsWith('hook_'));
        return ev.filter((e) => e.name === 'hook_execution_complete').length >= HOOK_EVENTS.length
          ? ev
          : undefined;
      },
      WAIT,
    );
    const by = (name: string) =>
      countBy(
        hooks.filter((e) => e.name === name),
        (e) => String(e.attrs.hook_event),
      );
    expect(by('hook_registered')).toEqual(Object.fromEntries(HOOK_EVENTS.map((h) => [h, 1])));
    expect(by('hook_execution_start')).toEqual(runs);
    expect(by('hook_execution_complete')).toEqual(runs);
    for (const c of hooks.filter((e) => e.name === 'hook_execution_complete'))
      expect([c.attrs.hook_event, c.attrs.num_success]).toEqual([c.attrs.hook_event, '1']);
    expect(events.filter((e) => e.name === 'tool_result')).toHaveLength(expected.toolUses.length);
    expect(countBy(hookLines(s, 'tc-hooks'), (l) => l.event)).toEqual(runs);
  });
});

describe('a session with 13 OTEL_RESOURCE_ATTRIBUTES entries', () => {
  const expected = expectedFor('hooks');

  it("has its script's exact totals, and every span, event and metric point carries each attribute", async () => {
    const s = completed('attributes');
    const id = s.plan.sessionId;
    await expectExactInEverySink(id, expected);
    const counts = { traces: 0, metrics: 0, logs: 0 };
    const missing: string[] = [];
    const check = (signal: keyof typeof counts, walk: Iterable<{ resource: unknown; item: unknown }>) => {
      for (const v of walk) {
        const item = v.item as Parameters<typeof stringAttr>[0];
        const resource = v.resource as Parameters<typeof stringAttr>[0];
        // Claude Code's own (the stack's services send records with the session's id too: their own resource).
        if (stringAttr(item, 'session.id') !== id || stringAttr(resource, 'service.name') !== 'claude-code')
          continue;
        counts[signal]++;
        for (const [k, want] of Object.entries(ATTRIBUTES))
          if (stringAttr(resource, k) !== want) missing.push(`${signal}: ${k}=${stringAttr(resource, k)}`);
      }
    };
    for (const signal of ['traces', 'metrics', 'logs'] as const)
      for (const file of signalFiles(e2eStack.telemetryDir, signal))
        for await (const req of exportRequests(file)) {
          const r = req as ExportRequest;
          check(signal, signal === 'traces' ? spans(r) : signal === 'logs' ? logRecords(r) : dataPoints(r));
        }
    expect(Object.keys(ATTRIBUTES)).toHaveLength(13);
    expect(counts.traces).toBeGreaterThan(0);
    expect(counts.metrics).toBeGreaterThan(0);
    expect(counts.logs).toBeGreaterThan(0);
    expect([...new Set(missing)].slice(0, 20)).toEqual([]);
  });
});

describe('a session exporting http/json through the session gateway', () => {
  it("reaches every sink with the script's exact totals", async () => {
    const s = completed('http/json');
    expect(s.metadata?.telemetry.protocol).toBe('http/json');
    await expectExactInEverySink(s.plan.sessionId, expectedFor('hooks'));
  });
});

describe('a telemetry configuration path the entrypoint does not know', () => {
  it('is refused before the CLI starts: exit 78 (EX_CONFIG), naming the variable', () => {
    if (failures.has('bad-config')) throw failures.get('bad-config');
    const s = outcomes.get('bad-config');
    expect(s?.exitCode).toBe(78);
    expect(s?.output).toContain('SESSION_TELEMETRY_CONFIG="Managed" is not one of env, settings, managed');
  });
});
