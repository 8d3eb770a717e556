// Where the running stack answers on this host: every published port binds 127.0.0.1, at the *_PORT variables of
// stack/compose.yaml (same defaults). `stack:up` prints these, `stack:check` and `pnpm export` ask them.
export interface HostUrls {
  prometheus: string;
  jaeger: string;
  victorialogs: string;
  grafana: string;
  otlpGrpc: string;
  otlpHttp: string;
}

export function hostUrls(env: NodeJS.ProcessEnv = process.env): HostUrls {
  const at = (key: string, fallback: string) => `http://127.0.0.1:${env[key] ?? fallback}`;
  return {
    prometheus: at('PROMETHEUS_PORT', '9090'),
    jaeger: at('JAEGER_UI_PORT', '16686'),
    victorialogs: at('VICTORIALOGS_PORT', '9428'),
    grafana: at('GRAFANA_PORT', '3000'),
    otlpGrpc: `127.0.0.1:${env.OTLP_GRPC_PORT ?? '4317'}`,
    otlpHttp: at('OTLP_HTTP_PORT', '4318'),
  };
}
