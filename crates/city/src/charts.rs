//! Server-rendered SVG charts for the city's dashboards: inline, readable
//! without scripts, each with a `<title>` and a `<desc>` that give screen
//! readers every figure the bars show.
//!
//! Every figure is a noisy release: bars carry whiskers for their 95 %
//! interval, and a suppressed figure is drawn as a dashed placeholder with
//! the caller's words for it ("masqué"), never as a zero. The caller passes
//! every word (French or English) and every colour; numbers are written with
//! a decimal point.

use serde::Serialize;
use std::fmt::Write as _;

/// One bar of a chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bar {
    /// Shown under the bar, and read with its figure.
    pub label: String,
    /// The figure (`None`: suppressed, drawn as a placeholder). A figure
    /// that is not finite is treated as suppressed.
    pub value: Option<f64>,
    /// 95 % interval `(low, high)`, drawn as a whisker.
    pub interval: Option<(f64, f64)>,
    /// Fill colour, any SVG colour (`None`: a neutral blue).
    pub colour: Option<String>,
}

/// Vertical bars from zero for totals, with whiskers for their intervals.
/// Negative figures and interval bounds are drawn at zero (a total below
/// zero is noise) but written as they are.
pub fn bar_chart(title: &str, bars: &[Bar], suppressed_text: &str) -> String {
    render(Kind::Totals, title, bars, suppressed_text)
}

/// Vertical bars up or down from a zero line for differences (after −
/// before), with whiskers for their intervals.
pub fn difference_chart(title: &str, bars: &[Bar], suppressed_text: &str) -> String {
    render(Kind::Differences, title, bars, suppressed_text)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Totals,
    Differences,
}

const DEFAULT_COLOUR: &str = "#4a78b5";
const MIN_WIDTH: f64 = 640.0;
/// Narrowest slot per bar before the chart widens instead.
const MIN_SLOT: f64 = 18.0;
/// Room left of the plot for the tick labels (more when slanted bar
/// labels reach further left).
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
/// Room above the plot for the highest bar's figure.
const TOP: f64 = 18.0;
const PLOT_HEIGHT: f64 = 200.0;
/// Approximate advance of one character at the labels' 11 px.
const CHAR_WIDTH: f64 = 6.2;
const LINE_HEIGHT: f64 = 13.0;
/// Longest label written under a bar when labels are slanted (the whole
/// label is in the bar's tooltip and in the description).
const MAX_SLANTED_CHARS: usize = 28;
/// Steep enough that neighbouring slanted labels at the narrowest slot
/// stay a line apart (18 px · sin 50° ≈ 14 px).
/// A slanted label ends this far right of its bar's centre, so that its
/// text, which hangs below the baseline, points at the bar.
const LABEL_NUDGE: f64 = 3.0;
const SLANT_DEGREES: f64 = 50.0;

/// A bar with its figures checked: non-finite numbers dropped.
struct Clean<'a> {
    bar: &'a Bar,
    value: Option<f64>,
    interval: Option<(f64, f64)>,
}

fn clean(bar: &Bar) -> Clean<'_> {
    let value = bar.value.filter(|v| v.is_finite());
    Clean {
        bar,
        value,
        interval: value
            .and(bar.interval)
            .filter(|(low, high)| low.is_finite() && high.is_finite())
            .map(|(low, high)| (low.min(high), low.max(high))),
    }
}

/// The vertical axis: from `low` to `high` in ticks of `step`.
struct Axis {
    low: f64,
    high: f64,
    step: f64,
}

impl Axis {
    /// Round ticks (1, 2 or 5 times a power of ten, a handful of them)
    /// covering `[min, max]`, which must hold zero.
    fn covering(min: f64, max: f64) -> Self {
        let span = max - min;
        if span <= 0.0 {
            return Axis {
                low: 0.0,
                high: 1.0,
                step: 0.25,
            };
        }
        let power = 10f64.powf((span / 5.0).log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * power)
            .find(|&s| span / s <= 5.0 + 1e-9)
            .unwrap_or(10.0 * power);
        // The small tolerance keeps a bound that is already a tick from
        // gaining a tick of empty space through rounding.
        Axis {
            low: (min / step + 1e-9).floor() * step,
            high: (max / step - 1e-9).ceil() * step,
            step,
        }
    }

    fn y(&self, v: f64) -> f64 {
        TOP + PLOT_HEIGHT * (self.high - v) / (self.high - self.low)
    }

