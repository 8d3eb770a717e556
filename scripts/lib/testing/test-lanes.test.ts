import { describe, expect, it } from 'vitest';
import { laneReportFile, mergeReports, planLanes } from './test-lanes.ts';

describe('planLanes', () => {
  it('runs the whole suite as three lanes and the scaled one after shared, each with the caller options and its own JSON report', () => {
    const plan = planLanes([
      '--reporter=default',
      '--reporter=json',
      '--outputFile.json=test-results/vitest.json',
    ]);
    expect(plan.single).toBeNull();
    expect(plan.jsonReport).toBe('test-results/vitest.json');
    expect(plan.lanes).toEqual([
      {
        name: 'shared',
        args: [
          '--project',
          'e2e',
          '--reporter=default',
          '--reporter=json',
          '--outputFile.json=test-results/vitest.shared.json',
        ],
        jsonReport: 'test-results/vitest.shared.json',
        after: null,
      },
      {
        name: 'own-stack',
        args: [
          '--project',
          'unit',
          '--project',
          'e2e-own-stack',
          '--reporter=default',
          '--reporter=json',
          '--outputFile.json=test-results/vitest.own-stack.json',
        ],
        jsonReport: 'test-results/vitest.own-stack.json',
        after: null,
      },
      {
        name: 'long',
        args: [
          '--project',
          'e2e-long',
          '--reporter=default',
          '--reporter=json',
          '--outputFile.json=test-results/vitest.long.json',
        ],
        jsonReport: 'test-results/vitest.long.json',
        after: null,
      },
      {
        name: 'scaled',
        args: [
          '--project',
          'e2e-scaled',
          '--reporter=default',
          '--reporter=json',
          '--outputFile.json=test-results/vitest.scaled.json',
        ],
        jsonReport: 'test-results/vitest.scaled.json',
        after: 'shared',
      },
    ]);
  });

  it('runs the long specs after the own-stack ones with --lanes 2', () => {
    const plan = planLanes(['--lanes', '2']);
    expect(plan.lanes.map((l) => [l.name, l.args, l.after])).toEqual([
      ['shared', ['--project', 'e2e'], null],
      ['own-stack', ['--project', 'unit', '--project', 'e2e-own-stack', '--project', 'e2e-long'], null],
      ['scaled', ['--project', 'e2e-scaled'], 'shared'],
    ]);
  });

  it('never starts the scaled lane beside the shared one: it waits for lane shared, which waits for none', () => {
    for (const lanes of [[], ['--lanes', '2']]) {
      const plan = planLanes(lanes);
      const names = plan.lanes.map((l) => l.name);
      expect(plan.lanes.find((l) => l.name === 'scaled')?.after).toBe('shared');
      expect(plan.lanes.find((l) => l.name === 'shared')?.after).toBeNull();
      // Every lane waited for is a lane of the plan, so none waits forever.
      for (const l of plan.lanes) if (l.after) expect(names).toContain(l.after);
    }
  });

  it.each([
    [['specs/egress.spec.ts'], 'the filter "specs/egress.spec.ts"'],
    [['--project', 'unit'], '--project unit'],
    [['--project=e2e'], '--project=e2e'],
    [['--project', 'e2e-scaled'], '--project e2e-scaled'],
    [['--reporter', 'dot', 'faults'], 'the filter "faults"'],
    [['--lanes=1'], '--lanes=1'],
    [['--lanes', '1', '--bail', '1'], '--lanes=1'],
  ])('keeps one Vitest run for %j', (args, why) => {
    const plan = planLanes(args);
    expect(plan.single).toBe(why);
    expect(plan.lanes).toHaveLength(1);
    expect(plan.lanes[0]?.args).toEqual(
      args.filter((a, i) => a !== '--lanes' && args[i - 1] !== '--lanes' && a !== '--lanes=1'),
    );
  });

  it('does not take an option value for a filter', () => {
    expect(planLanes(['--reporter', 'dot', '--bail', '1', '-t', 'export']).single).toBeNull();
  });

  it('refuses a lane count it does not know', () => {
    expect(() => planLanes(['--lanes=4'])).toThrow('--lanes must be 1, 2, 3; not "4"');
  });

  it('names a lane report beside the caller one', () => {
    expect(laneReportFile('out/v.json', 'own-stack')).toBe('out/v.own-stack.json');
    expect(laneReportFile('out/report', 'shared')).toBe('out/report.shared.json');
  });
});

describe('mergeReports', () => {
  const report = (passed: number, failed: number, success: boolean, startTime: number) => ({
    numTotalTests: passed + failed,
    numPassedTests: passed,
    numFailedTests: failed,
    numPendingTests: 1,
    numTodoTests: 0,
    numTotalTestSuites: 2,
    numPassedTestSuites: 2,
    numFailedTestSuites: 0,
    numPendingTestSuites: 0,
    success,
    startTime,
    testResults: [{ name: `r${passed}` }],
  });

  it('adds the counts and keeps every test result', () => {
    const m = mergeReports([report(10, 0, true, 200), report(5, 0, true, 100)]);
    expect(m).toMatchObject({
      numTotalTests: 15,
      numPassedTests: 15,
      numPendingTests: 2,
      success: true,
      startTime: 100,
    });
    expect(m.testResults).toEqual([{ name: 'r10' }, { name: 'r5' }]);
  });

  it('fails when one lane failed or wrote no report', () => {
    expect(mergeReports([report(10, 0, true, 1), report(4, 1, false, 1)]).success).toBe(false);
    expect(mergeReports([report(10, 0, true, 1), null])).toMatchObject({
      success: false,
      numPassedTests: 10,
    });
  });
});
