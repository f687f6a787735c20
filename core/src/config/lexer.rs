//! keepalived's lexical layer: lines, comments, quotes, braces, `include`,
//! `@ID` conditional lines and `$NAME` parameters.
//!
//! keepalived reads a configuration line by line. A `#` or `!` starts a
//! comment wherever it stands, even inside a word; only double quotes protect
//! it. `{` and `}` are tokens of their own even when they touch a word. The
//! output is a flat list of tokens, each with the file, line and column it
//! came from; [`super::tree`] gives them structure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use compact_str::CompactString;
use nom::bytes::complete::{take_till1, take_while};
use nom::IResult;

use super::diagnostic::{Diagnostic, Diagnostics};
use super::source::{FileId, SourceLoader, SourceMap, Span};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bare word.
    Word,
    /// A double-quoted string (quotes removed).
    Quoted,
    /// `{`
    Open,
    /// `}`
    Close,
}

/// One token with its place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What kind of token.
    pub kind: TokenKind,
    /// Its text (without quotes for [`TokenKind::Quoted`]); short texts
    /// are stored inline, which keeps a large configuration's tokens from
    /// costing one allocation each.
    pub text: CompactString,
    /// Where it starts.
    pub span: Span,
}

/// Where tokens go: kind, text and position, so the receiver builds each
/// token once, in place.
pub type TokenSink<'a> = dyn FnMut(TokenKind, &str, Span) + 'a;

/// Choices that change how the text is read.
#[derive(Debug, Clone, Default)]
pub struct LexOptions {
    /// The config id that `@ID` / `@^ID` lines are compared with; `None`
    /// drops every `@ID` line and keeps every `@^ID` line.
    pub config_id: Option<String>,
}

/// The include keyword and its variants (keepalived's include_check levels,
/// which holdfast treats as plain `include`).
const INCLUDE_KEYWORDS: &[&str] = &[
    "include", "includer", "includem", "includew", "includeb", "includea",
];

/// How many words one brace expression may expand to.
const MAX_BRACE_EXPANSION: usize = 1024;

/// How deep `include` may nest before we call it a loop.
const MAX_INCLUDE_DEPTH: usize = 32;
/// How many rounds of `$NAME` substitution before we call it recursive.
const MAX_SUBSTITUTION_ROUNDS: usize = 16;
/// The longest line substitution may produce: a parameter that refers to
/// itself twice would otherwise double the line every round.
const MAX_SUBSTITUTED_LINE: usize = 64 * 1024;

/// Reads files and turns them into tokens.
pub struct Lexer<'a> {
    loader: &'a dyn SourceLoader,
    opts: &'a LexOptions,
    sources: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
    defs: BTreeMap<String, String>,
    include_stack: Vec<PathBuf>,
    /// Where finished tokens go (the tree builder), so a large file is never
    /// held as one list of tokens.
    sink: &'a mut TokenSink<'a>,
}

impl<'a> Lexer<'a> {
    /// A lexer that records files in `sources`, findings in `diags`, and
    /// hands each token to `sink` in order.
    pub fn new(
        loader: &'a dyn SourceLoader,
        opts: &'a LexOptions,
        sources: &'a mut SourceMap,
        diags: &'a mut Diagnostics,
        sink: &'a mut TokenSink<'a>,
    ) -> Self {
        Self {
            loader,
            opts,
            sources,
            diags,
            defs: BTreeMap::new(),
            include_stack: Vec::new(),
            sink,
        }
    }

    /// Reads the file at `path` (and everything it includes).
    pub fn lex_path(mut self, path: &Path) -> Result<(), std::io::Error> {
        let text = self.loader.read(path)?;
        self.lex_file(path.to_path_buf(), Arc::new(text));
        Ok(())
    }

    /// Reads `text` as if it were the file `path` (its includes are read
    /// through the loader).
    #[cfg(test)]
    pub fn lex_text(self, path: &Path, text: &str) {
        self.lex_shared(path, Arc::new(text.to_string()));
    }

    /// [`Lexer::lex_text`] without copying the text.
    pub fn lex_shared(mut self, path: &Path, text: Arc<String>) {
        self.lex_file(path.to_path_buf(), text);
    }

