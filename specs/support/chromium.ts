// Headless Chromium (Debian's `chromium` package, installed by scripts/bootstrap.sh) for the specs: a page's DOM
// after its load event, and a screenshot. Nothing else is fetched: the flags turn off every background request,
// and the pages opened are local files or the stack's own UIs on 127.0.0.1.
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

/** A local file's URL; a URL is taken as it is (only http://127.0.0.1 ones: the stack's ports). */
function target(fileOrUrl: string): string {
  if (!/^https?:/.test(fileOrUrl)) return `file://${fileOrUrl}`;
  if (!fileOrUrl.startsWith('http://127.0.0.1:')) throw new Error(`not a loopback URL: ${fileOrUrl}`);
  return fileOrUrl;
}

/** The DOM of a local HTML file, or a page of the stack, after it has loaded (its scripts run). */
export async function renderedDom(fileOrUrl: string): Promise<string> {
  return (await chromium(['--dump-dom', target(fileOrUrl)])).stdout;
}

/** A PNG screenshot of a local HTML file, or a page of the stack, `width` x `height` CSS pixels. */
export async function screenshot(
  fileOrUrl: string,
  png: string,
  width = 820,
  height = 2400,
): Promise<Buffer> {
  await chromium([`--window-size=${width},${height}`, `--screenshot=${png}`, target(fileOrUrl)]);
  return readFileSync(png);
}
