//! `--report DIR`: the run as files a browser opens without a server.
//!
//! - `report.json`: the same JSON `--output json` prints.
//! - `allocation.svg`: cluster-wide allocation (requested / allocatable) per resource over
//!   virtual time, one line per resource.
//! - `nodes.svg`: how allocated the nodes are at the end: per resource, how many nodes fall in
//!   each 10% band.
//! - `index.html`: the summary, both plots, the unschedulable reasons, the what-if results,
//!   pods and nodes. Plain HTML and CSS, no script, no network.

use crate::output::{Output, StepOut};
use std::fmt::Write as _;
use std::path::Path;

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// Writes `report.json`, `allocation.svg`, `nodes.svg` and `index.html` into `dir`
/// (created if missing).
///
/// # Errors
/// I/O errors.
pub fn write(dir: &Path, output: &Output) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("report.json"), output.to_json())?;
    std::fs::write(dir.join("allocation.svg"), allocation_svg(&output.timeline))?;
    std::fs::write(dir.join("nodes.svg"), nodes_svg(output))?;
    std::fs::write(dir.join("index.html"), index_html(output))?;
    Ok(())
}

/// Escapes text for HTML and SVG.
#[must_use]
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The resources plotted: those in the last step, in output order.
fn resources(steps: &[StepOut]) -> Vec<String> {
    steps
        .last()
        .map(|s| s.allocation.0.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default()
}

/// Allocation per resource over time, as an SVG line chart (percent of allocatable).
#[must_use]
pub fn allocation_svg(steps: &[StepOut]) -> String {
    let (w, h) = (860.0, 320.0);
    let (left, right, top, bottom) = (56.0, 270.0, 30.0, 46.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"18\" font-size=\"14\" font-weight=\"bold\">Cluster allocation over time \
         (requested / allocatable)</text>\n"
    );
    // A run without a clock (all steps at one instant) is plotted per step.
    let by_time = steps
        .first()
        .zip(steps.last())
        .is_some_and(|(a, b)| b.seconds > a.seconds);
    let xs: Vec<f64> = if by_time {
        steps.iter().map(|s| s.seconds).collect()
    } else {
        (0..steps.len()).map(|i| i as f64).collect()
    };
    let (x0, x1) = (
        xs.first().copied().unwrap_or(0.0),
        xs.last()
            .copied()
            .unwrap_or(1.0)
            .max(xs.first().copied().unwrap_or(0.0) + 1e-9),
    );
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * pw;
    let sy = |p: f64| top + ph - p.clamp(0.0, 100.0) / 100.0 * ph;
    // Grid and axes.
    for pct in (0..=100).step_by(20) {
        let y = sy(f64::from(pct));
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{pct}%</text>",
            left + pw,
            left - 6.0,
            y + 4.0
        );
    }
    if by_time {
        let ticks = 5;
        for i in 0..=ticks {
            let x = x0 + (x1 - x0) * f64::from(i) / f64::from(ticks);
            let label = crate::scenario::format_millis((x * 1000.0).round() as i64);
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                sx(x),
                top + ph + 18.0,
                escape(&label)
            );
        }
    } else {
        // A run without a clock: one tick per step (at most 8 labelled), named by its event.
        let every = steps.len().div_ceil(8).max(1);
        for (i, st) in steps.iter().enumerate().filter(|(i, _)| i % every == 0) {
            let mut label = st
                .events
                .first()
                .cloned()
                .unwrap_or_else(|| format!("step {i}"));
            if label.chars().count() > 28 {
                label = label.chars().take(27).collect::<String>() + "…";
            }
            let anchor = if i == 0 {
                "start"
            } else if i + 1 == steps.len() {
                "end"
            } else {
                "middle"
            };
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
                sx(i as f64),
                top + ph + 18.0,
                escape(&label)
            );
        }
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        left + pw / 2.0,
        h - 8.0,
        if by_time { "virtual time" } else { "step" }
    );
    if steps.is_empty() {
        svg.push_str("</svg>\n");
        return svg;
    }
    for (r, name) in resources(steps).iter().enumerate() {
        let color = COLORS[r % COLORS.len()];
        let mut points = String::new();
        let mut markers = String::new();
        let mut prev: Option<f64> = None;
        for (s, &x) in steps.iter().zip(&xs) {
            let p = s
                .allocation
                .0
                .iter()
                .find(|(k, _)| k == name)
                .map_or(0.0, |(_, a)| a.percent);
            // On a clock, allocation changes at events: draw steps, not slopes.
            if let Some(pp) = prev.filter(|_| by_time) {
                let _ = write!(points, "{:.1},{:.1} ", sx(x), sy(pp));
            }
            if !by_time {
                let _ = write!(
                    markers,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                    sx(x),
                    sy(p)
                );
            }
            let _ = write!(points, "{:.1},{:.1} ", sx(x), sy(p));
            prev = Some(p);
        }
        let _ = writeln!(
            svg,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>{markers}",
            points.trim_end()
        );
        let ly = top + 14.0 + r as f64 * 18.0;
        let last = steps
            .last()
            .and_then(|s| s.allocation.0.iter().find(|(k, _)| k == name))
            .map_or(0.0, |(_, a)| a.percent);
        let _ = writeln!(
            svg,
            "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{color}\" stroke-width=\"3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{} ({last:.1}%)</text>",
            left + pw + 12.0,
            left + pw + 30.0,
            left + pw + 36.0,
            ly + 4.0,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn ratio(requested: Option<&str>, allocatable: Option<&str>) -> Option<f64> {
    let u = sched_core::quantity::Quantity::parse(requested?)
        .ok()?
        .milli_value();
    let a = sched_core::quantity::Quantity::parse(allocatable?)
        .ok()?
        .milli_value();
    (a > 0).then(|| u as f64 * 100.0 / a as f64)
}

/// How many nodes fall in each 10% allocation band, per resource, as an SVG bar chart.
#[must_use]
pub fn nodes_svg(output: &Output) -> String {
    let mut names: Vec<String> = vec!["cpu".into(), "memory".into()];
    for n in &output.nodes {
        for (k, _) in &n.allocatable.0 {
            if k != "pods" && !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    names.push("pods".into());
    // counts[resource][band], band 10 = over 100%.
    let mut counts = vec![[0usize; 11]; names.len()];
    for n in &output.nodes {
        for (r, name) in names.iter().enumerate() {
            let requested = if name == "pods" {
                Some(n.pods.to_string())
            } else {
                n.requested.get(name).map(str::to_string)
            };
            let Some(p) = ratio(requested.as_deref().or(Some("0")), n.allocatable.get(name)) else {
                continue;
            };
            let band = if p > 100.0 {
                10
            } else {
                ((p / 10.0) as usize).min(9)
            };
            counts[r][band.min(10)] += 1;
        }
    }
    let (w, h) = (860.0, 320.0);
    let (left, right, top, bottom) = (56.0, 270.0, 30.0, 46.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    // Whole-number ticks: the axis top is the next multiple of 4 steps.
    let top_count = counts.iter().flatten().copied().max().unwrap_or(0).max(1);
    let tick = top_count.div_ceil(4);
    let max = (tick * 4) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"18\" font-size=\"14\" font-weight=\"bold\">Nodes by allocation at the end \
         ({} nodes)</text>\n",
        output.nodes.len()
    );
    let bands = 11.0;
    let group = pw / bands;
    let bar = (group - 6.0) / names.len() as f64;
    for k in 0..=4 {
        let v = (tick * k) as f64;
        let y = top + ph - v / max * ph;
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}</text>",
            left + pw,
            left - 6.0,
            y + 4.0,
            v
        );
    }
    for b in 0..11 {
        let gx = left + group * b as f64;
        let label = if b == 10 {
            ">100%".to_string()
        } else {
            format!("{}–{}%", b * 10, b * 10 + 10)
        };
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
            gx + group / 2.0,
            top + ph + 16.0,
            escape(&label)
        );
        for (r, per_band) in counts.iter().enumerate() {
            let c = per_band[b];
            if c == 0 {
                continue;
            }
            let bh = c as f64 / max * ph;
            let _ = writeln!(
                svg,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{c} node(s)</title></rect>",
                gx + 3.0 + bar * r as f64,
                top + ph - bh,
                bar.max(1.0),
                COLORS[r % COLORS.len()]
            );
        }
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">requested / allocatable (nodes per band)</text>",
        left + pw / 2.0,
        h - 8.0
    );
    for (r, name) in names.iter().enumerate() {
        let ly = top + 14.0 + r as f64 * 18.0;
        let _ = writeln!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"14\" height=\"10\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            left + pw + 12.0,
            ly - 6.0,
            COLORS[r % COLORS.len()],
            left + pw + 32.0,
            ly + 4.0,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}.num{text-align:right}.bad{color:#b00020}.ok{color:#1b7f1b}\
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1.2em;min-width:7em}\
.card b{display:block;font-size:1.6em}img{max-width:100%;border:1px solid #eee}code{background:#f4f4f4;padding:0 .2em}";

/// The report's `index.html`.
#[must_use]
pub fn index_html(o: &Output) -> String {
    let s = &o.summary;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Placer simulation report</title>\
         <style>{STYLE}</style></head><body>\n<h1>Placer simulation report</h1>\n"
    );
    let _ = writeln!(h, "<h2 id=\"summary\">Summary</h2><div class=\"cards\">");
    for (label, value, class) in [
        ("pods", s.pods.to_string(), ""),
        ("scheduled", s.scheduled.to_string(), "ok"),
        (
            "unschedulable",
            s.unschedulable.to_string(),
            if s.unschedulable > 0 { "bad" } else { "ok" },
        ),
        ("nodes", s.nodes.to_string(), ""),
        ("preemptions", s.preemptions.to_string(), ""),
        ("evictions", s.evictions.to_string(), ""),
        ("finished", s.finished.to_string(), ""),
        ("deleted", s.deleted.to_string(), ""),
        ("virtual time", s.end.clone(), ""),
    ] {
        let _ = write!(
            h,
            "<div class=\"card\"><b class=\"{class}\">{}</b>{label}</div>",
            escape(&value)
        );
    }
    let _ = writeln!(
        h,
        "</div><p>Seed {} — the same input and seed reproduce this report byte for byte. \
         Scheduling cycles run: {}. Raw data: <a href=\"report.json\">report.json</a>.</p>",
        s.seed, s.attempts
    );
    let _ = writeln!(h, "<p>{}</p>", escape(&s.loaded_text()));
    if !o.added_nodes.is_empty() {
        let _ = writeln!(
            h,
            "<p>Nodes added before the run: {}.</p>",
            escape(&o.added_nodes.join(", "))
        );
    }
    if let Some(p) = &o.plan {
        let _ = writeln!(
            h,
            "<h2 id=\"plan\">Plan: {} nodes</h2>",
            escape(&p.template)
        );
        match p.nodes {
            Some(n) => {
                let _ = writeln!(
                    h,
                    "<p class=\"ok\"><b>{n}</b> node(s) of template <code>{}</code> make every pending pod schedulable.</p>",
                    escape(&p.template)
                );
            }
            None => {
                let _ = writeln!(
                    h,
                    "<p class=\"bad\">No number of <code>{}</code> nodes makes every pending pod schedulable. {}</p>",
                    escape(&p.template),
                    escape(p.message.as_deref().unwrap_or_default())
                );
                if let Some(k) = p.for_the_rest {
                    let _ = writeln!(
                        h,
                        "<p>{k} node(s) make every other pending pod schedulable.</p>"
                    );
                }
                reasons_table(&mut h, &p.blockers, "on an empty template node");
            }
        }
        let probes: Vec<String> = p
            .probes
            .iter()
            .map(|x| format!("{} → {}", x.nodes, x.unschedulable))
            .collect();
        let _ = writeln!(
            h,
            "<p>Counts tried (nodes → pods left unschedulable): {}</p>",
            escape(&probes.join(", "))
        );
    }
    for (i, d) in o.scenario_drains.iter().enumerate() {
        drain_html(&mut h, d, &format!("scenario-drain-{i}"));
    }
    if let Some(d) = &o.drain {
        drain_html(&mut h, d, "drain");
    }
    let _ = writeln!(
        h,
        "<h2 id=\"plots\">Allocation</h2>\n<p><img id=\"allocation-plot\" src=\"allocation.svg\" alt=\"cluster allocation per resource over time\"></p>\n\
         <p><img id=\"nodes-plot\" src=\"nodes.svg\" alt=\"nodes by allocation band per resource\"></p>"
    );
    let _ = writeln!(
        h,
        "<h2 id=\"unschedulable\">Unschedulable pods, by reason</h2>"
    );
    if o.unschedulable.is_empty() {
        h.push_str("<p class=\"ok\">Every pod found a node.</p>\n");
    } else {
        reasons_table(&mut h, &o.unschedulable, "");
    }
    if o.timeline.len() > 2 {
        let _ = writeln!(
            h,
            "<h2 id=\"timeline\">Timeline</h2><table><tr><th>time</th><th>events</th><th>scheduled</th><th>pending</th>\
             <th>unschedulable</th><th>running</th><th>allocation</th></tr>"
        );
        for st in o.timeline.iter().take(500) {
            let alloc: Vec<String> = st
                .allocation
                .0
                .iter()
                .map(|(k, a)| format!("{k} {:.0}%", a.percent))
                .collect();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td>{}</td></tr>",
                escape(&st.time),
                escape(&st.events.join("; ")),
                st.scheduled,
                st.pending,
                st.unschedulable,
                st.running,
                escape(&alloc.join(", "))
            );
        }
        h.push_str("</table>\n");
    }
    let _ = writeln!(
        h,
        "<h2 id=\"nodes\">Nodes</h2><table><tr><th>node</th><th>pods</th><th>requested</th><th>allocatable</th></tr>"
    );
    for n in o.nodes.iter().take(1000) {
        let q = |q: &crate::output::Quantities| {
            q.0.iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            h,
            "<tr><td>{}{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&n.node),
            if n.unschedulable { " (cordoned)" } else { "" },
            n.pods,
            escape(&q(&n.requested)),
            escape(&q(&n.allocatable))
        );
    }
    h.push_str("</table>\n");
    if o.nodes.len() > 1000 {
        let _ = writeln!(
            h,
            "<p>… and {} more in report.json.</p>",
            o.nodes.len() - 1000
        );
    }
    let _ = writeln!(
        h,
        "<h2 id=\"pods\">Pods</h2><table><tr><th>pod</th><th>status</th><th>node</th></tr>"
    );
    for p in o.pods.iter().take(1000) {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&p.pod),
            escape(
                &serde_json::to_value(p.status)
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .unwrap_or_default()
            ),
            escape(p.node.as_deref().unwrap_or("-"))
        );
    }
    h.push_str("</table>\n");
    if o.pods.len() > 1000 {
        let _ = writeln!(
            h,
            "<p>… and {} more in report.json.</p>",
            o.pods.len() - 1000
        );
    }
    h.push_str("</body></html>\n");
    h
}