    fn lex_file(&mut self, path: PathBuf, text: Arc<String>) {
        let file = self.sources.add(path.clone(), Arc::clone(&text));
        self.include_stack.push(path);
        let mut line_start = 0;
        let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
        for (index, end) in ends.enumerate() {
            // `\n` is ASCII, so these are character boundaries.
            let raw = &text[line_start..end];
            line_start = end + 1;
            let line = index as u32 + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            self.lex_line(file, line, raw);
        }
        self.include_stack.pop();
    }

    fn lex_line(&mut self, file: FileId, line: u32, raw: &str) {
        let span_at = |col: u32| Span { file, line, col };
        // Leading blanks are skipped once here: indentation is most of the
        // bytes of a typical file. Most lines start with neither `@` nor `$`.
        let lead = raw
            .bytes()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(raw.len());
        let first = raw.as_bytes().get(lead).copied();
        if first.is_none() {
            return;
        }
        let start = if first == Some(b'@') {
            match self.conditional(raw) {
                Some(start) => start,
                None => return,
            }
        } else {
            lead
        };
        let body = &raw[start..];
        // Blanks are ASCII, so up to `lead` bytes are columns.
        let first_col = if start == lead {
            lead as u32 + 1
        } else {
            raw[..start].chars().count() as u32 + 1
        };
        let maybe_definition = body.trim_ascii_start().starts_with('$');
        if let Some((name, value)) = maybe_definition.then(|| definition(body)).flatten() {
            if value.ends_with('\\') {
                self.diags.warning(
                    span_at(first_col),
                    format!("multi-line parameter definitions are not implemented yet; `${name}` keeps the text up to the `\\`"),
                );
            }
            self.defs.insert(
                name.to_string(),
                value.trim_end_matches('\\').trim_end().to_string(),
            );
            return;
        }

        // Columns of each byte: computed only when a line is not plain ASCII
        // or has parameters, since most lines are and then col = offset + base.
        let mut cols = Columns::Ascii(first_col);
        let mut text = std::borrow::Cow::Borrowed(body);
        let substitute = !self.defs.is_empty() && body.contains('$');
        if substitute || !body.is_ascii() {
            let mut table = Vec::with_capacity(body.len());
            for (i, ch) in body.chars().enumerate() {
                table.extend(std::iter::repeat_n(first_col + i as u32, ch.len_utf8()));
            }
            cols = Columns::Table(table);
        }
        if let (Columns::Table(table), true) = (&mut cols, substitute) {
            let cols = table;
            let mut owned = body.to_string();
            let mut rounds = 0;
            while let Some((next, next_cols)) = substitute_once(&owned, cols, &self.defs) {
                owned = next;
                *cols = next_cols;
                rounds += 1;
                if owned.len() > MAX_SUBSTITUTED_LINE {
                    self.diags.push(
                        Diagnostic::error(
                            span_at(first_col),
                            format!("parameter substitution makes this line longer than {MAX_SUBSTITUTED_LINE} bytes"),
                        )
                        .expected("parameters that do not expand to themselves"),
                    );
                    return;
                }
                if rounds >= MAX_SUBSTITUTION_ROUNDS {
                    self.diags.push(
                        Diagnostic::error(
                            span_at(first_col),
                            "parameter substitution does not end (a `$NAME` refers to itself)",
                        )
                        .expected("parameter definitions that do not refer back to themselves"),
                    );
                    return;
                }
            }
            text = std::borrow::Cow::Owned(owned);
        }

        // `include` lines take their patterns raw: a pattern may hold the
        // braces of a csh-style `{a,b}` expression.
        let trimmed = text.trim_ascii_start();
        let keyword_len = trimmed
            .bytes()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(trimmed.len());
        if INCLUDE_KEYWORDS.contains(&&trimmed[..keyword_len]) {
            let offset = text.len() - trimmed.len();
            self.include(file, line, &cols, offset, &text[offset..]);
            return;
        }
        tokenize(&text, &cols, file, line, &mut *self.sink, self.diags);
    }

