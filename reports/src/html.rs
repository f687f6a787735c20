//! The report page: one self-contained HTML file (pictures embedded as
//! PNG data), with the incident table and the invariant verdict. A small
//! script marks on the page whether every picture loaded, which the
//! headless-browser test reads.

use std::fmt::Write as _;

use base64::Engine as _;

use crate::model::Timeline;
use crate::sweep::Sweep;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn cell(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "–".to_string(), |v| format!("{v:.6}"))
}

fn img(png: &[u8], alt: &str, id: &str) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    format!(
        "<img id=\"{id}\" alt=\"{}\" src=\"data:image/png;base64,{data}\">",
        esc(alt)
    )
}

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#212121}\
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd}\
.ok{color:#2e7d32}.bad{color:#c62828}pre{font-size:12px;background:#f6f6f6;padding:8px}";

const SCRIPT: &str = "<script>window.addEventListener('load',function(){\
var all=document.images,ok=0;for(var i=0;i<all.length;i++){if(all[i].complete&&all[i].naturalWidth>0)ok++;}\
document.body.setAttribute('data-images-loaded',ok+'/'+all.length);});</script>";

/// The page for a trace's timeline (`timeline_png`) and/or a sweep
/// (`sweep_png`).
pub fn page(
    title: &str,
    timeline: Option<(&Timeline, &[u8])>,
    sweep: Option<(&Sweep, &[u8])>,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        esc(title)
    );
    let _ = write!(h, "<h1>{}</h1>", esc(title));
    if let Some((t, png)) = timeline {
        let verdict = if !t.violations.is_empty() {
            format!(
                "<p class=\"bad\" id=\"verdict\">Invariants: {} violation(s).</p>",
                t.violations.len()
            )
        } else if t.checked() {
            "<p class=\"ok\" id=\"verdict\">Invariants: all held (checked by the simulator).</p>"
                .to_string()
        } else {
            "<p id=\"verdict\">No violations recorded: only simulated runs are checked against the invariants.</p>".to_string()
        };
        h.push_str(&verdict);
        let _ = write!(
            h,
            "<h2>Timeline</h2><p>{:.0} s; {} director(s); {} fault(s), numbered at the top and listed below the lanes. Also as <a href=\"timeline.svg\">SVG</a>.</p>{}",
            t.end,
            t.directors.len(),
            t.faults.len(),
            img(png, "timeline", "timeline")
        );
        if t.omitted > 0 {
            let _ = write!(
                h,
                "<p>{} lane(s) left out (pool destinations that never changed go first).</p>",
                t.omitted
            );
        }
        if !t.incidents.is_empty() {
            h.push_str("<h2>Incidents</h2><table><tr><th>incident</th><th>at s</th><th>detect s</th><th>failover s</th><th>after last advert s</th><th>dual-master s</th><th>client ARP switch s</th><th>pool change s</th></tr>");
            for i in &t.incidents {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{:.6}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.6}</td><td>{}</td><td>{}</td></tr>",
                    esc(&i.label),
                    i.at,
                    cell(i.detection),
                    cell(i.failover),
                    cell(i.takeover_after_advert),
                    i.dual_master,
                    cell(i.arp_switch),
                    cell(i.pool_change)
                );
            }
            h.push_str("</table>");
        }
        if !t.violations.is_empty() {
            h.push_str("<h2>Violations</h2><pre>");
            for (at, inv, host, detail) in &t.violations {
                let _ = writeln!(
                    h,
                    "t={at:.6}s {} [{}]: {}",
                    esc(inv),
                    esc(host),
                    esc(detail)
                );
            }
            h.push_str("</pre>");
        }
    }
    if let Some((s, png)) = sweep {
        let failing = s.runs.iter().filter(|r| !r.violations.is_empty()).count();
        let _ = write!(
            h,
            "<h2>Sweep</h2><p class=\"{}\">{} seed(s) of {}; invariants violated in {failing}. Also as <a href=\"sweep.svg\">SVG</a>.</p>{}",
            if failing == 0 { "ok" } else { "bad" },
            s.runs.len(),
            esc(&s.scenario),
            img(png, "sweep distributions", "sweep")
        );
        h.push_str("<table><tr><th>figure</th><th>values</th><th>p50 s</th><th>p99 s</th><th>max s</th></tr>");
        for d in s.distributions() {
            let [p50, p99, max] = d.marks().map(|m| cell(Some(m.1)));
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{p50}</td><td>{p99}</td><td>{max}</td></tr>",
                d.title,
                d.values.len()
            );
        }
        h.push_str("</table>");
        for r in s.runs.iter().filter(|r| !r.violations.is_empty()) {
            let _ = write!(
                h,
                "<p>seed {}: <code>holdfast sim {} --seed {} --swarm</code></p>",
                r.seed,
                esc(&s.scenario),
                r.seed
            );
        }
    }
    h.push_str(SCRIPT);
    h.push_str("</body></html>\n");
    h
}
