import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeArch, PROBE_EXIT_CODE, probeElf, probeImageTar, tarOneFile } from './probe-image.ts';

describe('probeElf', () => {
  it.runIf(process.platform === 'linux' && ['x64', 'arm64'].includes(arch()))(
    `runs on this host and exits ${PROBE_EXIT_CODE}`,
    () => {
      const file = join(mkdtempSync(join(tmpdir(), 'probe-')), 'probe');
      writeFileSync(file, probeElf(arch()));
      chmodSync(file, 0o755);
      const result = spawnSync(file);
      expect(result.error).toBeUndefined();
      expect(result.status).toBe(PROBE_EXIT_CODE);
    },
  );

  it('builds a 64-bit little-endian executable for both architectures Docker runs on', () => {
    for (const [name, machine] of [
      ['x86_64', 0x3e],
      ['aarch64', 0xb7],
    ] as const) {
      const elf = probeElf(name);
      expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(elf.readUInt16LE(18)).toBe(machine);
      expect(Number(elf.readBigUInt64LE(96))).toBe(elf.length); // p_filesz covers the whole file
    }
  });

  it('names the architecture it cannot serve', () => {
    expect(() => probeElf('riscv64')).toThrow(
      'no probe program for architecture riscv64 (have: x86_64, aarch64)',
    );
    expect(normalizeArch('x64')).toBe('x86_64');
  });
});

describe('tarOneFile', () => {
  it('writes an archive that GNU tar lists and extracts byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-tar-'));
    const payload = probeElf('x86_64');
    writeFileSync(join(dir, 'probe.tar'), probeImageTar('x86_64'));
    const list = spawnSync('tar', ['-tvf', 'probe.tar'], { cwd: dir, encoding: 'utf8' });
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^-rwxr-xr-x .* 132 .* probe$/m);
    expect(payload.length).toBe(132);
    expect(spawnSync('tar', ['-xf', 'probe.tar'], { cwd: dir }).status).toBe(0);
    expect(readFileSync(join(dir, 'probe')).equals(payload)).toBe(true);
  });

  it('pads to 512-byte blocks and refuses names tar cannot hold', () => {
    expect(tarOneFile('a', Buffer.from('x')).length).toBe(512 * 4);
    expect(() => tarOneFile('n'.repeat(101), Buffer.alloc(0))).toThrow('longer than 100 bytes');
  });
});
