import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../repo-root.ts';
import { readEnvFile } from '../stack/env-file.ts';
import { envFiles } from '../stack/stack-files.ts';
import { withClaudeCode } from './build-images.ts';
import { imageCatalog } from './image-catalog.ts';
import { IMAGE_VARIABLES, imagesEnvValues } from './images-env.ts';

const versions = readEnvFile(envFiles.versions);
const catalog = imageCatalog(versions);

describe('stack/.images.env', () => {
  it('offline: every service runs its local build', () => {
    const v = imagesEnvValues(versions, catalog, 'offline', '/probe');
    expect(v.STACK_IMAGES_MODE).toBe('offline');
    expect(v.HEALTHCHECK_BIN).toBe('/probe');
    for (const [name, variable] of Object.entries(IMAGE_VARIABLES))
      expect(v[variable], variable).toBe(catalog.find((s) => s.name === name)?.ref);
    expect(v.GRAFANA_IMAGE).toBe(versions.GRAFANA_OFFICIAL_IMAGE);
  });

  it('online: the official image where there is one, the local build elsewhere', () => {
    const v = imagesEnvValues(versions, catalog, 'online', '/probe');
    expect(v.OTELCOL_IMAGE).toBe(versions.OTELCOL_OFFICIAL_IMAGE);
    expect(v.JAEGER_IMAGE).toBe(versions.JAEGER_OFFICIAL_IMAGE);
    expect(v.PROMETHEUS_IMAGE).toBe(versions.PROMETHEUS_OFFICIAL_IMAGE);
    expect(v.CLAUDE_CODE_IMAGE).toBe(versions.CLAUDE_CODE_IMAGE);
  });

  it('another Claude Code release on request: its own image tag, and the release named for compose and export', () => {
    const other = withClaudeCode(versions, '2.1.332');
    expect(other.CLAUDE_CODE_VERSION).toBe('2.1.332');
    expect(other.CLAUDE_CODE_IMAGE).toBe(`${versions.CLAUDE_CODE_IMAGE?.split(':')[0]}:2.1.332`);
    const v = imagesEnvValues(other, imageCatalog(other), 'offline', '/probe');
    expect(v).toMatchObject({ CLAUDE_CODE_IMAGE: other.CLAUDE_CODE_IMAGE, CLAUDE_CODE_VERSION: '2.1.332' });
    expect(imageCatalog(other).find((s) => s.name === 'claude-code')?.version).toBe('2.1.332');
    // The pin, unless asked; and only release numbers.
    expect(withClaudeCode(versions, undefined)).toBe(versions);
    expect(imagesEnvValues(versions, catalog, 'offline', '/probe').CLAUDE_CODE_VERSION).toBe(
      versions.CLAUDE_CODE_VERSION,
    );
    expect(() => withClaudeCode(versions, 'latest')).toThrow('not a release number like 2.1.332');
  });

  it('names every compose image variable of stack/compose.yaml', async () => {
    const { readFileSync } = await import('node:fs');
    const compose = readFileSync(join(repoRoot, 'stack/compose.yaml'), 'utf8');
    const used = new Set([...compose.matchAll(/\$\{([A-Z_]+_IMAGE)[:}]/g)].map((m) => m[1]));
    expect(used.size).toBeGreaterThanOrEqual(8);
    const written = new Set(Object.keys(imagesEnvValues(versions, catalog, 'offline', '/probe')));
    for (const variable of used) expect(written.has(variable as string), variable).toBe(true);
  });
});
