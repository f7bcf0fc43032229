//! One mode's routable graph: compact adjacency (CSR), the geometry of each
//! edge, the main strongly connected component, a grid for nearest-node
//! search, and A* routing by typical travel time.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use sillage_model::GeoPoint;

use crate::geo::{LocalProjection, haversine_m};
use crate::tags::Dir;
use crate::{NetworkMode, RoadClass};

/// Index of a node in a [`Network`] (`0..node_count()`); meaningful only in
/// the network that issued it.
pub type NodeId = u32;

/// Marks "no node" / "no edge" in the internal arrays.
const NONE: u32 = u32::MAX;

/// The piece of a way between two network nodes, shared by the edges of
/// both directions.
#[derive(Clone, Debug)]
struct Segment {
    /// `shape[start..end]`, from the way's first node to its last.
    start: u32,
    end: u32,
    length_m: f64,
    class: RoadClass,
}

/// A directed edge as seen from its tail node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    /// The head node.
    pub to: NodeId,
    /// Length along the geometry, metres.
    pub length_m: f64,
    /// Class of the way the edge follows.
    pub class: RoadClass,
}

/// A route through a [`Network`].
#[derive(Clone, Debug)]
pub struct Route {
    /// Polyline, first point = from, last = to (a single point when from = to).
    pub points: Vec<GeoPoint>,
    /// `classes[i]` is the road class of the segment `points[i]` → `points[i+1]`
    /// (`len = points.len() - 1`).
    pub classes: Vec<RoadClass>,
    /// Length along the polyline, metres.
    pub length_m: f64,
    /// Sum of segment length / typical speed, seconds.
    pub duration_s: f64,
}

/// The routable graph of one mode.
///
/// Nodes are intersections and dead ends; directed edges carry their length,
/// class and full geometry. Built by [`crate::Territory::from_pbf`].
pub struct Network {
    mode: NetworkMode,
    points: Vec<GeoPoint>,
    /// Edges leaving node `v` are `first_out[v]..first_out[v + 1]`.
    first_out: Vec<u32>,
    heads: Vec<NodeId>,
    /// Segment index shifted left once; the low bit says "travelled against
    /// the segment's geometry".
    edge_segments: Vec<u32>,
    edge_seconds: Vec<f64>,
    segments: Vec<Segment>,
    shape: Vec<GeoPoint>,
    main: Vec<NodeId>,
    grid: Grid,
    /// Fastest typical speed over the edges: keeps the A* bound admissible.
    max_speed_mps: f64,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("mode", &self.mode)
            .field("nodes", &self.node_count())
            .field("edges", &self.edge_count())
            .field("main_component", &self.main.len())
            .finish()
    }
}

impl Network {
    /// The mode this network serves.
    pub fn mode(&self) -> NetworkMode {
        self.mode
    }

    /// Number of nodes (intersections and dead ends).
    pub fn node_count(&self) -> usize {
        self.points.len()
    }

    /// Number of directed edges (a two-way street piece counts twice).
    pub fn edge_count(&self) -> usize {
        self.heads.len()
    }

    /// Position of a node. Panics if `node` is not below [`Self::node_count`].
    pub fn point(&self, node: NodeId) -> GeoPoint {
        self.points[node as usize]
    }

    /// Nodes of the largest strongly connected component: the ones a
    /// simulation may pick as places, so every pair is routable. Sorted.
    pub fn main_component(&self) -> &[NodeId] {
        &self.main
    }

    /// Nearest node of the main component to a point (None if the network
    /// is empty). Distances are measured in a local planar projection, which
    /// is exact enough to rank nodes within a region.
    pub fn nearest(&self, point: GeoPoint) -> Option<NodeId> {
        self.grid.nearest(point, &self.points)
    }

