//! Charts for the log view, drawn as SVG by the page itself (no chart
//! library, nothing loaded from elsewhere): a bar chart over time, a
//! horizontal bar chart of the top offenders, and lines per sender. Every
//! chart has a text alternative (`role="img"`, `aria-label`, `<title>` per
//! mark) and every value comes from the engine's [`LogStats`].
//!
//! [`LogStats`]: mailaudit_core::logs::LogStats

use mailaudit_core::logs::stats::{Outbound, Series};
use mailaudit_core::logs::time::rfc3339;
use yew::prelude::*;

const W: f64 = 720.0;
const H: f64 = 220.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 26.0;
const BOTTOM: f64 = 34.0;

/// Okabe–Ito colours (distinguishable with colour-vision deficiencies).
pub const PALETTE: [&str; 6] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
];

/// `11-29 07:00` for a Unix time.
pub fn short_time(t: i64) -> String {
    let s = rfc3339(t);
    s.get(5..16).unwrap_or(&s).replace('T', " ")
}

/// A round maximum for the y axis (1, 2, 5 × 10ⁿ).
fn nice_max(v: u64) -> u64 {
    let v = v.max(1);
    let mut p = 1u64;
    while let Some(q) = p.checked_mul(10).filter(|q| *q <= v) {
        p = q;
    }
    for m in [1, 2, 5, 10] {
        if p.saturating_mul(m) >= v {
            return p.saturating_mul(m);
        }
    }
    v
}

fn axis(max: u64, label: &str) -> Html {
    let y = |v: u64| TOP + (H - TOP - BOTTOM) * (1.0 - v as f64 / max as f64);
    html! {
        <g class="axis">
            { for [0, max / 2, max].into_iter().map(|v| html! {
                <g>
                    <line x1={LEFT.to_string()} x2={(W - RIGHT).to_string()}
                          y1={y(v).to_string()} y2={y(v).to_string()} class="grid" />
                    <text x={(LEFT - 6.0).to_string()} y={(y(v) + 4.0).to_string()} text-anchor="end">{ v }</text>
                </g>
            }) }
            <text x="4" y="14" class="axis-label">{ label.to_string() }</text>
        </g>
    }
}

#[derive(Properties, PartialEq)]
pub struct TimeBarsProps {
    pub series: Series,
    /// What is counted (`failed logins`).
    pub what: AttrValue,
    pub class: AttrValue,
}

/// Counts over time as bars.
#[function_component(TimeBars)]
pub fn time_bars(p: &TimeBarsProps) -> Html {
    let s = &p.series;
    let n = s.values.len().max(1);
    let max = nice_max(s.values.iter().copied().max().unwrap_or(0));
    let total: u64 = s.values.iter().sum();
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let bw = plot_w / n as f64;
    let label = format!(
        "{total} {} from {} to {}, in steps of {} minutes; the highest step has {}",
        p.what,
        short_time(s.start),
        short_time(s.start + s.step_secs * n as i64),
        s.step_secs / 60,
        s.values.iter().max().copied().unwrap_or(0)
    );
    let bars = s.values.iter().enumerate().filter(|(_, v)| **v > 0).map(|(i, v)| {
        let h = plot_h * *v as f64 / max as f64;
        let t = s.start + s.step_secs * i as i64;
        html! {
            <rect x={format!("{:.2}", LEFT + bw * i as f64)} y={format!("{:.2}", TOP + plot_h - h)}
                  width={format!("{:.2}", (bw - 0.5).max(0.5))} height={format!("{h:.2}")} class="bar">
                <title>{ format!("{}: {v} {}", short_time(t), p.what) }</title>
            </rect>
        }
    });
    let ticks = [0usize, n / 2, n.saturating_sub(1)];
    html! {
        <svg class={classes!("chart", p.class.to_string())} viewBox={format!("0 0 {W} {H}")}
             role="img" aria-label={label} preserveAspectRatio="xMidYMid meet">
            { axis(max, &p.what) }
            { for bars }
            { for ticks.iter().map(|&i| {
                let x = LEFT + bw * i as f64;
                let anchor = if i == 0 { "start" } else if i + 1 >= n { "end" } else { "middle" };
                html! {
                    <text x={format!("{x:.1}")} y={(H - 12.0).to_string()} text-anchor={anchor} class="tick">
                        { short_time(s.start + s.step_secs * i as i64) }
                    </text>
                }
            }) }
        </svg>
    }
}

#[derive(Properties, PartialEq)]
pub struct TopBarsProps {
    /// (label, value, highlighted)
    pub rows: Vec<(String, u64, bool)>,
    pub what: AttrValue,
    pub class: AttrValue,
}

