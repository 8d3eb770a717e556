import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signalFiles, telemetryFileDirs } from './telemetry-files.ts';

function folder(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'telemetry-files-'));
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  return dir;
}

describe('signalFiles', () => {
  it("reads the single host's files, backups oldest first, then the current file", () => {
    const dir = folder([
      'logs.jsonl',
      'logs-2026-12-07T10-00-00.000-size.jsonl',
      'logs-2026-12-06T10-00-00.000-size.jsonl',
      'traces.jsonl',
    ]);
    expect(signalFiles(dir, 'logs').map((f) => f.slice(dir.length + 1))).toEqual([
      'logs-2026-12-06T10-00-00.000-size.jsonl',
      'logs-2026-12-07T10-00-00.000-size.jsonl',
      'logs.jsonl',
    ]);
  });

  it("reads every gateway's file set of the scaled topology too, rotated backups included", () => {
    const dir = folder([
      'logs.jsonl',
      'gateway-2/logs.jsonl',
      'gateway-10/logs.jsonl',
      'gateway-1/logs-2026-12-07T10-00-00.000-size.jsonl',
      'gateway-1/logs.jsonl',
      'gateway-1/traces.jsonl',
      // not a gateway's folder: left alone
      'gateway-x/logs.jsonl',
      'other/logs.jsonl',
    ]);
    expect(signalFiles(dir, 'logs').map((f) => f.slice(dir.length + 1))).toEqual([
      'logs.jsonl',
      'gateway-1/logs-2026-12-07T10-00-00.000-size.jsonl',
      'gateway-1/logs.jsonl',
      'gateway-2/logs.jsonl',
      'gateway-10/logs.jsonl',
    ]);
    expect(telemetryFileDirs(dir).map((d) => d.slice(dir.length))).toEqual([
      '',
      '/gateway-1',
      '/gateway-2',
      '/gateway-10',
    ]);
  });

  it('finds nothing in a folder that is not there, or a gateway folder still empty', () => {
    expect(signalFiles(join(tmpdir(), 'no-such-telemetry-folder'), 'traces')).toEqual([]);
    const dir = folder([]);
    mkdirSync(join(dir, 'gateway-1'));
    expect(signalFiles(dir, 'metrics')).toEqual([]);
  });
});
