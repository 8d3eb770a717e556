#!/usr/bin/env node
// `pnpm usage [--user NAME] [--json]`: each user's use today (UTC) against their budgets, from the session gateway.
import { argv } from 'zx';
import { formatUsage, readGatewayUsage } from './lib/usage/gateway-usage.ts';

if (argv.help || argv.h) {
  console.log(`Usage: pnpm usage [--user NAME] [--json]
Tokens, dollars and requests of each user today (UTC) through the session gateway, against budgets.json.`);
  process.exit(0);
}
try {
  const report = await readGatewayUsage(argv.user ? { user: String(argv.user) } : {});
  console.log(argv.json ? JSON.stringify(report, null, 2) : formatUsage(report));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
