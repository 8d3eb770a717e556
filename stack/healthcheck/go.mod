module github.com/claude-code-telemetry/healthcheck

go 1.24
