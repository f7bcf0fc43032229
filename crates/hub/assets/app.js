// Sillage citizen pages: the only scripted parts are maps (MapLibre, served
// by the hub itself, so they work offline) and the upload progress bar.
// Everything else is plain HTML forms.

const csrf = () => document.querySelector('main')?.dataset.csrf ?? '';

async function mapConfig() {
  try {
    const response = await fetch('/assets/map-config.json');
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

function bounds(features) {
  let box = null;
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      box = box ? [Math.min(box[0], c[0]), Math.min(box[1], c[1]), Math.max(box[2], c[0]), Math.max(box[3], c[1])]
                : [c[0], c[1], c[0], c[1]];
    } else {
      c.forEach(visit);
    }
  };
  features.forEach((f) => visit(f.geometry.coordinates));
  return box;
}

function style(config) {
  const sources = {};
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': '#f3f1ec' } }];
  if (config.tile_url) {
    sources.tiles = { type: 'raster', tiles: [config.tile_url], tileSize: 256, attribution: config.attribution ?? '' };
    layers.push({ id: 'tiles', type: 'raster', source: 'tiles' });
  }
  if (config.basemap) {
    // The territory's own roads, rail and stops (OpenStreetMap), served by
    // the hub: a useful map with no tile server.
    sources.basemap = { type: 'geojson', data: config.basemap, attribution: '© OpenStreetMap' };
    const road = (id, cls, colour, width, dash) => ({
      id, type: 'line', source: 'basemap', filter: ['==', ['get', 'class'], cls],
      paint: { 'line-color': colour, 'line-width': width, ...(dash ? { 'line-dasharray': dash } : {}) },
    });
    const area = (id, cls, colour) => ({
      id, type: 'fill', source: 'basemap', filter: ['==', ['get', 'class'], cls], paint: { 'fill-color': colour },
    });
    layers.push(
      area('base-landuse', 'landuse', '#e6e8dc'),
      area('base-water', 'water', '#bcd8ee'),
      road('base-path', 'path', '#cfc8bb', 1, [2, 2]),
      road('base-minor', 'minor', '#ffffff', 2.5),
      road('base-cycleway', 'cycleway', '#8cc7a1', 1.5),
      road('base-major', 'major', '#f6d7a7', 4),
      road('base-rail', 'rail', '#8a8a8a', 1.5, [4, 2]),
      {
        id: 'base-stations', type: 'circle', source: 'basemap',
        filter: ['all', ['==', ['geometry-type'], 'Point'], ['==', ['get', 'class'], 'station']],
        paint: { 'circle-radius': 4, 'circle-color': '#555', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 },
      },
    );
  }
  return { version: 8, sources, layers };
}

async function drawMap(element) {
  const [maplibre, config, data] = await Promise.all([
    import('/assets/vendor/maplibre/maplibre-gl.mjs'),
    mapConfig(),
    fetch(element.dataset.map, { credentials: 'same-origin' }).then((r) => r.json()),
  ]);
  const box = bounds(data.features);
  if (!box) {
    element.dataset.ready = 'empty';
    return;
  }
  const map = new maplibre.Map({
    container: element,
    style: style(config),
    bounds: [[box[0], box[1]], [box[2], box[3]]],
    fitBoundsOptions: { padding: 40, maxZoom: 16 },
    attributionControl: false,
  });
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