/// The top rows as horizontal bars.
#[function_component(TopBars)]
pub fn top_bars(p: &TopBarsProps) -> Html {
    let rows = &p.rows;
    let row_h = 24.0;
    let h = TOP + row_h * rows.len().max(1) as f64 + 8.0;
    let label_w = 190.0;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let plot_w = W - label_w - RIGHT - 60.0;
    let label = format!(
        "Top {} by {}: {}",
        rows.len(),
        p.what,
        rows.iter()
            .map(|(l, v, _)| format!("{l} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    html! {
        <svg class={classes!("chart", p.class.to_string())} viewBox={format!("0 0 {W} {h}")}
             role="img" aria-label={label}>
            { for rows.iter().enumerate().map(|(i, (l, v, hot))| {
                let y = TOP + row_h * i as f64;
                let w = (plot_w * *v as f64 / max as f64).max(1.0);
                html! {
                    <g class={classes!("row", hot.then_some("hot"))}>
                        <text x={(label_w - 8.0).to_string()} y={(y + 16.0).to_string()} text-anchor="end" class="row-label">{ l.clone() }</text>
                        <rect x={label_w.to_string()} y={(y + 4.0).to_string()} width={format!("{w:.1}")} height={(row_h - 8.0).to_string()} class="bar">
                            <title>{ format!("{l}: {v} {}", p.what) }</title>
                        </rect>
                        <text x={format!("{:.1}", label_w + w + 6.0)} y={(y + 16.0).to_string()} class="value">{ v }</text>
                    </g>
                }
            }) }
        </svg>
    }
}

#[derive(Properties, PartialEq)]
pub struct SenderLinesProps {
    pub outbound: Outbound,
    pub class: AttrValue,
}

/// Recipients per hour, one line per sender (the top senders).
#[function_component(SenderLines)]
pub fn sender_lines(p: &SenderLinesProps) -> Html {
    let o = &p.outbound;
    let senders: Vec<_> = o.senders.iter().take(PALETTE.len()).collect();
    let n = senders
        .iter()
        .map(|s| s.series.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let max = nice_max(
        senders
            .iter()
            .flat_map(|s| s.series.iter().copied())
            .max()
            .unwrap_or(0),
    );
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| {
        LEFT + if n > 1 {
            plot_w * i as f64 / (n - 1) as f64
        } else {
            plot_w / 2.0
        }
    };
    let y = |v: u64| TOP + plot_h * (1.0 - v as f64 / max as f64);
    let step = o.step_hours.max(1) * 3600;
    let label = format!(
        "Recipients per {} per authenticated sender, from {}: {}",
        if o.step_hours == 1 {
            "hour".to_string()
        } else {
            format!("{} hours", o.step_hours)
        },
        short_time(o.start),
        senders
            .iter()
            .map(|s| format!("{} (peak {}, median {})", s.sender, s.peak, s.median))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let ticks = [0usize, n / 2, n.saturating_sub(1)];
    html! {
        <figure class="sender-lines">
            <svg class={classes!("chart", p.class.to_string())} viewBox={format!("0 0 {W} {H}")}
                 role="img" aria-label={label}>
                { axis(max, "recipients") }
                { for senders.iter().enumerate().map(|(k, s)| {
                    let points = s.series.iter().enumerate()
                        .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
                        .collect::<Vec<_>>().join(" ");
                    let colour = PALETTE[k % PALETTE.len()];
                    html! {
                        <g class="line">
                            <polyline points={points} fill="none" stroke={colour} stroke-width="2" />
                            { for s.series.iter().enumerate().filter(|(_, v)| **v > 0).map(|(i, v)| html! {
                                <circle cx={format!("{:.1}", x(i))} cy={format!("{:.1}", y(*v))} r="2.5" fill={colour}>
                                    <title>{ format!("{} {}: {v} recipients", s.sender, short_time(o.start + step * i as i64)) }</title>
                                </circle>
                            }) }
                        </g>
                    }
                }) }
                { for ticks.iter().map(|&i| {
                    let anchor = if i == 0 { "start" } else if i + 1 >= n { "end" } else { "middle" };
                    html! {
                        <text x={format!("{:.1}", x(i))} y={(H - 12.0).to_string()} text-anchor={anchor} class="tick">
                            { short_time(o.start + step * i as i64) }
                        </text>
                    }
                }) }
            </svg>
            <figcaption>
                <ul class="legend">
                    { for senders.iter().enumerate().map(|(k, s)| html! {
                        <li>
                            <span class="swatch" style={format!("background:{}", PALETTE[k % PALETTE.len()])} aria-hidden="true"></span>
                            { s.sender.clone() }
                            if s.spike { <strong class="spike">{ " — spike" }</strong> }
                        </li>
                    }) }
                </ul>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_maxima() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(120), 200);
        assert_eq!(nice_max(500), 500);
        assert_eq!(nice_max(u64::MAX), u64::MAX);
    }
}
