import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeArgs, composeFiles, localStackTopology, serviceContainers, stackDir } from './compose.ts';
import { chosenTopology, localTopology, parseTopology, SCALED_OVERLAY_FILE } from './topology.ts';

const base = join(stackDir, 'compose.yaml');
const files = (args: string[]) => args.flatMap((a, i) => (args[i - 1] === '-f' ? [a] : []));

describe('compose files per topology', () => {
  it('single: compose.yaml, then the overrides', () => {
    expect(composeFiles(['/x/override.yaml'])).toEqual([base, '/x/override.yaml']);
  });

  it('scaled: the overlay between compose.yaml and the overrides', () => {
    expect(composeFiles(['/x/override.yaml'], 'scaled')).toEqual([
      base,
      SCALED_OVERLAY_FILE,
      '/x/override.yaml',
    ]);
  });

  it('names each file once: an ephemeral scaled stack that names the overlay itself, over a scaled local stack', () => {
    const args = composeArgs('p', [SCALED_OVERLAY_FILE, '/x/override.yaml'], true, 'scaled');
    expect(files(args)).toEqual([base, SCALED_OVERLAY_FILE, '/x/override.yaml']);
    expect(composeFiles([base, join(stackDir, '.', 'compose.scaled.yaml')], 'scaled')).toEqual([
      base,
      SCALED_OVERLAY_FILE,
    ]);
  });

  it("a stack that reads no local env gets none of the local stack's topology or env files", () => {
    const args = composeArgs('cct-test-1', ['/x/override.yaml'], false);
    expect(files(args)).toEqual([base, '/x/override.yaml']);
    expect(args.filter((a) => a.endsWith('.env.local') || a.endsWith('.images.env'))).toEqual([]);
    expect(args.slice(-2)).toEqual(['-p', 'cct-test-1']);
  });
});

describe('the local topology', () => {
  it('is single without STACK_TOPOLOGY, else what it says', () => {
    expect(localTopology({})).toBe('single');
    expect(localTopology({ STACK_TOPOLOGY: 'scaled' })).toBe('scaled');
    expect(() => localTopology({ STACK_TOPOLOGY: 'huge' }, '/s/.env.local')).toThrow(
      /\/s\/\.env\.local: STACK_TOPOLOGY must be one of single, scaled, not "huge"/,
    );
    expect(() => parseTopology('', 'x')).toThrow(/not ""/);
  });

  it('is read from the env file given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'topology-'));
    const file = join(dir, '.env.local');
    expect(localStackTopology(file)).toBe('single');
    writeFileSync(file, 'MCP_AUTH_TOKEN=x\nSTACK_TOPOLOGY=scaled\n');
    expect(localStackTopology(file)).toBe('scaled');
  });

  it('stack:up takes --scaled or --single, else the local one', () => {
    expect(chosenTopology({ scaled: true }, {})).toBe('scaled');
    expect(chosenTopology({ single: true }, { STACK_TOPOLOGY: 'scaled' })).toBe('single');
    expect(chosenTopology({}, { STACK_TOPOLOGY: 'scaled' })).toBe('scaled');
    expect(chosenTopology({}, {})).toBe('single');
    expect(() => chosenTopology({ scaled: true, single: true }, {})).toThrow(/choose one/);
  });
});

describe('serviceContainers', () => {
  const answer =
    (exitCode: number, stdout: string, stderr = '') =>
    async () => ({ exitCode, stdout, stderr });

  it('lists the running containers of a service; none when it does not run', async () => {
    expect(await serviceContainers('mcp-file-ops', {}, answer(0, 'abc\ndef\n'))).toEqual(['abc', 'def']);
    expect(await serviceContainers('mcp-file-ops', {}, answer(0, ''))).toEqual([]);
  });

  it('throws naming the service when docker compose ps fails: never taken for "not running"', async () => {
    await expect(
      serviceContainers('egress-proxy', {}, answer(1, '', 'Cannot connect to the Docker daemon\n')),
    ).rejects.toThrow(
      /docker compose ps egress-proxy failed \(exit 1\): Cannot connect to the Docker daemon/,
    );
  });
});
