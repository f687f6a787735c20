//! holdfast-reports: pictures and an HTML page from a trace (one run,
//! simulated or real) and from a sweep (many seeds). It reads trace records
//! (`holdfast_core::trace`) and sweep files, nothing else.

#![warn(missing_docs)]

pub mod font;
pub mod html;
pub mod model;
pub mod sweep;
pub mod timeline;

use std::path::{Path, PathBuf};

use holdfast_core::trace::{self, Record};

pub use model::Timeline;
pub use sweep::Sweep;

/// Why a report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        error: std::io::Error,
    },
    /// The input is neither a trace nor a sweep.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Drawing failed.
    #[error("drawing: {0}")]
    Draw(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |error| ReportError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// What a report is made from.
#[derive(Debug, Clone)]
pub enum Input {
    /// A trace's records.
    Trace(Vec<Record>),
    /// A sweep.
    Sweep(Sweep),
}

/// Reads a trace (JSON lines) or a sweep (one JSON object with `runs`).
pub fn read_input(path: &Path) -> Result<Input, ReportError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let bad = |message: String| ReportError::Input {
        path: path.display().to_string(),
        message,
    };
    // A sweep is one JSON object with `runs`; say what is wrong with it
    // rather than that it is not a trace.
    if let Ok(serde_json::Value::Object(o)) = serde_json::from_str(&text) {
        if o.contains_key("runs") {
            return serde_json::from_str::<Sweep>(&text)
                .map(Input::Sweep)
                .map_err(|e| bad(format!("not a valid sweep: {e}")));
        }
    }
    let records = trace::read(text.as_bytes()).map_err(|e| bad(format!("not a trace: {e}")))?;
    if records.is_empty() {
        return Err(bad("no trace records in it".into()));
    }
    Ok(Input::Trace(records))
}

/// The files a report wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// The HTML page.
    pub html: PathBuf,
    /// Every file, the page included.
    pub files: Vec<PathBuf>,
}

/// Writes the report into `dir`: `timeline.png`/`.svg` for a trace,
/// `sweep.png`/`.svg` for a sweep, and `index.html` with both.
pub fn write(
    dir: &Path,
    title: &str,
    records: Option<&[Record]>,
    sweep: Option<&Sweep>,
) -> Result<Written, ReportError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut files = Vec::new();
    let save =
        |files: &mut Vec<PathBuf>, name: &str, bytes: &[u8]| -> Result<PathBuf, ReportError> {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(io(&path))?;
            files.push(path.clone());
            Ok(path)
        };
    let timeline = records.map(Timeline::from_records);
    let mut timeline_png = Vec::new();
    if let Some(t) = &timeline {
        let png = dir.join("timeline.png");
        timeline::png(t, &png)?;
        timeline_png = std::fs::read(&png).map_err(io(&png))?;
        files.push(png);
        save(&mut files, "timeline.svg", timeline::svg(t)?.as_bytes())?;
    }
    let mut sweep_png = Vec::new();
    if let Some(s) = sweep {
        let png = dir.join("sweep.png");
        sweep::png(s, &png)?;
        sweep_png = std::fs::read(&png).map_err(io(&png))?;
        files.push(png);
        save(&mut files, "sweep.svg", sweep::svg(s)?.as_bytes())?;
    }
    let page = html::page(
        title,
        timeline.as_ref().map(|t| (t, &timeline_png[..])),
        sweep.map(|s| (s, &sweep_png[..])),
    );
    let html = save(&mut files, "index.html", page.as_bytes())?;
    Ok(Written { html, files })
}
