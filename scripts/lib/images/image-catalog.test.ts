import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../repo-root.ts';
import { readEnvFile } from '../stack/env-file.ts';
import { envFiles } from '../stack/stack-files.ts';
import { buildOrder, imageCatalog } from './image-catalog.ts';

const versions = { ...readEnvFile(envFiles.versions) };
const catalog = imageCatalog(versions);

describe('stack/versions.env', () => {
  it('pins every image to an explicit version: no :latest, no missing tag', () => {
    const refs = Object.entries(versions).filter(([k]) => k.endsWith('_IMAGE'));
    expect(refs.length).toBeGreaterThanOrEqual(10);
    for (const [key, ref] of refs) {
      expect(ref, key).toMatch(/^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/);
      expect(ref, key).not.toMatch(/:latest$/);
    }
  });

  it('tags each image with the version it holds', () => {
    for (const spec of catalog) {
      // A Docker tag cannot hold `+` (Debian's package versions do): it becomes `-`.
      expect(spec.ref.split(':')[1], spec.name).toBe(spec.version.replaceAll('+', '-'));
      if (spec.official) expect(spec.official.ref, spec.name).toContain(spec.official.version);
    }
  });

  it('says where a local build differs from its official image', () => {
    for (const spec of catalog.filter((s) => s.official)) expect(spec.differs, spec.name).toBeTruthy();
    const prometheus = catalog.find((s) => s.name === 'prometheus');
    // The same release as the official image, UI included (no longer Debian's older major).
    expect(prometheus?.version).toBe(prometheus?.official?.version);
    expect(prometheus?.differs).toContain('web UI');
    expect(catalog.find((s) => s.name === 'jaeger')?.differs).toContain('no UI assets');
  });
});

describe('MCP server images', () => {
  it('are tagged with their package.json versions', () => {
    for (const server of ['file-ops', 'database']) {
      const pkg = JSON.parse(readFileSync(join(repoRoot, `mcp-servers/${server}/package.json`), 'utf8')) as {
        version: string;
      };
      expect(catalog.find((s) => s.name === `mcp-${server}`)?.version, server).toBe(pkg.version);
    }
  });
});

describe('session gateway image', () => {
  it('is tagged with its package.json version and stages mcp-common with it (the credential)', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'stack/session-gateway/package.json'), 'utf8')) as {
      version: string;
    };
    const spec = catalog.find((s) => s.name === 'session-gateway');
    expect(spec?.version).toBe(pkg.version);
    expect(spec?.dependsOn).toEqual(['node']);
    expect(spec?.recipe).toMatchObject({
      dockerfile: 'stack/session-gateway/Dockerfile',
      context: [{ kind: 'workspace-package', dirs: ['mcp-servers/common', 'stack/session-gateway'] }],
    });
  });
});

describe('buildOrder', () => {
  it('builds bases before the images on top of them', () => {
    const names = buildOrder(catalog).map((s) => s.name);
    expect(names.indexOf('debian')).toBeLessThan(names.indexOf('node'));
    expect(names.indexOf('node')).toBeLessThan(names.indexOf('claude-code'));
    expect(new Set(names).size).toBe(catalog.length);
  });

  it('--only brings in what the image needs', () => {
    expect(buildOrder(catalog, ['claude-code']).map((s) => s.name)).toEqual([
      'debian',
      'node',
      'claude-code',
    ]);
    expect(buildOrder(catalog, ['jaeger']).map((s) => s.name)).toEqual(['debian', 'jaeger']);
    expect(buildOrder(catalog, ['otel-collector']).map((s) => s.name)).toEqual(['otel-collector']);
  });

  it('names an unknown image and the known ones', () => {
    expect(() => buildOrder(catalog, ['grafna'])).toThrow(
      'no image named grafna (have: debian, otel-collector, jaeger, prometheus, victorialogs, node, claude-code, egress-proxy, mcp-file-ops, mcp-database, anthropic-replay, session-gateway, opensearch, s3-gateway)',
    );
  });

  it('refuses a dependency cycle', () => {
    const a = { ...catalog[0], name: 'a', dependsOn: ['b'] } as (typeof catalog)[0];
    const b = { ...catalog[0], name: 'b', dependsOn: ['a'] } as (typeof catalog)[0];
    expect(() => buildOrder([a, b])).toThrow('image dependency cycle: a -> b -> a');
  });
});
