import { describe, expect, it } from 'vitest';
import {
  commandLine,
  type KindInfo,
  newerReleases,
  type PlanContext,
  parsePlan,
  pendingTasks,
  planCells,
} from './compat-plan.ts';

const kinds: KindInfo[] = [
  { name: 'demo' },
  { name: 'api-retry-529' },
  { name: 'long', long: true },
  { name: 'grpc-only', protocols: ['grpc'] },
];
const ctx: PlanContext = {
  kinds,
  protocols: ['http/protobuf', 'http/json', 'grpc'],
  defaultKinds: kinds.map((k) => k.name),
  pin: '2.1.332',
};

describe('the plan', () => {
  it('runs the pinned release with every kind by default; demo over every protocol and configuration path', () => {
    const plan = parsePlan({}, ctx);
    expect(plan).toMatchObject({ named: ['2.1.332'], fillers: [], runs: 3, axes: ['demo'], cross: false });
    const cells = planCells(plan, kinds);
    // Each protocol with the first path, each other path with the first protocol: 3 + 2.
    expect(cells.filter((c) => c.kind === 'demo').map((c) => `${c.protocol} ${c.config}`)).toEqual([
      'http/protobuf env',
      'http/json env',
      'grpc env',
      'http/protobuf settings',
      'http/protobuf managed',
    ]);
    const crossed = parsePlan({ cross: true }, ctx);
    expect(planCells(crossed, kinds).filter((c) => c.kind === 'demo')).toHaveLength(9);
    expect(commandLine(crossed, ctx)).toBe('pnpm compat --versions 2.1.332 --cross');
    expect(
      cells.filter((c) => c.kind !== 'demo').map((c) => `${c.kind} ${c.protocol} ${c.config} ${c.long}`),
    ).toEqual([
      'api-retry-529 http/protobuf env false',
      'long http/protobuf env true',
      'grpc-only grpc env false',
    ]);
    expect(commandLine(plan, ctx)).toBe('pnpm compat --versions 2.1.332');
  });

  it('gives the named releases every kind and the fillers theirs, and says so in its command line', () => {
    const plan = parsePlan(
      {
        versions: '2.1.332,2.1.220',
        fillers: '2.1.150,2.1.220',
        'filler-kinds': 'demo',
        kinds: 'demo,api-retry-529',
        protocols: 'grpc',
        configs: 'env,managed',
        runs: '2',
      },
      ctx,
    );
    expect(plan.named).toEqual(['2.1.220', '2.1.332']);
    expect(plan.fillers).toEqual(['2.1.150']); // a named release is not a filler too
    const cells = planCells(plan, kinds);
    // A filler runs its kinds over the first protocol and path only: the axes are the named releases'.
    expect(cells.map((c) => `${c.release} ${c.kind} ${c.config}`)).toEqual([
      '2.1.150 demo env',
      '2.1.220 demo env',
      '2.1.220 demo managed',
      '2.1.220 api-retry-529 env',
      '2.1.332 demo env',
      '2.1.332 demo managed',
      '2.1.332 api-retry-529 env',
    ]);
    const again = commandLine(plan, ctx);
    expect(again).toBe(
      'pnpm compat --versions 2.1.220,2.1.332 --fillers 2.1.150 --kinds demo,api-retry-529 --protocols grpc --configs env,managed --runs 2',
    );
    const argv = Object.fromEntries(
      again
        .replace('pnpm compat ', '')
        .split(' --')
        .map((p) => p.replace(/^--/, '').split(' ')),
    );
    expect(planCells(parsePlan(argv, ctx), kinds)).toEqual(cells);
  });

  it('refuses what it does not know, naming what it takes', () => {
    expect(() => parsePlan({ versions: 'latest' }, ctx)).toThrow(/--versions takes releases like 2.1.332/);
    expect(() => parsePlan({ kinds: 'demo,nope' }, ctx)).toThrow(/--kinds takes any of demo, .*; not nope/);
    expect(() => parsePlan({ configs: 'registry' }, ctx)).toThrow(
      /--configs takes any of env, settings, managed/,
    );
    expect(() => parsePlan({ runs: '0' }, ctx)).toThrow(/--runs takes a number from 1 to 20/);
  });

  it('a kind limited to some protocols has no cell over the others', () => {
    const plan = parsePlan({ kinds: 'grpc-only', protocols: 'http/json' }, ctx);
    expect(planCells(plan, kinds)).toEqual([]);
  });
});

describe('resuming and --new', () => {
  it('runs only what the cache lacks, numbering the runs after the cached ones', () => {
    const cells = planCells(parsePlan({ kinds: 'api-retry-529,long' }, ctx), kinds);
    const tasks = pendingTasks(cells, 3, (c) => (c.kind === 'long' ? 1 : 5));
    expect(tasks.map((t) => `${t.kind} #${t.attempt}`)).toEqual(['long #2', 'long #3']);
    const all = pendingTasks(cells, 2, () => 0);
    expect(all.map((t) => `${t.kind} #${t.attempt}`)).toEqual([
      'api-retry-529 #1',
      'long #1',
      'api-retry-529 #2',
      'long #2',
    ]);
  });

  it('finds the releases newer than the matrix, in order; none when the matrix is current', () => {
    const npm = ['2.1.99', '2.1.332', '2.1.335', '2.1.340', '2.2.0-beta.1'];
    expect(newerReleases(npm, ['2.1.112', '2.1.332'])).toEqual(['2.1.335', '2.1.340']);
    expect(newerReleases(npm, ['2.1.340'])).toEqual([]);
    expect(newerReleases(npm, [])).toEqual(['2.1.99', '2.1.332', '2.1.335', '2.1.340']);
    expect(parsePlan({}, { ...ctx, found: ['2.1.340', '2.1.335'] }).named).toEqual(['2.1.335', '2.1.340']);
  });
});
