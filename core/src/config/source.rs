//! Source files, positions, and the loader that reads them.
//!
//! The parser never touches the file system directly: it asks a
//! [`SourceLoader`], so the simulator, tests and fuzz targets can feed it
//! in-memory files; the loader that reads the disk lives outside core
//! (`holdfast_fs::FsLoader`).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

/// Index of a file in a [`SourceMap`].
pub type FileId = u32;

/// A position in a source file: file, 1-based line, 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct Span {
    /// Which file of the [`SourceMap`].
    pub file: FileId,
    /// Line number, from 1.
    pub line: u32,
    /// Column, from 1, counted in characters (a tab is one column).
    pub col: u32,
}

/// One file read by the parser.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user or an `include` named it.
    pub path: PathBuf,
    /// The file's text (shared with the lexer, never copied).
    pub text: Arc<String>,
}

impl SourceFile {
    /// The text of 1-based line `line`, without its line ending.
    pub fn line(&self, line: u32) -> Option<&str> {
        self.text
            .split('\n')
            .nth(line.checked_sub(1)? as usize)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }
}

/// Every file read while loading one configuration, so diagnostics can quote them.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file and returns its id.
    pub fn add(&mut self, path: PathBuf, text: Arc<String>) -> FileId {
        self.files.push(SourceFile { path, text });
        (self.files.len() - 1) as FileId
    }

    /// The file with id `id`.
    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id as usize)
    }

    /// All files, in the order they were read.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }
}

/// Where the parser gets files from.
pub trait SourceLoader {
    /// Reads a whole file as text.
    fn read(&self, path: &Path) -> io::Result<String>;
    /// Expands an `include` pattern (already made absolute or relative to the
    /// including file) into the matching paths, sorted.
    fn glob(&self, pattern: &Path) -> Vec<PathBuf>;
}

/// An in-memory set of files, for tests, fuzzing and the simulator.
#[derive(Debug, Clone, Default)]
pub struct MemLoader {
    files: BTreeMap<PathBuf, String>,
}

impl MemLoader {
    /// An empty set of files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn with(mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        self.files.insert(path.into(), text.into());
        self
    }
}

impl SourceLoader for MemLoader {
    fn read(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn glob(&self, pattern: &Path) -> Vec<PathBuf> {
        let Some(text) = pattern.to_str() else {
            return Vec::new();
        };
        let Ok(pat) = glob::Pattern::new(text) else {
            return Vec::new();
        };
        self.files
            .keys()
            .filter(|p| p.to_str().is_some_and(|s| pat.matches(s)))
            .cloned()
            .collect()
    }
}