fn reasons_table(h: &mut String, groups: &[crate::output::ReasonGroup], what: &str) {
    let _ = writeln!(
        h,
        "<table><tr><th>pods</th><th>reason {what}</th><th>which</th></tr>"
    );
    for g in groups {
        let mut pods = g
            .pods
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if g.pods.len() > 20 {
            let _ = write!(pods, " and {} more", g.pods.len() - 20);
        }
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            g.count,
            escape(&g.message),
            escape(&pods)
        );
    }
    h.push_str("</table>\n");
}

/// One drain: what moved where, what blocked it and what was left, each with why.
fn drain_html(h: &mut String, d: &crate::output::DrainOut, id: &str) {
    let at =
        d.at.as_ref()
            .map(|t| format!(" at {}", escape(t)))
            .unwrap_or_default();
    let _ = writeln!(
        h,
        "<h2 id=\"{id}\">Drain of {}{at}</h2><p class=\"{}\">{}: {} pod(s) evicted in {}, {} placed elsewhere, {} without a node, {} blocking, {} left in place.</p>",
        escape(&d.nodes.join(", ")),
        if d.ok { "ok" } else { "bad" },
        if d.ok { "Possible" } else { "Not possible" },
        d.evicted,
        escape(&d.duration),
        d.rescheduled,
        d.stranded,
        d.blocked.len(),
        d.left.len()
    );
    if !d.pods.is_empty() {
        let _ = writeln!(
            h,
            "<table><tr><th>pod</th><th>from</th><th>evicted at</th><th>to, or why not</th></tr>"
        );
        for p in &d.pods {
            let to = match (&p.node, &p.message) {
                (Some(n), _) => escape(n),
                (None, m) => format!(
                    "<span class=\"bad\">{}</span>",
                    escape(m.as_deref().unwrap_or("nowhere"))
                ),
            };
            let refused = if p.refusals > 0 {
                format!(" (after {} PDB refusal(s))", p.refusals)
            } else {
                String::new()
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}{refused}</td><td>{to}</td></tr>",
                escape(&p.pod),
                escape(&p.from),
                escape(&p.evicted_at)
            );
        }
        h.push_str("</table>\n");
    }
    for (title, list) in [
        ("Blocking the drain", &d.blocked),
        ("Left in place", &d.left),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(
            h,
            "<p>{title}:</p><table><tr><th>pod</th><th>node</th><th>why</th></tr>"
        );
        for b in list {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&b.pod),
                escape(&b.node),
                escape(&b.reason)
            );
        }
        h.push_str("</table>\n");
    }
}
