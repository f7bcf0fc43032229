// The city planner's journey, in a real browser (headless Chromium driven
// by playwright-core), on the demonstration's running services: log in to
// the city portal, design a campaign over the zones of the previous one
// (zones uploaded as GeoJSON, area drawn on the map), read the live privacy
// explanation, sign and publish; seeded citizens consent and send in their
// own app; follow participation; collect; read the dashboard (maps,
// charts, intervals), check the GeoJSON export; compare before and after;
// the same pages in English.
//
// Usage: node web/e2e/portal.mjs HUB_URL PORTAL_URL PLANNER VIEWER PASSWORD CITIZENS SCREENSHOT_DIR
// (CITIZENS: comma-separated citizen logins who take part.)

import { expect, open } from './browser.mjs';

const [hub, portal, planner, viewer, password, citizenList, shots] = process.argv.slice(2);
if (!shots) {
  console.error('usage: portal.mjs HUB_URL PORTAL_URL PLANNER VIEWER PASSWORD CITIZENS SCREENSHOT_DIR');
  process.exit(2);
}
const citizens = citizenList.split(',');
const { browser, page, errors, shot } = await open(shots);
page.on('response', (r) => {
  // The designer's form is re-shown with 422 when refused on purpose.
  if (r.status() >= 400 && !(r.status() === 422 && r.url().endsWith('/design'))) errors.push(`${r.status()} ${r.url()}`);
});
const step = (text) => console.log(`· ${text}`);

// Local (Europe/Paris) calendar date `days` from now, and a local
// date-time `seconds` from now, as the form's inputs take them.
const local = (ms) => new Date(ms).toLocaleString('sv-SE', { timeZone: 'Europe/Paris' }).replace(' ', 'T');
const day = (days) => local(Date.now() + days * 86400000).slice(0, 10);

async function logIn(name) {
  await page.goto(`${portal}/`);
  expect(page.url().includes('/login'), 'the portal asks staff to log in');
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('form.login button')]);
}

async function logOut() {
  await Promise.all([page.waitForNavigation(), page.click('nav form button')]);
}