    /// Directed edges leaving a node. Panics if `node` is out of range.
    pub fn edges_from(&self, node: NodeId) -> impl Iterator<Item = Edge> + '_ {
        let range =
            self.first_out[node as usize] as usize..self.first_out[node as usize + 1] as usize;
        range.map(move |e| {
            let segment = &self.segments[(self.edge_segments[e] >> 1) as usize];
            Edge {
                to: self.heads[e],
                length_m: segment.length_m,
                class: segment.class,
            }
        })
    }

    /// Fastest route by typical travel time for the network's mode (A* with
    /// a straight-line bound at the network's top speed); None when
    /// unreachable or when a node is out of range.
    pub fn route(&self, from: NodeId, to: NodeId) -> Option<Route> {
        let n = self.node_count();
        if from as usize >= n || to as usize >= n {
            return None;
        }
        let edges = SCRATCH.with(|scratch| self.search(&mut scratch.borrow_mut(), from, to))?;
        Some(self.assemble_route(from, &edges))
    }

    /// A* from `from` to `to`; returns the edges of the path in order.
    fn search(&self, scratch: &mut Scratch, from: NodeId, to: NodeId) -> Option<Vec<u32>> {
        scratch.reset(self.node_count());
        let target = self.points[to as usize];
        let bound = |v: NodeId| haversine_m(self.points[v as usize], target) / self.max_speed_mps;
        let mut heap = BinaryHeap::new();
        scratch.set(from, 0.0, NONE);
        heap.push(Queued {
            estimate: bound(from),
            cost: 0.0,
            node: from,
        });
        while let Some(Queued { cost, node, .. }) = heap.pop() {
            if cost > scratch.cost(node) {
                continue; // superseded by a cheaper entry
            }
            if node == to {
                let mut path = Vec::new();
                let mut v = to;
                while v != from {
                    let e = scratch.parent[v as usize];
                    path.push(e);
                    v = self.tail(e);
                }
                path.reverse();
                return Some(path);
            }
            let v = node as usize;
            for e in self.first_out[v]..self.first_out[v + 1] {
                let w = self.heads[e as usize];
                let next = cost + self.edge_seconds[e as usize];
                if next < scratch.cost(w) {
                    scratch.set(w, next, e);
                    heap.push(Queued {
                        estimate: next + bound(w),
                        cost: next,
                        node: w,
                    });
                }
            }
        }
        None
    }

    /// Tail of an edge: the CSR stores heads only, so find the owning row.
    fn tail(&self, edge: u32) -> NodeId {
        // partition_point gives the first row starting after the edge.
        (self.first_out.partition_point(|&start| start <= edge) - 1) as NodeId
    }

    fn assemble_route(&self, from: NodeId, edges: &[u32]) -> Route {
        let mut points = vec![self.points[from as usize]];
        let mut classes = Vec::new();
        let (mut length_m, mut duration_s) = (0.0, 0.0);
        for &e in edges {
            let tagged = self.edge_segments[e as usize];
            let segment = &self.segments[(tagged >> 1) as usize];
            let shape = &self.shape[segment.start as usize..segment.end as usize];
            // The first point of each piece is the previous piece's last.
            if tagged & 1 == 0 {
                points.extend_from_slice(&shape[1..]);
            } else {
                points.extend(shape[..shape.len() - 1].iter().rev());
            }
            classes.resize(points.len() - 1, segment.class);
            length_m += segment.length_m;
            duration_s += self.edge_seconds[e as usize];
        }
        Route {
            points,
            classes,
            length_m,
            duration_s,
        }
    }
}

/// A* queue entry, ordered so that `BinaryHeap` pops the lowest estimate.
#[derive(Clone, Copy, Debug)]
struct Queued {
    estimate: f64,
    cost: f64,
    node: NodeId,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap. Ties broken by node id so that
        // equal-cost routes come out the same on every run.
        other
            .estimate
            .total_cmp(&self.estimate)
            .then_with(|| other.node.cmp(&self.node))
    }
}

