//! Reading typed values out of statements, reporting every problem at the
//! token it concerns.

use std::net::IpAddr;
use std::time::Duration;

use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::lexer::Token;
use crate::config::model::Script;
use crate::config::source::Span;
use crate::config::tree::Stmt;
use crate::config::value;

/// The builder's view of the findings list, with helpers for common shapes.
pub struct Cx<'d> {
    /// Where findings go.
    pub diags: &'d mut Diagnostics,
}

impl Cx<'_> {
    /// An error with what was expected.
    pub fn error(&mut self, span: Span, message: impl Into<String>, expected: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(span, message).expected(expected));
    }

    /// A warning.
    pub fn warn(&mut self, span: Span, message: impl Into<String>) {
        self.diags.warning(span, message);
    }

    /// An unknown keyword: a warning, as keepalived treats it.
    pub fn unknown(&mut self, stmt: Stmt, parent: &str) {
        self.warn(
            stmt.keyword().span,
            format!("unknown keyword `{}` in {parent}; ignored", stmt.name()),
        );
    }

    /// A keyword holdfast reads but does not act on: an error unless the
    /// user asks to run without such features (see
    /// [`Diagnostics::settle_unimplemented`]).
    pub fn not_implemented(&mut self, stmt: Stmt) {
        self.not_implemented_at(stmt.keyword().span, stmt.name());
    }

    /// [`Cx::not_implemented`] for a word that is not a statement's keyword
    /// (an option inside a value).
    pub fn not_implemented_at(&mut self, span: Span, word: &str) {
        self.diags.push(Diagnostic::unimplemented(
            span,
            format!(
                "`{word}` is not implemented by holdfast (keepalived {})",
                super::unimplemented::keepalived_does(word)
            ),
        ));
    }

    /// A deprecated spelling that still works.
    pub fn deprecated(&mut self, stmt: Stmt, instead: &str) {
        self.warn(
            stmt.keyword().span,
            format!("`{}` is deprecated; use `{instead}`", stmt.name()),
        );
    }

    /// Reports a block where none belongs.
    pub fn no_block(&mut self, stmt: Stmt) {
        if let Some(open) = stmt.block_open() {
            self.error(
                open,
                format!("`{}` does not take a block", stmt.name()),
                format!("`{}` and its values on one line", stmt.name()),
            );
        }
    }

    /// Reports a missing block; true when there is one.
    pub fn need_block(&mut self, stmt: Stmt, usage: &str) -> bool {
        if stmt.block_open().is_none() {
            self.error(
                stmt.keyword().span,
                format!("`{}` needs a block", stmt.name()),
                usage.to_string(),
            );
            return false;
        }
        true
    }

    /// Checks the argument count: too few is an error, too many a warning
    /// (keepalived ignores extra words). True when there are enough.
    pub fn arity(&mut self, stmt: Stmt, min: usize, max: usize, usage: &str) -> bool {
        self.arity_with(stmt, min, max, || usage.to_string())
    }

    /// [`Cx::arity`] with the usage text built only when it is needed.
    pub fn arity_with(
        &mut self,
        stmt: Stmt,
        min: usize,
        max: usize,
        usage: impl FnOnce() -> String,
    ) -> bool {
        if stmt.args().len() < min {
            let at = stmt.args().last().map_or(stmt.keyword().span, |t| t.span);
            self.error(at, format!("`{}` is missing a value", stmt.name()), usage());
            return false;
        }
        if stmt.args().len() > max {
            let extra = &stmt.args()[max];
            self.warn(
                extra.span,
                format!(
                    "extra value `{}` after `{}` is ignored (expected: {})",
                    extra.text,
                    stmt.name(),
                    usage()
                ),
            );
        }
        true
    }

    /// The single argument of a `keyword VALUE` line.
    pub fn one<'s>(&mut self, stmt: Stmt<'s>, usage: &str) -> Option<&'s Token> {
        self.one_with(stmt, || usage.to_string())
    }

    /// [`Cx::one`] with the usage text built only when it is needed.
    pub fn one_with<'s>(
        &mut self,
        stmt: Stmt<'s>,
        usage: impl FnOnce() -> String,
    ) -> Option<&'s Token> {
        self.no_block(stmt);
        if self.arity_with(stmt, 1, 1, usage) {
            stmt.args().first()
        } else {
            None
        }
    }

    /// An integer in `lo..=hi`.
    pub fn int_tok(&mut self, tok: &Token, lo: i64, hi: i64, what: &str) -> Option<i64> {
        match value::integer(&tok.text) {
            Some(n) if (lo..=hi).contains(&n) => Some(n),
            Some(n) => {
                self.error(
                    tok.span,
                    format!("{what} {n} is out of range"),
                    format!("an integer from {lo} to {hi}"),
                );
                None
            }
            None => {
                self.error(
                    tok.span,
                    format!("{what} `{}` is not an integer", tok.text),
                    format!("an integer from {lo} to {hi}"),
                );
                None
            }
        }
    }

    /// `keyword INT` with a range.
    pub fn int(&mut self, stmt: Stmt, lo: i64, hi: i64) -> Option<i64> {
        let tok = self.one_with(stmt, || format!("{} <integer {lo}..{hi}>", stmt.name()))?;
        self.int_tok(tok, lo, hi, stmt.name())
    }

    /// `keyword N` for a count or size that fits `u32`.
    pub fn u32(&mut self, stmt: Stmt, lo: u32) -> Option<u32> {
        self.int(stmt, i64::from(lo), i64::from(u32::MAX))
            .map(|n| n as u32)
    }

    /// A timer (seconds, fractions allowed) in `lo..=hi`.
    pub fn timer_tok(
        &mut self,
        tok: &Token,
        lo: Duration,
        hi: Duration,
        what: &str,
    ) -> Option<Duration> {
        let range = || {
            format!(
                "seconds from {} to {}",
                value::format_timer(lo),
                value::format_timer(hi)
            )
        };
        match value::timer(&tok.text) {
            Some(d) if d >= lo && d <= hi => Some(d),
            Some(_) => {
                self.error(
                    tok.span,
                    format!("{what} {} is out of range", tok.text),
                    range(),
                );
                None
            }
            None => {
                self.error(
                    tok.span,
                    format!("{what} `{}` is not a time in seconds", tok.text),
                    range(),
                );
                None
            }
        }
    }

    /// `keyword TIMER` with a range.
    pub fn timer(&mut self, stmt: Stmt, lo: Duration, hi: Duration) -> Option<Duration> {
        let tok = self.one_with(stmt, || format!("{} <seconds>", stmt.name()))?;
        self.timer_tok(tok, lo, hi, stmt.name())
    }

    /// An IPv4 or IPv6 address.
    pub fn ip_tok(&mut self, tok: &Token, what: &str) -> Option<IpAddr> {
        let parsed = value::ip(&tok.text);
        if parsed.is_none() {
            self.error(
                tok.span,
                format!("{what} `{}` is not a valid IP address", tok.text),
                "an IPv4 or IPv6 address",
            );
        }
        parsed
    }

    /// `keyword IP`.
    pub fn ip(&mut self, stmt: Stmt) -> Option<IpAddr> {
        let tok = self.one_with(stmt, || format!("{} <IP address>", stmt.name()))?;
        self.ip_tok(tok, stmt.name())
    }

    /// A port number.
    pub fn port_tok(&mut self, tok: &Token, what: &str) -> Option<u16> {
        self.int_tok(tok, 0, 65535, what).map(|n| n as u16)
    }

    /// `keyword [BOOL]`: no value means true.
    pub fn flag(&mut self, stmt: Stmt) -> Option<bool> {
        self.no_block(stmt);
        self.arity_with(stmt, 0, 1, || {
            format!("{} [on|off|true|false|yes|no]", stmt.name())
        });
        match stmt.args().first() {
            None => Some(true),
            Some(t) => {
                let b = value::boolean(&t.text);
                if b.is_none() {
                    self.error(
                        t.span,
                        format!("`{}` is not a boolean", t.text),
                        "on, off, true, false, yes or no",
                    );
                }
                b
            }
        }
    }

    /// A keyword that takes no value at all.
    pub fn bare(&mut self, stmt: Stmt) {
        self.no_block(stmt);
        self.arity(stmt, 0, 0, stmt.name());
    }

    /// `keyword STRING`.
    pub fn string(&mut self, stmt: Stmt) -> Option<String> {
        self.one_with(stmt, || format!("{} <string>", stmt.name()))
            .map(|t| t.text.to_string())
    }

    /// `keyword SCRIPT [USER [GROUP]]`.
    pub fn script(&mut self, stmt: Stmt) -> Option<Script> {
        self.no_block(stmt);
        if !self.arity_with(stmt, 1, 3, || {
            format!("{} <command> [user [group]]", stmt.name())
        }) {
            return None;
        }
        let user = stmt.args().get(1).map(|t| t.text.to_string());
        let group = stmt
            .args()
            .get(2)
            .map(|t| t.text.trim_start_matches(':').to_string());
        Some(Script {
            command: stmt.args()[0].text.to_string(),
            user,
            group,
        })
    }

    /// `weight W [reverse|noreverse]` options after a name (tracked
    /// interfaces and scripts); `None` when no weight was given.
    pub fn tracking_weight(
        &mut self,
        words: &[&Token],
        lo: i64,
        hi: i64,
    ) -> Option<(Option<i32>, bool)> {
        let mut weight = None;
        let mut reverse = false;
        let mut i = 0;
        while i < words.len() {
            match words[i].text.as_str() {
                "weight" => {
                    let Some(v) = words.get(i + 1) else {
                        self.error(
                            words[i].span,
                            "`weight` is missing its value",
                            format!("weight <integer {lo}..{hi}>"),
                        );
                        return None;
                    };
                    weight = Some(self.int_tok(v, lo, hi, "weight")? as i32);
                    i += 2;
                }
                "reverse" => {
                    reverse = true;
                    i += 1;
                }
                "noreverse" => {
                    reverse = false;
                    i += 1;
                }
                other => {
                    self.error(
                        words[i].span,
                        format!("unexpected `{other}`"),
                        "`weight N`, `reverse` or `noreverse`",
                    );
                    return None;
                }
            }
        }
        Some((weight, reverse))
    }
}
