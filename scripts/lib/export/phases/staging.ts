// What the export's phases share while they fill the staging folder: where it is, the scrubber every written
// byte passes through, what is missing and why, record counts for the manifest, the log and the abort signal.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../archive/archive.ts';

export interface Staging {
  dir: string;
  scrub: (text: string) => string;
  missing: Manifest['missing'];
  /** Records of files whose count is not their line count (Jaeger spans, Prometheus series, summaries). */
  recordCounts: Map<string, number>;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/** Writes JSON into the staging folder, scrubbed. */
export function writeJson(st: Staging, path: string, value: unknown): void {
  const file = join(st.dir, path);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${st.scrub(JSON.stringify(value, null, 1))}\n`);
}
