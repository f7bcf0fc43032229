// City portal maps: each released origin–destination or heat-map result is
// drawn over the territory's basemap from its own GeoJSON export. Flows are
// lines between sector centres (width by count), trips within a sector are
// circles, heat-map cells are hexagons (opacity by count); suppressed cells
// stay grey, never with a number. Selects filter by mode group and band.

import { openMap } from '/assets/map-style.mjs';

const COLOURS = ['match', ['get', 'mode_group'],
  'walk', '#2a9d8f', 'bike', '#d4a017', 'car', '#e76f51', 'bus', '#264653', 'rail', '#8d5fd3', '#888888'];

async function draw(element) {
  const opened = await openMap(element, element.dataset.geojson, 30);
  if (!opened) return;
  const { map, data } = opened;
  const max = Math.max(1, ...data.features.map((f) => f.properties.value ?? 0));
  const released = ['==', ['get', 'suppressed'], false];
  const suppressed = ['==', ['get', 'suppressed'], true];
  const layers = [];
  map.on('load', () => {
    map.addSource('cells', { type: 'geojson', data });
    if (element.dataset.kind === 'h3') {
      map.addLayer({ id: 'withheld', type: 'fill', source: 'cells', filter: suppressed,
        paint: { 'fill-color': '#bbbbbb', 'fill-opacity': 0.12, 'fill-outline-color': '#999999' } });
      map.addLayer({ id: 'cells', type: 'fill', source: 'cells', filter: released,
        paint: { 'fill-color': COLOURS, 'fill-opacity': ['interpolate', ['linear'], ['get', 'value'], 0, 0.2, max, 0.85] } });
      layers.push(['withheld', suppressed], ['cells', released]);
    } else {
      const lines = ['all', released, ['==', ['geometry-type'], 'LineString']];
      const within = ['all', released, ['==', ['geometry-type'], 'Point']];
      map.addLayer({ id: 'flows', type: 'line', source: 'cells', filter: lines,
        layout: { 'line-cap': 'round' },
        paint: { 'line-color': COLOURS, 'line-opacity': 0.8,
          'line-width': ['interpolate', ['linear'], ['get', 'value'], 0, 1.5, max, 14] } });
      map.addLayer({ id: 'within', type: 'circle', source: 'cells', filter: within,
        paint: { 'circle-color': COLOURS, 'circle-opacity': 0.7, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1,
          'circle-radius': ['interpolate', ['linear'], ['get', 'value'], 0, 3, max, 22] } });
      layers.push(['flows', lines], ['within', within]);
    }
    const section = element.closest('section') ?? document;
    const apply = () => {
      const chosen = [...section.querySelectorAll('select[data-filter]')]
        .filter((s) => s.value)
        .map((s) => ['==', ['get', s.dataset.filter], s.value]);
      for (const [id, base] of layers) map.setFilter(id, ['all', base, ...chosen]);
    };
    section.querySelectorAll('select[data-filter]').forEach((s) => s.addEventListener('change', apply));
    map.once('idle', () => {
      element.dataset.ready = '1';
      element.dataset.features = String(data.features.filter((f) => !f.properties.suppressed).length);
    });
  });
}

document.querySelectorAll('.map[data-geojson]').forEach((element) => {
  draw(element).catch((error) => {
    element.dataset.ready = 'error';
    console.error(error);
  });
});
