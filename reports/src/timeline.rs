//! The timeline picture: one lane per instance, virtual address and pool
//! destination, coloured bands over a time axis in seconds, numbered fault
//! markers, and legends. The layout is computed here in pixels, so a test
//! can ask where a lane and a time are and check the colour drawn there.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use plotters::style::RGBColor;

use holdfast_core::vrrp::instance::State;

use crate::model::{Band, Section, Timeline};
use crate::{font, ReportError};

/// Colour of an instance state.
pub fn state_color(s: State) -> RGBColor {
    match s {
        State::Initialize => RGBColor(0x9e, 0x9e, 0x9e),
        State::Backup => RGBColor(0x1e, 0x88, 0xe5),
        State::Master => RGBColor(0x2e, 0x7d, 0x32),
        State::Fault => RGBColor(0xe5, 0x39, 0x35),
    }
}

/// Colour of director number `d` as an owner.
pub fn director_color(d: usize) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(0x8e, 0x24, 0xaa),
        RGBColor(0xfb, 0x8c, 0x00),
        RGBColor(0x00, 0xac, 0xc1),
        RGBColor(0x6d, 0x4c, 0x41),
        RGBColor(0xd8, 0x1b, 0x60),
        RGBColor(0x7c, 0xb3, 0x42),
    ];
    PALETTE[d % PALETTE.len()]
}

/// Nobody / out of the pool.
pub const NONE_COLOR: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);
/// In the pool with a weight.
pub const IN_POOL_COLOR: RGBColor = RGBColor(0x26, 0xa6, 0x9a);
/// In the pool at weight 0 (inhibited: no new connections).
pub const WEIGHT_ZERO_COLOR: RGBColor = RGBColor(0xfd, 0xd8, 0x35);
const TEXT: RGBColor = RGBColor(0x21, 0x21, 0x21);
const MARKER: RGBColor = RGBColor(0x42, 0x42, 0x42);

/// A director down.
pub const DOWN_COLOR: RGBColor = RGBColor(0x42, 0x42, 0x42);
/// A virtual address held by two directors or more at once.
pub const SPLIT_COLOR: RGBColor = RGBColor(0xb7, 0x1c, 0x1c);

/// The colour a band is drawn in.
pub fn band_color(b: Band) -> RGBColor {
    match b {
        Band::State(s) => state_color(s),
        Band::Down => DOWN_COLOR,
        Band::Owner(None) | Band::Pool(None) | Band::Held(0, _) | Band::Held(_, None) => NONE_COLOR,
        Band::Owner(Some(d)) | Band::Held(1, Some(d)) => director_color(d),
        Band::Held(_, Some(_)) => SPLIT_COLOR,
        Band::Pool(Some(0)) => WEIGHT_ZERO_COLOR,
        Band::Pool(Some(_)) => IN_POOL_COLOR,
    }
}

/// Where everything goes, in pixels.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// x of time 0.
    pub left: i32,
    /// x of the end.
    pub right: i32,
    /// Seconds at the right edge.
    pub end: f64,
    /// Top y of each lane, in [`Timeline::lanes`] order.
    pub lanes: Vec<i32>,
    /// Each section's heading: (y, section).
    pub headings: Vec<(i32, Section)>,
    /// Lane height.
    pub lane_height: i32,
    /// y of the top of the first heading and of the time axis.
    pub chart: (i32, i32),
    /// y where the legends start.
    pub legend: i32,
}

const WIDTH: u32 = 1600;
const LEFT: i32 = 330;
const RIGHT_MARGIN: i32 = 30;
const TOP: i32 = 50;
const LANE: i32 = 18;
const GAP: i32 = 5;
const HEADING: i32 = 26;
const AXIS: i32 = 40;
const LINE: i32 = 18;

impl Layout {
    /// The layout for a timeline.
    pub fn of(t: &Timeline) -> Layout {
        let mut y = TOP;
        let mut lanes = Vec::new();
        let mut headings = Vec::new();
        let mut section = None;
        for lane in &t.lanes {
            if section != Some(lane.section) {
                section = Some(lane.section);
                headings.push((y, lane.section));
                y += HEADING;
            }
            lanes.push(y);
            y += LANE + GAP;
        }
        let axis = y + 4;
        let legend = axis + AXIS;
        // Three legend rows, then the fault list in two columns.
        let faults = t.faults.len().div_ceil(2) as i32;
        let height = legend + 3 * LINE + 10 + faults * LINE + 20;
        Layout {
            width: WIDTH,
            height: height as u32,
            left: LEFT,
            right: WIDTH as i32 - RIGHT_MARGIN,
            end: if t.end > 0.0 { t.end } else { 1.0 },
            lanes,
            headings,
            lane_height: LANE,
            chart: (TOP, axis),
            legend,
        }
    }

    /// x of time `t` seconds.
    pub fn x(&self, t: f64) -> i32 {
        let span = f64::from(self.right - self.left);
        self.left + (t / self.end * span).round() as i32
    }

