// Reads dotenv-style files as Docker Compose does for the subset we use: KEY=VALUE lines, `#` comments,
// optional single or double quotes. No interpolation: values are used as written.
import { readFileSync } from 'node:fs';

export function parseEnvFile(text: string, source = 'env file'): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined)
      throw new Error(`${source}:${i + 1}: expected KEY=VALUE, got: ${line}`);
    const value = m[2].trim();
    const quoted = /^(['"])(.*)\1$/.exec(value);
    out[m[1]] = quoted?.[2] ?? value.replace(/\s+#.*$/, '');
  });
  return out;
}

export function readEnvFile(file: string): Record<string, string> {
  return parseEnvFile(readFileSync(file, 'utf8'), file);
}

/** The value of KEY, or an error naming the file and the key. */
export function required(env: Record<string, string>, key: string, source = 'stack/versions.env'): string {
  const value = env[key];
  if (!value) throw new Error(`${source} has no ${key}`);
  return value;
}

export function formatEnvFile(values: Record<string, string>, header: string[] = []): string {
  return `${[...header.map((h) => `# ${h}`), ...Object.entries(values).map(([k, v]) => `${k}=${v}`)].join('\n')}\n`;
}
