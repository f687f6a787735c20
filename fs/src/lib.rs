//! holdfast-fs: core's [`SourceLoader`] over the local file system, for the
//! drivers that read real files (the CLI, the daemon, the simulator's
//! scenarios). Core itself reads no file: it parses what a loader gives it
//! (an in-memory `MemLoader` in tests, fuzzing and the compiled-in demo).

#![warn(missing_docs)]

use std::io;
use std::path::{Path, PathBuf};

use holdfast_core::config::SourceLoader;

/// Reads configuration files and expands `include` patterns on the local
/// file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

impl SourceLoader for FsLoader {
    fn read(&self, path: &Path) -> io::Result<String> {
        let bytes = std::fs::read(path)?;
        // keepalived reads bytes; a stray non-UTF-8 byte in a comment must not
        // make the whole file unreadable. Valid text is not copied.
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    fn glob(&self, pattern: &Path) -> Vec<PathBuf> {
        let Some(pattern) = pattern.to_str() else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = match glob::glob(pattern) {
            Ok(paths) => paths
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect(),
            Err(_) => Vec::new(),
        };
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bytes_that_are_not_text_and_globs_files_only_sorted() {
        let dir = std::env::temp_dir().join(format!("holdfast-fs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub.conf")).unwrap();
        std::fs::write(dir.join("b.conf"), b"# caf\xe9\nvrrp_instance X {\n}\n").unwrap();
        std::fs::write(dir.join("a.conf"), "x\n").unwrap();
        let text = FsLoader.read(&dir.join("b.conf")).unwrap();
        assert!(text.starts_with("# caf\u{fffd}\n"), "{text:?}");
        let found = FsLoader.glob(&dir.join("*.conf"));
        assert_eq!(
            found,
            [dir.join("a.conf"), dir.join("b.conf")],
            "no directory"
        );
        assert!(FsLoader.read(&dir.join("none.conf")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
