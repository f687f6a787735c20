//! The syntax tree: statements (a keyword and its arguments on one line) and
//! the blocks they open.
//!
//! A statement ends at the end of its line, at `{` (which opens its block) or
//! at `}`. After `{` the next token starts a statement inside the block, even
//! on the same line, so `group { VI_1 VI_2 }` and
//! `authentication { auth_type PASS` both work as they do in keepalived. A
//! `{` at the start of a line opens the block of the statement just before it.

use super::diagnostic::{Diagnostic, Diagnostics};
use super::lexer::{Token, TokenKind};
use super::source::Span;

/// A keyword, its arguments, and the block it opens, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// The first word of the statement.
    pub keyword: Token,
    /// The words after it on the same line.
    pub args: Args,
    /// The `{ ... }` that follows it.
    pub block: Option<Block>,
}

/// The arguments of a statement.
pub type Args = Vec<Token>;

/// A `{ ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Where the `{` is.
    pub open: Span,
    /// The statements inside.
    pub items: Vec<Stmt>,
}

impl Stmt {
    /// The keyword text.
    pub fn name(&self) -> &str {
        &self.keyword.text
    }

    /// The keyword followed by its arguments, as words (list blocks such as
    /// `group` or `notification_email` read a statement this way).
    pub fn words(&self) -> impl Iterator<Item = &Token> {
        std::iter::once(&self.keyword).chain(self.args.iter())
    }

    /// The statements of its block (empty when it has none).
    pub fn items(&self) -> &[Stmt] {
        self.block.as_ref().map_or(&[], |b| &b.items)
    }
}

struct Open {
    stmt: Stmt,
    /// A `{` that followed no keyword: matched, then dropped.
    anonymous: bool,
}

/// Builds statements from a stream of tokens and hands each top-level
/// statement on as soon as it is complete, so a large file is never held
/// whole as a tree. Every unbalanced brace is reported.
#[derive(Default)]
pub struct TreeBuilder {
    /// Statements whose block is open, innermost last.
    stack: Vec<Open>,
    /// The statement being read on the current line.
    pending: Option<Stmt>,
    /// A finished top-level statement without a block, held back in case
    /// its `{` is on the next line.
    held: Option<Stmt>,
    diags: Diagnostics,
}

impl TreeBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// A finished statement: into the enclosing block, or out if top-level.
    fn complete(&mut self, stmt: Stmt, out: &mut dyn FnMut(Stmt)) {
        match self.stack.last_mut() {
            Some(open) => open
                .stmt
                .block
                .as_mut()
                .expect("open statements have a block")
                .items
                .push(stmt),
            None => {
                if let Some(prev) = self.held.take() {
                    out(prev);
                }
                if stmt.block.is_some() {
                    out(stmt);
                } else {
                    self.held = Some(stmt);
                }
            }
        }
    }

    /// Feeds one token; finished top-level statements go to `out`.
    pub fn push(&mut self, tok: Token, out: &mut dyn FnMut(Stmt)) {
        match tok.kind {
            TokenKind::Word | TokenKind::Quoted => match &mut self.pending {
                Some(p)
                    if p.keyword.span.file == tok.span.file
                        && p.keyword.span.line == tok.span.line =>
                {
                    p.args.push(tok);
                }
                _ => {
                    if let Some(done) = self.pending.take() {
                        self.complete(done, out);
                    }
                    self.pending = Some(Stmt {
                        keyword: tok,
                        args: Args::new(),
                        block: None,
                    });
                }
            },
            TokenKind::Open => {
                let stmt = match self.pending.take() {
                    Some(p) => Some(p),
                    // `{` on the line after its keyword.
                    None => match self.stack.last_mut() {
                        Some(open) => {
                            let items = &mut open
                                .stmt
                                .block
                                .as_mut()
                                .expect("open statements have a block")
                                .items;
                            match items.last() {
                                Some(last) if last.block.is_none() => items.pop(),
                                _ => None,
                            }
                        }
                        None => self.held.take(),
                    },
                };
                match stmt {
                    Some(mut stmt) => {
                        stmt.block = Some(Block {
                            open: tok.span,
                            items: Vec::new(),
                        });
                        self.stack.push(Open {
                            stmt,
                            anonymous: false,
                        });
                    }
                    None => {
                        self.diags.push(
                            Diagnostic::error(tok.span, "`{` does not follow a keyword")
                                .expected("a keyword before `{`, such as `vrrp_instance NAME {`"),
                        );
                        // Keep brace matching in step with the text.
                        let anon = Token {
                            kind: TokenKind::Word,
                            text: Default::default(),
                            span: tok.span,
                        };
                        let block = Some(Block {
                            open: tok.span,
                            items: Vec::new(),
                        });
                        self.stack.push(Open {
                            stmt: Stmt {
                                keyword: anon,
                                args: Args::new(),
                                block,
                            },
                            anonymous: true,
                        });
                    }
                }
            }
            TokenKind::Close => {
                if let Some(done) = self.pending.take() {
                    self.complete(done, out);
                }
                match self.stack.pop() {
                    Some(open) if open.anonymous => {}
                    Some(open) => self.complete(open.stmt, out),
                    None => self.diags.push(
                        Diagnostic::error(tok.span, "unexpected `}`: no block is open here")
                            .expected("a `}` only to close a block opened with `{`"),
                    ),
                }
            }
        }
    }

    /// Ends the input: reports blocks never closed, hands on what is left,
    /// and returns the findings.
    pub fn finish(mut self, out: &mut dyn FnMut(Stmt)) -> Diagnostics {
        if let Some(done) = self.pending.take() {
            self.complete(done, out);
        }
        while let Some(open) = self.stack.pop() {
            let block = open
                .stmt
                .block
                .as_ref()
                .expect("open statements have a block");
            let what = if open.anonymous {
                "this block".to_string()
            } else {
                let mut name = format!("`{}", open.stmt.keyword.text);
                for a in &open.stmt.args {
                    name.push(' ');
                    name.push_str(&a.text);
                }
                name.push('`');
                name
            };
            self.diags.push(
                Diagnostic::error(
                    block.open,
                    format!(
                        "unclosed block: {what} opened on line {} is never closed",
                        block.open.line
                    ),
                )
                .expected("a `}` closing this block"),
            );
            if !open.anonymous {
                self.complete(open.stmt, out);
            }
        }
        if let Some(prev) = self.held.take() {
            out(prev);
        }
        self.diags
    }
}

