import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  describeFiles,
  MANIFEST_FORMAT,
  type Manifest,
  packArchive,
  readArchive,
  sha256,
  verifyArchive,
} from './archive.ts';

function sampleManifest(files: Manifest['files']): Manifest {
  return {
    formatVersion: MANIFEST_FORMAT,
    createdAt: new Date().toISOString(),
    tool: { name: 'test', version: '0' },
    sessions: ['s1'],
    timeRange: { start: null, end: null },
    versions: {},
    missing: [],
    content: {
      userPrompts: false,
      assistantResponses: false,
      toolDetails: false,
      toolContent: false,
      apiBodies: false,
      evidence: [],
    },
    redactions: {},
    telemetry: {},
    files,
  };
}

async function sampleArchive() {
  const base = mkdtempSync(join(tmpdir(), 'archive-'));
  const dir = join(base, 'content');
  mkdirSync(join(dir, 'telemetry'), { recursive: true });
  writeFileSync(join(dir, 'telemetry/traces.jsonl'), '{"a":1}\n{"a":2}\n');
  writeFileSync(join(dir, 'summary.json'), '{"tokens":1}');
  const manifest = sampleManifest(await describeFiles(dir));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const archive = join(base, 'out', 'export.tar.gz');
  await packArchive(dir, 'export', archive);
  return { base, dir, archive, manifest };
}

describe('session archives', () => {
  it('describes files with size, sha256 and record counts, and packs them atomically', async () => {
    const { archive, manifest, base } = await sampleArchive();
    expect(manifest.files.map((f) => [f.path, f.records])).toEqual([
      ['summary.json', null],
      ['telemetry/traces.jsonl', 2],
    ]);
    expect(manifest.files[1]).toMatchObject({ bytes: 16, sha256: sha256('{"a":1}\n{"a":2}\n') });
    expect(readdirSync(join(base, 'out'))).toEqual(['export.tar.gz']); // no .partial left
    expect([...(await readArchive(archive)).keys()].sort()).toEqual([
      'export/manifest.json',
      'export/summary.json',
      'export/telemetry/traces.jsonl',
    ]);
    expect(await verifyArchive(archive)).toEqual([]);
  });

  it('names every difference in a tampered archive', async () => {
    const { archive } = await sampleArchive();
    const tar = gunzipSync(readFileSync(archive));
    const text = tar.toString('latin1').replace('{"a":2}', '{"a":9}');
    writeFileSync(archive, gzipSync(Buffer.from(text, 'latin1')));
    expect(await verifyArchive(archive)).toEqual([
      'telemetry/traces.jsonl: sha256 differs from the manifest',
    ]);
  });

  it('names a file added to or removed from an archive', async () => {
    const { dir, base } = await sampleArchive();
    writeFileSync(join(dir, 'extra.txt'), 'slipped in');
    const archive = join(base, 'added.tar.gz');
    await packArchive(dir, 'export', archive);
    expect(await verifyArchive(archive)).toEqual(['extra.txt: in the archive, not in the manifest']);
  });

  it('streams large files and long paths (ustar prefix), and the round trip is exact', async () => {
    const base = mkdtempSync(join(tmpdir(), 'archive-'));
    const dir = join(base, 'c');
    const deep = join(dir, 'prometheus', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    mkdirSync(deep, { recursive: true });
    const big = Buffer.alloc(5 * 1024 * 1024 + 17, 'x');
    const long = 'claude_code_code_edit_tool_decision_total-with-a-long-name-for-the-test.json';
    writeFileSync(join(deep, long), big);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(sampleManifest(await describeFiles(dir))));
    const top = 'claude-code-session-aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee-20261123T101010Z';
    await packArchive(dir, top, join(base, 'a.tar.gz'));
    const files = await readArchive(join(base, 'a.tar.gz'));
    expect(files.get(`${top}/prometheus/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/${long}`)?.equals(big)).toBe(
      true,
    );
    expect(await verifyArchive(join(base, 'a.tar.gz'))).toEqual([]);
  });

  it('leaves nothing behind when packing is aborted', async () => {
    const base = mkdtempSync(join(tmpdir(), 'archive-'));
    const dir = join(base, 'c');
    mkdirSync(dir);
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(20 * 1024 * 1024, 'y'));
    const abort = new AbortController();
    const packing = packArchive(dir, 'x', join(base, 'out', 'x.tar.gz'), abort.signal);
    abort.abort();
    await expect(packing).rejects.toThrow(/abort/i);
    expect(readdirSync(join(base, 'out'))).toEqual([]);
  });

  it('refuses what is not an archive, or lacks a manifest', async () => {
    const base = mkdtempSync(join(tmpdir(), 'archive-'));
    writeFileSync(join(base, 'x.tar.gz'), 'not gzip');
    expect((await verifyArchive(join(base, 'x.tar.gz')))[0]).toContain('is not a readable .tar.gz');
    expect(await verifyArchive(join(base, 'nope.tar.gz'))).toEqual([
      `${join(base, 'nope.tar.gz')} does not exist`,
    ]);
    const dir = join(base, 'd');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.txt'), 'a');
    await packArchive(dir, 'x', join(base, 'no-manifest.tar.gz'));
    expect(await verifyArchive(join(base, 'no-manifest.tar.gz'))).toEqual([
      'no manifest.json in the archive',
    ]);
    const truncated = readFileSync(join(base, 'no-manifest.tar.gz'));
    writeFileSync(join(base, 'cut.tar.gz'), truncated.subarray(0, truncated.length - 30));
    expect((await verifyArchive(join(base, 'cut.tar.gz')))[0]).toMatch(
      /not a readable|ends inside|no manifest/,
    );
  });
});