/// Per-thread search state, reused across queries so that a route costs
/// what it explores, not what the network weighs: entries are valid only
/// when stamped with the current generation.
#[derive(Default)]
struct Scratch {
    generation: u32,
    stamp: Vec<u32>,
    cost: Vec<f64>,
    parent: Vec<u32>,
}

impl Scratch {
    fn reset(&mut self, n: usize) {
        if self.stamp.len() < n {
            self.stamp.resize(n, 0);
            self.cost.resize(n, f64::INFINITY);
            self.parent.resize(n, NONE);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.fill(0);
            self.generation = 1;
        }
    }

    fn cost(&self, v: NodeId) -> f64 {
        if self.stamp[v as usize] == self.generation {
            self.cost[v as usize]
        } else {
            f64::INFINITY
        }
    }

    fn set(&mut self, v: NodeId, cost: f64, parent: u32) {
        self.stamp[v as usize] = self.generation;
        self.cost[v as usize] = cost;
        self.parent[v as usize] = parent;
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A way, as the builder needs it: indices into the coordinate table
/// ([`NONE`] where the extract lacks the node), travel directions, class.
pub(crate) struct WayInput<'a> {
    pub(crate) nodes: &'a [u32],
    pub(crate) dir: Dir,
    pub(crate) class: RoadClass,
}

/// Builds a mode's network from its ways over a shared coordinate table.
pub(crate) fn build<'a>(
    mode: NetworkMode,
    coords: &[GeoPoint],
    ways: impl Iterator<Item = WayInput<'a>> + Clone,
) -> Network {
    // First pass: how often each coordinate is used; way ends count as
    // intersections so that they become nodes too.
    let mut uses = vec![0u8; coords.len()];
    for way in ways.clone() {
        for piece in pieces(way.nodes) {
            for &c in &piece[1..piece.len() - 1] {
                uses[c as usize] = uses[c as usize].saturating_add(1);
            }
            uses[piece[0] as usize] = 2;
            uses[piece[piece.len() - 1] as usize] = 2;
        }
    }

    let mut node_of = vec![NONE; coords.len()];
    let mut points = Vec::new();
    let mut node = |c: u32, points: &mut Vec<GeoPoint>| {
        if node_of[c as usize] == NONE {
            node_of[c as usize] = points.len() as NodeId;
            points.push(coords[c as usize]);
        }
        node_of[c as usize]
    };

    let mut shape = Vec::new();
    let mut segments = Vec::new();
    let mut edges = Vec::new();
    for way in ways {
        for piece in pieces(way.nodes) {
            let mut start = node(piece[0], &mut points);
            let mut shape_start = shape.len();
            shape.push(coords[piece[0] as usize]);
            let mut length_m = 0.0;
            for pair in piece.windows(2) {
                let (a, b) = (coords[pair[0] as usize], coords[pair[1] as usize]);
                shape.push(b);
                length_m += haversine_m(a, b);
                if uses[pair[1] as usize] < 2 {
                    continue;
                }
                let end = node(pair[1], &mut points);
                if end == start {
                    // A loop back to where it started leads nowhere new.
                    shape.truncate(shape_start);
                } else {
                    let s = segments.len() as u32;
                    segments.push(Segment {
                        start: shape_start as u32,
                        end: shape.len() as u32,
                        length_m,
                        class: way.class,
                    });
                    if way.dir.forward() {
                        edges.push((start, end, s << 1));
                    }
                    if way.dir.backward() {
                        edges.push((end, start, (s << 1) | 1));
                    }
                }
                start = end;
                shape_start = shape.len();
                shape.push(b);
                length_m = 0.0;
            }
            // The piece ends on a node, which was just pushed as a new start.
            shape.truncate(shape_start);
        }
    }
    Network::assemble(mode, points, shape, segments, edges)
}

