// Sillage citizen pages: the only scripted parts are maps (MapLibre, served
// by the hub itself, so they work offline) and the upload progress bar.
// Everything else is plain HTML forms.

import { openMap } from '/assets/map-style.mjs';

const csrf = () => document.querySelector('main')?.dataset.csrf ?? '';

async function drawMap(element) {
  const opened = await openMap(element, element.dataset.map, 40);
  if (!opened) return;
  const { maplibre, map, data } = opened;
  map.addControl(new maplibre.NavigationControl({ showCompass: false }));
  map.on('load', () => {
    map.addSource('trips', { type: 'geojson', data });
    map.addLayer({
      id: 'legs', type: 'line', source: 'trips', filter: ['==', ['geometry-type'], 'LineString'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': ['get', 'colour'], 'line-width': 4 },
    });
    map.addLayer({
      id: 'ends', type: 'circle', source: 'trips', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 5, 'circle-color': '#fff', 'circle-stroke-color': '#222', 'circle-stroke-width': 2 },
    });
    map.once('idle', () => {
      element.dataset.ready = '1';
      element.dataset.features = String(data.features.length);
    });
  });
}

function upload(form) {
  const input = form.querySelector('input[type=file]');
  const bar = form.querySelector('progress');
  const status = form.querySelector('[role=status]');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    const request = new XMLHttpRequest();
    request.open('POST', `/api/imports?filename=${encodeURIComponent(file.name)}`);
    request.setRequestHeader('X-CSRF-Token', csrf());
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    bar.hidden = false;
    bar.value = 0;
    request.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    request.upload.addEventListener('load', () => {
      bar.removeAttribute('value');
      status.textContent = form.dataset.analysing ?? '…';
    });
    request.addEventListener('load', () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status === 200) {
        bar.value = 100;
        status.textContent = `${body.accepted} ✓`;
        window.location.assign(`${form.dataset.redirect}?day=${body.latest_day}`);
      } else {
        bar.hidden = true;
        status.textContent = body.error ?? `HTTP ${request.status}`;
        status.classList.add('error');
      }
    });
    request.addEventListener('error', () => {
      bar.hidden = true;
      status.textContent = form.dataset.failed ?? 'network error';
    });
    request.send(file);
  });
}

document.querySelectorAll('[data-map]').forEach((element) => {
  drawMap(element).catch((error) => {
    element.dataset.ready = 'error';
    element.textContent = String(error);
  });
});
document.querySelectorAll('form#upload').forEach(upload);
