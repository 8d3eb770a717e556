// Global setup of the e2e-own-stack project: its specs each bring up a stack of their own (a fault, a full
// disk, a flood, a poisoned store must not touch the stack the other specs share), so all they need first is
// the images. They run one after another, beside the shared stack's specs (scripts/lib/testing/test-lanes.ts).
import { imagesReady } from '../scripts/lib/testing/images-ready.ts';

export default async function setup(): Promise<void> {
  await imagesReady('e2e-own-stack setup');
}