/// Builds the whole tree of a list of tokens (for tests and small inputs).
pub fn build(tokens: Vec<Token>, diags: &mut Diagnostics) -> Vec<Stmt> {
    let mut tree = Vec::new();
    let mut builder = TreeBuilder::new();
    for tok in tokens {
        builder.push(tok, &mut |s| tree.push(s));
    }
    for d in builder.finish(&mut |s| tree.push(s)).iter() {
        diags.push(d.clone());
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lexer::{LexOptions, Lexer};
    use crate::config::source::{MemLoader, SourceMap};
    use std::path::Path;

    fn parse(text: &str) -> (Vec<Stmt>, Diagnostics) {
        let loader = MemLoader::new();
        let opts = LexOptions::default();
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::default();
        let mut toks = Vec::new();
        Lexer::new(&loader, &opts, &mut sources, &mut diags, &mut |t| {
            toks.push(t)
        })
        .lex_text(Path::new("t.conf"), text);
        let tree = build(toks, &mut diags);
        (tree, diags)
    }

    #[test]
    fn blocks_on_one_line_and_split_lines() {
        let (tree, diags) = parse("vrrp_sync_group VG { group { VI_1 VI_2 } }\nauthentication { auth_type PASS\nauth_pass x\n}\nblock\n{\n a 1\n}\n");
        assert!(diags.as_slice().is_empty());
        assert_eq!(tree.len(), 3);
        let group = &tree[0].items()[0];
        assert_eq!(group.name(), "group");
        assert_eq!(
            group.items()[0]
                .words()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>(),
            ["VI_1", "VI_2"]
        );
        let auth = &tree[1];
        assert_eq!(auth.items().len(), 2);
        assert_eq!(auth.items()[0].args[0].text, "PASS");
        assert_eq!(tree[2].items()[0].name(), "a");
    }

    #[test]
    fn unclosed_block_names_its_opening_line() {
        let (_, diags) =
            parse("global_defs {\n  router_id a\n}\nvrrp_instance VI_1 {\n  state MASTER\n");
        let d = &diags.as_slice()[0];
        assert_eq!((d.span.line, d.span.col), (4, 20));
        assert!(
            d.message.contains("`vrrp_instance VI_1` opened on line 4"),
            "{}",
            d.message
        );
    }

    #[test]
    fn stray_close_brace() {
        let (_, diags) = parse("a {\n}\n  }\n");
        let d = &diags.as_slice()[0];
        assert_eq!((d.span.line, d.span.col), (3, 3));
    }
}
