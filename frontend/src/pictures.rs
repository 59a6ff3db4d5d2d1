//! Pictures drawn by the page from a report (`mailaudit_core::view` reads
//! them back from the evidence): the SPF look-up tree with each term's
//! cost, the blocklist grid, and the certificate expiry timeline. Each has
//! a text equivalent (the tree and the grid are HTML; the timeline's SVG is
//! decorative beside a table), and status is never shown by colour alone.

use mailaudit_core::dns::spf::eval::MAX_DNS_TERMS;
use mailaudit_core::dns::spf::LookupNode;
use mailaudit_core::probe::plan::unix_time;
use mailaudit_core::report::Report;
use mailaudit_core::tls::ics::rfc3339;
use mailaudit_core::view::{self, Cell};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PictureProps {
    pub report: Rc<Report>,
    pub scope: AttrValue,
}

fn tree_node(n: &LookupNode, running: &mut u32) -> Html {
    *running += n.cost;
    let here = *running;
    let over = n.cost > 0 && here > MAX_DNS_TERMS;
    let children: Vec<Html> = n.children.iter().map(|c| tree_node(c, running)).collect();
    let subtree = n.total_cost();
    html! {
        <li class={classes!("spf-node", over.then_some("over"))}>
            <span class="spf-term"><code>{ n.text.clone() }</code></span>
            if n.cost > 0 {
                <span class={classes!("spf-cost", over.then_some("over"))}>
                    { format!("look-up {here}") }
                    if over { { " (over the limit)" } }
                </span>
            } else if !n.children.is_empty() && subtree > 0 {
                <span class="spf-subtotal">{ format!("{subtree} look-up{}", if subtree == 1 { "" } else { "s" }) }</span>
            }
            if n.void {
                <span class="spf-void">{ "void (no record)" }</span>
            }
            if !n.note.is_empty() {
                <span class="spf-note">{ format!("— {}", n.note) }</span>
            }
            if !children.is_empty() {
                <ul>{ for children }</ul>
            }
        </li>
    }
}

/// The SPF look-up tree: every term that costs a DNS look-up, numbered in
/// evaluation order, against the limit of 10.
#[function_component(SpfTreeView)]
pub fn spf_tree_view(p: &PictureProps) -> Html {
    let Some(t) = view::spf_tree(&p.report) else {
        return html! {};
    };
    let title_id = format!("{}-spf-tree-title", p.scope);
    let max = MAX_DNS_TERMS.max(t.lookups);
    let mut running = 0;
    let root = tree_node(&t.root, &mut running);
    let segments = (1..=max).map(|i| {
        let class = if i > t.lookups {
            "free"
        } else if i > MAX_DNS_TERMS {
            "over"
        } else {
            "used"
        };
        html! { <span class={classes!("seg", class)}></span> }
    });
    html! {
        <figure class="picture spf-tree" aria-labelledby={title_id.clone()} data-testid="spf-tree" data-lookups={t.lookups.to_string()}>
            <figcaption>
                <h4 id={title_id}>{ format!("SPF look-ups: {} of {MAX_DNS_TERMS} allowed", t.lookups) }</h4>
                <div class="budget" aria-hidden="true">{ for segments }</div>
                <p class="hint">
                    { "Each include, a, mx, ptr, exists and redirect costs receivers one DNS look-up; \
                       after the tenth they give up (permerror)." }
                    if t.truncated { { " The report shows the first part of the tree only." } }
                </p>
            </figcaption>
            <ul class="tree">{ root }</ul>
        </figure>
    }
}