try {
  // 1. A viewer reads but cannot design.
  await logIn(viewer);
  expect((await page.textContent('nav')).includes('lecteur'), 'the viewer is shown with their role');
  expect(await page.locator('a[href^="/design"]').count() === 0, 'no designer link for a viewer');
  const refused = await page.goto(`${portal}/design`);
  expect(refused.status() === 403, `a viewer is refused the designer (${refused.status()})`);
  // That refusal is the only error this journey expects (the console
  // reports it a moment later).
  await page.waitForTimeout(500);
  errors.length = 0;
  await page.goto(`${portal}/`);
  await logOut();
  step('viewer: reads, cannot design');

  // 2. The planner designs the "after" campaign over the same zones.
  await logIn(planner);
  const before = (await page.locator('ul.campaigns a').first().getAttribute('href')).split('?')[0].split('/').pop();
  const zones = await page.evaluate(async (id) => (await fetch(`/campaigns/${id}/zones.geojson`)).text(), before);
  expect(JSON.parse(zones).features.length > 0, 'the previous campaign\'s zones download as GeoJSON');
  await page.click('a[href^="/design"]');
  await page.waitForSelector('#draw-map[data-ready="1"]', { timeout: 30000 });
  await page.fill('input[name=id]', 'apres-piste');
  await page.fill('input[name=title_fr]', 'Après la piste cyclable');
  await page.fill('input[name=title_en]', 'After the cycle lane');
  await page.fill('input[name=purpose_fr]', 'Mesurer ce qui a changé depuis l\'ouverture de la piste.');
  await page.fill('input[name=purpose_en]', 'Measure what changed since the lane opened.');
  // The area, drawn: four clicks inside the map.
  const box = await page.locator('#draw-map').boundingBox();
  for (const [x, y] of [[0.15, 0.15], [0.85, 0.15], [0.85, 0.85], [0.15, 0.85]]) {
    await page.mouse.click(box.x + x * box.width, box.y + y * box.height);
  }
  const area = JSON.parse(await page.inputValue('#area'));
  expect(area.type === 'Polygon' && area.coordinates[0].length === 5, 'the drawn area is a closed polygon');
  // The zones, uploaded: those of the previous campaign.
  await page.setInputFiles('#zones-file', { name: 'zones.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(zones) });
  await page.waitForFunction(() => document.getElementById('zones_geojson').value.length > 0, null, { timeout: 5000 });
  expect(await page.isChecked('input[name=zones_source][value=geojson]'), 'uploading zones selects them');
  await page.fill('input[name=first_day]', day(-13));
  await page.fill('input[name=last_day]', day(-1));
  // Contributions close soon, so that the journey can collect.
  let closes = Date.now() + 150000;
  // Chromium shows hh:mm:00 as hh:mm, which the fill would not recognise.
  if (new Date(closes).getSeconds() === 0) closes += 1000;
  await page.fill('input[name=reports_until]', local(closes).slice(0, 19));
  await page.fill('input[name=min_contributors]', '10');
  await page.fill('input[name=participants]', String(citizens.length));
  // The live explanation: noise, interval, what can be published…
  const explainedOk = () => page.waitForFunction(() => document.getElementById('preview-status').dataset.state === 'ok'
    && document.querySelector('[data-explain="od"]').textContent.includes('±'), null, { timeout: 15000 })
    .catch(async () => { throw new Error(`no explanation: ${await page.textContent('#preview-status')}`); });
  await explainedOk();
  // …and a bad ε named at once.
  await page.fill('input[name=od_epsilon]', '0');
  await page.waitForFunction(() => document.getElementById('preview-status').textContent.includes('od_epsilon'), null, { timeout: 15000 });
  await page.fill('input[name=od_epsilon]', '1');
  await explainedOk();
  const explained = await page.textContent('[data-explain="od"]');
  expect(explained.includes('bruit') && explained.includes('masquées'), `the OD explanation: ${explained}`);
  expect((await page.textContent('[data-explain="heat"]')).includes('case'), 'the heat map is explained too');
  await shot('portal-1-design');
  await Promise.all([page.waitForNavigation(), page.click('#publish')]);
  expect(await page.locator('#published').count() === 1, `the campaign is published: ${await page.textContent('body')}`);
  const after = 'apres-piste';
  await shot('portal-2-published');
  step('planner: designed, signed and published');

  // 3. Seeded citizens find it in their app, consent and send.
  const citizen = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const app = await citizen.newPage();
  app.on('pageerror', (e) => errors.push(String(e)));
  for (const name of citizens) {
    await app.goto(`${hub}/login`);
    await app.fill('#name', name);
    await app.fill('#password', password);
    await Promise.all([app.waitForNavigation(), app.click('form button[type=submit]')]);
    await app.goto(`${hub}/campaigns/${after}`);
    await Promise.all([app.waitForNavigation(), app.click('#give')]);
    await app.goto(`${hub}/campaigns/${after}/preview`);
    await Promise.all([app.waitForNavigation(), app.click('#send')]);
    expect(app.url().includes('sent='), `${name} sent their contribution`);
    await app.context().clearCookies();
  }
  step(`${citizens.length} citizens consented and sent`);

  // 4. Participation: counts only, against k.
  await page.goto(`${portal}/campaigns/${after}/participation`);
  const monitor = await page.textContent('table');
  expect(monitor.includes(`${citizens.length} / 10`), `reports received against k: ${monitor}`);
  await shot('portal-3-participation');

  // 5. Once contributions close, collect.
  const wait = closes - Date.now() + 2000;
  if (wait > 0) await page.waitForTimeout(wait);
  await page.goto(`${portal}/campaigns/${after}`);
  await Promise.all([page.waitForNavigation({ timeout: 120000 }), page.click('#collect')]);
  expect(await page.locator('#collected').count() === 1, `results collected: ${await page.textContent('body')}`);
  step('collected');

  // 6. The dashboard: two maps, three charts, every figure with n, ε, interval.
  const text = await page.textContent('body');
  expect(text.includes(`${citizens.length} contributeurs`) && text.includes('ε ='), 'contributors and ε shown');
  await page.waitForFunction(() => [...document.querySelectorAll('.map[data-geojson]')]
    .every((m) => m.dataset.ready === '1' || m.dataset.ready === 'empty'), null, { timeout: 30000 });
  const maps = await page.locator('.map[data-geojson]').count();
  expect(maps === 2, `OD and heat maps (${maps})`);
  const charts = await page.locator('svg.chart').count();
  expect(charts >= 3, `modal share (trips, km) and distance charts (${charts})`);
  await shot('portal-4-dashboard');
  // The GeoJSON export: a FeatureCollection of valid geometries with
  // counts and intervals, or a null number when suppressed.
  const exportUrl = await page.locator('a[href$="cells.geojson"]').first().getAttribute('href');
  const checked = await page.evaluate(async (url) => {
    const data = await (await fetch(url)).json();
    const problems = [];
    if (data.type !== 'FeatureCollection') problems.push('not a FeatureCollection');
    for (const f of data.features) {
      const g = f.geometry;
      const p = f.properties;
      if (g) {
        const rings = g.type === 'Polygon' ? g.coordinates : g.type === 'MultiPolygon' ? g.coordinates.flat() : [];
        for (const ring of rings) {
          const [a, b] = [ring[0], ring[ring.length - 1]];
          if (ring.length < 4 || a[0] !== b[0] || a[1] !== b[1]) problems.push('an open ring');
        }
        if (!['Polygon', 'MultiPolygon', 'LineString', 'Point'].includes(g.type)) problems.push(`geometry ${g.type}`);
      }
      if (p.suppressed !== (p.value === null)) problems.push('a suppressed cell with a number');
      if (!p.suppressed && !(p.ci95_low <= p.value && p.value <= p.ci95_high)) problems.push('a value outside its interval');
    }
    return { features: data.features.length, problems };
  }, exportUrl);
  expect(checked.features > 0 && checked.problems.length === 0, `the GeoJSON export validates: ${JSON.stringify(checked)}`);
  step(`dashboard and export (${checked.features} features)`);

  // 7. Before / after, with each difference's interval.
  await page.goto(`${portal}/compare?before=${before}&after=${after}`);
  const compared = await page.locator('section.compared').count();
  expect(compared >= 4, `measurements compared (${compared})`);
  const comparison = await page.textContent('main, body');
  expect(comparison.includes('Différence') && comparison.includes('Intervalle à 95 %'), 'differences with intervals');
  expect(await page.locator('section.compared svg.chart').count() >= 2, 'difference charts');
  await shot('portal-5-compare');
  step(`before / after: ${compared} measurements compared`);

  // 8. The same in English.
  await page.goto(`${portal}/compare?before=${before}&after=${after}&lang=en`);
  const english = await page.textContent('body');
  expect(english.includes('Before / after comparison') && english.includes('95 % interval'), 'the comparison in English');
  await page.goto(`${portal}/campaigns/${after}?lang=en`);
  expect((await page.textContent('body')).includes('contributors'), 'the dashboard in English');
  await page.goto(`${portal}/design?lang=en`);
  await page.waitForFunction(() => document.getElementById('preview-status').dataset.state, null, { timeout: 15000 });
  expect((await page.textContent('h1')).includes('Design a campaign'), 'the designer in English');
  await shot('portal-6-english');
  step('English');

  // 9. The citizens who took part see how their data was used.
  await app.goto(`${hub}/login`);
  await app.fill('#name', citizens[0]);
  await app.fill('#password', password);
  await Promise.all([app.waitForNavigation(), app.click('form button[type=submit]')]);
  await app.goto(`${hub}/campaigns/${after}`);
  expect((await app.textContent('#results')).includes('Comment vos données ont été utilisées'), 'results back to the participants');
  await app.screenshot({ path: `${shots}/portal-7-citizen-results.png`, fullPage: true });

  expect(errors.length === 0, `no script or HTTP errors: ${errors.join(' | ')}`);
  console.log('portal journey ok');
} catch (error) {
  await shot('portal-failure').catch(() => {});
  console.error(String(error));
  process.exitCode = 1;
} finally {
  await browser.close();
}