/// Splits a way's node list at coordinates missing from the extract and
/// drops immediate repeats; yields runs of at least two nodes.
fn pieces(nodes: &[u32]) -> impl Iterator<Item = Vec<u32>> + '_ {
    nodes.split(|&c| c == NONE).filter_map(|run| {
        let mut piece: Vec<u32> = Vec::with_capacity(run.len());
        for &c in run {
            if piece.last() != Some(&c) {
                piece.push(c);
            }
        }
        (piece.len() >= 2).then_some(piece)
    })
}

impl Network {
    /// Turns nodes, geometry and directed edges `(tail, head, tagged
    /// segment)` into the CSR form, then finds the main component and
    /// indexes it.
    fn assemble(
        mode: NetworkMode,
        points: Vec<GeoPoint>,
        shape: Vec<GeoPoint>,
        segments: Vec<Segment>,
        mut edges: Vec<(NodeId, NodeId, u32)>,
    ) -> Network {
        // A stable sort keeps edges in way order within a row: deterministic.
        edges.sort_by_key(|&(tail, _, _)| tail);
        let mut first_out = vec![0u32; points.len() + 1];
        for &(tail, _, _) in &edges {
            first_out[tail as usize + 1] += 1;
        }
        for v in 0..points.len() {
            first_out[v + 1] += first_out[v];
        }
        let heads: Vec<NodeId> = edges.iter().map(|&(_, head, _)| head).collect();
        let edge_segments: Vec<u32> = edges.iter().map(|&(_, _, s)| s).collect();
        let edge_seconds: Vec<f64> = edge_segments
            .iter()
            .map(|&s| {
                let segment = &segments[(s >> 1) as usize];
                segment.length_m / segment.class.typical_speed_mps(mode)
            })
            .collect();
        let max_speed_mps = segments
            .iter()
            .map(|s| s.class.typical_speed_mps(mode))
            .fold(1.0_f64, f64::max);
        let main = largest_component(&first_out, &heads);
        let grid = Grid::new(&main, &points);
        Network {
            mode,
            points,
            first_out,
            heads,
            edge_segments,
            edge_seconds,
            segments,
            shape,
            main,
            grid,
            max_speed_mps,
        }
    }

    /// A network of straight edges, for tests: `(a, b, class, dir)` joins
    /// `points[a]` and `points[b]`.
    #[cfg(test)]
    pub(crate) fn from_edges(
        mode: NetworkMode,
        points: Vec<GeoPoint>,
        links: &[(NodeId, NodeId, RoadClass, Dir)],
    ) -> Network {
        let mut shape = Vec::new();
        let mut segments = Vec::new();
        let mut edges = Vec::new();
        for (i, &(a, b, class, dir)) in links.iter().enumerate() {
            let (pa, pb) = (points[a as usize], points[b as usize]);
            segments.push(Segment {
                start: shape.len() as u32,
                end: shape.len() as u32 + 2,
                length_m: haversine_m(pa, pb),
                class,
            });
            shape.extend([pa, pb]);
            let s = (i as u32) << 1;
            if dir.forward() {
                edges.push((a, b, s));
            }
            if dir.backward() {
                edges.push((b, a, s | 1));
            }
        }
        Network::assemble(mode, points, shape, segments, edges)
    }
}

