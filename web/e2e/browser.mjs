// What the browser journeys share: a headless Chromium with a page that
// records script and loading errors, screenshots, and expectations that
// fail with a message.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const expect = (condition, message) => {
  if (!condition) throw new Error(`expectation failed: ${message}`);
};

// Opens Debian's Chromium (or $CHROMIUM) headless with one page; `errors`
// collects what the page reported, `shot(name)` saves a full-page PNG.
export async function open(shots, contextOptions = {}) {
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...contextOptions });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  return { browser, page, errors, shot };
}
