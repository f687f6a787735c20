//! Pictures of a sweep: the distribution (CDF) of failover time, of the
//! dual-master window and of real-server detection over every seed, with
//! p50, p99 and the maximum marked.

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use holdfast_core::trace::{percentile, Incident};

use crate::{font, ReportError};

/// One seed's run, as `holdfast sweep --out` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// Its incidents.
    pub incidents: Vec<Incident>,
    /// Its violations, one line each.
    #[serde(default)]
    pub violations: Vec<String>,
}

/// A sweep file (`holdfast sweep --out`): the fields a report reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Scenario file.
    pub scenario: String,
    /// Every seed's run.
    pub runs: Vec<SeedRun>,
}

/// One distribution to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// Title.
    pub title: &'static str,
    /// Sorted values, seconds.
    pub values: Vec<f64>,
}

impl Distribution {
    /// (name, value) of p50, p99 and the maximum.
    pub fn marks(&self) -> [(&'static str, f64); 3] {
        [
            ("p50", percentile(&self.values, 50.0)),
            ("p99", percentile(&self.values, 99.0)),
            ("max", percentile(&self.values, 100.0)),
        ]
    }
}

impl Sweep {
    /// Failover times (every incident but the start-up that moved a
    /// Master), dual-master windows (every incident but the start-up) and
    /// real-server detection (time to the pool change after a server's
    /// behaviour changed).
    pub fn distributions(&self) -> [Distribution; 3] {
        let incidents = || {
            self.runs
                .iter()
                .flat_map(|r| &r.incidents)
                .filter(|i| i.fault != "start-up")
        };
        let sorted = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v
        };
        [
            Distribution {
                title: "failover time",
                values: sorted(incidents().filter_map(|i| i.failover).collect()),
            },
            Distribution {
                title: "dual-master window",
                values: sorted(incidents().map(|i| i.dual_master).collect()),
            },
            Distribution {
                title: "real-server detection (pool change)",
                values: sorted(
                    incidents()
                        .filter(|i| i.fault == "serve")
                        .filter_map(|i| i.pool_change)
                        .collect(),
                ),
            },
        ]
    }
}

const MARK_COLORS: [RGBColor; 3] = [
    RGBColor(0x1e, 0x88, 0xe5),
    RGBColor(0xfb, 0x8c, 0x00),
    RGBColor(0xe5, 0x39, 0x35),
];

fn err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> ReportError {
    ReportError::Draw(e.to_string())
}

/// Draws the three CDFs side by side.
pub fn draw<DB: DrawingBackend>(
    sweep: &Sweep,
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<(), ReportError> {
    font::register();
    area.fill(&WHITE).map_err(err)?;
    let runs = sweep.runs.len();
    for (panel, d) in area.split_evenly((1, 3)).iter().zip(sweep.distributions()) {
        let max = d.values.last().copied().unwrap_or(0.0);
        let xmax = if max > 0.0 { max * 1.1 } else { 1.0 };
        let caption = format!("{} ({} values, {runs} seeds)", d.title, d.values.len());
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, (font::FAMILY, 15))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..xmax, 0f64..1.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc("fraction")
            .label_style((font::FAMILY, 12))
            .axis_desc_style((font::FAMILY, 12))
            .draw()
            .map_err(err)?;
        let n = d.values.len() as f64;
        let mut points = vec![(0.0, 0.0)];
        for (i, v) in d.values.iter().enumerate() {
            points.push((*v, i as f64 / n));
            points.push((*v, (i + 1) as f64 / n));
        }
        points.push((xmax, if d.values.is_empty() { 0.0 } else { 1.0 }));
        chart
            .draw_series(LineSeries::new(
                points,
                RGBColor(0x21, 0x21, 0x21).stroke_width(2),
            ))
            .map_err(err)?;
        if d.values.is_empty() {
            continue;
        }
        for ((name, v), color) in d.marks().into_iter().zip(MARK_COLORS) {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(v, 0.0), (v, 1.0)],
                    color.stroke_width(1),
                )))
                .map_err(err)?
                .label(format!("{name} {v:.4} s"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((font::FAMILY, 12))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    area.present().map_err(err)?;
    Ok(())
}

/// Picture size.
pub const SIZE: (u32, u32) = (1600, 420);

/// Renders a PNG file.
pub fn png(sweep: &Sweep, path: &std::path::Path) -> Result<(), ReportError> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    draw(sweep, &root)
}

/// Renders an SVG document.
pub fn svg(sweep: &Sweep) -> Result<String, ReportError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(sweep, &root)?;
    }
    Ok(out)
}