/// Nodes of the largest strongly connected component, sorted (Tarjan's
/// algorithm with an explicit stack: street graphs are deep).
fn largest_component(first_out: &[u32], heads: &[NodeId]) -> Vec<NodeId> {
    let n = first_out.len() - 1;
    let mut index = vec![NONE; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<NodeId> = Vec::new();
    // (node, next edge to look at): the recursion of the textbook version.
    let mut calls: Vec<(NodeId, u32)> = Vec::new();
    let mut counter = 0u32;
    let mut best: Vec<NodeId> = Vec::new();
    for root in 0..n as NodeId {
        if index[root as usize] != NONE {
            continue;
        }
        let mut pending = Some(root);
        loop {
            if let Some(v) = pending.take() {
                index[v as usize] = counter;
                low[v as usize] = counter;
                counter += 1;
                on_stack[v as usize] = true;
                stack.push(v);
                calls.push((v, first_out[v as usize]));
            }
            let Some(&mut (v, ref mut next)) = calls.last_mut() else {
                break;
            };
            if *next < first_out[v as usize + 1] {
                let w = heads[*next as usize];
                *next += 1;
                if index[w as usize] == NONE {
                    pending = Some(w);
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u as usize] = low[u as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                let at = stack
                    .iter()
                    .rposition(|&x| x == v)
                    .expect("a component's root is on the stack");
                let component = stack.split_off(at);
                for &x in &component {
                    on_stack[x as usize] = false;
                }
                if component.len() > best.len() {
                    best = component;
                }
            }
        }
    }
    best.sort_unstable();
    best
}

/// A uniform grid over the main component's nodes, in projected metres.
#[derive(Debug)]
struct Grid {
    projection: LocalProjection,
    min_x: f64,
    min_y: f64,
    cell_m: f64,
    nx: i64,
    ny: i64,
    /// Nodes of cell `c` are `items[cell_start[c]..cell_start[c + 1]]`.
    cell_start: Vec<u32>,
    items: Vec<NodeId>,
}

impl Grid {
    fn new(nodes: &[NodeId], points: &[GeoPoint]) -> Grid {
        let lat0 = nodes.first().map_or(0.0, |&v| points[v as usize].lat);
        let projection = LocalProjection::around(lat0);
        let xy: Vec<(f64, f64)> = nodes
            .iter()
            .map(|&v| projection.project(points[v as usize]))
            .collect();
        let (mut min_x, mut min_y, mut max_x, mut max_y) = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in &xy {
            (min_x, min_y) = (min_x.min(x), min_y.min(y));
            (max_x, max_y) = (max_x.max(x), max_y.max(y));
        }
        if xy.is_empty() {
            (min_x, min_y, max_x, max_y) = (0.0, 0.0, 0.0, 0.0);
        }
        // About four nodes per cell on average.
        let (w, h) = ((max_x - min_x).max(1.0), (max_y - min_y).max(1.0));
        let cell_m = (w * h * 4.0 / xy.len().max(1) as f64).sqrt().max(1.0);
        let nx = (w / cell_m) as i64 + 1;
        let ny = (h / cell_m) as i64 + 1;
        let cell_of = |(x, y): (f64, f64)| {
            let cx = (((x - min_x) / cell_m) as i64).clamp(0, nx - 1);
            let cy = (((y - min_y) / cell_m) as i64).clamp(0, ny - 1);
            (cy * nx + cx) as usize
        };
        let mut cell_start = vec![0u32; (nx * ny) as usize + 1];
        for &p in &xy {
            cell_start[cell_of(p) + 1] += 1;
        }
        for c in 0..(nx * ny) as usize {
            cell_start[c + 1] += cell_start[c];
        }
        let mut fill = cell_start.clone();
        let mut items = vec![0; xy.len()];
        for (&v, &p) in nodes.iter().zip(&xy) {
            let c = cell_of(p);
            items[fill[c] as usize] = v;
            fill[c] += 1;
        }
        Grid {
            projection,
            min_x,
            min_y,
            cell_m,
            nx,
            ny,
            cell_start,
            items,
        }
    }

    fn nearest(&self, point: GeoPoint, points: &[GeoPoint]) -> Option<NodeId> {
        if self.items.is_empty() {
            return None;
        }
        let (x, y) = self.projection.project(point);
        let qx = ((x - self.min_x) / self.cell_m).floor() as i64;
        let qy = ((y - self.min_y) / self.cell_m).floor() as i64;
        // Rings of cells around the query cell; a point in ring r is at
        // least (r - 1) cells away, so stop once the best beats that.
        let gap = |q: i64, n: i64| if q < 0 { -q } else { (q - n + 1).max(0) };
        let first_ring = gap(qx, self.nx).max(gap(qy, self.ny));
        let last_ring = qx.max(self.nx - 1 - qx).max(qy).max(self.ny - 1 - qy);
        let mut best: Option<(f64, NodeId)> = None;
        for r in first_ring..=last_ring {
            if let Some((d2, _)) = best
                && d2.sqrt() < (r - 1) as f64 * self.cell_m
            {
                break;
            }
            for cy in (qy - r).max(0)..=(qy + r).min(self.ny - 1) {
                let full_row = cy == qy - r || cy == qy + r;
                let xs: &[i64] = if full_row { &[] } else { &[qx - r, qx + r] };
                let mut scan = |cx: i64| {
                    if cx < 0 || cx >= self.nx {
                        return;
                    }
                    let c = (cy * self.nx + cx) as usize;
                    for &v in
                        &self.items[self.cell_start[c] as usize..self.cell_start[c + 1] as usize]
                    {
                        let (vx, vy) = self.projection.project(points[v as usize]);
                        let d2 = (vx - x).powi(2) + (vy - y).powi(2);
                        if best.is_none_or(|(b, bv)| d2 < b || (d2 == b && v < bv)) {
                            best = Some((d2, v));
                        }
                    }
                };
                if full_row {
                    for cx in (qx - r).max(0)..=(qx + r).min(self.nx - 1) {
                        scan(cx);
                    }
                } else {
                    for &cx in xs {
                        scan(cx);
                    }
                }
            }
        }
        best.map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RoadClass::*;

    fn p(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint { lat, lon }
    }

    /// 0 ─residential─ 1 ─residential─ 2, and a longer primary detour
    /// 0 ─ 3 ─ 2 that is faster by car; 4 is a dead end reached one-way.
    fn small() -> Network {
        let points = vec![
            p(43.700, 7.400),
            p(43.700, 7.410),
            p(43.700, 7.420),
            p(43.703, 7.410),
            p(43.690, 7.420),
        ];
        Network::from_edges(
            NetworkMode::Car,
            points,
            &[
                (0, 1, Residential, Dir::Both),
                (1, 2, Residential, Dir::Both),
                (0, 3, Primary, Dir::Both),
                (3, 2, Primary, Dir::Both),
                (2, 4, Tertiary, Dir::Forward),
            ],
        )
    }

    #[test]
    fn counts_and_main_component() {
        let net = small();
        assert_eq!(net.node_count(), 5);
        assert_eq!(net.edge_count(), 9);
        assert_eq!(net.main_component(), &[0, 1, 2, 3]);
        let from_two: Vec<NodeId> = net.edges_from(2).map(|e| e.to).collect();
        assert_eq!(from_two.len(), 3);
        assert!(net.edges_from(4).next().is_none());
    }

    #[test]
    fn fastest_route_prefers_the_primary_detour() {
        let net = small();
        let route = net.route(0, 2).unwrap();
        assert_eq!(route.points, vec![net.point(0), net.point(3), net.point(2)]);
        assert_eq!(route.classes, vec![Primary, Primary]);
        let direct =
            haversine_m(net.point(0), net.point(1)) + haversine_m(net.point(1), net.point(2));
        assert!(route.length_m > direct);
        assert!((route.duration_s - route.length_m / 13.9).abs() < 1e-6);
        // The residential route is shorter but slower.
        assert!(direct / 8.3 > route.duration_s);
    }

    #[test]
    fn one_way_edges_and_unreachable_nodes() {
        let net = small();
        let there = net.route(0, 4).unwrap();
        assert_eq!(there.classes.last(), Some(&Tertiary));
        assert_eq!(there.points.len(), there.classes.len() + 1);
        assert!(net.route(4, 0).is_none());
        assert!(net.route(0, 99).is_none());
        let stay = net.route(3, 3).unwrap();
        assert_eq!((stay.points.len(), stay.length_m), (1, 0.0));
    }

    #[test]
    fn astar_agrees_with_exhaustive_dijkstra() {
        // A grid of mixed classes and one-ways, checked against a plain
        // Bellman-Ford relaxation.
        let (w, h) = (7u32, 6u32);
        let points: Vec<GeoPoint> = (0..w * h)
            .map(|i| p(43.7 + (i / w) as f64 * 0.001, 7.4 + (i % w) as f64 * 0.0013))
            .collect();
        let classes = [Primary, Residential, Service, Tertiary, LivingStreet];
        let mut links = Vec::new();
        for i in 0..w * h {
            let k = i as usize;
            let dir = if k % 4 == 1 { Dir::Forward } else { Dir::Both };
            if i % w + 1 < w {
                links.push((i, i + 1, classes[k % 5], dir));
            }
            if i / w + 1 < h {
                let dir = if k % 3 == 2 { Dir::Backward } else { Dir::Both };
                links.push((i, i + w, classes[(k + 2) % 5], dir));
            }
        }
        let net = Network::from_edges(NetworkMode::Car, points, &links);
        let n = net.node_count();
        for from in 0..n as NodeId {
            let mut best = vec![f64::INFINITY; n];
            best[from as usize] = 0.0;
            for _ in 0..n {
                for v in 0..n {
                    for e in net.first_out[v]..net.first_out[v + 1] {
                        let next = best[v] + net.edge_seconds[e as usize];
                        let head = net.heads[e as usize] as usize;
                        best[head] = best[head].min(next);
                    }
                }
            }
            for to in 0..n as NodeId {
                match net.route(from, to) {
                    Some(route) => assert!((route.duration_s - best[to as usize]).abs() < 1e-9),
                    None => assert!(best[to as usize].is_infinite()),
                }
            }
        }
    }

    #[test]
    fn nearest_only_returns_main_component_nodes() {
        let net = small();
        // Node 4 is closest to this point but cannot be left again.
        assert_eq!(net.nearest(p(43.691, 7.420)), Some(2));
        assert_eq!(net.nearest(p(43.7031, 7.4101)), Some(3));
        assert_eq!(net.nearest(p(10.0, -40.0)), Some(0));
        let empty = Network::from_edges(NetworkMode::Walk, vec![], &[]);
        assert_eq!(empty.nearest(p(43.7, 7.4)), None);
        assert!(empty.main_component().is_empty());
    }

    #[test]
    fn builder_splits_ways_only_at_shared_nodes() {
        // Way A: 0-1-2-3-4, way B: 5-2-6 crossing at 2; coordinate 7 is
        // missing from the extract in way C: 4-8-NONE-9-10.
        let coords: Vec<GeoPoint> = (0..11).map(|i| p(43.7 + i as f64 * 0.001, 7.4)).collect();
        let a = [0, 1, 2, 3, 4];
        let b = [5, 2, 6];
        let c = [4, 8, NONE, 9, 10];
        let ways = [
            (&a[..], Dir::Both),
            (&b[..], Dir::Forward),
            (&c[..], Dir::Both),
        ];
        let net = build(
            NetworkMode::Bike,
            &coords,
            ways.iter().map(|&(nodes, dir)| WayInput {
                nodes,
                dir,
                class: Residential,
            }),
        );
        // Nodes: 0, 2, 4, 5, 6, 8, 9, 10 (1 and 3 are shape points only).
        assert_eq!(net.node_count(), 8);
        // A: 2 segments both ways; B: 2 forward; C: 2 segments both ways.
        assert_eq!(net.edge_count(), 4 + 2 + 4);
        let from = net.nearest(coords[0]).unwrap();
        let to = net.nearest(coords[4]).unwrap();
        let route = net.route(from, to).unwrap();
        assert_eq!(route.points, coords[..5].to_vec());
        let back = net.route(to, from).unwrap();
        let mut reversed = coords[..5].to_vec();
        reversed.reverse();
        assert_eq!(back.points, reversed);
        assert!((route.length_m - haversine_m(coords[0], coords[4])).abs() < 1e-6);
    }
}