fn cell_view(c: &Cell) -> Html {
    match c {
        Cell::Listed(codes) => html! {
            <td class="bl-cell s-fail" data-cell="listed">
                <span class="badge-icon" aria-hidden="true">{ "\u{2716}" }</span>
                { " Listed" }
                if !codes.is_empty() {
                    <span class="bl-code">{ format!(" ({})", codes.join(", ")) }</span>
                }
            </td>
        },
        Cell::NotListed => html! {
            <td class="bl-cell s-pass" data-cell="clean">
                <span class="badge-icon" aria-hidden="true">{ "\u{2714}" }</span>{ " Not listed" }
            </td>
        },
        Cell::Failed(rcode) => html! {
            <td class="bl-cell s-unknown" data-cell="failed">
                <span class="badge-icon" aria-hidden="true">{ "?" }</span>{ format!(" No answer ({rcode})") }
            </td>
        },
        Cell::NotChecked => html! {
            <td class="bl-cell s-none" data-cell="not-checked">{ "Not checked" }</td>
        },
        Cell::NotApplicable => html! {
            <td class="bl-cell s-none" data-cell="n-a">
                <span aria-hidden="true">{ "—" }</span>
                <span class="visually-hidden">{ "Not this kind of list" }</span>
            </td>
        },
    }
}

