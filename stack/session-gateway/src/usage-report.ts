#!/usr/bin/env node
// Today's use against the budgets, as JSON on stdout, read from the gateway's own record: what `pnpm usage` runs
// inside the gateway's container (docker compose exec), so the record needs no port and no admin token.
//   node src/usage-report.ts [--user NAME] [--session ID]
import { parseArgs } from 'node:util';
import { budgetFile, unlimited } from './budget-file.ts';
import { openBudgets } from './budgets.ts';

const { values } = parseArgs({ options: { user: { type: 'string' }, session: { type: 'string' } } });
const file = process.env.GATEWAY_BUDGETS_FILE;
const store = openBudgets(
  process.env.GATEWAY_DB ?? '/data/gateway.sqlite',
  file ? budgetFile(file) : unlimited,
);
try {
  const out = values.session
    ? { session: values.session, requests: store.sessionRequests(values.session) }
    : { users: store.usageToday(values.user) };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  store.close();
}
