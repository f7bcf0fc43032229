// The demonstration as a newcomer meets it, in a real browser (headless
// Chromium driven by playwright-core): a synthetic citizen logs in, sees
// their day and a trip on the territory's basemap, opens the campaign and
// sees how their data was used, and the transparency log; the city portal
// shows the released results.
//
// Usage: node web/e2e/demo.mjs HUB_URL PORTAL_URL CITIZEN PLANNER PASSWORD SCREENSHOT_DIR
// Exits non-zero with a message on the first failed expectation.

import { expect, open } from './browser.mjs';

const [hub, portal, citizen, planner, password, shots] = process.argv.slice(2);
if (!hub || !portal || !citizen || !planner || !password || !shots) {
  console.error('usage: demo.mjs HUB_URL PORTAL_URL CITIZEN PLANNER PASSWORD SCREENSHOT_DIR');
  process.exit(2);
}
const { browser, page, errors, shot } = await open(shots);
page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });

try {
  // 1. The citizen logs in and lands on their latest day.
  await page.goto(`${hub}/login`);
  await page.fill('#name', citizen);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
  await page.goto(`${hub}/timeline`);
  const trips = await page.locator('a[href^="/trips/"]').count();
  expect(trips > 0, `the day shows trips (found ${trips})`);

  // 2. A trip, drawn over the territory's roads (no tile server).
  const href = await page.locator('a[href^="/trips/"]').first().getAttribute('href');
  await page.goto(`${hub}${href}`);
  await page.waitForSelector('#map[data-ready="1"]', { timeout: 30000 });
  const layers = await page.evaluate(async () => (await (await fetch('/assets/map-config.json')).json()).basemap);
  expect(layers === '/assets/basemap.geojson', 'the map draws the territory basemap');
  await shot('demo-1-trip');

  // 3. The campaign: consent given, receipt signed.
  await page.goto(`${hub}/campaigns`);
  const campaign = await page.locator('a[href^="/campaigns/"]').first().getAttribute('href');
  expect(campaign, 'the city campaign is in the inbox');
  await page.goto(`${hub}${campaign}`);
  const used = await page.textContent('#results');
  expect(used?.includes('Comment vos données ont été utilisées'), 'a participant sees how their data was used');
  expect(used.includes('participants, ε'), 'with the participants and ε of each result');
  await page.locator('#results').scrollIntoViewIfNeeded();
  await shot('demo-2-campaign');
  await page.goto(`${hub}/transparency`);
  expect((await page.textContent('main')).includes('piste-cyclable'), 'the transparency log lists what left');
  await shot('demo-3-transparency');

  // 4. The city portal, for its staff: released results with their intervals.
  await page.goto(`${portal}/`);
  await page.fill('input[name=name]', planner);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('form.login button')]);
  const results = await page.locator('a[href^="/campaigns/"]').first().getAttribute('href');
  await page.goto(`${portal}${results}`);
  const text = await page.textContent('body');
  expect(text.includes('contributeurs') && text.includes('95'), 'results show contributors and 95 % intervals');
  const maps = await page.locator('.map[data-geojson]').count();
  expect(maps === 2, `the OD flows and the heat map are drawn (found ${maps} maps)`);
  await page.waitForFunction(() => [...document.querySelectorAll('.map[data-geojson]')]
    .every((m) => m.dataset.ready === '1'), null, { timeout: 30000 });
  // Filter the heat map to one mode: the map redraws without errors.
  await page.locator('select[data-filter="mode_group"]').last().selectOption('walk');
  await page.waitForTimeout(500);
  await shot('demo-4-portal');

  expect(errors.length === 0, `no script errors: ${errors.join(' | ')}`);
  console.log(`demo journey ok (${trips} trips on the day)`);
} catch (error) {
  await shot('demo-failure').catch(() => {});
  console.error(String(error));
  process.exitCode = 1;
} finally {
  await browser.close();
}
