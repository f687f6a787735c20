//! The syntax tree: statements (a keyword and its arguments on one line) and
//! the blocks they open.
//!
//! A statement ends at the end of its line, at `{` (which opens its block) or
//! at `}`. After `{` the next token starts a statement inside the block, even
//! on the same line, so `group { VI_1 VI_2 }` and
//! `authentication { auth_type PASS` both work as they do in keepalived. A
//! `{` at the start of a line opens the block of the statement just before it.
//!
//! The tree is an arena: statements are indices into one node list and
//! their words are runs of one token list. A top-level statement the model
//! builder has finished with is cut off the end again, so reading a file of
//! thousands of virtual servers reuses the same two buffers throughout.

use super::diagnostic::{Diagnostic, Diagnostics};
use super::lexer::{Token, TokenKind};
use super::source::Span;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    /// Index of the keyword in `tokens`; the arguments follow it.
    keyword: u32,
    /// Number of arguments.
    nargs: u32,
    /// Where its `{` is, when it has a block.
    block_open: Option<Span>,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
    /// A block opened by a `{` that followed no keyword: read, reported,
    /// never shown to the model builder.
    anonymous: bool,
}

/// Statements and their tokens.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    tokens: Vec<Token>,
    nodes: Vec<Node>,
}

impl Tree {
    /// The statement at `idx`.
    pub fn stmt(&self, idx: u32) -> Stmt<'_> {
        Stmt { tree: self, idx }
    }

    fn node(&self, idx: u32) -> &Node {
        &self.nodes[idx as usize]
    }

    fn truncate(&mut self, mark: (usize, usize)) {
        self.tokens.truncate(mark.0);
        self.nodes.truncate(mark.1);
    }
}

/// A statement: a view into a [`Tree`].
#[derive(Debug, Clone, Copy)]
pub struct Stmt<'t> {
    tree: &'t Tree,
    idx: u32,
}

impl<'t> Stmt<'t> {
    /// The first word of the statement.
    pub fn keyword(self) -> &'t Token {
        &self.tree.tokens[self.tree.node(self.idx).keyword as usize]
    }

    /// The keyword text.
    pub fn name(self) -> &'t str {
        &self.keyword().text
    }

    /// The words after the keyword on the same line.
    pub fn args(self) -> &'t [Token] {
        let n = self.tree.node(self.idx);
        let start = n.keyword as usize + 1;
        &self.tree.tokens[start..start + n.nargs as usize]
    }

    /// Where its `{` is, if it opens a block.
    pub fn block_open(self) -> Option<Span> {
        self.tree.node(self.idx).block_open
    }

    /// The statements of its block (none when it has no block).
    pub fn items(self) -> Items<'t> {
        Items {
            tree: self.tree,
            next: self.tree.node(self.idx).first_child,
        }
    }

    /// The keyword followed by its arguments, as words (list blocks such as
    /// `group` or `notification_email` read a statement this way).
    pub fn words(self) -> impl Iterator<Item = &'t Token> {
        let n = self.tree.node(self.idx);
        let start = n.keyword as usize;
        self.tree.tokens[start..start + 1 + n.nargs as usize].iter()
    }
}

/// The statements of a block, in order.
#[derive(Debug, Clone)]
pub struct Items<'t> {
    tree: &'t Tree,
    next: u32,
}

impl<'t> Iterator for Items<'t> {
    type Item = Stmt<'t>;

    fn next(&mut self) -> Option<Stmt<'t>> {
        while self.next != NONE {
            let idx = self.next;
            let node = self.tree.node(idx);
            self.next = node.next_sibling;
            if !node.anonymous {
                return Some(Stmt {
                    tree: self.tree,
                    idx,
                });
            }
        }
        None
    }
}

/// What the receiver of a top-level statement wants done with its syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Keep it in the tree (it is read again at the end).
    Yes,
    /// Done with it: its space is reused.
    No,
}

/// Builds statements from a stream of tokens and hands each top-level
/// statement on as soon as it is complete. Every unbalanced brace is reported.
pub struct TreeBuilder {
    tree: Tree,
    /// Open blocks, innermost last: (node, anonymous).
    stack: Vec<(u32, bool)>,
    /// The statement being read on the current line.
    pending: u32,
    /// The last top-level statement, when it has no block yet: its `{` may
    /// be on the next line, so it is handed on only when the next statement starts.
    held: u32,
    /// Where the current top-level statement starts: (tokens, nodes).
    mark: (usize, usize),
    /// Top-level statements kept for the end.
    kept: Vec<u32>,
    diags: Diagnostics,
}

