// Test fixtures for the sandbox: a real tree on disk with the traps a path attack uses.
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** base/root (the sandbox), base/root-evil (a sibling sharing its prefix), base/outside (secrets). */
export function makeTree() {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'sandbox-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  const evil = join(base, 'root-evil');
  for (const d of [root, outside, evil, join(root, 'sub'), join(root, 'nested', 'deeper')])
    mkdirSync(d, { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  writeFileSync(join(evil, 'secret.txt'), 'evil secret');
  writeFileSync(join(root, 'hello.txt'), 'hello\n');
  symlinkSync(outside, join(root, 'link-out'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link-file'));
  symlinkSync(join(outside, 'nothing-here'), join(root, 'link-dangling'));
  symlinkSync('../../..', join(root, 'nested', 'deeper', 'link-up'));
  symlinkSync('/', join(root, 'link-slash'));
  symlinkSync('hello.txt', join(root, 'link-inside'));
  // What a user swaps a folder for: the server's own /proc entry, another user's folder, the devices.
  symlinkSync('/proc/self', join(root, 'link-proc'));
  symlinkSync(evil, join(root, 'link-evil'));
  symlinkSync('/dev', join(root, 'link-dev'));
  return { base, root, outside, evil };
}

/** Path attacks: [input, whether the tool would need it to exist, expected rule]. */
export const PATH_ATTACKS = (t: ReturnType<typeof makeTree>): [string, boolean, string][] => [
  ['../outside/secret.txt', true, 'outside-roots'],
  ['../../../../../../etc/passwd', true, 'outside-roots'],
  ['/etc/passwd', true, 'outside-roots'],
  [join(t.outside, 'secret.txt'), true, 'outside-roots'],
  [join(t.evil, 'secret.txt'), true, 'outside-roots'],
  [`${t.root}-evil/secret.txt`, false, 'outside-roots'],
  ['sub/../../outside/secret.txt', true, 'outside-roots'],
  ['..', true, 'outside-roots'],
  ['/', true, 'outside-roots'],
  [`${t.root}/../${basename(t.root)}-evil/x`, false, 'outside-roots'],
  ['hello.txt\0.png', true, 'null-byte'],
  ['\0', false, 'null-byte'],
  ['', true, 'empty-path'],
  ['   ', false, 'empty-path'],
  ['line\nbreak.txt', false, 'control-character'],
  ['bell\u0007.txt', false, 'control-character'],
  ['link-out/secret.txt', true, 'symlink-escape'],
  ['link-out/new-file.txt', false, 'symlink-escape'],
  ['link-file', true, 'symlink-escape'],
  ['link-dangling', false, 'symlink-escape'],
  ['nested/deeper/link-up/outside/secret.txt', true, 'symlink-escape'],
  ['link-slash/etc/passwd', true, 'symlink-escape'],
  ['link-out', true, 'symlink-escape'],
  ['link-proc/environ', true, 'symlink-escape'],
  ['link-proc/new.txt', false, 'symlink-escape'],
  ['link-evil/secret.txt', true, 'symlink-escape'],
  ['link-evil/new.txt', false, 'symlink-escape'],
  ['link-dev/null', true, 'symlink-escape'],
  ['..%2f..%2fetc%2fpasswd', true, 'not-found'],
];
