// The campaign designer: draw the area on the territory's map (one click
// per vertex), or load it and the zones from GeoJSON files; on every change
// the server previews the zones and explains what each measurement's
// privacy parameters cost. The form posts without this script too.

import { openMap } from '/assets/map-style.mjs';

const form = document.getElementById('designer');
const areaField = document.getElementById('area');
const zonesField = document.getElementById('zones_geojson');
const status = document.getElementById('preview-status');
const mapElement = document.getElementById('draw-map');
let map = null;
let vertices = [];

const empty = { type: 'FeatureCollection', features: [] };

function areaFromVertices() {
  if (vertices.length < 3) return '';
  return JSON.stringify({ type: 'Polygon', coordinates: [[...vertices, vertices[0]]] });
}

function showDrawing() {
  if (!map || !map.getSource('drawing')) return;
  const features = vertices.map((v) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: v } }));
  if (vertices.length >= 2) {
    features.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: vertices.length >= 3 ? [...vertices, vertices[0]] : vertices } });
  }
  map.getSource('drawing').setData({ type: 'FeatureCollection', features });
}

function showZones(zones) {
  if (map && map.getSource('zones')) map.getSource('zones').setData(zones ?? empty);
}

let timer = null;
let inFlight = null;
async function preview() {
  // A newer preview makes the one in flight moot: cancel it.
  inFlight?.abort();
  const mine = new AbortController();
  inFlight = mine;
  const body = new URLSearchParams(new FormData(form));
  let response;
  try {
    response = await fetch('/design/preview', { method: 'POST', body, credentials: 'same-origin', signal: mine.signal });
  } catch (error) {
    if (mine.signal.aborted) return;
    throw error;
  }
  if (inFlight !== mine) return;
  if (!response.ok) {
    status.textContent = `${response.status} ${await response.text()}`;
    return;
  }
  const answer = await response.json();
  const fr = document.documentElement.lang !== 'en';
  document.querySelectorAll('[data-explain]').forEach((p) => { p.textContent = ''; });
  if (answer.error) {
    status.textContent = answer.error.message;
    status.dataset.state = 'error';
    showZones(empty);
    return;
  }
  status.dataset.state = 'ok';
  status.textContent = fr
    ? `${answer.zone_count} zone(s) ; au moins ${answer.min_contributors} contributeurs avant toute publication.`
    : `${answer.zone_count} zone(s); at least ${answer.min_contributors} contributors before anything is released.`;
  const keys = { od: 'od', heat: 'heat', 'modal-share': 'share_trips', 'modal-share-km': 'share_km', distances: 'distances' };
  for (const m of answer.measurements) {
    const target = document.querySelector(`[data-explain="${keys[m.id]}"]`);
    if (target) target.textContent = m.text;
  }
  showZones(answer.zones);
  form.dataset.previewed = String(Date.now());
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => preview().catch((e) => { status.textContent = String(e); }), 300);
}

form.addEventListener('input', schedule);
form.addEventListener('change', schedule);

for (const [input, field, radio] of [['area-file', areaField, null], ['zones-file', zonesField, 'geojson']]) {
  document.getElementById(input).addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    if (radio) form.querySelector(`input[name="zones_source"][value="${radio}"]`).checked = true;
    field.value = await file.text();
    if (field === areaField) vertices = [];
    showDrawing();
    schedule();
  });
}

document.getElementById('clear-area').addEventListener('click', () => {
  vertices = [];
  areaField.value = '';
  showDrawing();
  schedule();
});

async function start() {
  const opened = await openMap(mapElement, mapElement.dataset.basemap, 10);
  if (!opened) return;
  map = opened.map;
  map.on('load', () => {
    map.addSource('zones', { type: 'geojson', data: empty });
    map.addSource('drawing', { type: 'geojson', data: empty });
    map.addLayer({ id: 'zones', type: 'fill', source: 'zones', paint: { 'fill-color': '#3a6ea5', 'fill-opacity': 0.15, 'fill-outline-color': '#3a6ea5' } });
    map.addLayer({ id: 'drawing-line', type: 'line', source: 'drawing', paint: { 'line-color': '#c0392b', 'line-width': 2 } });
    map.addLayer({ id: 'drawing-points', type: 'circle', source: 'drawing', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 4, 'circle-color': '#c0392b' } });
    map.on('click', (event) => {
      vertices.push([Number(event.lngLat.lng.toFixed(6)), Number(event.lngLat.lat.toFixed(6))]);
      areaField.value = areaFromVertices();
      showDrawing();
      schedule();
    });
    map.once('idle', () => { mapElement.dataset.ready = '1'; });
    schedule();
  });
}

start().catch((error) => {
  mapElement.dataset.ready = 'error';
  console.error(error);
});