    /// Applies `@ID` / `@^ID`: `None` drops the line, `Some(offset)` is where
    /// the kept text starts.
    fn conditional(&self, raw: &str) -> Option<usize> {
        let lead = raw.len() - raw.trim_start().len();
        let rest = &raw[lead..];
        let Some(cond) = rest.strip_prefix('@') else {
            return Some(0);
        };
        let (negate, cond) = match cond.strip_prefix('^') {
            Some(c) => (true, c),
            None => (false, cond),
        };
        let id_len = cond.find(char::is_whitespace).unwrap_or(cond.len());
        let id = &cond[..id_len];
        let matches = self.opts.config_id.as_deref() == Some(id);
        if matches != negate {
            Some(raw.len() - cond.len() + id_len)
        } else {
            None
        }
    }

    /// `include PATTERN...` (the line from the keyword on, starting at
    /// byte `offset` of the line).
    fn include(&mut self, file: FileId, line: u32, cols: &Columns, offset: usize, text: &str) {
        let span_at = |at: usize| Span {
            file,
            line,
            col: cols.get(offset + at),
        };
        // Patterns are the words after the keyword, up to a comment.
        let mut patterns: Vec<(usize, &str)> = Vec::new();
        let mut at = 0;
        let bytes = text.as_bytes();
        while at < bytes.len() {
            while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            if at >= bytes.len() || matches!(bytes[at], b'#' | b'!') {
                break;
            }
            let start = at;
            while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            patterns.push((start, text[start..at].trim_matches('"')));
        }
        let keyword = patterns.first().map_or("include", |p| p.1);
        if patterns.len() < 2 {
            self.diags.push(
                Diagnostic::error(
                    span_at(0),
                    format!("`{keyword}` needs a file name or pattern"),
                )
                .expected(format!("{keyword} PATTERN")),
            );
            return;
        }
        let base = self
            .include_stack
            .last()
            .and_then(|p| p.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for &(pat_at, pattern) in &patterns[1..] {
            let span = span_at(pat_at);
            let mut paths = Vec::new();
            for expanded in expand_braces(pattern) {
                let p = Path::new(&expanded);
                let full = normalize(&if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    base.join(p)
                });
                for found in self.loader.glob(&full) {
                    if !paths.contains(&found) {
                        paths.push(found);
                    }
                }
            }
            if paths.is_empty() {
                self.diags.warning(
                    span,
                    format!(
                        "`include {pattern}` matches no file (relative to {})",
                        base.display()
                    ),
                );
                continue;
            }
            for path in paths {
                if self.include_stack.contains(&path) {
                    self.diags.error(
                        span,
                        format!("`{}` includes itself (include loop)", path.display()),
                    );
                    continue;
                }
                if self.include_stack.len() >= MAX_INCLUDE_DEPTH {
                    self.diags.error(
                        span,
                        format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files"),
                    );
                    return;
                }
                match self.loader.read(&path) {
                    Ok(text) => self.lex_file(path, Arc::new(text)),
                    Err(e) => self.diags.error(
                        span,
                        format!("cannot read included file {}: {e}", path.display()),
                    ),
                }
            }
        }
    }
}

/// csh-style brace expansion (`{a,b}c` is `ac bc`, nested braces too), as
/// glob(3) with GLOB_BRACE does for keepalived. A brace without a comma
/// inside, or unbalanced, stays literal.
fn expand_braces(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    expand_into(pattern, &mut out);
    out
}

fn expand_into(pattern: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_BRACE_EXPANSION {
        return;
    }
    let bytes = pattern.as_bytes();
    let mut search = 0;
    while let Some(rel) = pattern[search..].find('{') {
        let open = search + rel;
        // Find the matching close and the top-level commas.
        let mut depth = 0;
        let mut commas = Vec::new();
        let mut close = None;
        for (i, &b) in bytes.iter().enumerate().skip(open) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        break;
                    }
                }
                b',' if depth == 1 => commas.push(i),
                _ => {}
            }
        }
        let Some(close) = close else { break };
        if commas.is_empty() {
            search = open + 1;
            continue;
        }
        let (prefix, suffix) = (&pattern[..open], &pattern[close + 1..]);
        let mut start = open + 1;
        for end in commas.into_iter().chain(std::iter::once(close)) {
            expand_into(&format!("{prefix}{}{suffix}", &pattern[start..end]), out);
            start = end + 1;
        }
        return;
    }
    out.push(pattern.to_string());
}

