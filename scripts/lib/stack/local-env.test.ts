import { describe, expect, it } from 'vitest';
import { COLLECTOR_UID, planLocalEnv } from './local-env.ts';

let n = 0;
const secret = (bytes: number) => `secret${++n}-${bytes}`;

describe('planLocalEnv', () => {
  it('generates the secrets once, then keeps them', () => {
    const first = planLocalEnv({}, { uid: 1000, gid: 1000 }, {}, secret);
    expect(first.generated).toEqual([
      'MCP_AUTH_TOKEN',
      'MCP_SESSION_SECRET',
      'GRAFANA_ADMIN_PASSWORD',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
    ]);
    const again = planLocalEnv(first.values, { uid: 1000, gid: 1000 }, {}, secret);
    expect(again.generated).toEqual([]);
    expect(again.values.MCP_AUTH_TOKEN).toBe(first.values.MCP_AUTH_TOKEN);
    expect(again.values.GRAFANA_ADMIN_PASSWORD).not.toBe('admin');
  });

  it('telemetry files belong to the user, or to the collector uid when run as root', () => {
    expect(planLocalEnv({}, { uid: 1234, gid: 99 }, {}, secret).values).toMatchObject({
      TELEMETRY_UID: '1234',
      TELEMETRY_GID: '99',
    });
    expect(planLocalEnv({}, { uid: 0, gid: 0 }, {}, secret).values.TELEMETRY_UID).toBe(String(COLLECTOR_UID));
  });

  it('takes directories from the environment (tests use temporary ones)', () => {
    const v = planLocalEnv(
      {},
      { uid: 1000, gid: 1000 },
      { TELEMETRY_DIR: '/tmp/t', SESSIONS_DIR: '/tmp/s' },
      secret,
    ).values;
    expect(v).toMatchObject({ TELEMETRY_DIR: '/tmp/t', SESSIONS_DIR: '/tmp/s' });
  });
});
