// Recipe: every service of the stack runs without Linux capabilities, cannot gain privileges, runs as a non-root
// user, and has a read-only root filesystem (scratch on a small tmpfs). Read from the running containers, not
// from the compose file: what the engine applied is what counts. Each keeps its output in a bounded, rotated log
// (a container printing without end cannot fill the host's disk). (The session container is checked while a
// session runs, in session-limits.spec.ts.)
import { describe, expect, it } from 'vitest';
import { STACK_SERVICES } from '../scripts/lib/testing/ephemeral-stack.ts';
import { containerSettings, processUid } from './support/container-settings.ts';
import { stack } from './support/stack.ts';

describe('hardened containers', () => {
  it.each(STACK_SERVICES)(
    '%s: no capabilities, no-new-privileges, non-root, read-only root',
    async (service) => {
      const id = `${stack().project}-${service}-1`;
      const c = await containerSettings(id);
      expect(c.capDrop, 'capabilities dropped').toEqual(['ALL']);
      expect(c.capAdd, 'capabilities added back').toEqual([]);
      expect(c.privileged).toBe(false);
      expect(c.securityOpt).toContain('no-new-privileges:true');
      expect(c.readOnlyRoot, 'read-only root filesystem').toBe(true);
      expect(Object.keys(c.tmpfs)).toContain('/tmp');
      expect(await processUid(id), `${service}'s main process runs as root`).not.toBe(0);
      expect(c.log, 'a bounded, rotated log').toEqual({
        driver: 'local',
        options: { 'max-size': '10m', 'max-file': '3' },
      });
    },
  );
});