impl Default for TreeBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TreeBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self {
            tree: Tree::default(),
            stack: Vec::new(),
            pending: NONE,
            held: NONE,
            mark: (0, 0),
            kept: Vec::new(),
            diags: Diagnostics::default(),
        }
    }

    fn new_node(&mut self, tok: Token) -> u32 {
        let idx = self.tree.nodes.len() as u32;
        self.tree.nodes.push(Node {
            keyword: self.tree.tokens.len() as u32,
            nargs: 0,
            block_open: None,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            anonymous: false,
        });
        self.tree.tokens.push(tok);
        idx
    }

    /// Hands a finished top-level statement on and keeps or drops its syntax.
    fn emit(&mut self, idx: u32, out: &mut dyn FnMut(Stmt<'_>) -> Keep) {
        match out(self.tree.stmt(idx)) {
            Keep::Yes => self.kept.push(idx),
            Keep::No => self.tree.truncate(self.mark),
        }
        self.mark = (self.tree.tokens.len(), self.tree.nodes.len());
    }

    /// A statement is finished: top-level ones are handed on (a block-less
    /// one only once the next statement starts).
    fn complete(&mut self, idx: u32, out: &mut dyn FnMut(Stmt<'_>) -> Keep) {
        if !self.stack.is_empty() {
            return;
        }
        if self.tree.node(idx).block_open.is_some() {
            self.emit(idx, out);
        } else {
            self.held = idx;
        }
    }

    /// Starts a statement: links it into the open block.
    fn start(&mut self, tok: Token, out: &mut dyn FnMut(Stmt<'_>) -> Keep) -> u32 {
        if self.stack.is_empty() && self.held != NONE {
            let held = std::mem::replace(&mut self.held, NONE);
            self.emit(held, out);
        }
        let idx = self.new_node(tok);
        if let Some(&(parent, _)) = self.stack.last() {
            let p = &mut self.tree.nodes[parent as usize];
            let prev = std::mem::replace(&mut p.last_child, idx);
            if prev == NONE {
                p.first_child = idx;
            } else {
                self.tree.nodes[prev as usize].next_sibling = idx;
            }
        }
        idx
    }

    /// Feeds one token; finished top-level statements go to `out`.
    #[cfg(test)]
    pub fn push(&mut self, tok: Token, out: &mut dyn FnMut(Stmt<'_>) -> Keep) {
        self.push_parts(tok.kind, &tok.text, tok.span, out);
    }

    /// [`TreeBuilder::push`] from the parts of a token, which is then built
    /// only once, where it is stored.
    pub fn push_parts(
        &mut self,
        kind: TokenKind,
        text: &str,
        span: Span,
        out: &mut dyn FnMut(Stmt<'_>) -> Keep,
    ) {
        match kind {
            TokenKind::Word | TokenKind::Quoted => {
                if self.pending != NONE {
                    let kw = &self.tree.tokens[self.tree.node(self.pending).keyword as usize].span;
                    if kw.file == span.file && kw.line == span.line {
                        self.tree.tokens.push(Token {
                            kind,
                            text: text.into(),
                            span,
                        });
                        self.tree.nodes[self.pending as usize].nargs += 1;
                        return;
                    }
                    let done = std::mem::replace(&mut self.pending, NONE);
                    self.complete(done, out);
                }
                self.pending = self.start(
                    Token {
                        kind,
                        text: text.into(),
                        span,
                    },
                    out,
                );
            }
            TokenKind::Open => {
                let target = if self.pending != NONE {
                    std::mem::replace(&mut self.pending, NONE)
                } else {
                    // `{` on the line after its keyword.
                    match self.stack.last() {
                        Some(&(parent, _)) => {
                            let last = self.tree.node(parent).last_child;
                            if last != NONE && self.tree.node(last).block_open.is_none() {
                                last
                            } else {
                                NONE
                            }
                        }
                        None => std::mem::replace(&mut self.held, NONE),
                    }
                };
                if target != NONE {
                    self.tree.nodes[target as usize].block_open = Some(span);
                    self.stack.push((target, false));
                } else {
                    self.diags.push(
                        Diagnostic::error(span, "`{` does not follow a keyword")
                            .expected("a keyword before `{`, such as `vrrp_instance NAME {`"),
                    );
                    // Keep brace matching in step with the text; the block
                    // is read (so errors inside it are found) but not used.
                    let anon = Token {
                        kind: TokenKind::Word,
                        text: Default::default(),
                        span,
                    };
                    let idx = self.start(anon, out);
                    self.tree.nodes[idx as usize].block_open = Some(span);
                    self.tree.nodes[idx as usize].anonymous = true;
                    self.stack.push((idx, true));
                }
            }
            TokenKind::Close => {
                if self.pending != NONE {
                    let done = std::mem::replace(&mut self.pending, NONE);
                    self.complete(done, out);
                }
                match self.stack.pop() {
                    Some((_, true)) if self.stack.is_empty() => {
                        self.tree.truncate(self.mark);
                    }
                    Some((_, true)) => {}
                    Some((idx, false)) => self.complete(idx, out),
                    None => self.diags.push(
                        Diagnostic::error(span, "unexpected `}`: no block is open here")
                            .expected("a `}` only to close a block opened with `{`"),
                    ),
                }
            }
        }
    }

    /// Ends the input: reports blocks never closed and hands on what is
    /// left. Returns the tree with the kept statements, their indices and
    /// the findings.
    pub fn finish(
        mut self,
        out: &mut dyn FnMut(Stmt<'_>) -> Keep,
    ) -> (Tree, Vec<u32>, Diagnostics) {
        if self.pending != NONE {
            let done = std::mem::replace(&mut self.pending, NONE);
            self.complete(done, out);
        }
        while let Some((idx, anonymous)) = self.stack.pop() {
            let stmt = self.tree.stmt(idx);
            let open = stmt.block_open().unwrap_or_default();
            let what = if anonymous {
                "this block".to_string()
            } else {
                let words: Vec<&str> = stmt.words().map(|t| t.text.as_str()).collect();
                format!("`{}`", words.join(" "))
            };
            self.diags.push(
                Diagnostic::error(
                    open,
                    format!(
                        "unclosed block: {what} opened on line {} is never closed",
                        open.line
                    ),
                )
                .expected("a `}` closing this block"),
            );
            if self.stack.is_empty() {
                if anonymous {
                    self.tree.truncate(self.mark);
                } else {
                    self.emit(idx, out);
                }
            }
        }
        if self.held != NONE {
            let held = std::mem::replace(&mut self.held, NONE);
            self.emit(held, out);
        }
        (self.tree, self.kept, self.diags)
    }
}

/// Builds a whole tree from a list of tokens, keeping every top-level
/// statement (for tests).
#[cfg(test)]
pub fn build(tokens: Vec<Token>, diags: &mut Diagnostics) -> (Tree, Vec<u32>) {
    let mut builder = TreeBuilder::new();
    for tok in tokens {
        builder.push(tok, &mut |_| Keep::Yes);
    }
    let (tree, roots, found) = builder.finish(&mut |_| Keep::Yes);
    for d in found.iter() {
        diags.push(d.clone());
    }
    (tree, roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lexer::{collect, LexOptions};
    use crate::config::source::MemLoader;
    use std::path::Path;

    fn parse(text: &str) -> (Tree, Vec<u32>, Diagnostics) {
        let (toks, _, mut diags) = collect(
            &MemLoader::new(),
            &LexOptions::default(),
            Path::new("t.conf"),
            Some(text),
        );
        let (tree, roots) = build(toks, &mut diags);
        (tree, roots, diags)
    }

    fn words(s: Stmt<'_>) -> Vec<&str> {
        s.words().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn blocks_on_one_line_and_split_lines() {
        let (tree, roots, diags) = parse(
            "vrrp_sync_group VG { group { VI_1 VI_2 } }\nauthentication { auth_type PASS\nauth_pass x\n}\nblock\n{\n a 1\n}\n",
        );
        assert!(diags.as_slice().is_empty());
        assert_eq!(roots.len(), 3);
        let group = tree.stmt(roots[0]).items().next().unwrap();
        assert_eq!(group.name(), "group");
        assert_eq!(words(group.items().next().unwrap()), ["VI_1", "VI_2"]);
        let auth: Vec<Stmt<'_>> = tree.stmt(roots[1]).items().collect();
        assert_eq!(auth.len(), 2);
        assert_eq!(auth[0].args()[0].text, "PASS");
        assert_eq!(tree.stmt(roots[2]).items().next().unwrap().name(), "a");
    }

    #[test]
    fn unclosed_block_names_its_opening_line() {
        let (_, _, diags) =
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
        let (_, _, diags) = parse("a {\n}\n  }\n");
        let d = &diags.as_slice()[0];
        assert_eq!((d.span.line, d.span.col), (3, 3));
    }

    #[test]
    fn dropped_statements_free_their_space() {
        let mut builder = TreeBuilder::new();
        let text = "keep 1 {\n a b\n}\ndrop 2 {\n c d\n e f\n}\nkeep 3\n";
        let (toks, _, _) = collect(
            &MemLoader::new(),
            &LexOptions::default(),
            Path::new("t.conf"),
            Some(text),
        );
        let decide = &mut |s: Stmt<'_>| {
            if s.name() == "keep" {
                Keep::Yes
            } else {
                Keep::No
            }
        };
        for t in toks {
            builder.push(t, decide);
        }
        let (tree, kept, _) = builder.finish(decide);
        assert_eq!(kept.len(), 2);
        assert_eq!(words(tree.stmt(kept[1])), ["keep", "3"]);
        assert_eq!(
            words(tree.stmt(kept[0]).items().next().unwrap()),
            ["a", "b"]
        );
        // Only the kept statements' tokens remain.
        assert_eq!(tree.tokens.len(), 6);
    }
}
