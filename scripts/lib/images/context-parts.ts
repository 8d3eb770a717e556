// The steps that put an image's inputs into its build context (.cache/images/<name>/): npm packages, Go programs
// (the Collector Builder, `go build`), Maven artifacts, workspace packages with their production dependencies, copied folders.
// Each step is skipped when its inputs have not changed (input-stamp.ts), and a long one reports progress.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { $ } from 'zx';
import { nativeAddonEnv } from '../host/native-addon-env.ts';
import { withProgress } from '../progress.ts';
import { repoRoot } from '../repo-root.ts';
import { type BuildRun, goEnv, goVersion } from './build-run.ts';
import type { ContextPart } from './image-catalog.ts';
import { cached, goSources } from './input-stamp.ts';
import { fetchMavenArtifact } from './maven-artifact.ts';
import { buildPrometheusModule } from './prometheus-module.ts';
import { shippedFiles, TEST_FILE } from './shipped-files.ts';

const q = $({ quiet: true });

/** Puts one part of a build context into `ctx`; `name` names the image's own scratch folders. */
export async function preparePart(
  run: BuildRun,
  name: string,
  part: ContextPart,
  ctx: string,
): Promise<string> {
  switch (part.kind) {
    case 'npm-pack': {
      const file = `${part.spec.replace(/^@/, '').replace('/', '-').replace('@', '-')}.tgz`;
      if (existsSync(join(ctx, file))) return `${part.spec}: cached`;
      // npm verifies the tarball against the registry's integrity hash.
      await withProgress(
        `npm pack ${part.spec}`,
        () => q`npm pack --silent --pack-destination ${ctx} ${part.spec}`,
        run.log,
      );
      if (!existsSync(join(ctx, file))) throw new Error(`npm pack ${part.spec} did not produce ${file}`);
      return `${part.spec}: fetched`;
    }
    case 'otelcol-builder': {
      const go = await goVersion(run);
      const manifest = join(repoRoot, part.manifest);
      const result = await cached(ctx, part.output, [go, part.builderVersion, readFileSync(manifest)], () =>
        withProgress(
          `building the collector with the Collector Builder v${part.builderVersion} (cold: several minutes)`,
          async () => {
            const gobin = join(repoRoot, '.cache', 'go', 'bin', `builder-v${part.builderVersion}`);
            if (!existsSync(join(gobin, 'builder'))) {
              await $({
                quiet: true,
                env: { ...goEnv, GOBIN: gobin },
              })`go install go.opentelemetry.io/collector/cmd/builder@v${part.builderVersion}`;
            }
            const src = join(repoRoot, '.cache', 'go', `${name}-src`);
            await $({
              quiet: true,
              env: goEnv,
            })`${join(gobin, 'builder')} --config ${manifest} --output-path ${src}`;
            cpSync(join(src, part.output), join(ctx, part.output));
          },
          run.log,
        ),
      );
      return `${part.output} (Collector Builder v${part.builderVersion}, ${go}): ${result}`;
    }
    case 'prometheus-module':
      return buildPrometheusModule(run, part, ctx, await goVersion(run));
    case 'go-install': {
      const go = await goVersion(run);
      const result = await cached(ctx, part.output, [go, part.pkg, part.version, part.ldflags], () =>
        withProgress(
          `go install ${part.pkg}@${part.version} (cold: about a minute)`,
          async () => {
            const gobin = join(repoRoot, '.cache', 'go', 'bin', name);
            await $({
              quiet: true,
              env: { ...goEnv, GOBIN: gobin },
            })`go install -trimpath -ldflags ${part.ldflags} ${`${part.pkg}@${part.version}`}`;
            cpSync(join(gobin, part.pkg.split('/').at(-1) as string), join(ctx, part.output));
          },
          run.log,
        ),
      );
      return `${part.output} (${part.pkg}@${part.version}, ${go}): ${result}`;
    }
    case 'go-build': {
      const go = await goVersion(run);
      const dir = join(repoRoot, part.dir);
      const result = await cached(ctx, part.output, [go, part.pkg, part.ldflags, ...goSources(dir)], () =>
        withProgress(
          `go build ${part.pkg} (cold: minutes)`,
          async () => {
            await $({
              quiet: true,
              cwd: dir,
              env: goEnv,
            })`go build -trimpath -ldflags ${part.ldflags} -o ${join(ctx, part.output)} ${part.pkg}`;
          },
          run.log,
        ),
      );
      return `${part.output} (${go}): ${result}`;
    }
    case 'workspace-package': {
      const app = join(ctx, 'app');
      rmSync(app, { recursive: true, force: true });
      mkdirSync(join(app, 'mcp-servers'), { recursive: true });
      for (const f of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'])
        cpSync(join(repoRoot, f), join(app, f));
      // Each package's allowlist (shipped-files.ts), file by file: nothing else of its folder reaches the image.
      for (const file of part.dirs.flatMap(shippedFiles)) {
        mkdirSync(dirname(join(app, file)), { recursive: true });
        cpSync(join(repoRoot, file), join(app, file));
      }
      // The lockfile pins every version; --prod leaves test tools out; the filter keeps this package's closure.
      const env = await nativeAddonEnv();
      await withProgress(
        `pnpm install --prod for ${part.name}`,
        () =>
          $({
            quiet: true,
            cwd: app,
            env,
          })`pnpm install --frozen-lockfile --prod --filter ${`${part.name}...`}`,
        run.log,
      );
      return `${part.name}: staged with production dependencies`;
    }
    case 'maven-artifact':
      return fetchMavenArtifact(run, part, ctx);
    case 'copy': {
      const dest = join(ctx, part.from);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(join(dest, '..'), { recursive: true });
      cpSync(join(repoRoot, part.from), dest, { recursive: true, filter: (f) => !TEST_FILE.test(f) });
      return `${part.from}: copied`;
    }
  }
}