/// Removes `.` and `..` components without touching the file system, so an
/// include loop through `../` is recognised and in-memory loaders match.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `$NAME=value` (only white space may stand before the `$`).
fn definition(body: &str) -> Option<(&str, &str)> {
    let rest = body.trim_start().strip_prefix('$')?;
    let name_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let name = &rest[..name_len];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let value = rest[name_len..].strip_prefix('=')?;
    Some((name, value.trim()))
}

/// One round of `$NAME` (followed by white space or the end) and `${NAME}`
/// replacement; `None` when nothing was replaced. Replaced text takes the
/// column of its `$`, so diagnostics point at the parameter.
fn substitute_once(
    input: &str,
    cols: &[u32],
    defs: &BTreeMap<String, String>,
) -> Option<(String, Vec<u32>)> {
    let mut out = String::with_capacity(input.len());
    let mut out_cols = Vec::with_capacity(cols.len());
    let mut changed = false;
    let mut i = 0;
    let bytes = input.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let after = &input[i + 1..];
            let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
                match braced.find('}') {
                    Some(end) => (&braced[..end], end + 2),
                    None => ("", 0),
                }
            } else {
                let len = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                let next = after[len..].chars().next();
                if next.is_none_or(char::is_whitespace) {
                    (&after[..len], len)
                } else {
                    ("", 0)
                }
            };
            if let Some(value) = (!name.is_empty()).then(|| defs.get(name)).flatten() {
                out.push_str(value);
                out_cols.extend(std::iter::repeat_n(cols[i], value.len()));
                i += 1 + consumed;
                changed = true;
                continue;
            }
        }
        let ch_len = input[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&input[i..i + ch_len]);
        out_cols.extend_from_slice(&cols[i..i + ch_len]);
        i += ch_len;
    }
    changed.then_some((out, out_cols))
}

/// Where each byte of a line came from.
enum Columns {
    /// Plain ASCII, unchanged: byte `i` is at column `base + i`.
    Ascii(u32),
    /// Byte `i` is at column `table[i]` (multi-byte characters, substitutions).
    Table(Vec<u32>),
}

impl Columns {
    fn get(&self, offset: usize) -> u32 {
        match self {
            Columns::Ascii(base) => base + offset as u32,
            Columns::Table(t) => t
                .get(offset)
                .copied()
                .or_else(|| t.last().map(|c| c + 1))
                .unwrap_or(1),
        }
    }
}

// White space is ASCII white space, as C's isspace() that keepalived uses.
fn is_space(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// Bytes that end a bare word (a `"` ends the fast path: the word goes on
/// with a quoted stretch). The delimiters are all ASCII and UTF-8
/// continuation bytes are never ASCII, so scanning bytes is exact and much
/// cheaper than decoding characters.
const WORD_END: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_whitespace() || matches!(b, b'{' | b'}' | b'#' | b'!' | b'"');
        i += 1;
    }
    t
};

fn spaces(input: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|b: u8| b.is_ascii_whitespace())(input)
}

fn word(input: &[u8]) -> IResult<&[u8], &[u8]> {
    take_till1(|b: u8| WORD_END[b as usize])(input)
}

