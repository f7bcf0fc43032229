//! Server-rendered SVG charts of the dashboard: readable without scripts,
//! with a text title and description for screen readers (the same numbers
//! are in the table below each chart).

use crate::i18n::Tr;
use crate::views::{Dashboard, GROUPS, NATIONAL_SHARE};
use sillage_model::{Mode, ModeGroup};
use std::fmt::Write;

/// What a bar chart shows.
#[derive(Clone, Copy)]
pub enum Measure {
    /// Distance, km.
    Km,
    /// Emissions, kg CO2e.
    Co2Kg,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 12.0;

/// The colour of a mode group: that of a representative mode.
fn colour(group: ModeGroup) -> &'static str {
    let mode = match group {
        ModeGroup::Walk => Mode::Walking,
        ModeGroup::Bike => Mode::Bicycle,
        ModeGroup::Car => Mode::Car,
        ModeGroup::Bus => Mode::Bus,
        ModeGroup::Rail => Mode::RegionalTrain,
        ModeGroup::Other => Mode::Unknown,
    };
    sillage_export::mode_colour(mode)
}

/// A rounded-up axis maximum (1, 2 or 5 times a power of ten).
fn nice_max(value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&m| m >= value)
        .unwrap_or(10.0 * power)
}

fn escape(text: &str) -> String {
    crate::pages::escape(text)
}

/// Bars per period, stacked by mode group.
pub fn stacked_bars(board: &Dashboard, t: Tr, measure: Measure) -> String {
    let value = |g: &crate::views::GroupTotals| match measure {
        Measure::Km => g.km,
        Measure::Co2Kg => g.co2_g / 1000.0,
    };
    let (title, unit) = match measure {
        Measure::Km => (t.s("dashboard.km_title"), "km"),
        Measure::Co2Kg => (t.s("dashboard.co2_title"), "kg CO₂e"),
    };
    let totals: Vec<f64> = board
        .rows
        .iter()
        .map(|row| row.groups.values().map(value).sum())
        .collect();
    let max = nice_max(totals.iter().copied().fold(0.0, f64::max));
    let plot_h = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / board.rows.len().max(1) as f64;
    let bar = (slot * 0.7).min(48.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {h}" role="img" aria-labelledby="c-{m}-t" xmlns="http://www.w3.org/2000/svg"><title id="c-{m}-t">{title} ({unit})</title>"#,
        h = HEIGHT + 24.0,
        m = unit.len(),
        title = escape(title),
    );
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{x:.1}" y="{ty:.1}" text-anchor="end" font-size="11" fill="#333">{v}</text>"##,
            x = LEFT - 4.0,
            ty = y + 4.0,
            v = format_tick(v, max / 4.0),
        );
    }
    for (i, row) in board.rows.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = TOP + plot_h;
        for group in GROUPS {
            let Some(totals) = row.groups.get(group.as_str()) else {
                continue;
            };
            let h = plot_h * value(totals) / max;
            if h <= 0.0 {
                continue;
            }
            y -= h;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="{c}"><title>{p} · {g}: {v:.1} {unit}</title></rect>"#,
                c = colour(group),
                p = escape(&row.period),
                g = escape(&t.k("group", group.as_str())),
                v = value(totals),
            );
        }
        let _ = write!(
            svg,
            r##"<text x="{cx:.1}" y="{ly:.1}" text-anchor="middle" font-size="10" fill="#333">{p}</text>"##,
            cx = x + bar / 2.0,
            ly = HEIGHT - BOTTOM + 14.0,
            p = escape(&row.period),
        );
    }
    legend(&mut svg, t, HEIGHT - 4.0);
    svg.push_str("</svg>");
    svg
}

fn legend(svg: &mut String, t: Tr, y: f64) {
    let mut x = LEFT;
    for group in GROUPS {
        let label = t.k("group", group.as_str());
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{ry:.1}" width="10" height="10" fill="{c}"/><text x="{tx:.1}" y="{y:.1}" font-size="11" fill="#333">{l}</text>"##,
            ry = y - 9.0,
            c = colour(group),
            tx = x + 14.0,
            l = escape(&label),
        );
        x += 24.0 + 7.0 * label.chars().count() as f64;
    }
}

/// A tick value with as many decimals as its step needs (0.05 steps need
/// two, or 0.15 and 0.2 would both read "0.2").
fn format_tick(v: f64, step: f64) -> String {
    let decimals = (0..4)
        .find(|&d| {
            let scaled = step * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(4) as usize;
    format!("{v:.decimals$}")
}

/// The citizen's share of trips by mode group beside the national one.
pub fn modal_share(board: &Dashboard, t: Tr) -> String {
    let rows: Vec<(ModeGroup, f64, Option<f64>)> = GROUPS
        .into_iter()
        .map(|g| {
            let mine = board.modal_share.get(g.as_str()).copied().unwrap_or(0.0);
            let national = NATIONAL_SHARE
                .iter()
                .find(|(n, _)| *n == g)
                .map(|(_, s)| *s);
            (g, mine, national)
        })
        .collect();
    let row_h = 34.0;
    let label_w = 150.0;
    let bar_w = WIDTH - label_w - 60.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {h}" role="img" aria-labelledby="share-t" xmlns="http://www.w3.org/2000/svg"><title id="share-t">{title}</title>"#,
        h = row_h * rows.len() as f64 + 30.0,
        title = escape(t.s("dashboard.compare_title")),
    );
    for (i, (group, mine, national)) in rows.iter().enumerate() {
        let y = 8.0 + row_h * i as f64;
        let _ = write!(
            svg,
            r##"<text x="0" y="{ty:.1}" font-size="12" fill="#222">{l}</text><rect x="{label_w}" y="{y:.1}" width="{w:.1}" height="12" fill="{c}"/><text x="{vx:.1}" y="{ty:.1}" font-size="11" fill="#222">{you} {m:.0} %</text>"##,
            ty = y + 14.0,
            l = escape(&t.k("group", group.as_str())),
            w = bar_w * mine,
            c = colour(*group),
            vx = label_w + bar_w * mine + 4.0,
            you = escape(t.s("dashboard.you")),
            m = mine * 100.0,
        );
        if let Some(n) = national {
            let _ = write!(
                svg,
                r##"<rect x="{label_w}" y="{ny:.1}" width="{w:.1}" height="8" fill="#999"/><text x="{vx:.1}" y="{nty:.1}" font-size="10" fill="#444">{fr} {p:.1} %</text>"##,
                ny = y + 15.0,
                w = bar_w * n,
                vx = label_w + bar_w * n + 4.0,
                nty = y + 23.0,
                fr = escape(t.s("dashboard.national")),
                p = n * 100.0,
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.3), 10.0);
        assert_eq!(nice_max(13.0), 20.0);
        assert_eq!(nice_max(420.0), 500.0);
    }

    #[test]
    fn ticks_keep_the_decimals_their_step_needs() {
        let ticks: Vec<String> = (0..=4)
            .map(|i| format_tick(0.2 * f64::from(i) / 4.0, 0.05))
            .collect();
        assert_eq!(ticks, ["0.00", "0.05", "0.10", "0.15", "0.20"]);
        assert_eq!(format_tick(15.0, 5.0), "15");
        assert_eq!(format_tick(0.5, 0.5), "0.5");
        assert_eq!(format_tick(0.75, 0.25), "0.75");
        assert_eq!(format_tick(2.5, 1.25), "2.50");
    }
}
