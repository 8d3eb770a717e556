// Headless Chromium (Debian's `chromium` package, installed by scripts/bootstrap.sh) for the specs: a page's DOM
// after its load event, and a screenshot. Nothing is fetched: the flags turn off every background request, and
// the pages opened are local files.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox', // root in CI containers; the page is our own file
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
  '--hide-scrollbars',
  '--virtual-time-budget=5000', // lets the load event and its script run before the dump / screenshot
];

export function requireChromium(): void {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} not found: run \`bash scripts/bootstrap.sh\` (it installs Debian's chromium package)`,
    );
}

async function chromium(args: string[], timeoutMs = 60_000) {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  try {
    return await $({
      quiet: true,
      timeout: timeoutMs,
    })`${CHROMIUM} ${FLAGS} --user-data-dir=${profile} ${args}`;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM of a local HTML file after it has loaded (its scripts run). */
export async function renderedDom(file: string): Promise<string> {
  return (await chromium(['--dump-dom', `file://${file}`])).stdout;
}

/** A PNG screenshot of a local HTML file, `width` x `height` CSS pixels. */
export async function screenshot(file: string, png: string, width = 820, height = 2400): Promise<Buffer> {
  await chromium([`--window-size=${width},${height}`, `--screenshot=${png}`, `file://${file}`]);
  return readFileSync(png);
}
