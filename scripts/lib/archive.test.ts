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
  verifyArchive,
} from './archive.ts';

function sampleArchive() {
  const base = mkdtempSync(join(tmpdir(), 'archive-'));
  const dir = join(base, 'content');
  mkdirSync(join(dir, 'telemetry'), { recursive: true });
  writeFileSync(join(dir, 'telemetry/traces.jsonl'), '{"a":1}\n{"a":2}\n');
  writeFileSync(join(dir, 'summary.json'), '{"tokens":1}');
  const manifest: Manifest = {
    formatVersion: MANIFEST_FORMAT,
    createdAt: new Date().toISOString(),
    sessions: ['s1'],
    timeRange: { start: null, end: null },
    versions: {},
    missing: [],
    content: { userPrompts: false, toolDetails: false },
    files: describeFiles(dir),
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const archive = join(base, 'out', 'export.tar.gz');
  packArchive(dir, 'export', archive);
  return { base, dir, archive, manifest };
}

describe('session archives', () => {
  it('describes files with size, sha256 and record counts, and packs them atomically', () => {
    const { archive, manifest, base } = sampleArchive();
    expect(manifest.files.map((f) => [f.path, f.records])).toEqual([
      ['summary.json', null],
      ['telemetry/traces.jsonl', 2],
    ]);
    expect(readdirSync(join(base, 'out'))).toEqual(['export.tar.gz']); // no .partial left
    expect([...readArchive(archive).keys()].sort()).toEqual([
      'export/manifest.json',
      'export/summary.json',
      'export/telemetry/traces.jsonl',
    ]);
    expect(verifyArchive(archive)).toEqual([]);
  });

  it('names every difference in a tampered archive', () => {
    const { archive } = sampleArchive();
    const tar = gunzipSync(readFileSync(archive));
    const text = tar.toString('latin1').replace('{"a":2}', '{"a":9}');
    writeFileSync(archive, gzipSync(Buffer.from(text, 'latin1')));
    expect(verifyArchive(archive)).toEqual(['telemetry/traces.jsonl: sha256 differs from the manifest']);
  });

  it('refuses what is not an archive, or lacks a manifest', () => {
    const base = mkdtempSync(join(tmpdir(), 'archive-'));
    writeFileSync(join(base, 'x.tar.gz'), 'not gzip');
    expect(verifyArchive(join(base, 'x.tar.gz'))[0]).toContain('is not a readable .tar.gz');
    expect(verifyArchive(join(base, 'nope.tar.gz'))).toEqual([`${join(base, 'nope.tar.gz')} does not exist`]);
    const dir = join(base, 'd');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.txt'), 'a');
    packArchive(dir, 'x', join(base, 'no-manifest.tar.gz'));
    expect(verifyArchive(join(base, 'no-manifest.tar.gz'))).toEqual(['no manifest.json in the archive']);
  });
});
