#!/bin/sh
# Squid starts its Basic auth helper as a program path; the helper is TypeScript, run by Node directly.
exec node /opt/claude-code-telemetry/stack/egress-proxy/auth-helper.ts "$@"