    /// The middle of lane `i`.
    pub fn lane_middle(&self, i: usize) -> i32 {
        self.lanes[i] + self.lane_height / 2
    }
}

/// A tick step giving about ten ticks over `span`: 1, 2 or 5 × 10^k.
fn tick_step(span: f64) -> f64 {
    let raw = span / 10.0;
    let base = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * base)
        .find(|s| *s >= raw)
        .unwrap_or(base * 10.0)
}

fn text<'a>(size: u32, color: &'a RGBColor) -> TextStyle<'a> {
    (font::FAMILY, size).into_font().color(color)
}

fn err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> ReportError {
    ReportError::Draw(e.to_string())
}

/// How text is drawn: by plotters (SVG: the viewer lays the glyphs out), or
/// glyph by glyph here (bitmaps: plotters 0.3.7's ab_glyph path drops each
/// glyph's left bearing, which breaks up "192.168.100.10").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyphs {
    /// plotters' own text element.
    Plotters,
    /// ab_glyph, with bearings and kerning.
    Own,
}

fn face() -> &'static ab_glyph::FontRef<'static> {
    static FACE: std::sync::OnceLock<ab_glyph::FontRef<'static>> = std::sync::OnceLock::new();
    FACE.get_or_init(|| {
        ab_glyph::FontRef::try_from_slice(dejavu::sans::regular())
            .expect("DejaVu Sans, compiled in, is a valid font")
    })
}

/// Writes `s` at `at`, anchored by (`h`, `v`), `size` pixels high.
#[allow(clippy::too_many_arguments)]
fn write<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    glyphs: Glyphs,
    s: &str,
    at: (i32, i32),
    size: u32,
    color: &RGBColor,
    h: HPos,
    v: VPos,
) -> Result<(), ReportError> {
    if glyphs == Glyphs::Plotters {
        let style = text(size, color).pos(Pos::new(h, v));
        return area.draw(&Text::new(s, at, style)).map_err(err);
    }
    use ab_glyph::{Font as _, ScaleFont as _};
    let font = face();
    let scaled = font.as_scaled(ab_glyph::PxScale::from(size as f32));
    let mut width = 0.0;
    let mut prev = None;
    for c in s.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    let height = scaled.ascent() - scaled.descent();
    let left = match h {
        HPos::Left => at.0 as f32,
        HPos::Center => at.0 as f32 - width / 2.0,
        HPos::Right => at.0 as f32 - width,
    };
    let top = match v {
        VPos::Top => at.1 as f32,
        VPos::Center => at.1 as f32 - height / 2.0,
        VPos::Bottom => at.1 as f32 - height,
    };
    let baseline = top + scaled.ascent();
    let mut caret = left;
    let mut prev = None;
    for c in s.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scaled.scale(), ab_glyph::point(caret, baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            let mut pixels = Vec::new();
            outline.draw(|x, y, coverage| {
                if coverage > 0.02 {
                    pixels.push((
                        b.min.x as i32 + x as i32,
                        b.min.y as i32 + y as i32,
                        coverage,
                    ));
                }
            });
            for (x, y, coverage) in pixels {
                area.draw_pixel((x, y), &color.mix(f64::from(coverage)))
                    .map_err(err)?;
            }
        }
        caret += scaled.h_advance(id);
        prev = Some(id);
    }
    Ok(())
}

