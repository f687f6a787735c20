//! Findings about a configuration: errors and warnings, each with a location.

use std::fmt::{self, Write as _};

use serde::Serialize;

use super::source::{SourceMap, Span};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The configuration is used, but the user should look.
    Warning,
    /// The configuration cannot be used.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding, at one place in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where it is.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// What the parser expected instead, when that can be said.
    pub expected: Option<String>,
    /// A feature keepalived acts on and holdfast does not: an error unless
    /// the user asked to run without such features
    /// ([`LoadOptions::ignore_unimplemented`](super::LoadOptions)).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unimplemented: bool,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            span,
            message: message.into(),
            expected: None,
            unimplemented: false,
        }
    }

    /// A warning at `span`.
    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            span,
            message: message.into(),
            expected: None,
            unimplemented: false,
        }
    }

    /// A feature holdfast does not implement, at `span`; `message` names it
    /// and says what keepalived does with it. Settled by
    /// [`Diagnostics::settle_unimplemented`].
    pub fn unimplemented(span: Span, message: impl Into<String>) -> Self {
        Self {
            unimplemented: true,
            ..Self::error(span, message)
        }
    }

    /// Adds what was expected.
    pub fn expected(mut self, what: impl Into<String>) -> Self {
        self.expected = Some(what.into());
        self
    }

    /// Renders as `FILE:LINE:COL: error: message`, the source line, a caret
    /// under the column, and what was expected.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        let file = sources.file(self.span.file);
        let path = file
            .map(|f| f.path.display().to_string())
            .unwrap_or_else(|| "<config>".into());
        let _ = writeln!(
            out,
            "{}:{}:{}: {}: {}",
            path, self.span.line, self.span.col, self.severity, self.message
        );
        if let Some(text) = file.and_then(|f| f.line(self.span.line)) {
            let gutter = self.span.line.to_string();
            let pad = " ".repeat(gutter.len());
            let _ = writeln!(out, "{gutter} | {text}");
            // Keep tabs as tabs so the caret lines up in a terminal.
            let lead: String = text
                .chars()
                .take(self.span.col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{pad} | {lead}^");
        }
        if let Some(exp) = &self.expected {
            let _ = writeln!(out, "  = expected: {exp}");
        }
        out
    }
}

/// The findings collected while loading one configuration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a finding.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Records an error.
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.push(Diagnostic::error(span, message));
    }

    /// Records a warning.
    pub fn warning(&mut self, span: Span, message: impl Into<String>) {
        self.push(Diagnostic::warning(span, message));
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// Number of findings of one severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
    }

    /// Settles every unimplemented feature: an error by default, so that a
    /// configuration is never run with part of it silently missing; a
    /// warning that says so when `ignore` (`--ignore-unimplemented`).
    pub fn settle_unimplemented(&mut self, ignore: bool) {
        for d in self.items.iter_mut().filter(|d| d.unimplemented) {
            if ignore {
                d.severity = Severity::Warning;
                d.message.push_str(
                    "; ignored, as --ignore-unimplemented asks: holdfast runs without it",
                );
            } else {
                d.severity = Severity::Error;
                d.expected =
                    Some("remove it, or pass --ignore-unimplemented to run without it".to_string());
            }
        }
    }

    /// Turns every warning into an error (`--strict`).
    pub fn make_strict(&mut self) {
        for d in &mut self.items {
            d.severity = Severity::Error;
        }
    }

    /// Sorts by position (file order, then line, then column), keeping the
    /// order of findings at the same place.
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| d.span);
    }

    /// All findings.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// All findings, as a slice.
    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.items
    }
}
