// The Debian base image, built with no registry: `debootstrap --variant=minbase` into a folder, trimmed to what a
// container needs, then `docker import`. Built once and reused (--rebuild builds it again).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $, which } from 'zx';
import type { Log } from '../progress.ts';
import { withProgress } from '../progress.ts';
import { imageExists } from './docker-image.ts';
import type { ImageSpec } from './image-catalog.ts';

const MIRROR = 'http://deb.debian.org/debian';
/** What a container image does without: package docs, manuals, translations, apt's lists and caches. */
const TRIMMED = [
  'var/cache/apt/archives',
  'var/lib/apt/lists',
  'usr/share/doc',
  'usr/share/man',
  'usr/share/locale',
];

export async function debootstrapImage(
  spec: ImageSpec,
  scratch: string,
  rebuild: boolean,
  log: Log,
): Promise<string> {
  if (spec.recipe.kind !== 'debootstrap') throw new Error(`${spec.name} is not a debootstrap recipe`);
  if (!rebuild && (await imageExists(spec.ref))) return 'exists, reused';
  if (process.getuid?.() !== 0) throw new Error(`building ${spec.ref} runs debootstrap, which needs root`);
  if (!(await which('debootstrap', { nothrow: true }))) {
    if (!(await which('apt-get', { nothrow: true })))
      throw new Error(
        `building ${spec.ref} needs debootstrap (or mmdebstrap), and this host has no apt-get to install it`,
      );
    await $({
      quiet: true,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })`apt-get install -y --no-install-recommends debootstrap`;
  }
  const rootfs = join(scratch, 'rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  const { suite, include } = spec.recipe;
  await withProgress(
    `debootstrap ${suite} (about 30 s)`,
    () =>
      $({
        quiet: true,
      })`debootstrap --variant=minbase ${`--include=${include.join(',')}`} ${suite} ${rootfs} ${MIRROR}`,
    log,
  );
  // A container image: no services started by package scripts, no docs, no apt lists or caches.
  writeFileSync(join(rootfs, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  writeFileSync(
    join(rootfs, 'etc/dpkg/dpkg.cfg.d/01-container'),
    'path-exclude=/usr/share/doc/*\npath-exclude=/usr/share/man/*\npath-exclude=/usr/share/locale/*\npath-include=/usr/share/locale/locale.alias\n',
  );
  for (const dir of TRIMMED) {
    const full = join(rootfs, dir);
    for (const entry of existsSync(full) ? readdirSync(full) : [])
      if (entry !== 'partial' && entry !== 'lock' && entry !== 'locale.alias')
        rmSync(join(full, entry), { recursive: true, force: true });
  }
  await $({ quiet: true })`tar -C ${rootfs} -c . | docker import ${[
    '--change',
    'CMD ["/bin/bash"]',
    '--change',
    `LABEL org.opencontainers.image.title=debian org.opencontainers.image.version=${suite} claude-code-telemetry.build=local`,
  ]} - ${spec.ref}`;
  rmSync(rootfs, { recursive: true, force: true });
  return 'built with debootstrap';
}
