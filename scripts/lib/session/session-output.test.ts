// What the verbs print of a session: rendered (prompt first) unless --json, the container's stderr as it is, and the
// closing line of its outcome naming a limit that ended it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../repo-root.ts';
import { outcomeLine, sessionOutput } from './session-output.ts';
import type { SessionPlan } from './session-plan.ts';
import type { SessionMetadata } from './session-record.ts';
import type { SessionOutcome } from './session-run.ts';
import { renderStream } from './stream-render.ts';

const plan: SessionPlan = {
  sessionId: '11111111-2222-4333-8444-555555555555',
  mode: 'headless',
  api: 'scripted',
  script: 'demo',
  env: { SESSION_PROMPT: 'Say hello.' },
  passThrough: [],
};

function sinks() {
  const got = { out: '', err: '' };
  const sink = (k: 'out' | 'err') => ({
    write: (t: string | Uint8Array) => {
      got[k] += typeof t === 'string' ? t : Buffer.from(t).toString();
    },
  });
  return { got, out: sink('out'), err: sink('err') };
}

describe('sessionOutput', () => {
  const demo = readFileSync(join(repoRoot, 'fixtures/streams/demo.jsonl'));

  it('renders stdout with the plan’s prompt, in whatever chunks it comes, and passes stderr as it is', () => {
    const { got, out, err } = sinks();
    const o = sessionOutput(false, out, err);
    for (let i = 0; i < demo.length; i += 1000) o.onData?.(demo.subarray(i, i + 1000), 'stdout', plan);
    o.onData?.(Buffer.from('entrypoint: a note\n'), 'stderr', plan);
    o.end();
    expect(got.out).toBe(renderStream(demo.toString(), { prompt: 'Say hello.' }));
    expect(got.out.startsWith('> Say hello.\n')).toBe(true);
    expect(got.err).toBe('entrypoint: a note\n');
  });

  it('with --json leaves the stream to runSession (raw, as it comes)', () => {
    const o = sessionOutput(true);
    expect(o.onData).toBeUndefined();
    o.end();
  });
});

describe('outcomeLine', () => {
  const outcome = (m: Partial<SessionMetadata> | null): SessionOutcome => ({
    plan,
    exitCode: 1,
    metadata: m as SessionMetadata | null,
    dir: '/x',
    output: '',
  });

  it('says the status, time and exit code', () => {
    expect(outcomeLine(outcome({ status: 'completed', durationMs: 12_345, exitCode: 0 }))).toBe(
      `${plan.sessionId} completed in 12.3 s, exit 0`,
    );
  });

  it('names the limit that ended the session', () => {
    const m = {
      status: 'limit-exceeded' as const,
      durationMs: 5_000,
      exitCode: 137,
      limit: { kind: 'time' as const, description: 'wall clock 5 s (SESSION_TIMEOUT_SECONDS)' },
    };
    expect(outcomeLine(outcome(m))).toBe(
      `${plan.sessionId} limit-exceeded: time limit, wall clock 5 s (SESSION_TIMEOUT_SECONDS) in 5.0 s, exit 137`,
    );
  });

  it('says when there is no record', () => {
    expect(outcomeLine(outcome(null))).toBe(`${plan.sessionId} exit 1 (no record: see above)`);
  });
});