/// Splits one (already substituted) line into tokens.
///
/// A word runs to white space, a brace or a comment. A `"` inside it opens
/// a quoted stretch, where white space, braces and comment characters are
/// plain text and backslash escapes work, up to the next `"`; the quotes
/// are dropped and the word goes on (`abcd" efg h jkl "mnop` is one word,
/// as keepalived's man page says). Outside quotes a backslash is just a
/// character, and a `'` too (measured on keepalived 2.2.7).
fn tokenize(
    text: &str,
    cols: &Columns,
    file: FileId,
    line: u32,
    emit: &mut TokenSink<'_>,
    diags: &mut Diagnostics,
) {
    let span_of = |offset: usize| Span {
        file,
        line,
        col: cols.get(offset),
    };
    let bytes = text.as_bytes();
    let mut rest = bytes;
    // Where the last word ended, to spot a comment that cuts a word.
    let mut last_word: Option<(usize, usize)> = None;
    loop {
        rest = match spaces(rest) {
            Ok((r, _)) => r,
            Err(_) => rest,
        };
        let Some(&b) = rest.first() else { break };
        let offset = bytes.len() - rest.len();
        match b {
            b'#' | b'!' => {
                if let Some((start, end)) = last_word.filter(|&(_, end)| end == offset) {
                    let whole_end = text[start..]
                        .find(is_space)
                        .map_or(text.len(), |n| start + n);
                    let whole = &text[start..whole_end];
                    let kept = &text[start..end];
                    let c = b as char;
                    diags.push(
                        Diagnostic::warning(
                            span_of(offset),
                            format!(
                                "`{c}` starts a comment in the middle of `{whole}`, so the value read is `{kept}` (keepalived reads it the same way)"
                            ),
                        )
                        .expected(format!("\"{whole}\" in double quotes if the whole word is meant")),
                    );
                }
                break;
            }
            b'{' | b'}' => {
                let (kind, t) = if b == b'{' {
                    (TokenKind::Open, "{")
                } else {
                    (TokenKind::Close, "}")
                };
                emit(kind, t, span_of(offset));
                rest = &rest[1..];
                last_word = None;
            }
            _ => {
                // Fast path: a bare word with no quote in it.
                if b != b'"' {
                    if let Ok((r, w)) = word(rest) {
                        if r.first() != Some(&b'"') {
                            emit(
                                TokenKind::Word,
                                &text[offset..offset + w.len()],
                                span_of(offset),
                            );
                            last_word = Some((offset, offset + w.len()));
                            rest = r;
                            continue;
                        }
                    }
                }
                let scan = quoted_word(text, offset);
                if let Some(quote_at) = scan.unterminated {
                    diags.push(
                        Diagnostic::error(
                            span_of(quote_at),
                            "unterminated string: this `\"` is not closed on its line",
                        )
                        .expected(format!("a closing `\"` before the end of line {line}")),
                    );
                }
                emit(TokenKind::Quoted, &scan.value, span_of(offset));
                last_word = Some((offset, scan.end));
                rest = &bytes[scan.end..];
            }
        }
    }
}

/// A word with quoted stretches in it.
struct QuotedWord {
    value: String,
    /// Byte offset just past the word.
    end: usize,
    /// Where a `"` opened a stretch that the line never closes (the rest
    /// of the line is then taken as the string, so one missing quote gives
    /// one error and not a cascade).
    unterminated: Option<usize>,
}

fn quoted_word(text: &str, start: usize) -> QuotedWord {
    let mut value = String::new();
    let mut chars = text[start..]
        .char_indices()
        .map(|(i, c)| (start + i, c))
        .peekable();
    let mut open: Option<usize> = None;
    while let Some(&(i, c)) = chars.peek() {
        match (open, c) {
            (None, c) if c.is_ascii_whitespace() || matches!(c, '{' | '}' | '#' | '!') => {
                return QuotedWord {
                    value,
                    end: i,
                    unterminated: None,
                };
            }
            (None, '"') => open = Some(i),
            (None, c) => value.push(c),
            (Some(_), '"') => open = None,
            (Some(_), '\\') => {
                chars.next();
                unescape(&mut chars, &mut value);
                continue;
            }
            (Some(_), c) => value.push(c),
        }
        chars.next();
    }
    QuotedWord {
        value,
        end: text.len(),
        unterminated: open,
    }
}