/// Draws the timeline on any plotters backend.
pub fn draw<DB: DrawingBackend>(
    t: &Timeline,
    layout: &Layout,
    area: &DrawingArea<DB, Shift>,
    g: Glyphs,
) -> Result<(), ReportError> {
    font::register();
    area.fill(&WHITE).map_err(err)?;
    let (top, axis) = layout.chart;
    for &(y, section) in &layout.headings {
        write(
            area,
            g,
            section.title(),
            (10, y + 6),
            15,
            &TEXT,
            HPos::Left,
            VPos::Top,
        )?;
    }
    for (i, lane) in t.lanes.iter().enumerate() {
        let y = layout.lanes[i];
        write(
            area,
            g,
            &lane.title,
            (LEFT - 8, y + LANE / 2),
            12,
            &TEXT,
            HPos::Right,
            VPos::Center,
        )?;
        // The lane's background: nothing known.
        area.draw(&Rectangle::new(
            [(layout.left, y), (layout.right, y + LANE)],
            RGBColor(0xf7, 0xf7, 0xf7).filled(),
        ))
        .map_err(err)?;
        for &(s, e, band) in &lane.bands {
            let (x0, x1) = (layout.x(s), layout.x(e).max(layout.x(s) + 1));
            area.draw(&Rectangle::new(
                [(x0, y), (x1, y + LANE)],
                band_color(band).filled(),
            ))
            .map_err(err)?;
            if let Band::Pool(Some(w)) = band {
                if x1 - x0 > 24 {
                    let label = format!("w{w}");
                    write(
                        area,
                        g,
                        &label,
                        (x0 + 4, y + LANE / 2),
                        11,
                        &WHITE,
                        HPos::Left,
                        VPos::Center,
                    )?;
                }
            }
        }
    }
    // Time axis.
    area.draw(&PathElement::new(
        vec![(layout.left, axis), (layout.right, axis)],
        TEXT.stroke_width(1),
    ))
    .map_err(err)?;
    let step = tick_step(layout.end);
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    let mut k = 0u32;
    loop {
        let tick = f64::from(k) * step;
        if tick > layout.end + 1e-9 {
            break;
        }
        k += 1;
        let x = layout.x(tick);
        area.draw(&PathElement::new(
            vec![(x, axis), (x, axis + 5)],
            TEXT.stroke_width(1),
        ))
        .map_err(err)?;
        let label = format!("{tick:.decimals$}");
        write(
            area,
            g,
            &label,
            (x, axis + 8),
            12,
            &TEXT,
            HPos::Center,
            VPos::Top,
        )?;
    }
    write(
        area,
        g,
        "time (s)",
        (layout.right, axis + 24),
        12,
        &TEXT,
        HPos::Right,
        VPos::Top,
    )?;
    // Fault markers, numbered at the top.
    for (n, (at, _)) in t.faults.iter().enumerate() {
        let x = layout.x(*at);
        area.draw(&PathElement::new(
            vec![(x, top - 6), (x, axis)],
            MARKER.stroke_width(1),
        ))
        .map_err(err)?;
        let row = (n % 2) as i32 * 16;
        let label = format!("{}", n + 1);
        write(
            area,
            g,
            &label,
            (x, top - 30 + row),
            12,
            &MARKER,
            HPos::Center,
            VPos::Top,
        )?;
    }
    legends(t, layout, area, g)?;
    area.present().map_err(err)?;
    Ok(())
}

fn legends<DB: DrawingBackend>(
    t: &Timeline,
    layout: &Layout,
    area: &DrawingArea<DB, Shift>,
    g: Glyphs,
) -> Result<(), ReportError> {
    let mut y = layout.legend;
    let states = [
        State::Initialize,
        State::Backup,
        State::Master,
        State::Fault,
    ]
    .map(|s| (format!("{s:?}"), state_color(s)))
    .into_iter()
    .chain([("down".to_string(), DOWN_COLOR)])
    .collect::<Vec<_>>();
    let owners: Vec<(String, RGBColor)> = t
        .directors
        .iter()
        .enumerate()
        .map(|(i, d)| (d.clone(), director_color(i)))
        .chain([
            ("nobody".to_string(), NONE_COLOR),
            ("two or more hold it".to_string(), SPLIT_COLOR),
        ])
        .collect();
    let pool = [
        ("in the pool (weight)".to_string(), IN_POOL_COLOR),
        ("weight 0".to_string(), WEIGHT_ZERO_COLOR),
        ("out".to_string(), NONE_COLOR),
    ];
    for (title, items) in [
        ("states", &states[..]),
        ("owners", &owners[..]),
        ("pool", &pool[..]),
    ] {
        write(area, g, title, (10, y), 12, &TEXT, HPos::Left, VPos::Top)?;
        let mut x = 80;
        for (name, color) in items {
            area.draw(&Rectangle::new([(x, y), (x + 14, y + 12)], color.filled()))
                .map_err(err)?;
            write(area, g, name, (x + 20, y), 12, &TEXT, HPos::Left, VPos::Top)?;
            x += 30 + 8 * name.len() as i32;
        }
        y += LINE;
    }
    y += 10;
    let half = t.faults.len().div_ceil(2);
    for (n, (at, label)) in t.faults.iter().enumerate() {
        let (col, row) = (n / half.max(1), n % half.max(1));
        let x = 10 + col as i32 * (layout.width as i32 / 2);
        let line = format!("{:>2}  {at:>9.3} s  {label}", n + 1);
        write(
            area,
            g,
            &line,
            (x, y + row as i32 * LINE),
            12,
            &TEXT,
            HPos::Left,
            VPos::Top,
        )?;
    }
    Ok(())
}

/// Renders a PNG file and returns its layout.
pub fn png(t: &Timeline, path: &std::path::Path) -> Result<Layout, ReportError> {
    let layout = Layout::of(t);
    let root = BitMapBackend::new(path, (layout.width, layout.height)).into_drawing_area();
    draw(t, &layout, &root, Glyphs::Own)?;
    Ok(layout)
}

/// Renders an SVG document.
pub fn svg(t: &Timeline) -> Result<String, ReportError> {
    let layout = Layout::of(t);
    let mut out = String::new();
    {
        let root =
            SVGBackend::with_string(&mut out, (layout.width, layout.height)).into_drawing_area();
        draw(t, &layout, &root, Glyphs::Plotters)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(600.0), 100.0);
        assert_eq!(tick_step(10.0), 1.0);
        assert_eq!(tick_step(35.0), 5.0);
        assert_eq!(tick_step(3600.0), 500.0);
    }
}
