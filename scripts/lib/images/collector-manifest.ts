// Checks that the collector config names only components the builder manifest compiles in, so the local
// build can never be handed a config it cannot run. The specs check the same against the built binary.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export const CLASSES = ['receivers', 'processors', 'exporters', 'extensions', 'connectors'] as const;
export type ComponentClass = (typeof CLASSES)[number];

export interface Manifest {
  version: string;
  /** Go module paths (without version) per class. */
  modules: Record<ComponentClass, string[]>;
}

/** Component types whose name is not their module's folder name minus the class suffix. */
const RENAMED: Record<string, string> = {
  // otlpexporter registers `otlp_grpc` since v0.144 (`otlp` stays as a deprecated alias).
  otlp_grpc: 'otlp',
  otlp_http: 'otlphttp',
  health_check: 'healthcheck',
  // deltatocumulativeprocessor registers `delta_to_cumulative` (`deltatocumulative` is a deprecated alias).
  delta_to_cumulative: 'deltatocumulative',
};

export function parseManifest(text: string): Manifest {
  const doc = parse(text) as Record<string, unknown>;
  const dist = (doc.dist ?? {}) as { version?: string };
  const modules = {} as Record<ComponentClass, string[]>;
  for (const cls of CLASSES) {
    const entries = (doc[cls] ?? []) as { gomod: string }[];
    modules[cls] = entries.map((e) => e.gomod.split(/\s+/)[0] ?? '');
  }
  return { version: dist.version ?? '', modules };
}

/** The component types a collector config uses, per class (`otlp_grpc/jaeger` -> `otlp_grpc`). */
export function configComponents(text: string): Record<ComponentClass, string[]> {
  const doc = (parse(text) ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const out = {} as Record<ComponentClass, string[]>;
  for (const cls of CLASSES) {
    out[cls] = [...new Set(Object.keys(doc[cls] ?? {}).map((id) => id.split('/')[0] ?? id))];
  }
  return out;
}

/** `go.opentelemetry.io/collector/processor/memorylimiterprocessor` + processors -> `memorylimiter`. */
export function moduleStem(modulePath: string, cls: ComponentClass): string {
  const base = modulePath.split('/').at(-1) ?? '';
  return base.replace(new RegExp(`${cls.replace(/s$/, '')}$`), '');
}

/** Config components with no module in the manifest, as `class/type`. */
export function missingComponents(config: Record<ComponentClass, string[]>, manifest: Manifest): string[] {
  const missing: string[] = [];
  for (const cls of CLASSES) {
    const stems = new Set(manifest.modules[cls].map((m) => moduleStem(m, cls)));
    for (const type of config[cls]) {
      const stem = RENAMED[type] ?? type.replaceAll('_', '');
      if (!stems.has(stem)) missing.push(`${cls}/${type}`);
    }
  }
  return missing;
}

export function readManifest(file: string): Manifest {
  return parseManifest(readFileSync(file, 'utf8'));
}
