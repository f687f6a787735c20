//! keepalived.conf: reading, checking and printing it.
//!
//! The pipeline is `lexer` (lines, comments, includes, conditionals and
//! parameters to tokens) → `tree` (statements and blocks) → `build` (the
//! typed [`model`] with keepalived's defaults, every finding located) →
//! [`printer`] (the model back as canonical text). What an embedder uses is
//! re-exported here: [`load`], [`parse_str`], [`LoadOptions`], [`Loaded`],
//! the [`SourceLoader`] it reads through, and the [`Diagnostics`].

pub(crate) mod build;
mod diagnostic;
mod lexer;
pub mod model;
pub mod printer;
mod source;
#[cfg(feature = "testing")]
pub mod synthetic;
mod tree;
mod value;

use std::path::Path;
use std::sync::Arc;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use lexer::LexOptions;
pub use model::Config;
pub use source::{MemLoader, SourceLoader, SourceMap, Span};

/// How to read a configuration.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The config id for `@ID` lines.
    pub config_id: Option<String>,
    /// Treat every warning as an error.
    pub strict: bool,
    /// Run without the features holdfast does not implement (each one a
    /// warning) instead of refusing the configuration (each one an error).
    pub ignore_unimplemented: bool,
}

/// The outcome of reading a configuration.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The model, present only when there is no error: a configuration
    /// with errors is never half-applied.
    pub config: Option<Config>,
    /// Every finding, in source order.
    pub diagnostics: Diagnostics,
    /// The files read, to quote in diagnostics.
    pub sources: SourceMap,
}

impl Loaded {
    /// Every finding rendered for a terminal.
    pub fn render(&self) -> String {
        self.diagnostics
            .iter()
            .map(|d| d.render(&self.sources))
            .collect()
    }
}

/// Reads the configuration at `path` (and its includes) through `loader`.
pub fn load(path: &Path, loader: &dyn SourceLoader, opts: &LoadOptions) -> Loaded {
    run(loader, opts, path, |lexer| lexer.lex_path(path))
}

/// Reads `text` as the file `name` (includes are resolved through `loader`).
pub fn parse_str(name: &str, text: &str, loader: &dyn SourceLoader, opts: &LoadOptions) -> Loaded {
    parse_shared(name, Arc::new(text.to_string()), loader, opts)
}

/// [`parse_str`] for text already held in shared memory (a daemon's last
/// good file, a simulator's scenario): the text is kept for diagnostics
/// without being copied.
pub fn parse_shared(
    name: &str,
    text: Arc<String>,
    loader: &dyn SourceLoader,
    opts: &LoadOptions,
) -> Loaded {
    run(loader, opts, Path::new(name), |lexer| {
        lexer.lex_shared(Path::new(name), text);
        Ok(())
    })
}

/// Streams the text through the lexer, the tree builder and the model
/// builder, one top-level statement at a time.
fn run(
    loader: &dyn SourceLoader,
    opts: &LoadOptions,
    path: &Path,
    read: impl FnOnce(lexer::Lexer<'_>) -> std::io::Result<()>,
) -> Loaded {
    let mut sources = SourceMap::default();
    let mut lex_diags = Diagnostics::default();
    let lex_opts = LexOptions {
        config_id: opts.config_id.clone(),
    };
    let mut tree = tree::TreeBuilder::new();
    let mut builder = build::Builder::new();
    let result = {
        let mut sink = |kind, text: &str, span| {
            tree.push_parts(kind, text, span, &mut |stmt| builder.statement(stmt))
        };
        read(lexer::Lexer::new(
            loader,
            &lex_opts,
            &mut sources,
            &mut lex_diags,
            &mut sink,
        ))
    };
    if let Err(e) = result {
        sources.add(path.to_path_buf(), Default::default());
        lex_diags.push(Diagnostic::error(
            Span {
                file: 0,
                line: 1,
                col: 1,
            },
            format!("cannot read {}: {e}", path.display()),
        ));
        return Loaded {
            config: None,
            diagnostics: lex_diags,
            sources,
        };
    }
    let (tree, kept, tree_diags) = tree.finish(&mut |stmt| builder.statement(stmt));
    let (config, build_diags) = builder.finish(&tree, &kept);
    let mut diags = lex_diags;
    for d in tree_diags.iter().chain(build_diags.iter()) {
        diags.push(d.clone());
    }
    diags.settle_unimplemented(opts.ignore_unimplemented);
    if opts.strict {
        diags.make_strict();
    }
    diags.sort();
    let config = (!diags.has_errors()).then_some(config);
    Loaded {
        config,
        diagnostics: diags,
        sources,
    }
}
