// The e2e projects' first step: the stack's images, built here when missing (offline unless STACK_IMAGES says
// otherwise: tests never pull from a registry on their own). `pnpm test` checks them once before its lanes start
// and says so with E2E_IMAGES_READY=1, so two lanes never build the same image at the same time.
import { buildImages, parseMode } from '../images/build-images.ts';

/** Set by `pnpm test` for its lanes once it has checked the images: the e2e global setups then skip that step. */
export const IMAGES_READY_ENV = 'E2E_IMAGES_READY';

export async function imagesReady(who: string): Promise<void> {
  if (process.env[IMAGES_READY_ENV] === '1') return;
  const started = Date.now();
  const r = await buildImages({
    mode: parseMode(process.env.STACK_IMAGES ?? 'offline'),
    log: (line) => console.log(`${who}: images: ${line}`),
  });
  console.log(`${who}: images ready (${r.mode}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
