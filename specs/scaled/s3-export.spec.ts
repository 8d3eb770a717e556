// Recipe (scaled topology): `pnpm export --to s3://BUCKET/PREFIX` of the warm-up session into the stack's own S3
// gateway (versitygw), as a user runs it: the archive is made from every gateway's files (the export reads them
// all), verified locally, uploaded, read back; `pnpm export list --from` shows it and `pnpm export verify s3://…`
// downloads it and checks it against its manifest. The S3 keys go by environment and are never printed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { type Manifest, readArchive } from '../../scripts/lib/export/archive/archive.ts';
import { repoRoot } from '../../scripts/lib/repo-root.ts';
import { scaledStack } from '../support/scaled-stack.ts';
import { stack } from '../support/stack.ts';

describe('scaled: export to the S3 gateway', () => {
  it('uploads the warm-up session, lists it, verifies it from S3; keys never printed', async () => {
    const e = stack();
    const s = scaledStack(e);
    const sinks = await s.sinks();
    const endpoint = await s.control.url('s3-gateway', 7070);
    const keys = {
      S3_ACCESS_KEY_ID: e.composeEnv.S3_ACCESS_KEY_ID as string,
      S3_SECRET_ACCESS_KEY: e.composeEnv.S3_SECRET_ACCESS_KEY as string,
    };
    expect(keys.S3_ACCESS_KEY_ID && keys.S3_SECRET_ACCESS_KEY, 'the stack has S3 keys').toBeTruthy();
    const env = { ...process.env, ...keys, S3_ENDPOINT: endpoint };
    const cli = (args: string[]) =>
      $({
        nothrow: true,
        quiet: true,
        env,
        timeout: 300_000,
      })`node ${join(repoRoot, 'scripts/export.ts')} ${args}`;
    const prefix = `s3://archives/scaled-${randomBytes(4).toString('hex')}`;
    const out = mkdtempSync(join(tmpdir(), 'scaled-s3-export-'));
    try {
      const t0 = Date.now();
      const up = await cli([
        '--session',
        e.warmupSession,
        '--telemetry-dir',
        e.telemetryDir,
        '--sessions-dir',
        e.sessionsDir,
        '--prometheus',
        sinks.prometheus,
        '--jaeger',
        sinks.jaeger,
        '--out',
        out,
        '--to',
        prefix,
      ]);
      const said = up.stdout + up.stderr;
      expect(up.exitCode, said.slice(-3000)).toBe(0);
      for (const secret of Object.values(keys))
        expect(said.includes(secret), 'an S3 key in the output').toBe(false);
      // The archive kept in --out is whole: nothing missing from any sink.
      const archive = readdirSync(out).find((f) => f.endsWith('.tar.gz'));
      expect(archive, `no archive in ${out}`).toBeTruthy();
      const files = await readArchive(join(out, archive as string));
      const top = (archive as string).slice(0, -'.tar.gz'.length);
      const manifest = JSON.parse(files.get(`${top}/manifest.json`)?.toString('utf8') ?? '{}') as Manifest;
      expect(manifest.missing, JSON.stringify(manifest.missing)).toEqual([]);
      const url = /uploaded (s3:\/\/\S+) to /.exec(said)?.[1];
      expect(url, `the upload names its URL: ${said.slice(-1500)}`).toBeTruthy();

      const listed = await cli(['list', '--from', prefix, '--json']);
      expect(listed.exitCode, listed.stderr.slice(-1500)).toBe(0);
      const archives = (JSON.parse(listed.stdout) as { archives: { url: string; bytes: number }[] }).archives;
      expect(archives.map((a) => a.url)).toContain(url);

      const verify = await cli(['verify', url as string]);
      expect(verify.exitCode, (verify.stdout + verify.stderr).slice(-1500)).toBe(0);
      console.log(
        `s3-export: ${url} (${archives.find((a) => a.url === url)?.bytes} bytes) uploaded, listed and ` +
          `verified in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
