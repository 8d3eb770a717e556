import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddonEnv } from './native-addon-env.ts';

describe('nativeAddonEnv', () => {
  it("points node-gyp at the running Node's headers when its installation has them (node-env.sh's rule)", async () => {
    const home = join(process.execPath, '..', '..');
    const env = await nativeAddonEnv({ PATH: `${join(home, 'bin')}:${process.env.PATH}` });
    if (existsSync(join(home, 'include', 'node', 'node.h'))) expect(env.npm_config_nodedir).toBe(home);
    else expect(env.npm_config_nodedir).toBeUndefined();
  });
});
