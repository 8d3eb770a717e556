// Prometheus 3 from its Go module, with its web UI embedded (build tag `builtinassets`), the way its own release
// build does it: the module's zip holds the UI's sources (web/ui, a pnpm workspace) but no built assets, so they
// are built here from the npm registry, compressed and embedded. Steps:
//   1. `go mod download` the module, copied out of the read-only module cache (its go.work names nested modules
//      that are not in the zip: every go command runs with GOWORK=off);
//   2. pin the npm packages the module's lockfile names at versions the registry does not serve (uiPins), then
//      `pnpm install` and `pnpm run build:mantine-ui`, and `scripts/compress_assets.sh`;
//   3. `go build -tags netgo,builtinassets` of cmd/prometheus and cmd/promtool.
// Stamped on its inputs like every Go part: a second run with nothing changed skips all of it.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { withProgress } from '../progress.ts';
import { repoRoot } from '../repo-root.ts';
import { type BuildRun, goEnv } from './build-run.ts';
import { cached } from './input-stamp.ts';

export interface PrometheusModulePart {
  kind: 'prometheus-module';
  module: string;
  /** The module version (v0.316.0 is Prometheus v3.16.0). */
  version: string;
  /** The Prometheus version it is, for `--version`. */
  release: string;
  /** package -> exact version, for the UI's package.json files. */
  uiPins: Record<string, string>;
}

/** The UI's package.json with each pinned dependency at its exact version (the text otherwise unchanged). */
export function pinDependencies(packageJson: string, pins: Record<string, string>): string {
  let out = packageJson;
  for (const [name, version] of Object.entries(pins)) {
    const re = new RegExp(`("${name.replace(/[/.]/g, '\\$&')}"\\s*:\\s*)"[^"]*"`, 'g');
    out = out.replace(re, `$1"${version}"`);
  }
  return out;
}

export const PROMETHEUS_OUTPUTS = ['prometheus', 'promtool'] as const;

export async function buildPrometheusModule(
  run: BuildRun,
  part: PrometheusModulePart,
  ctx: string,
  go: string,
): Promise<string> {
  const ldflags = [
    '-s -w',
    `-X github.com/prometheus/common/version.Version=${part.release}`,
    `-X github.com/prometheus/common/version.Revision=${part.version}`,
    '-X github.com/prometheus/common/version.Branch=module',
    '-X github.com/prometheus/common/version.BuildUser=claude-code-telemetry',
  ].join(' ');
  const env = { ...goEnv, GOWORK: 'off' };
  const inputs = [go, part.module, part.version, JSON.stringify(part.uiPins), ldflags];
  const result = await cached(ctx, 'promtool', inputs, () =>
    withProgress(
      `building Prometheus ${part.release} with its web UI (cold: 10-15 minutes on 2 cores)`,
      async () => {
        const info = JSON.parse(
          (await $({ quiet: true, env })`go mod download -json ${`${part.module}@${part.version}`}`).stdout,
        ) as { Dir?: string; Error?: string };
        if (!info.Dir)
          throw new Error(`go mod download ${part.module}@${part.version}: ${info.Error ?? 'no Dir'}`);
        const src = join(repoRoot, '.cache', 'go', `prometheus-${part.version}-src`);
        rmSync(src, { recursive: true, force: true });
        cpSync(info.Dir, src, { recursive: true });
        await $({ quiet: true })`chmod -R u+w ${src}`;
        const ui = join(src, 'web', 'ui');
        for (const pkg of ['package.json', 'mantine-ui/package.json']) {
          const file = join(ui, pkg);
          if (existsSync(file)) writeFileSync(file, pinDependencies(readFileSync(file, 'utf8'), part.uiPins));
        }
        run.log('  web UI: pnpm install, build, compress');
        // --no-frozen-lockfile: the pins change the module's lockfile (pnpm keeps every other locked version).
        await $({ quiet: true, cwd: ui, env: { ...process.env, CI: '' } })`pnpm install --no-frozen-lockfile`;
        await $({ quiet: true, cwd: ui })`pnpm run build:mantine-ui`;
        await $({ quiet: true, cwd: src })`bash scripts/compress_assets.sh`;
        run.log('  go build cmd/prometheus, cmd/promtool (tags netgo, builtinassets)');
        for (const cmd of PROMETHEUS_OUTPUTS)
          await $({
            quiet: true,
            cwd: src,
            env,
          })`go build -trimpath -tags netgo,builtinassets -ldflags ${ldflags} -o ${join(ctx, cmd)} ${`./cmd/${cmd}`}`;
        rmSync(src, { recursive: true, force: true });
      },
      run.log,
    ),
  );
  return `prometheus, promtool (${part.module}@${part.version} with its web UI, ${go}): ${result}`;
}
