//! The report as one self-contained HTML page: inline CSS, inline SVG charts drawn
//! here, no script, no external font, image or style sheet, so it opens the same
//! offline, from a mail attachment or under a strict Content-Security-Policy.
//!
//! Every value from the logs is HTML-escaped, and shown in the printable byte notation
//! of the text report (a newline in a path is `\x0a`, never a line break).

use std::fmt::Write as _;

use super::entry::printable;
use super::report::{
    percent, range_text, severity_counts, thousands, Report, Row, BURST_FACTOR, BURST_MIN, RATE_FLOOR, RATE_MIN_COUNT,
};
use super::time;

const EVENT_COLOR: &str = "#4c78a8";
const DENIAL_COLOR: &str = "#e45756";

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6476; --line: #e3e7ee; --card: #ffffff; --page: #f4f6f9;
        --event: #4c78a8; --denial: #e45756; --accent: #f2a541; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { margin: 0; font-size: 26px; letter-spacing: -0.01em; }
header p { margin: 4px 0 0; color: var(--muted); }
h2 { font-size: 17px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 18px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-top: 18px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-top: 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card .value { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 13px; }
.card.alert { border-color: var(--denial); box-shadow: inset 4px 0 0 var(--denial); }
.card.warn { border-color: var(--accent); box-shadow: inset 4px 0 0 var(--accent); }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 18px; }
.grid > section { min-width: 0; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } }
svg { display: block; width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
svg .axis { fill: var(--muted); font-size: 11px; }
.legend { display: flex; gap: 16px; color: var(--muted); font-size: 13px; margin-bottom: 6px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; background: var(--c); }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
.none { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; background: #fde8e7; color: #a52a24; }
.badge.warn { background: #fdf0dc; color: #8a5a12; }
.badge.ok { background: #e3f4e8; color: #23663a; }
footer { color: var(--muted); font-size: 13px; margin-top: 22px; }
"#;

/// Escapes text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// A log value for the page: printable, then escaped.
fn value(text: &str) -> String {
    esc(&printable(text))
}

/// `text` cut to `max` characters, keeping its end (a path's file name matters most).
fn tail(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let kept: String = text.chars().skip(count - (max - 1)).collect();
    format!("…{kept}")
}

/// A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above `max`.
fn nice_ceiling(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= max {
                return step * factor;
            }
        }
        step *= 10;
    }
}

/// Events over time: a column per bucket, the denied part in red on top of the rest.
fn timeline_chart(r: &Report) -> String {
    let t = &r.timeline;
    if t.counts.is_empty() {
        return "<p class=\"none\">No events in the range.</p>".to_string();
    }
    let (width, height, left, bottom, top) = (1000.0, 240.0, 48.0, 28.0, 10.0);
    let plot_w = width - left - 8.0;
    let plot_h = height - bottom - top;
    let max = nice_ceiling(t.counts.iter().map(|c| c.0).max().unwrap_or(1).max(1));
    let slot = plot_w / t.counts.len() as f64;
    let bar = (slot * 0.8).max(1.0);
    let y = |count: u64| top + plot_h - plot_h * count as f64 / max as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg viewBox="0 0 {width} {height}" role="img" aria-label="Events over time"><title>Events over time, {} per column</title>"#,
        time::format_span(t.bucket)
    );
    for step in 0..=4 {
        let count = max * step / 4;
        let at = y(count);
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{at:.1}" y2="{at:.1}" stroke="#e3e7ee"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            width - 8.0,
            left - 6.0,
            at + 4.0,
            thousands(count)
        );
    }
    let burst_minutes: Vec<i64> = r.bursts.iter().map(|b| b.minute).collect();
    let label_every = (t.counts.len() / 8).max(1);
    for (index, (events, denials)) in t.counts.iter().enumerate() {
        let x = left + slot * index as f64 + (slot - bar) / 2.0;
        let from = t.start + t.bucket * index as i64;
        let has_burst = burst_minutes.iter().any(|m| *m >= from && *m < from + t.bucket);
        let _ = write!(
            svg,
            "<g><title>{} – {}: {} events, {} denied{}</title>",
            time::format_minute(from),
            time::format_minute(from + t.bucket),
            thousands(*events),
            thousands(*denials),
            if has_burst { " (burst)" } else { "" }
        );
        if *events > 0 {
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="{EVENT_COLOR}"/>"#,
                y(*events),
                y(0) - y(*events)
            );
        }
        if *denials > 0 {
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="{DENIAL_COLOR}"/>"#,
                y(*denials),
                (y(0) - y(*denials)).max(1.5)
            );
        }
        if has_burst {
            let _ = write!(
                svg,
                r##"<path d="M{:.1} {:.1} l5 -8 h-10 z" fill="#f2a541"/>"##,
                x + bar / 2.0,
                y(*events) - 3.0
            );
        }
        svg.push_str("</g>");
        if index % label_every == 0 {
            let label = if t.bucket >= time::MICROS_PER_DAY {
                time::format_minute(from)[..10].to_string()
            } else {
                time::format_minute(from)[5..].to_string()
            };
            let _ = write!(svg, r#"<text class="axis" x="{x:.1}" y="{}">{label}</text>"#, height - 8.0);
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars: one row per name, events in blue with the denied part in red (or
/// denials alone when `denials_only`).
fn bar_chart(rows: &[Row], denials_only: bool, label: &str) -> String {
    if rows.is_empty() {
        return "<p class=\"none\">None.</p>".to_string();
    }
    let (width, row_h, name_w, value_w) = (600.0, 26.0, 270.0, 60.0);
    let plot_w = width - name_w - value_w;
    let total = |row: &Row| if denials_only { row.denials } else { row.events };
    let max = rows.iter().map(total).max().unwrap_or(1).max(1) as f64;
    let height = row_h * rows.len() as f64 + 4.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg viewBox="0 0 {width} {height}" role="img" aria-label="{}"><title>{}</title>"#,
        esc(label),
        esc(label)
    );
    for (index, row) in rows.iter().enumerate() {
        let y = 2.0 + row_h * index as f64;
        let name = printable(&row.name);
        let _ = write!(
            svg,
            "<g><title>{}: {} events, {} denied</title><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            esc(&name),
            thousands(row.events),
            thousands(row.denials),
            name_w - 8.0,
            y + 17.0,
            esc(&tail(&name, 38))
        );
        let full = plot_w * total(row) as f64 / max;
        let color = if denials_only { DENIAL_COLOR } else { EVENT_COLOR };
        let _ = write!(
            svg,
            r#"<rect x="{name_w}" y="{:.1}" width="{:.1}" height="18" rx="3" fill="{color}"/>"#,
            y + 3.0,
            full.max(1.5)
        );
        if !denials_only && row.denials > 0 {
            let part = plot_w * row.denials as f64 / max;
            let _ = write!(
                svg,
                r#"<rect x="{name_w}" y="{:.1}" width="{:.1}" height="18" rx="3" fill="{DENIAL_COLOR}"/>"#,
                y + 3.0,
                part.max(1.5)
            );
        }
        let _ = write!(
            svg,
            r#"<text class="axis" x="{:.1}" y="{:.1}">{}</text></g>"#,
            name_w + full.max(1.5) + 6.0,
            y + 17.0,
            thousands(total(row))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A table whose first `text_columns` columns are names (monospace, left) and the rest
/// numbers (right-aligned). Cells arrive escaped.
/// The note under a list `--top` cut.
fn more(count: usize) -> String {
    if count == 0 {
        return String::new();
    }
    format!("<p class=\"none\">and {} more (--top 0 lists all)</p>", thousands(count as u64))
}

fn table(out: &mut String, headers: &[&str], text_columns: usize, rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        out.push_str("<p class=\"none\">None.</p>");
        return;
    }
    out.push_str("<table><thead><tr>");
    for (index, header) in headers.iter().enumerate() {
        let class = if index < text_columns { "" } else { " class=\"num\"" };
        let _ = write!(out, "<th{class}>{}</th>", esc(header));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (index, cell) in row.iter().enumerate() {
            let class = if index < text_columns { "name" } else { "num" };
            let _ = write!(out, "<td class=\"{class}\">{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn card(out: &mut String, value: &str, label: &str, class: &str) {
    let _ = write!(
        out,
        "<div class=\"card {class}\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
        esc(value),
        esc(label)
    );
}

/// Horizontal bars of one measure, in the style of `bar_chart`: (name, value, the
/// value as shown).
fn measure_chart(rows: &[(String, u64, String)], label: &str) -> String {
    if rows.is_empty() {
        return "<p class=\"none\">None.</p>".to_string();
    }
    let (width, row_h, name_w, value_w) = (600.0, 26.0, 270.0, 90.0);
    let plot_w = width - name_w - value_w;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1) as f64;
    let height = row_h * rows.len() as f64 + 4.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg viewBox="0 0 {width} {height}" role="img" aria-label="{}"><title>{}</title>"#,
        esc(label),
        esc(label)
    );
    for (index, (name, amount, shown)) in rows.iter().enumerate() {
        let y = 2.0 + row_h * index as f64;
        let name = printable(name);
        let full = (plot_w * *amount as f64 / max).max(1.5);
        let _ = write!(
            svg,
            "<g><title>{}: {}</title><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{name_w}\" y=\"{:.1}\" width=\"{full:.1}\" height=\"18\" rx=\"3\" fill=\"{EVENT_COLOR}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            esc(&name),
            esc(shown),
            name_w - 8.0,
            y + 17.0,
            esc(&tail(&name, 38)),
            y + 3.0,
            name_w + full + 6.0,
            y + 17.0,
            esc(shown)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The telemetry's section (resources.rs): hot spots, run-queue latency, traffic,
/// drops by reason, anomalies.
fn resources(out: &mut String, r: &super::resources::Resources) {
    use super::resources::{bytes, duration_ns, SPIKE_FACTOR, SPIKE_MIN, STORM_RATE};
    out.push_str("<section><h2>Resources</h2>");
    if r.is_empty() {
        out.push_str("<p class=\"none\">No telemetry record: the agent's <code>[telemetry]</code> module writes them.</p></section>");
        return;
    }
    let _ = write!(out, "<p class=\"note\">{} resource records.</p></section>", thousands(r.records));
    let cpu: Vec<_> = r.by_cpu.iter().map(|u| (u.name.clone(), u.cpu_ns, duration_ns(u.cpu_ns))).collect();
    let switches: Vec<_> =
        r.by_switches.iter().map(|u| (u.name.clone(), u.switches(), thousands(u.switches()))).collect();
    let _ = write!(
        out,
        "<div class=\"grid\"><section><h2>CPU time</h2>{}</section><section><h2>Context switches</h2>{}</section></div>",
        measure_chart(&cpu, "CPU time by process"),
        measure_chart(&switches, "Context switches by process")
    );
    let runq: Vec<_> =
        r.by_runq.iter().map(|u| (u.name.clone(), u.runq_wait_ns, duration_ns(u.runq_wait_ns))).collect();
    let hist: Vec<_> = r.runq_hist.iter().map(|(label, n)| (label.clone(), *n, thousands(*n))).collect();
    let latency = match (&r.runq_p50, &r.runq_p99) {
        (Some(p50), Some(p99)) => format!("<p class=\"note\">Median {}, 99th percentile {}.</p>", esc(p50), esc(p99)),
        _ => String::new(),
    };
    let _ = write!(
        out,
        "<div class=\"grid\"><section><h2>Run-queue wait</h2>{}</section><section><h2>Run-queue latency</h2>{latency}{}</section></div>",
        measure_chart(&runq, "Run-queue wait by process"),
        measure_chart(&hist, "Waits by latency")
    );
    out.push_str("<section><h2>Traffic by process</h2>");
    let traffic = r
        .by_traffic
        .iter()
        .map(|u| {
            vec![
                value(&u.name),
                esc(&bytes(u.tx_bytes)),
                esc(&bytes(u.rx_bytes)),
                thousands(u.tx_packets),
                thousands(u.rx_packets),
            ]
        })
        .collect();
    table(out, &["process", "sent", "received", "packets sent", "packets received"], 1, traffic);
    out.push_str("</section>");
    let drops: Vec<_> = r.drops.iter().map(|(reason, n)| (reason.clone(), *n, thousands(*n))).collect();
    let _ = write!(out, "<section><h2>Drops by reason</h2>{}", measure_chart(&drops, "Packet drops by reason"));
    if r.forwarded > 0 {
        let _ = write!(out, "<p class=\"note\">{} packets forwarded.</p>", thousands(r.forwarded));
    }
    if r.overflows > 0 {
        let _ = write!(
            out,
            "<p class=\"note\">The kernel's tables were full in {} interval(s): some counts are missing.</p>",
            r.overflows
        );
    }
    let _ = write!(
        out,
        "</section><section><h2>Resource anomalies</h2><p class=\"note\">A switch storm: {} switches a second \
         over an interval. A drop spike: {}x the reason's median interval, and at least {} drops.</p>",
        thousands(STORM_RATE),
        SPIKE_FACTOR,
        SPIKE_MIN
    );
    let rows = r.anomalies.iter().map(|a| vec![esc(&time::format_short(a.time)), esc(&a.what)]).collect();
    table(out, &["time", "what"], 2, rows);
    out.push_str("</section>");
}

/// The inventory's sections: the findings of the last `inventory` record, and the
/// `drift` records (most severe first).
fn risks_and_drift(out: &mut String, r: &Report) {
    out.push_str("<section><h2>Risks</h2>");
    match &r.risks {
        None => out.push_str(
            "<p class=\"none\">No inventory record: the agent's <code>[inventory]</code> module writes them.</p>",
        ),
        Some(risks) => {
            let _ = write!(
                out,
                "<p class=\"note\">The last inventory, {} UTC: {}.</p>",
                esc(&time::format_short(risks.time)),
                esc(&severity_counts(&risks.findings))
            );
            let rows = risks
                .listed
                .iter()
                .map(|risk| {
                    let (severity, rest) = risk.split_once(' ').unwrap_or(("", risk));
                    let (id, title) = rest.split_once(": ").unwrap_or((rest, ""));
                    vec![badge(severity), value(id), esc(title)]
                })
                .collect();
            table(out, &["severity", "finding", "title"], 3, rows);
            if risks.omitted > 0 {
                let _ = write!(
                    out,
                    "<p class=\"none\">and {} more (<code>safeguard risk</code> lists all)</p>",
                    thousands(risks.omitted)
                );
            }
        }
    }
    out.push_str("</section>");
    let risky: u64 = r.drift_by_severity.values().sum();
    let _ = write!(
        out,
        "<section><h2>Drift</h2><p class=\"note\">{} change{} between inventories, {} adding risk ({}).</p>",
        thousands(r.drift_total),
        if r.drift_total == 1 { "" } else { "s" },
        thousands(risky),
        esc(&severity_counts(&r.drift_by_severity))
    );
    let rows = r
        .drift
        .iter()
        .map(|row| {
            vec![
                esc(&time::format_short(row.time)),
                row.severity.as_deref().map_or_else(|| "-".to_string(), badge),
                esc(&row.change),
                esc(&row.asset),
                value(&row.item),
                row.finding.as_deref().map_or_else(String::new, value),
            ]
        })
        .collect();
    table(out, &["time", "severity", "change", "asset", "item", "finding"], 6, rows);
    out.push_str(&more(r.more.drift));
    out.push_str("</section>");
}

/// The detect module's section (intrusions.rs): per host a verdict, the timeline of
/// detections, the process trees involved; one line when there is no detection.
fn intrusions(out: &mut String, i: &super::intrusions::Intrusions) {
    use super::intrusions::Verdict;
    out.push_str("<section><h2>Intrusions</h2>");
    if i.is_empty() {
        let _ = write!(out, "<p class=\"none\">{}.</p></section>", esc(&i.empty_line()));
        return;
    }
    let _ = write!(
        out,
        "<p class=\"note\">{} detection{}: {}.",
        thousands(i.total),
        if i.total == 1 { "" } else { "s" },
        esc(&severity_counts(&i.by_severity))
    );
    if !i.counted.is_empty() {
        let _ = write!(out, " The agent counted (stats): {}.", esc(&severity_counts(&i.counted)));
    }
    out.push_str(
        " Compromised: a high or critical detection not blocked or killed, or one process tree with two or more \
         different detections. Suspicious: any other detection.</p>",
    );
    let hosts = i
        .hosts
        .iter()
        .map(|host| {
            let verdict = match host.verdict {
                Some(Verdict::Compromised) => "<span class=\"badge\">compromised</span>".to_string(),
                Some(Verdict::Suspicious) => "<span class=\"badge warn\">suspicious</span>".to_string(),
                Some(Verdict::Clean) => "<span class=\"badge ok\">clean</span>".to_string(),
                None => "-".to_string(),
            };
            let name = if host.container { format!("{} (container)", value(&host.name)) } else { value(&host.name) };
            let reasons = host.reasons.iter().map(|r| format!("<div>{}</div>", value(r))).collect::<String>();
            vec![verdict, name, reasons, thousands(host.detections)]
        })
        .collect();
    out.push_str("<h3>Hosts</h3>");
    table(out, &["verdict", "host", "why", "detections"], 3, hosts);
    out.push_str("<h3>Timeline</h3>");
    let rows = i
        .timeline
        .iter()
        .map(|d| {
            let count = if d.count > 1 { format!(" x{}", thousands(d.count)) } else { String::new() };
            let pid = d.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            vec![
                esc(&time::format_short(d.time)),
                badge(&d.severity),
                esc(&d.action),
                format!("{}{count}", value(&d.name)),
                value(&d.technique),
                value(&d.host),
                format!("{}{pid}", value(&d.ancestry())),
                value(&d.evidence),
            ]
        })
        .collect();
    table(
        out,
        &[
            "time",
            "severity",
            "action",
            "detection",
            "technique",
            "host",
            "process (grandparent › parent › it)",
            "evidence",
        ],
        8,
        rows,
    );
    out.push_str(&more(i.more_timeline));
    out.push_str(
        "<h3>Process trees</h3><p class=\"note\">Detections whose subjects are linked by pid and parent pid.</p>",
    );
    let trees = i
        .trees
        .iter()
        .map(|tree| {
            let subjects = tree
                .subjects
                .iter()
                .map(|(pid, ancestry)| {
                    let pid = pid.map_or_else(|| "?".to_string(), |p| p.to_string());
                    format!("<div>pid {pid}: {}</div>", value(ancestry))
                })
                .collect::<String>();
            let detections = tree
                .detections
                .iter()
                .map(|(name, d)| {
                    let actions: Vec<&str> = d.actions.iter().map(String::as_str).collect();
                    format!(
                        "<div>{} x{} ({}, {}, {})</div>",
                        value(name),
                        thousands(d.count),
                        value(&d.technique),
                        badge(&d.severity),
                        esc(&actions.join("/"))
                    )
                })
                .collect::<String>();
            vec![
                value(&tree.host),
                format!("{} – {}", esc(&time::format_short(tree.first)), esc(&time::format_short(tree.last))),
                subjects,
                detections,
            ]
        })
        .collect();
    table(out, &["host", "from – to", "subjects", "detections"], 4, trees);
    out.push_str(&more(i.more_trees));
    out.push_str("</section>");
}

/// A severity as a badge (critical and high in the denial colour).
fn badge(severity: &str) -> String {
    match severity {
        "critical" | "high" => format!("<span class=\"badge\">{}</span>", esc(severity)),
        _ => esc(severity),
    }
}

/// The whole page.
pub fn render(r: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let range = range_text(r);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>safeguard report — {}</title><style>{STYLE}</style></head><body><main>",
        esc(&range)
    );
    let _ = write!(out, "<header><h1>safeguard report</h1><p>{}</p>", esc(&range));
    let files = r.read.files.iter().map(|f| value(&f.display().to_string())).collect::<Vec<_>>().join(", ");
    let _ = write!(
        out,
        "<p class=\"note\">{} records from {}",
        thousands(r.records),
        if files.is_empty() { "no files".to_string() } else { files }
    );
    if r.malformed > 0 {
        let _ = write!(out, "; {} malformed line{} skipped", r.malformed, if r.malformed == 1 { "" } else { "s" });
    }
    out.push_str("</p></header>");
    intrusions(&mut out, &r.intrusions);

    let novel = r.novelty.as_ref().map_or(0, |n| n.executables.len() + n.destinations.len());
    out.push_str("<div class=\"cards\">");
    card(&mut out, &thousands(r.events), "events", "");
    card(
        &mut out,
        &thousands(r.denials),
        &format!("denials ({})", percent(r.denials, r.events)),
        if r.denials > 0 { "alert" } else { "" },
    );
    card(&mut out, &novel.to_string(), "first-seen executables and destinations", if novel > 0 { "warn" } else { "" });
    card(
        &mut out,
        &r.unusual.len().to_string(),
        "processes with unusual denial rates",
        if r.unusual.is_empty() { "" } else { "warn" },
    );
    card(&mut out, &r.bursts.len().to_string(), "bursts", if r.bursts.is_empty() { "" } else { "warn" });
    card(&mut out, &thousands(r.lost), "events lost by the agent", if r.lost > 0 { "alert" } else { "" });
    out.push_str("</div>");

    let _ = write!(
        out,
        "<section><h2>Events over time</h2><div class=\"legend\"><span style=\"--c:{EVENT_COLOR}\">events</span>\
         <span style=\"--c:{DENIAL_COLOR}\">denied (MONITOR, BLOCKED)</span><span style=\"--c:#f2a541\">burst</span></div>{}\
         <p class=\"note\">{} per column. Modules: {}. Agent: {} start{}, {} stop{}, enforcement {}.</p></section>",
        timeline_chart(r),
        time::format_span(r.timeline.bucket),
        esc(&r.by_module.iter().map(|(m, c)| format!("{m} {}", thousands(*c))).collect::<Vec<_>>().join(", ")),
        r.agent_starts,
        if r.agent_starts == 1 { "" } else { "s" },
        r.agent_stops,
        if r.agent_stops == 1 { "" } else { "s" },
        esc(r.enforcement.as_deref().unwrap_or("unknown")),
    );

    let _ = write!(
        out,
        "<div class=\"grid\"><section><h2>Top talkers</h2>{}</section><section><h2>Denials by rule</h2>{}</section></div>",
        bar_chart(&r.processes, false, "Busiest processes") + &more(r.more.processes),
        bar_chart(&r.denials_by_rule, true, "Denials by rule") + &more(r.more.denials_by_rule)
    );
    let _ = write!(
        out,
        "<div class=\"grid\"><section><h2>Destinations</h2>{}</section><section><h2>Denials by process</h2>{}</section></div>",
        bar_chart(&r.destinations, false, "Busiest destinations") + &more(r.more.destinations),
        bar_chart(&r.denials_by_process, true, "Denials by process") + &more(r.more.denials_by_process)
    );
    let rows = |rows: &[Row]| -> Vec<Vec<String>> {
        rows.iter().map(|row| vec![value(&row.name), thousands(row.events), thousands(row.denials)]).collect()
    };
    out.push_str("<div class=\"grid\"><section><h2>Files</h2>");
    table(&mut out, &["path", "events", "denied"], 1, rows(&r.files));
    out.push_str(&more(r.more.files));
    out.push_str("</section><section><h2>Users</h2>");
    table(&mut out, &["uid", "events", "denied"], 1, rows(&r.users));
    out.push_str(&more(r.more.users));
    out.push_str("</section></div>");

    out.push_str("<section><h2>Anomalies</h2>");
    match &r.novelty {
        None => out.push_str("<p class=\"none\">First seen: no baseline (no records before the examined part).</p>"),
        Some(novelty) => {
            let _ = write!(
                out,
                "<p class=\"note\">First seen after {} compared with the baseline from {} ({} events).</p>",
                esc(&time::format_short(novelty.split)),
                esc(&time::format_short(novelty.baseline_from)),
                thousands(novelty.baseline_records)
            );
            for (title, found) in
                [("New executables", &novelty.executables), ("New destinations", &novelty.destinations)]
            {
                let _ = write!(out, "<h3>{title}</h3>");
                let rows = found
                    .iter()
                    .map(|seen| {
                        let name = if seen.denials > 0 {
                            format!("{} <span class=\"badge\">denied</span>", value(&seen.name))
                        } else {
                            value(&seen.name)
                        };
                        vec![
                            name,
                            esc(&time::format_short(seen.first)),
                            thousands(seen.events),
                            thousands(seen.denials),
                        ]
                    })
                    .collect();
                table(&mut out, &["name", "first seen", "events", "denied"], 2, rows);
            }
        }
    }
    let _ = write!(
        out,
        "<h3>Unusual denial rates</h3><p class=\"note\">At least {} of its events denied (the median share plus 3 scaled MADs, \
         at least {}), with {} or more denials.</p>",
        percent((r.rate_threshold * 1000.0).round() as u64, 1000),
        percent((RATE_FLOOR * 100.0) as u64, 100),
        RATE_MIN_COUNT
    );
    let unusual = r
        .unusual
        .iter()
        .map(|row| {
            vec![value(&row.name), thousands(row.events), thousands(row.denials), percent(row.denials, row.events)]
        })
        .collect();
    table(&mut out, &["process", "events", "denied", "share"], 1, unusual);
    let _ = write!(
        out,
        "<h3>Bursts</h3><p class=\"note\">Minutes with at least {} events: {} times the median minute ({}), and at least {}.</p>",
        r.burst_threshold(),
        BURST_FACTOR,
        r.minute_median,
        BURST_MIN
    );
    let bursts = r
        .bursts
        .iter()
        .map(|burst| {
            vec![
                esc(&time::format_minute(burst.minute)),
                value(&burst.top_process),
                thousands(burst.events),
                format!("{:.0}%", burst.top_share * 100.0),
            ]
        })
        .collect();
    table(&mut out, &["minute", "mostly", "events", "share"], 2, bursts);
    out.push_str("</section>");

    risks_and_drift(&mut out, r);
    resources(&mut out, &r.resources);

    let _ = write!(
        out,
        "<footer>Generated by safeguard {} (<code>safeguard report --html</code>). Times are UTC. \
         Names from the logs are shown as logged: bytes that are not UTF-8 as <code>\\xNN</code>, a backslash as <code>\\\\</code>.</footer>",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("</main></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures;
    use crate::analysis::read::Diagnostics;
    use crate::analysis::report::analyse;

    fn page() -> String {
        let mut diag = Diagnostics::captured();
        let log = fixtures::dir().join("scenario-json/safeguard.log");
        render(&analyse(&[log], None, None, 100, &|_| None, &mut diag))
    }

    /// Cut lists say how many rows they left out, as in the text report.
    #[test]
    fn cut_lists_say_and_more() {
        let mut diag = Diagnostics::captured();
        let log = fixtures::dir().join("scenario-json/safeguard.log");
        let report = analyse(&[log], None, None, 1, &|_| None, &mut diag);
        assert!(report.more.processes > 0 && report.more.files > 0);
        let page = render(&report);
        let note = format!("<p class=\"none\">and {} more (--top 0 lists all)</p>", report.more.files);
        assert!(page.contains(&note), "{note}");
        assert!(!page_of_all().contains("more (--top 0 lists all)"));
        let text = crate::analysis::report::render_text(&report);
        assert!(text.contains(&format!("\n  and {} more (--top 0 lists all)\n", report.more.processes)), "{text}");
    }

    /// The agent's telemetry records, as its writer puts them in the log (JSON and text
    /// alike), make the Resources section; the markup stays well formed.
    #[test]
    fn resources_from_telemetry_records() {
        use crate::logging::{write_json, write_text};
        use crate::telemetry::counts::{drop_record, resource_record, runq_record, Counts, Identity, Ranking};
        let who = Identity { pid: 42, comm: b"burn".to_vec(), ..Identity::default() };
        let counts = Counts {
            cpu_ns: 2_000_000_000,
            switches_voluntary: 250_000,
            runq_wait_ns: 5_000_000,
            runq_waits: 10,
            tx_bytes: 4096,
            tx_packets: 4,
            ..Counts::default()
        };
        let interval = std::time::Duration::from_secs(10);
        let mut log = Vec::new();
        for (index, mut record) in [
            resource_record(&who, Some(b"/opt/burn".to_vec()), &counts, &[Ranking::Cpu], interval),
            runq_record(&std::array::from_fn(|i| u64::from(i == 4) * 10), 1, interval),
            drop_record("NO_SOCKET", None, 3, interval),
            drop_record("unknown", Some("__udp4_lib_rcv+0x9a3".into()), 7, interval),
        ]
        .into_iter()
        .enumerate()
        {
            record.time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000 + index as u64);
            if index < 3 {
                write_text(&mut log, &record, &[]);
            } else {
                write_json(&mut log, &record, &[]);
            }
        }
        let path = std::env::temp_dir().join(format!("sg-resources-{}.log", std::process::id()));
        std::fs::write(&path, &log).unwrap();
        let mut diag = Diagnostics::captured();
        let report = analyse(std::slice::from_ref(&path), None, None, 10, &|_| None, &mut diag);
        std::fs::remove_file(&path).unwrap();
        let r = &report.resources;
        assert_eq!((r.records, report.events), (1, 0), "telemetry records are no events");
        assert_eq!(r.by_cpu[0].name, "/opt/burn");
        let drops: Vec<(&str, u64)> = r.drops.iter().map(|(reason, n)| (reason.as_str(), *n)).collect();
        assert_eq!(drops, [("unknown @ __udp4_lib_rcv+0x9a3", 7), ("NO_SOCKET", 3)]);
        assert_eq!(r.runq_p50.as_deref(), Some(">=16us"));
        assert!(
            r.anomalies.iter().any(|a| a.what.starts_with("switch storm: /opt/burn (pid 42)")),
            "{:?}",
            r.anomalies
        );
        let page = render(&report);
        check_markup(&page).unwrap();
        for expected in
            ["<h2>Resources</h2>", "<h2>Drops by reason</h2>", "NO_SOCKET", "2.0 s", "4.0 KB", "switch storm"]
        {
            assert!(page.contains(expected), "{expected}");
        }
    }

    fn page_of_all() -> String {
        let mut diag = Diagnostics::captured();
        let log = fixtures::dir().join("scenario-json/safeguard.log");
        render(&analyse(&[log], None, None, 0, &|_| None, &mut diag))
    }

    #[test]
    fn self_contained() {
        let page = page();
        let lower = page.to_ascii_lowercase();
        for forbidden in ["<script", "<link", "@import", "url(", "src=", "href=", "http://", "https://"] {
            assert!(!lower.contains(forbidden), "{forbidden} in the page");
        }
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.trim_end().ends_with("</html>"));
    }

    #[test]
    fn log_values_are_escaped() {
        let page = page();
        assert!(page.contains("{ path = &quot;/etc/shadow&quot;, ops = [&quot;read&quot;] }"));
        assert!(page.contains("/srv/app/uploads/evil\\x0aname"));
        assert!(!page.contains("evil\nname"));
        // Tags balance (a crude but useful check on the generated markup).
        for tag in ["svg", "section", "table", "g", "div"] {
            let opened = page.matches(&format!("<{tag}>")).count() + page.matches(&format!("<{tag} ")).count();
            assert_eq!(opened, page.matches(&format!("</{tag}>")).count(), "<{tag}>");
        }
    }

    #[test]
    fn shows_the_numbers() {
        let page = page();
        for expected in [
            "/tmp/.hidden/miner",
            "169.254.169.254/32",
            "45.77.1.2",
            "2026-11-20 15:30",
            "Top talkers",
            "Denials by rule",
        ] {
            assert!(page.contains(expected), "{expected}");
        }
    }

    /// Checks what a browser would silently repair: every element closed in the order it
    /// was opened (void `meta`; `/>` only inside SVG), attributes double-quoted, no `<`
    /// in text or attribute values, every `&` an entity. `Err` says where.
    fn check_markup(page: &str) -> Result<(), String> {
        let body = page.strip_prefix("<!DOCTYPE html>").ok_or("no doctype")?;
        let (mut open, mut at) = (Vec::<&str>::new(), 0);
        let bytes = body.as_bytes();
        let err = |at: usize, what: &str| Err(format!("{what} at byte {at}: {}", &body[at..(at + 60).min(body.len())]));
        while at < body.len() {
            if bytes[at] == b'&' {
                let entity = body[at + 1..].split(';').next().unwrap_or("");
                let named = !entity.is_empty() && entity.bytes().all(|b| b.is_ascii_alphanumeric());
                let numeric =
                    entity.strip_prefix('#').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                if !(named || numeric) || entity.len() > 8 {
                    return err(at, "a bare &");
                }
                at += 1;
                continue;
            }
            if bytes[at] != b'<' {
                at += 1;
                continue;
            }
            let Some(len) = body[at..].find('>') else { return err(at, "an unterminated tag") };
            let tag = &body[at + 1..at + len];
            if let Some(name) = tag.strip_prefix('/') {
                if open.pop() != Some(name) {
                    return err(at, "a close tag that does not match the open element");
                }
                at += len + 1;
                continue;
            }
            let self_closed = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name_len = tag.find(' ').unwrap_or(tag.len());
            let name = &tag[..name_len];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) || tag.contains('<') {
                return err(at, "a malformed tag");
            }
            // Attributes: ` name="value"` pairs and nothing else.
            let mut attrs = &tag[name_len..];
            while !attrs.trim_end().is_empty() {
                let Some(rest) = attrs.strip_prefix(' ') else { return err(at, "attributes not separated") };
                let Some((key, rest)) = rest.split_once("=\"") else { return err(at, "an unquoted attribute") };
                let Some((_, rest)) = rest.split_once('"') else { return err(at, "an unterminated attribute") };
                if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return err(at, "a malformed attribute name");
                }
                attrs = rest;
            }
            at += len + 1;
            match name {
                _ if self_closed && !open.contains(&"svg") => return err(at, "a self-closed element outside SVG"),
                _ if self_closed => {}
                "meta" => {}
                "style" => {
                    let Some(end) = body[at..].find("</style>") else { return err(at, "an unclosed style") };
                    at += end + "</style>".len();
                }
                _ => open.push(name),
            }
        }
        match open.as_slice() {
            [] => Ok(()),
            still => Err(format!("unclosed at the end: {still:?}")),
        }
    }

    /// The Intrusions section with markup characters in every value stays well formed.
    #[test]
    fn intrusions_markup_is_well_formed() {
        use crate::detect::{test_record, TestEvent};
        let mut log = Vec::new();
        for (pid, detection, action) in [(7, "persistence", "ALERT"), (8, "log_tamper", "BLOCKED")] {
            let record = test_record(&TestEvent {
                detection,
                action,
                hostname: b"h<1>&'",
                pid,
                ppid: 6,
                exe: b"/tmp/a\"b<",
                parent_exe: b"/tmp/<p>",
                path: b"/etc/cron.d/<x>&\xff\n",
                ..TestEvent::default()
            });
            crate::logging::write_json(&mut log, &record, &[]);
        }
        let path = std::env::temp_dir().join(format!("sg-intrusions-html-{}.log", std::process::id()));
        std::fs::write(&path, &log).unwrap();
        let mut diag = Diagnostics::captured();
        let report = analyse(std::slice::from_ref(&path), None, None, 10, &|_| None, &mut diag);
        std::fs::remove_file(&path).unwrap();
        let page = render(&report);
        check_markup(&page).unwrap();
        for expected in [
            "<h2>Intrusions</h2>",
            "<span class=\"badge\">compromised</span>",
            "h&lt;1&gt;&amp;&#39;",
            "/tmp/&lt;p&gt; › /tmp/a&quot;b&lt; (pid 7)",
            "path=/etc/cron.d/&lt;x&gt;&amp;\\xff\\x0a",
        ] {
            assert!(page.contains(expected), "{expected} missing");
        }
    }

    #[test]
    fn markup_is_well_formed() {
        check_markup(&page()).unwrap();
        // The checker itself catches each kind of fault.
        for (broken, why) in [
            ("<html><div><span></div></span></html>", "crossed"),
            ("<html><div></html>", "unclosed"),
            ("<html><td>a & b</td></html>", "bare &"),
            ("<html><p class=x>a</p></html>", "unquoted"),
            ("<html><rect x=\"1\"/></html>", "self-closed outside SVG"),
            ("<html><p>a</p>", "no </html>"),
        ] {
            let page = format!("<!DOCTYPE html>{broken}");
            assert!(check_markup(&page).is_err(), "{why}: {broken}");
        }
    }

    /// The numbers `tests/analysis/html-browser.sh` finds in the page a browser builds,
    /// found here in the markup itself (one list, `html-expected.txt`, for both), so that
    /// `cargo test` checks them where no browser is installed.
    #[test]
    fn shows_what_the_browser_test_expects() {
        let page = page();
        let expected = std::fs::read_to_string(fixtures::dir().join("html-expected.txt")).unwrap();
        let lines: Vec<&str> = expected.lines().filter(|line| !line.is_empty()).collect();
        assert!(lines.len() >= 10);
        for line in lines {
            assert!(page.contains(line), "{line}");
        }
        assert_eq!(page.matches("<svg ").count(), 5, "charts");
    }

    #[test]
    fn helpers() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(123), 200);
        assert_eq!(nice_ceiling(500), 500);
        assert_eq!(tail("/a/very/long/path/name", 10), "…path/name");
        assert_eq!(esc("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    }
}
