#!/bin/sh
# Squid starts its logfile_daemon with the log path as argument; the daemon is TypeScript, run by Node directly.
exec node /opt/claude-code-telemetry/stack/egress-proxy/log-daemon.ts "$@"
