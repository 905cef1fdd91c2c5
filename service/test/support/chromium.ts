/**
 * Debian's Chromium (.ci/apt-web.txt) for the browser specs, driven by playwright-core.
 */
import { existsSync } from 'node:fs';
import { Browser, chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts Chromium, or fails with how to get it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install chromium (listed in .ci/apt-web.txt), or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // A loaded 2-core machine can take well over playwright's default 30 s to start it.
    timeout: 120_000,
    // Playwright already starts Chromium on a fresh temporary profile (its own --user-data-dir)
    // and, as root, without the sandbox; the rest keeps an offline machine quiet.
    chromiumSandbox: false,
    args: [
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
