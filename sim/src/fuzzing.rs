//! Entry points shared by the fuzz targets (`fuzz/`) and their replay in
//! `cargo test`.

use crate::scenario::Scenario;

/// Reads any bytes as a scenario and, when they are one, expands its
/// timeline and labels every fault: must never panic or run away.
pub fn scenario_parser(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(s) = Scenario::parse("fuzz.json", &text) {
        for (_, f) in s.timeline() {
            let _ = f.label();
        }
    }
}