    fn ticks(&self) -> impl Iterator<Item = f64> + '_ {
        let count = ((self.high - self.low) / self.step).round() as i64;
        (0..=count).map(|i| self.low + self.step * i as f64)
    }
}

/// How bar labels are laid out: wrapped on up to three lines when they fit
/// their slot, otherwise slanted.
enum Labels {
    Wrapped(Vec<Vec<String>>),
    Slanted(Vec<String>),
}

impl Labels {
    fn lay_out(bars: &[Clean], slot: f64) -> Self {
        let per_line = ((slot - 4.0) / CHAR_WIDTH).floor().max(1.0) as usize;
        let wrapped: Option<Vec<Vec<String>>> = bars
            .iter()
            .map(|b| wrap(&b.bar.label, per_line).filter(|lines| lines.len() <= 3))
            .collect();
        match wrapped {
            Some(lines) => Labels::Wrapped(lines),
            None => Labels::Slanted(
                bars.iter()
                    .map(|b| truncate(&b.bar.label, MAX_SLANTED_CHARS))
                    .collect(),
            ),
        }
    }

    /// How much the left margin must grow past [`LEFT`] for slanted labels,
    /// which run down to the left from their bars, to stay in the chart.
    fn overhang(&self, slot: f64) -> f64 {
        let Labels::Slanted(labels) = self else {
            return 0.0;
        };
        let run = CHAR_WIDTH * SLANT_DEGREES.to_radians().cos();
        let reach = labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                run * label.chars().count() as f64 - slot * (i as f64 + 0.5) - LABEL_NUDGE
            })
            .fold(0.0, f64::max);
        // Below the axis, the tick labels' room is free for bar labels.
        (reach - (LEFT - 4.0)).max(0.0)
    }

    /// Height the labels need under the plot.
    fn height(&self) -> f64 {
        match self {
            Labels::Wrapped(lines) => {
                let most = lines.iter().map(Vec::len).max().unwrap_or(0);
                8.0 + LINE_HEIGHT * most as f64
            }
            Labels::Slanted(labels) => {
                let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
                16.0 + CHAR_WIDTH * longest as f64 * SLANT_DEGREES.to_radians().sin()
            }
        }
    }
}

/// `text` in lines of at most `per_line` characters, broken at spaces;
/// `None` when a word is longer than a line.
fn wrap(text: &str, per_line: usize) -> Option<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if len > per_line {
            return None;
        }
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + len <= per_line => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    Some(lines)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

/// `text` safe in XML character data and in quoted attribute values.
/// Text made safe inside XML or HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and line breaks are not
            // allowed in XML 1.0 at all, even escaped.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A figure as people read it: whole numbers without decimals, others with
/// as many as their size calls for; a true minus sign; `+` on positive
/// differences.
fn number(v: f64, signed: bool) -> String {
    let decimals = if (v - v.round()).abs() < 1e-9 || v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{:.*}", decimals, v.abs());
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    // "-0" after rounding is zero.
    let sign = if text.chars().all(|c| c == '0' || c == '.') {
        ""
    } else if v < 0.0 {
        "−"
    } else if signed && v > 0.0 {
        "+"
    } else {
        ""
    };
    format!("{sign}{text}")
}