/// The escapes of keepalived's quoted strings, after a backslash: `\a \b \E
/// \f \n \r \t \v`, octal `\nnn`, hex `\xXX`, control `\cC`, and `\C` for
/// any other character C.
fn unescape(
    chars: &mut std::iter::Peekable<impl Iterator<Item = (usize, char)>>,
    out: &mut String,
) {
    let Some((_, c)) = chars.next() else {
        out.push('\\');
        return;
    };
    let simple = match c {
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'E' => Some('\x1b'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        _ => None,
    };
    if let Some(s) = simple {
        out.push(s);
        return;
    }
    let mut digits = |radix: u32, max: usize, first: Option<char>| {
        let mut n: u32 = 0;
        let mut count = 0;
        if let Some(d) = first.and_then(|d| d.to_digit(radix)) {
            n = d;
            count = 1;
        }
        while count < max {
            match chars.peek().and_then(|&(_, d)| d.to_digit(radix)) {
                Some(d) => {
                    n = n * radix + d;
                    count += 1;
                    chars.next();
                }
                None => break,
            }
        }
        (n, count)
    };
    match c {
        '0'..='7' => {
            let (n, _) = digits(8, 3, Some(c));
            out.push(char::from_u32(n & 0xff).unwrap_or('?'));
        }
        'x' => {
            let (n, count) = digits(16, 2, None);
            if count == 0 {
                out.push('x');
            } else {
                out.push(char::from_u32(n).unwrap_or('?'));
            }
        }
        'c' => match chars.next() {
            Some((_, ctl)) if ctl.is_ascii() => out.push(char::from(ctl as u8 & 0x1f)),
            Some((_, other)) => out.push(other),
            None => out.push('c'),
        },
        other => out.push(other),
    }
}

#[cfg(test)]
pub(crate) fn collect(
    loader: &dyn SourceLoader,
    opts: &LexOptions,
    path: &Path,
    text: Option<&str>,
) -> (Vec<Token>, SourceMap, Diagnostics) {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let mut toks = Vec::new();
    let mut push = |kind, text: &str, span| {
        toks.push(Token {
            kind,
            text: text.into(),
            span,
        })
    };
    let lexer = Lexer::new(loader, opts, &mut sources, &mut diags, &mut push);
    match text {
        Some(text) => lexer.lex_text(path, text),
        None => lexer.lex_path(path).expect("the test's file exists"),
    }
    (toks, sources, diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::source::MemLoader;

    fn lex(text: &str, id: Option<&str>) -> (Vec<Token>, Diagnostics) {
        let opts = LexOptions {
            config_id: id.map(str::to_string),
        };
        let (toks, _, diags) = collect(&MemLoader::new(), &opts, Path::new("t.conf"), Some(text));
        (toks, diags)
    }

    fn texts(toks: &[Token]) -> Vec<&str> {
        toks.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn braces_hug_words_and_comments_cut_words() {
        let (toks, diags) = lex("group{VI_1 VI_2}\nauth_pass k@l!ve1\n", None);
        assert_eq!(
            texts(&toks),
            ["group", "{", "VI_1", "VI_2", "}", "auth_pass", "k@l"]
        );
        let w: Vec<_> = diags.iter().collect();
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].span.line, w[0].span.col), (2, 14));
        assert!(
            w[0].message.contains("`k@l!ve1`") && w[0].message.contains("`k@l`"),
            "{}",
            w[0].message
        );
    }

    #[test]
    fn quotes_protect_comment_characters() {
        let (toks, diags) = lex("auth_pass \"k@l!ve1\" # trailing\n", None);
        assert_eq!(texts(&toks), ["auth_pass", "k@l!ve1"]);
        assert_eq!(toks[1].kind, TokenKind::Quoted);
        assert!(diags.as_slice().is_empty());
    }

    #[test]
    fn quotes_inside_a_word_join_it_as_the_man_page_says() {
        let (toks, diags) = lex(
            "a abcd\" efg h jkl \"mnop b\nc abcd \"efg h jkl\" mnop\n",
            None,
        );
        assert!(diags.as_slice().is_empty(), "{:?}", diags.as_slice());
        assert_eq!(
            texts(&toks),
            [
                "a",
                "abcd efg h jkl mnop",
                "b",
                "c",
                "abcd",
                "efg h jkl",
                "mnop"
            ]
        );
        assert_eq!(toks[1].span.col, 3);
    }

    #[test]
    fn escapes_inside_quotes_only() {
        let (toks, _) = lex("a \"t\\tx\\x41\\101\\\"q\\\\\" b\\!c\n'x!y'\n", None);
        assert_eq!(texts(&toks), ["a", "t\txAA\"q\\", "b\\", "'x"]);
    }

    #[test]
    fn include_expands_braces() {
        let loader = MemLoader::new()
            .with("/k/main.conf", "include {a,b/{x,y}}.conf # both\nz 1\n")
            .with("/k/a.conf", "a 1\n")
            .with("/k/b/x.conf", "x 1\n")
            .with("/k/b/y.conf", "y 1\n");
        let (toks, _, diags) = collect(
            &loader,
            &LexOptions::default(),
            Path::new("/k/main.conf"),
            None,
        );
        assert!(diags.as_slice().is_empty(), "{:?}", diags.as_slice());
        assert_eq!(texts(&toks), ["a", "1", "x", "1", "y", "1", "z", "1"]);
        assert_eq!(expand_braces("{a,b}{,c}"), ["a", "ac", "b", "bc"]);
        assert_eq!(expand_braces("x{}y{z"), ["x{}y{z"]);
    }

    #[test]
    fn unterminated_string_names_its_line() {
        let (_, diags) = lex("a\n  script \"/bin/true\n", None);
        let d = &diags.as_slice()[0];
        assert_eq!((d.span.line, d.span.col), (2, 10));
        assert!(d.message.contains("unterminated"));
    }

    #[test]
    fn conditional_lines() {
        let text = "@high priority 150\n@low priority 100\n@^high nopreempt\n";
        assert_eq!(texts(&lex(text, Some("high")).0), ["priority", "150"]);
        assert_eq!(
            texts(&lex(text, Some("low")).0),
            ["priority", "100", "nopreempt"]
        );
        assert_eq!(texts(&lex(text, None).0), ["nopreempt"]);
        let (toks, _) = lex(text, Some("high"));
        assert_eq!(toks[1].span.col, 16);
    }

    #[test]
    fn parameters_are_substituted_with_their_column() {
        let text =
            "$BASE=10.2.${SUB}\n$SUB=0\nip ${BASE}.100/32 $SUB\n$SUB=10\n${BASE}.1\n$UNDEF x\n";
        let (toks, _) = lex(text, None);
        assert_eq!(
            texts(&toks),
            ["ip", "10.2.0.100/32", "0", "10.2.10.1", "$UNDEF", "x"]
        );
        assert_eq!(toks[1].span.col, 4);
        assert_eq!(toks[2].span.col, 19);
    }

    #[test]
    fn exploding_parameter_is_an_error_not_an_out_of_memory() {
        let (_, diags) = lex("$A=${A}${A}${A}${A}${A}${A}${A}${A}\nv ${A}\n", None);
        assert!(diags.has_errors());
        assert!(
            diags.as_slice()[0].message.contains("longer than"),
            "{:?}",
            diags.as_slice()
        );
    }

    #[test]
    fn self_referencing_parameter_is_an_error() {
        let (_, diags) = lex("$A=${A}x\nv $A\n", None);
        assert!(diags.has_errors());
    }

    #[test]
    fn include_is_relative_to_the_including_file() {
        let loader = MemLoader::new()
            .with("/etc/k/main.conf", "a 1\ninclude conf.d/*.conf\nb 2\n")
            .with("/etc/k/conf.d/x.conf", "x 1\n")
            .with("/etc/k/conf.d/y.conf", "y 1\ninclude ../main.conf\n");
        let (toks, sources, diags) = collect(
            &loader,
            &LexOptions::default(),
            Path::new("/etc/k/main.conf"),
            None,
        );
        assert_eq!(texts(&toks), ["a", "1", "x", "1", "y", "1", "b", "2"]);
        assert_eq!(sources.files().len(), 3);
        // y.conf including main.conf again is a loop.
        let d = &diags.as_slice()[0];
        assert!(d.message.contains("include loop"), "{}", d.message);
        assert_eq!((d.span.file, d.span.line, d.span.col), (2, 2, 9));
    }
}
