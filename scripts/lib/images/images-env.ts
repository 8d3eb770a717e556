// stack/.images.env: which image each service runs, the local builds (offline) or the official images (online).
// Compose reads it after versions.env; the values are decided here, purely, from the catalog and the mode.
import { writeFileSync } from 'node:fs';
import { formatEnvFile } from '../stack/env-file.ts';
import { envFiles } from '../stack/stack-files.ts';
import type { ImageSpec } from './image-catalog.ts';

export type Mode = 'offline' | 'online';

/** The compose variable of each image of the catalog. */
export const IMAGE_VARIABLES: Record<string, string> = {
  'otel-collector': 'OTELCOL_IMAGE',
  jaeger: 'JAEGER_IMAGE',
  prometheus: 'PROMETHEUS_IMAGE',
  victorialogs: 'VICTORIALOGS_IMAGE',
  node: 'NODE_IMAGE',
  'claude-code': 'CLAUDE_CODE_IMAGE',
  'mcp-file-ops': 'MCP_FILE_OPS_IMAGE',
  'mcp-database': 'MCP_DATABASE_IMAGE',
  'anthropic-replay': 'ANTHROPIC_REPLAY_IMAGE',
  'egress-proxy': 'EGRESS_PROXY_IMAGE',
  'session-gateway': 'SESSION_GATEWAY_IMAGE',
  opensearch: 'OPENSEARCH_IMAGE',
  's3-gateway': 'S3_GATEWAY_IMAGE',
};

export function imagesEnvValues(
  versions: Record<string, string>,
  catalog: ImageSpec[],
  mode: Mode,
  probe: string,
): Record<string, string> {
  const out: Record<string, string> = { STACK_IMAGES_MODE: mode, HEALTHCHECK_BIN: probe };
  for (const [name, variable] of Object.entries(IMAGE_VARIABLES)) {
    const spec = catalog.find((s) => s.name === name);
    if (!spec) throw new Error(`the image catalog has no ${name} (needed for ${variable})`);
    out[variable] = mode === 'online' && spec.official ? spec.official.ref : spec.ref;
    if (name === 'prometheus') out.GRAFANA_IMAGE = versions.GRAFANA_OFFICIAL_IMAGE ?? '';
  }
  // The Claude Code release the stack runs, when it is not the pin (--claude-code): compose, the export's
  // manifest and `stack:up` read it from here.
  out.CLAUDE_CODE_VERSION = versions.CLAUDE_CODE_VERSION ?? '';
  return out;
}

export function writeImagesEnv(values: Record<string, string>, file = envFiles.images): string {
  writeFileSync(
    file,
    formatEnvFile(values, [
      `Written by \`pnpm stack:images\` (${values.STACK_IMAGES_MODE} mode): the image each service runs. Do not edit; not committed.`,
    ]),
  );
  return file;
}
