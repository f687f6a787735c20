//! The one font every picture uses, compiled in (DejaVu Sans, a free
//! licence), so rendering needs no system fonts and no fontconfig.

use std::sync::Once;

use plotters::style::FontStyle;

/// The family name text is drawn with.
pub const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();

/// Makes [`FAMILY`] available to the bitmap backend (idempotent). SVG
/// output names the family and leaves the glyphs to the viewer.
pub fn register() {
    REGISTER.call_once(|| {
        // DejaVu Sans is a valid font: registration cannot fail on it.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular());
    });
}
