// A citizen's journey in a real browser (headless Chromium driven by
// playwright-core): sign up, upload a GPX file, see the trip on the map,
// correct a mode, download the export, delete the account.
//
// Usage: node web/e2e/citizen.mjs HUB_URL GPX_FILE SCREENSHOT_DIR
// Exits non-zero with a message on the first failed expectation.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, open } from './browser.mjs';

const [hub, gpx, shots] = process.argv.slice(2);
if (!hub || !gpx || !shots) {
  console.error('usage: citizen.mjs HUB_URL GPX_FILE SCREENSHOT_DIR');
  process.exit(2);
}
const { browser, page, errors, shot } = await open(shots, { acceptDownloads: true });
const name = `e2e${Date.now() % 100000}`;
const password = 'un mot de passe solide';

try {
  // 1. Sign up (step 1 of 3).
  await page.goto(`${hub}/signup`);
  expect((await page.getAttribute('html', 'lang')) === 'fr', 'French by default');
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement.classList.contains('skip')), 'first Tab reaches the skip link');
  await page.fill('#name', name);
  await page.fill('#password', password);
  await page.fill('#password2', password);
  await shot('1-signup');
  await Promise.all([page.waitForURL('**/welcome'), page.click('button[type=submit]')]);

  // 2. Bring data: upload a GPX with a progress bar.
  await page.setInputFiles('#file', gpx);
  await shot('2-welcome');
  await Promise.all([
    page.waitForURL('**/timeline?day=*', { timeout: 60_000 }),
    page.click('#upload button[type=submit]'),
  ]);

  // 3. See the first trips: the list and a rendered map.
  await page.waitForSelector('#trip-list li');
  await page.waitForSelector('#map[data-ready="1"]', { timeout: 30_000 });
  const features = Number(await page.getAttribute('#map', 'data-features'));
  expect(features >= 3, `the day's map draws the trip (features: ${features})`);
  expect(await page.locator('#map canvas').count() === 1, 'MapLibre drew on a canvas');
  await shot('3-timeline');

  // Trip detail, then correct the first leg's mode in one click.
  await Promise.all([page.waitForURL('**/trips/*'), page.click('#trip-list li a')]);
  await page.waitForSelector('#map[data-ready="1"]', { timeout: 30_000 });
  await shot('4-trip');
  await page.selectOption('#mode-0', 'bicycle');
  await Promise.all([page.waitForURL('**/trips/*?done=1'), page.click('form.correct-mode button')]);
  const notice = await page.textContent('.notice');
  expect(notice.includes('Correction enregistrée'), `correction confirmed (${notice})`);
  const chip = await page.textContent('table.legs tbody tr td:nth-child(2)');
  expect(chip.includes('Vélo') && chip.includes('✔'), `the leg now says Vélo ✔ (${chip.trim().slice(0, 60)})`);
  await shot('5-corrected');

  // Dashboard renders its charts.
  await page.goto(`${hub}/dashboard?period=year`);
  expect(await page.locator('svg.chart').count() >= 2, 'dashboard charts');
  await shot('6-dashboard');

  // My data: download the export.
  await page.goto(`${hub}/data`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const archive = join(shots, 'export.zip');
  await download.saveAs(archive);
  expect(statSync(archive).size > 1000, 'the export has content');
  expect(readFileSync(archive).subarray(0, 2).toString() === 'PK', 'the export is a ZIP');
  await shot('7-data');

  const serious = errors.filter((e) => !e.includes('favicon'));
  expect(serious.length === 0, `no script or loading errors: ${serious.join(' | ')}`);

  // Delete everything.
  await page.fill('#confirm', name);
  await Promise.all([page.waitForURL('**/login?deleted=1'), page.click('.danger-zone button')]);
  await shot('8-deleted');
  await page.fill('#name', name);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.error');
  expect(page.url().endsWith('/login'), 'the deleted account cannot log in');
  console.log(`browser journey passed; screenshots in ${shots}`);
} catch (error) {
  await shot('failure').catch(() => {});
  console.error(String(error));
  console.error(`script errors seen: ${errors.join(' | ')}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
