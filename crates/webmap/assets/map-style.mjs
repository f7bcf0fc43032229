// The style every Sillage map starts from: a plain background, a raster
// tile layer when one is configured, and the territory's own basemap
// (roads, rail, stops, water from OpenStreetMap) when the server has one,
// so maps are useful offline. Shared by the citizen hub and the city portal.

export async function mapConfig() {
  try {
    const response = await fetch('/assets/map-config.json');
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

export function style(config) {
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

// The [west, south, east, north] box of features (those without a
// geometry are skipped), or null when there is nothing to frame.
export function bounds(features) {
  let box = null;
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      box = box ? [Math.min(box[0], c[0]), Math.min(box[1], c[1]), Math.max(box[2], c[0]), Math.max(box[3], c[1])]
                : [c[0], c[1], c[0], c[1]];
    } else {
      c.forEach(visit);
    }
  };
  features.filter((f) => f.geometry).forEach((f) => visit(f.geometry.coordinates));
  return box;
}

// Loads MapLibre, the map configuration and the GeoJSON at `url`, and opens
// a map framed on it in `element`; null (the element marked empty) when
// there is nothing to frame.
export async function openMap(element, url, padding) {
  const [maplibre, config, data] = await Promise.all([
    import('/assets/vendor/maplibre/maplibre-gl.mjs'),
    mapConfig(),
    fetch(url, { credentials: 'same-origin' }).then((r) => r.json()),
  ]);
  const box = bounds(data.features);
  if (!box) {
    element.dataset.ready = 'empty';
    return null;
  }
  const map = new maplibre.Map({
    container: element,
    style: style(config),
    bounds: [[box[0], box[1]], [box[2], box[3]]],
    fitBoundsOptions: { padding, maxZoom: 16 },
    attributionControl: false,
  });
  return { maplibre, map, data };
}
