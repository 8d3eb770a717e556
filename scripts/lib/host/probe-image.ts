// A one-file container image that proves "a container can start" with no registry: a 132-byte static ELF
// that exits with PROBE_EXIT_CODE, packed in a tar for `docker import`. Nothing to pull, nothing to build.

/** The probe's exit status: distinct from docker's own failure codes (125, 126, 127) and from 0. */
export const PROBE_EXIT_CODE = 42;

const ELF_BASE = 0x400000n;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;

/** Machine code for exit(PROBE_EXIT_CODE), per Docker architecture name. */
const EXIT_CODE: Record<string, { machine: number; code: number[] }> = {
  // mov edi, 42 ; mov eax, 60 (exit) ; syscall
  x86_64: { machine: 0x3e, code: [0xbf, PROBE_EXIT_CODE, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05] },
  // movz x0, #42 ; movz x8, #93 (exit) ; svc #0
  aarch64: {
    machine: 0xb7,
    code: [
      ...le32(0xd2800000 | (PROBE_EXIT_CODE << 5)),
      ...le32(0xd2800000 | (93 << 5) | 8),
      ...le32(0xd4000001),
    ],
  },
};

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** Docker reports `x86_64`/`aarch64`; Node reports `x64`/`arm64`. */
export function normalizeArch(arch: string): string {
  return ({ x64: 'x86_64', amd64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[arch] ?? arch;
}

/** A minimal static ELF64 executable: one PT_LOAD segment holding the headers and the code. */
export function probeElf(arch: string): Buffer {
  const spec = EXIT_CODE[normalizeArch(arch)];
  if (!spec)
    throw new Error(`no probe program for architecture ${arch} (have: ${Object.keys(EXIT_CODE).join(', ')})`);
  const size = EHDR_SIZE + PHDR_SIZE + spec.code.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // \x7fELF, 64-bit, little-endian, version 1, System V
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(spec.machine, 18);
  b.writeUInt32LE(1, 20); // EV_CURRENT
  b.writeBigUInt64LE(ELF_BASE + BigInt(EHDR_SIZE + PHDR_SIZE), 24); // entry point: right after the headers
  b.writeBigUInt64LE(BigInt(EHDR_SIZE), 32); // program headers follow the ELF header
  b.writeBigUInt64LE(0n, 40); // no section headers
  b.writeUInt32LE(0, 48);
  b.writeUInt16LE(EHDR_SIZE, 52);
  b.writeUInt16LE(PHDR_SIZE, 54);
  b.writeUInt16LE(1, 56); // one program header
  b.writeUInt16LE(64, 58);
  b.writeUInt16LE(0, 60);
  b.writeUInt16LE(0, 62);
  const ph = EHDR_SIZE;
  b.writeUInt32LE(1, ph); // PT_LOAD
  b.writeUInt32LE(5, ph + 4); // R + X
  b.writeBigUInt64LE(0n, ph + 8); // from file offset 0
  b.writeBigUInt64LE(ELF_BASE, ph + 16);
  b.writeBigUInt64LE(ELF_BASE, ph + 24);
  b.writeBigUInt64LE(BigInt(size), ph + 32);
  b.writeBigUInt64LE(BigInt(size), ph + 40);
  b.writeBigUInt64LE(0x1000n, ph + 48);
  b.set(spec.code, EHDR_SIZE + PHDR_SIZE);
  return b;
}

/** A POSIX ustar archive holding one regular file (what `docker import -` reads). */
export function tarOneFile(name: string, data: Buffer, mode = 0o755): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name longer than 100 bytes: ${name}`);
  const header = Buffer.alloc(512);
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, '0')}\0`;
  header.write(name, 0, 100, 'utf8');
  header.write(octal(mode, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii'); // uid
  header.write(octal(0, 8), 116, 'ascii'); // gid
  header.write(octal(data.length, 12), 124, 'ascii');
  header.write(octal(0, 12), 136, 'ascii'); // mtime: fixed, so the image id is reproducible
  header.write('        ', 148, 'ascii'); // checksum placeholder: eight spaces while summing
  header.write('0', 156, 'ascii'); // regular file
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]); // two zero blocks end the archive
}

/** The tar to feed `docker import - IMAGE` for an engine of the given architecture. */
export function probeImageTar(arch: string): Buffer {
  return tarOneFile('probe', probeElf(arch));
}
