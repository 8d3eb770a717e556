// Where the stack's compose file and env files are. No zx here: `pnpm export` imports this and starts fast.
import { join } from 'node:path';
import { repoRoot } from '../repo-root.ts';

export const stackDir = join(repoRoot, 'stack');
export const envFiles = {
  versions: join(stackDir, 'versions.env'),
  images: join(stackDir, '.images.env'),
  local: join(stackDir, '.env.local'),
};