/// Addresses and the domain against each blocklist.
#[function_component(BlocklistGridView)]
pub fn blocklist_grid_view(p: &PictureProps) -> Html {
    let Some(g) = view::blocklist_grid(&p.report) else {
        return html! {};
    };
    let title_id = format!("{}-bl-grid-title", p.scope);
    html! {
        <figure class="picture bl-grid" aria-labelledby={title_id.clone()} data-testid="blocklist-grid">
            <figcaption><h4 id={title_id.clone()}>{ "Blocklists: each address and the domain on each list" }</h4></figcaption>
            <div class="scroll" role="region" aria-labelledby={title_id} tabindex="0">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">{ "Address or domain" }</th>
                            { for g.lists.iter().map(|l| html! { <th scope="col">{ l.clone() }</th> }) }
                        </tr>
                    </thead>
                    <tbody>
                        { for g.rows.iter().map(|(subject, _, cells)| html! {
                            <tr>
                                <th scope="row"><code>{ subject.clone() }</code></th>
                                { for cells.iter().map(cell_view) }
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
        </figure>
    }
}

const DAY: i64 = 86_400;

/// "CN=mx.example.org, O=…" → "mx.example.org"; else the whole subject.
fn short_name(subject: &str) -> String {
    subject
        .split(", ")
        .find_map(|p| p.strip_prefix("CN="))
        .unwrap_or(subject)
        .to_string()
}

/// The certificate chains the server presented, on a time axis from before
/// the leaf's start to after its end, with today and the 30/60-day
/// renewal windows; a table gives the same dates.
#[function_component(CertTimeline)]
pub fn cert_timeline(p: &PictureProps) -> Html {
    let chains = view::certificates(&p.report);
    if chains.is_empty() {
        return html! {};
    }
    let now = unix_time(&p.report.generated_at).unwrap_or(0);
    let title_id = format!("{}-cert-title", p.scope);
    let leaves: Vec<&view::CertLine> = chains.iter().filter_map(|c| c.chain.first()).collect();
    let start = leaves
        .iter()
        .map(|l| l.cert.not_before)
        .min()
        .unwrap_or(now)
        .min(now - 30 * DAY);
    let end = leaves
        .iter()
        .map(|l| l.cert.not_after)
        .max()
        .unwrap_or(now)
        .max(now + 90 * DAY);
    let span = (end - start).max(DAY) as f64;
    const W: f64 = 640.0;
    const LABEL: f64 = 0.0;
    const ROW: f64 = 30.0;
    let x = |t: i64| -> f64 { LABEL + ((t.clamp(start, end) - start) as f64 / span) * (W - LABEL) };
    let rows: Vec<(String, &view::CertLine)> = chains
        .iter()
        .flat_map(|c| c.chain.iter().map(move |l| (c.host.clone(), l)))
        .collect();
    let height = ROW * rows.len() as f64 + 28.0;
    let bars = rows.iter().enumerate().map(|(i, (_, l))| {
        let y = 6.0 + ROW * i as f64;
        let (x0, x1) = (x(l.cert.not_before), x(l.cert.not_after));
        let days_left = (l.cert.not_after - now).div_euclid(DAY);
        let class = if days_left < 0 || days_left < 30 {
            "bar fail"
        } else if days_left < 60 {
            "bar warn"
        } else {
            "bar ok"
        };
        let warn0 = x(l.cert.not_after - 60 * DAY);
        let crit0 = x(l.cert.not_after - 30 * DAY);
        let leaf = l.role == "server certificate";
        html! {
            <g>
                <rect class={class} x={format!("{x0:.1}")} y={format!("{y:.1}")} width={format!("{:.1}", (x1 - x0).max(2.0))} height="18" rx="3" />
                if leaf {
                    <rect class="window warn" x={format!("{warn0:.1}")} y={format!("{y:.1}")} width={format!("{:.1}", (crit0 - warn0).max(0.0))} height="18" />
                    <rect class="window fail" x={format!("{crit0:.1}")} y={format!("{y:.1}")} width={format!("{:.1}", (x1 - crit0).max(0.0))} height="18" />
                }
                <text class="bar-label" x={format!("{:.1}", x0 + 4.0)} y={format!("{:.1}", y + 13.0)}>
                    { short_name(&l.cert.subject) }
                </text>
            </g>
        }
    });
    let xnow = x(now);
    let axis_y = ROW * rows.len() as f64 + 10.0;
    html! {
        <figure class="picture cert-timeline" aria-labelledby={title_id.clone()} data-testid="cert-timeline">
            <figcaption><h4 id={title_id.clone()}>{ "Certificates: validity and renewal" }</h4></figcaption>
            <svg class="timeline" viewBox={format!("0 0 {W} {height:.0}")} preserveAspectRatio="none" aria-hidden="true" focusable="false">
                { for bars }
                <line class="now" x1={format!("{xnow:.1}")} x2={format!("{xnow:.1}")} y1="0" y2={format!("{axis_y:.1}")} />
                <text class="axis" x="2" y={format!("{:.1}", axis_y + 14.0)}>{ rfc3339(start).get(..10).unwrap_or("").to_string() }</text>
                <text class="axis now-label" x={format!("{:.1}", (xnow - 16.0).max(0.0))} y={format!("{:.1}", axis_y + 14.0)}>{ "today" }</text>
                <text class="axis end" x={format!("{:.1}", W - 2.0)} y={format!("{:.1}", axis_y + 14.0)} text-anchor="end">{ rfc3339(end).get(..10).unwrap_or("").to_string() }</text>
            </svg>
            <div class="scroll" role="region" aria-labelledby={title_id} tabindex="0">
            <table class="cert-table">
                <thead>
                    <tr>
                        <th scope="col">{ "Server" }</th>
                        <th scope="col">{ "Certificate" }</th>
                        <th scope="col">{ "Valid from" }</th>
                        <th scope="col">{ "Valid until" }</th>
                        <th scope="col">{ "Days left" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for rows.iter().map(|(host, l)| {
                        let left = (l.cert.not_after - now).div_euclid(DAY);
                        html! {
                            <tr>
                                <td><code>{ host.clone() }</code></td>
                                <td>{ format!("{} ({})", short_name(&l.cert.subject), l.role) }</td>
                                <td>{ rfc3339(l.cert.not_before).get(..10).unwrap_or("").to_string() }</td>
                                <td>{ rfc3339(l.cert.not_after).get(..10).unwrap_or("").to_string() }</td>
                                <td class={classes!("days", (left < 30).then_some("s-fail"), (30..60).contains(&left).then_some("s-warn"))}>
                                    { if left < 0 { format!("expired {} days ago", -left) } else { left.to_string() } }
                                </td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            </div>
        </figure>
    }
}
