import { fileURLToPath } from 'node:url';

/** Absolute path of the repository, resolved from this file rather than the working directory. */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));
