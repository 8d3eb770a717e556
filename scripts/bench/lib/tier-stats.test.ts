// The per-tier sums `pnpm bench load` prints: each node in exactly one tier, CPU as the window's difference, memory
// at its sampled peak, and a tier with any unreadable node said to be unknown rather than undercounted.
import { describe, expect, it } from 'vitest';
import { measureTiers, type Node, TIERS } from './tier-stats.ts';

/** A node whose readings follow the arrays given, one value per read (the last repeats). */
function node(service: string, cpu: number[], memory: (number | undefined)[]): Node {
  const next = <T>(xs: T[]) => {
    let i = 0;
    return () => xs[Math.min(i++, xs.length - 1)];
  };
  return { service, container: `x-${service}-1`, cpu: next(cpu), memory: next(memory) };
}

describe('tier stats', () => {
  it('puts every scaled service a span crosses in exactly one tier, and the query service in none', () => {
    const services = [
      'otel-collector',
      'otel-agent-2',
      'otel-gateway-1',
      'otel-gateway-3',
      'jaeger-collector-2',
      'opensearch-3',
      'victorialogs',
      'victorialogs-storage-1',
      'prometheus',
    ];
    for (const s of services) expect(TIERS.scaled.filter((t) => t.services.test(s))).toHaveLength(1);
    for (const s of ['jaeger', 'session-gateway', 's3-gateway', 'mcp-file-ops'])
      expect(TIERS.scaled.filter((t) => t.services.test(s))).toHaveLength(0);
    expect(TIERS.single.filter((t) => t.services.test('jaeger'))).toHaveLength(1);
  });

  it('sums CPU over the window and keeps each node peak', () => {
    const nodes = [
      node('otel-gateway-1', [10, 12.5], [100, 300, 200]),
      node('otel-gateway-2', [20, 21], [50, 60, 70]),
      node('prometheus', [5, 5.5], [10]),
    ];
    const m = measureTiers(TIERS.scaled, nodes);
    m.cpu();
    const usage = m.stop();
    const gateways = usage.find((u) => u.tier === 'gateways');
    expect(gateways).toMatchObject({ nodes: 2, cpuSeconds: 3.5, peakNode: 300, peakSum: 300 + 60 });
    expect(usage.find((u) => u.tier === 'prometheus')).toMatchObject({ nodes: 1, cpuSeconds: 0.5 });
    expect(usage.find((u) => u.tier === 'opensearch')).toMatchObject({ nodes: 0 });
  });

  it('says unknown for a tier with a node it cannot read', () => {
    const m = measureTiers(TIERS.single, [
      node('otel-collector', [1, 2], [undefined]),
      { service: 'jaeger', container: 'x-jaeger-1' },
    ]);
    const usage = m.stop();
    expect(usage.find((u) => u.tier === 'collector')).toMatchObject({ cpuSeconds: 1, peakNode: undefined });
    expect(usage.find((u) => u.tier === 'jaeger (badger)')).toMatchObject({
      nodes: 1,
      cpuSeconds: undefined,
      peakSum: undefined,
    });
  });
});