/// A tick value with as many decimals as its step needs.
fn tick(v: f64, step: f64) -> String {
    let decimals = (0..4)
        .find(|&d| {
            let scaled = step * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(4) as usize;
    let text = format!("{:.decimals$}", v.abs());
    if v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("−{text}")
    } else {
        text
    }
}

/// A bar's figure in words for its tooltip and the description:
/// "Vélo: 120 (96–144)", or the suppressed text.
fn spoken(bar: &Clean, signed: bool, suppressed_text: &str) -> String {
    match bar.value {
        None => format!("{}: {suppressed_text}", bar.bar.label),
        Some(v) => match bar.interval {
            Some((low, high)) => format!(
                "{}: {} ({} – {})",
                bar.bar.label,
                number(v, signed),
                number(low, false),
                number(high, false)
            ),
            None => format!("{}: {}", bar.bar.label, number(v, signed)),
        },
    }
}

/// A short id for the chart's title and description, the same for the same
/// chart: several charts on one page need different ones.
fn chart_id(kind: Kind, title: &str, bars: &[Bar]) -> String {
    // FNV-1a over everything drawn.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&[kind as u8]);
    eat(title.as_bytes());
    for bar in bars {
        eat(bar.label.as_bytes());
        eat(&bar.value.unwrap_or(f64::NAN).to_bits().to_le_bytes());
    }
    format!("chart-{hash:016x}")
}

fn render(kind: Kind, title: &str, bars: &[Bar], suppressed_text: &str) -> String {
    let signed = kind == Kind::Differences;
    let clean: Vec<Clean> = bars.iter().map(clean).collect();
    // The axis covers every figure and interval bound; totals start at
    // zero and never go below it.
    let (mut min, mut max) = (0.0f64, 0.0f64);
    for bar in &clean {
        for v in bar
            .value
            .into_iter()
            .chain(bar.interval.into_iter().flat_map(|(l, h)| [l, h]))
        {
            min = min.min(v);
            max = max.max(v);
        }
    }
    if kind == Kind::Totals {
        min = 0.0;
    }
    let axis = Axis::covering(min, max);
    let draw = |v: f64| match kind {
        Kind::Totals => axis.y(v.max(0.0)),
        Kind::Differences => axis.y(v),
    };

    let plot_width = (MIN_WIDTH - LEFT - RIGHT).max(MIN_SLOT * clean.len() as f64);
    let slot = plot_width / clean.len().max(1) as f64;
    let bar_width = (slot * 0.68).min(56.0);
    let labels = Labels::lay_out(&clean, slot);
    let left = LEFT + labels.overhang(slot);
    let width = left + plot_width + RIGHT;
    // Figures under negative bars need room before the labels start.
    let gap = if signed { 24.0 } else { 8.0 };
    let labels_top = TOP + PLOT_HEIGHT + gap;
    let height = labels_top + labels.height();
    let show_figures = slot >= 30.0;

    let id = chart_id(kind, title, bars);
    let description = clean
        .iter()
        .map(|b| spoken(b, signed, suppressed_text))
        .collect::<Vec<_>>()
        .join("; ");
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {width:.0} {height:.0}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" font-family="system-ui, sans-serif" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{title}</title><desc id="{id}-d">{description}</desc>"#,
        title = escape(title),
        description = escape(&description),
    );

    // Grid and tick labels.
    for v in axis.ticks() {
        let y = axis.y(v);
        let _ = write!(
            svg,
            r##"<line x1="{left:.1}" x2="{x2:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#e2e2e2"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end" font-size="11" fill="#333">{t}</text>"##,
            x2 = width - RIGHT,
            tx = left - 6.0,
            ty = y + 4.0,
            t = tick(v, axis.step),
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{left:.1}" x2="{left:.1}" y1="{TOP}" y2="{bottom:.1}" stroke="#666"/>"##,
        bottom = TOP + PLOT_HEIGHT,
    );

    // The zero line under the bars (a suppressed figure's placeholder hides
    // it: there is no zero to speak of there), darker for differences.
    let zero = axis.y(0.0);
    let _ = write!(
        svg,
        r##"<line x1="{left:.1}" x2="{x2:.1}" y1="{zero:.1}" y2="{zero:.1}" stroke="{c}" stroke-width="{w}"/>"##,
        x2 = width - RIGHT,
        c = if signed { "#222" } else { "#666" },
        w = if signed { 1.5 } else { 1.0 },
    );

    for (i, bar) in clean.iter().enumerate() {
        let centre = left + slot * (i as f64 + 0.5);
        let x = centre - bar_width / 2.0;
        let tooltip = escape(&spoken(bar, signed, suppressed_text));
        match bar.value {
            None => {
                // The whole height: a withheld figure is unknown, not small.
                let _ = write!(
                    svg,
                    r##"<g class="suppressed"><title>{tooltip}</title><rect x="{x:.1}" y="{TOP}" width="{bar_width:.1}" height="{PLOT_HEIGHT}" fill="#f3f3f3" stroke="#b5b5b5" stroke-dasharray="4 3"/>"##,
                );
                let text = escape(suppressed_text);
                let mid = TOP + PLOT_HEIGHT / 2.0;
                if CHAR_WIDTH * suppressed_text.chars().count() as f64 <= slot - 2.0 {
                    let _ = write!(
                        svg,
                        r##"<text x="{centre:.1}" y="{mid:.1}" text-anchor="middle" font-size="10" font-style="italic" fill="#6b6b6b">{text}</text>"##,
                    );
                } else {
                    let _ = write!(
                        svg,
                        r##"<text x="{centre:.1}" y="{mid:.1}" transform="rotate(-90 {centre:.1} {mid:.1})" text-anchor="middle" dominant-baseline="middle" font-size="10" font-style="italic" fill="#6b6b6b">{text}</text>"##,
                    );
                }
                svg.push_str("</g>");
            }
            Some(value) => {
                let zero = draw(0.0);
                let end = draw(value);
                let _ = write!(
                    svg,
                    r#"<g class="bar"><title>{tooltip}</title><rect x="{x:.1}" y="{y:.1}" width="{bar_width:.1}" height="{h:.1}" fill="{c}"/>"#,
                    y = zero.min(end),
                    h = (zero - end).abs(),
                    c = escape(bar.bar.colour.as_deref().unwrap_or(DEFAULT_COLOUR)),
                );
                // The figure goes beyond the whisker's far end, on the
                // bar's side of zero.
                let (mut reach_up, mut reach_down) = (end.min(zero), end.max(zero));
                if let Some((low, high)) = bar.interval {
                    let (y_low, y_high) = (draw(low), draw(high));
                    let cap = (bar_width * 0.4).max(4.0) / 2.0;
                    let _ = write!(
                        svg,
                        r##"<g class="whisker" stroke="#222" stroke-width="1.5"><line x1="{centre:.1}" x2="{centre:.1}" y1="{y_low:.1}" y2="{y_high:.1}"/><line x1="{l:.1}" x2="{r:.1}" y1="{y_low:.1}" y2="{y_low:.1}"/><line x1="{l:.1}" x2="{r:.1}" y1="{y_high:.1}" y2="{y_high:.1}"/></g>"##,
                        l = centre - cap,
                        r = centre + cap,
                    );
                    reach_up = reach_up.min(y_high);
                    reach_down = reach_down.max(y_low);
                }
                if show_figures {
                    let y = if value < 0.0 && signed {
                        reach_down + 12.0
                    } else {
                        reach_up - 4.0
                    };
                    let _ = write!(
                        svg,
                        r##"<text x="{centre:.1}" y="{y:.1}" text-anchor="middle" font-size="10" fill="#222">{n}</text>"##,
                        n = escape(&number(value, signed)),
                    );
                }
                svg.push_str("</g>");
            }
        }
    }

    match &labels {
        Labels::Wrapped(lines) => {
            for (i, lines) in lines.iter().enumerate() {
                let centre = left + slot * (i as f64 + 0.5);
                let _ = write!(
                    svg,
                    r##"<text x="{centre:.1}" y="{y:.1}" text-anchor="middle" font-size="11" fill="#333">"##,
                    y = labels_top + 4.0,
                );
                for (n, line) in lines.iter().enumerate() {
                    let _ = write!(
                        svg,
                        r#"<tspan x="{centre:.1}" dy="{dy}">{t}</tspan>"#,
                        dy = if n == 0 {
                            LINE_HEIGHT - 2.0
                        } else {
                            LINE_HEIGHT
                        },
                        t = escape(line),
                    );
                }
                svg.push_str("</text>");
            }
        }
        Labels::Slanted(labels) => {
            for (i, label) in labels.iter().enumerate() {
                let centre = left + slot * (i as f64 + 0.5);
                let y = labels_top + 6.0;
                let _ = write!(
                    svg,
                    r##"<text x="{x:.1}" y="{y:.1}" transform="rotate(-{SLANT_DEGREES} {x:.1} {y:.1})" text-anchor="end" font-size="11" fill="#333">{t}</text>"##,
                    x = centre + LABEL_NUDGE,
                    t = escape(label),
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that `svg` is well-formed enough for a browser's XML parser:
    /// tags balance, attributes are quoted, and every `&` starts an entity.
    fn assert_well_formed(svg: &str) {
        let mut open: Vec<&str> = Vec::new();
        let mut rest = svg;
        let check_text = |text: &str| {
            for (i, _) in text.match_indices('&') {
                let entity = &text[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                        .iter()
                        .any(|e| entity.starts_with(e)),
                    "bare & in {text:?}"
                );
            }
            assert!(!text.contains('>'), "bare > in {text:?}");
        };
        while let Some(start) = rest.find('<') {
            check_text(&rest[..start]);
            let end = rest[start..].find('>').expect("unclosed tag") + start;
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "< inside tag {tag:?}");
            assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes {tag:?}");
            // Attribute values: every `=` is followed by a quote.
            for (i, _) in tag.match_indices('=') {
                let inside_value = tag[..i].matches('"').count() % 2 == 1;
                if !inside_value {
                    assert_eq!(&tag[i + 1..i + 2], "\"", "unquoted value in {tag:?}");
                }
            }
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(name.trim()), "mismatched </{name}>");
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().expect("empty tag");
                open.push(name);
            }
            rest = &rest[end + 1..];
        }
        check_text(rest);
        assert!(open.is_empty(), "unclosed {open:?}");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    fn bar(label: &str, value: Option<f64>, interval: Option<(f64, f64)>) -> Bar {
        Bar {
            label: label.into(),
            value,
            interval,
            colour: None,
        }
    }

    /// The `<rect>` elements of bars (not placeholders), as (y, height).
    fn bar_rects(svg: &str) -> Vec<(f64, f64)> {
        svg.split(r#"<g class="bar">"#)
            .skip(1)
            .map(|g| {
                let rect = &g[g.find("<rect").unwrap()..];
                let attr = |name: &str| -> f64 {
                    let from = rect.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                    rect[from..from + rect[from..].find('"').unwrap()]
                        .parse()
                        .unwrap()
                };
                (attr("y"), attr("height"))
            })
            .collect()
    }

    /// The y of the zero line (the last full-width line before the labels).
    fn zero_line(svg: &str) -> f64 {
        let after = svg.rfind(r#"stroke-width="1.5"/>"#).unwrap();
        let line = &svg[svg[..after].rfind("<line").unwrap()..after];
        let from = line.find(" y1=\"").unwrap() + 5;
        line[from..from + line[from..].find('"').unwrap()]
            .parse()
            .unwrap()
    }

    #[test]
    fn bar_chart_shows_every_label_figure_and_whisker() {
        let bars = [
            bar("À pied", Some(120.0), Some((96.0, 144.0))),
            bar("Vélo", Some(40.0), Some((16.0, 64.0))),
            bar("Voiture", Some(310.0), None),
            bar("Bus", None, None),
        ];
        let svg = bar_chart("Trajets par mode", &bars, "masqué");
        assert_well_formed(&svg);
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=") && svg.contains("Trajets par mode</title>"));
        for label in ["À pied", "Vélo", "Voiture", "Bus"] {
            assert!(svg.contains(label), "{label}");
        }
        // The description reads every figure, and the withheld one as such.
        let desc = &svg[svg.find("<desc").unwrap()..svg.find("</desc>").unwrap()];
        assert!(desc.contains("À pied: 120 (96 – 144)"), "{desc}");
        assert!(desc.contains("Voiture: 310"), "{desc}");
        assert!(desc.contains("Bus: masqué"), "{desc}");
        // A whisker for each bar with an interval, none for the others.
        assert_eq!(svg.matches(r#"class="whisker""#).count(), 2);
        // The placeholder: dashed, with the words.
        assert_eq!(svg.matches(r#"class="suppressed""#).count(), 1);
        assert!(svg.contains("stroke-dasharray") && svg.contains(">masqué</text>"));
        assert!(svg.contains(DEFAULT_COLOUR));
        // The axis covers the highest figure with a round maximum.
        assert!(svg.contains(">400</text>"), "{svg}");
    }

    #[test]
    fn text_is_escaped() {
        let bars = [Bar {
            label: "Vélo <&> \"cargo\"".into(),
            value: None,
            interval: None,
            colour: Some("red\"/><script>".into()),
        }];
        let svg = bar_chart("Avant & après <2025>", &bars, "masqué <k>");
        assert_well_formed(&svg);
        assert!(svg.contains("Avant &amp; après &lt;2025&gt;"));
        assert!(svg.contains("Vélo &lt;&amp;&gt; &quot;cargo&quot;"));
        assert!(svg.contains("masqué &lt;k&gt;"));
        assert!(!svg.contains("<script"));
        let svg = difference_chart(
            "x",
            &[Bar {
                value: Some(1.0),
                ..bars[0].clone()
            }],
            "m",
        );
        assert_well_formed(&svg);
        assert!(!svg.contains("<script"));
        assert!(svg.contains("fill=\"red&quot;/&gt;&lt;script&gt;\""));
    }

    #[test]
    fn negative_totals_are_drawn_at_zero() {
        let bars = [
            bar("a", Some(-3.0), Some((-20.0, 14.0))),
            bar("b", Some(50.0), Some((30.0, 70.0))),
        ];
        let svg = bar_chart("t", &bars, "masqué");
        assert_well_formed(&svg);
        let rects = bar_rects(&svg);
        let baseline = TOP + PLOT_HEIGHT;
        assert_eq!(rects[0], (baseline, 0.0));
        assert!((rects[1].0 + rects[1].1 - baseline).abs() < 0.01);
        // No whisker end below the baseline, but the figure is as published.
        assert!(svg.contains("a: −3 (−20 – 14)"));
        assert!(!svg.contains(&format!("y1=\"{:.1}\"", baseline + 1.0)));
        // The axis starts at zero.
        assert!(svg.contains(">0</text>") && !svg.contains(">−20</text>"));
    }

    #[test]
    fn differences_go_both_ways_from_the_zero_line() {
        let bars = [
            bar("Vélo", Some(35.0), Some((12.0, 58.0))),
            bar("Voiture", Some(-48.0), Some((-71.0, -25.0))),
            bar("Bus", Some(-5.0), Some((-28.0, 18.0))),
            bar("Train", None, None),
        ];
        let svg = difference_chart("Après − avant", &bars, "hidden");
        assert_well_formed(&svg);
        let zero = zero_line(&svg);
        let rects = bar_rects(&svg);
        assert_eq!(rects.len(), 3);
        // Up from zero for a rise, down from zero for a fall.
        assert!((rects[0].0 + rects[0].1 - zero).abs() < 0.01 && rects[0].0 < zero);
        assert!((rects[1].0 - zero).abs() < 0.01 && rects[1].1 > 0.0);
        assert!((rects[2].0 - zero).abs() < 0.01);
        assert!(rects[1].1 > rects[2].1 * 5.0);
        assert_eq!(svg.matches(r#"class="whisker""#).count(), 3);
        assert!(svg.contains("Vélo: +35 (12 – 58)"));
        assert!(svg.contains("Voiture: −48 (−71 – −25)"));
        assert!(svg.contains("Train: hidden"));
        // Ticks below zero, signed.
        assert!(
            svg.contains(">−80</text>") || svg.contains(">−100</text>"),
            "{svg}"
        );
    }

    #[test]
    fn many_or_long_labels_are_slanted() {
        let bars: Vec<Bar> = (0..40)
            .map(|i| {
                bar(
                    &format!("Quartier numéro {i} (extension)"),
                    Some(i as f64),
                    None,
                )
            })
            .collect();
        let svg = bar_chart("t", &bars, "masqué");
        assert_well_formed(&svg);
        assert!(svg.contains("rotate(-50"));
        assert!(svg.contains("Quartier numéro 39"));
        // Few short labels wrap instead.
        let svg = bar_chart(
            "t",
            &[
                bar("Pointe du matin", Some(1.0), None),
                bar("Soir", Some(2.0), None),
            ],
            "masqué",
        );
        assert_well_formed(&svg);
        assert!(!svg.contains("rotate(-50"));
        assert!(svg.contains("Pointe du matin"));
    }

    #[test]
    fn empty_and_degenerate_charts_render() {
        for svg in [
            bar_chart("vide", &[], "masqué"),
            difference_chart("vide", &[], "masqué"),
            bar_chart("zéros", &[bar("a", Some(0.0), None)], "masqué"),
            difference_chart("nan", &[bar("a", Some(f64::NAN), None)], "masqué"),
            bar_chart("all hidden", &[bar("a", None, None)], "masqué"),
        ] {
            assert_well_formed(&svg);
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
    }

    #[test]
    fn axes_are_round() {
        let axis = Axis::covering(0.0, 144.0);
        assert_eq!((axis.low, axis.high, axis.step), (0.0, 150.0, 50.0));
        let axis = Axis::covering(0.0, 400.0);
        assert_eq!((axis.low, axis.high), (0.0, 400.0));
        let axis = Axis::covering(-71.0, 58.0);
        assert!(axis.low <= -71.0 && axis.high >= 58.0 && axis.step == 50.0);
        let axis = Axis::covering(0.0, 0.37);
        assert!((axis.step - 0.1).abs() < 1e-12 && (axis.high - 0.4).abs() < 1e-12);
        assert_eq!(tick(0.30000000000000004, 0.1), "0.3");
        assert_eq!(number(-0.001, true), "0");
        assert_eq!(number(12.345, false), "12.3");
        assert_eq!(number(1234.6, true), "+1235");
    }
}
