//! Where a scenario's configuration files are read from, and how: the file
//! system for a scenario on disk, memory for one compiled into the binary
//! (the demo's case study, so that a copied binary needs no checkout beside
//! it); and whether features holdfast does not implement are refused, as
//! `holdfast check` and `holdfast run` refuse them.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use holdfast_core::config::{MemLoader, SourceLoader};
use holdfast_fs::FsLoader;

/// The configuration files a scenario names, shared by every seed of a
/// sweep (hence `Send + Sync`).
#[derive(Clone)]
pub struct Files {
    loader: Arc<dyn SourceLoader + Send + Sync>,
    /// Run without unimplemented features instead of refusing the
    /// configuration (`--ignore-unimplemented`).
    pub ignore_unimplemented: bool,
}

impl Files {
    /// Files on the local file system.
    pub fn disk() -> Files {
        Files {
            loader: Arc::new(FsLoader),
            ignore_unimplemented: false,
        }
    }

    /// Files held in memory.
    pub fn memory(files: MemLoader) -> Files {
        Files {
            loader: Arc::new(files),
            ignore_unimplemented: false,
        }
    }

    /// The loader the configuration parser reads through.
    pub fn loader(&self) -> &dyn SourceLoader {
        &*self.loader
    }

    /// Whether `path` can be read.
    pub fn exists(&self, path: &Path) -> bool {
        self.loader.read(path).is_ok()
    }
}

impl Default for Files {
    fn default() -> Files {
        Files::disk()
    }
}

impl fmt::Debug for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Files")
            .field("ignore_unimplemented", &self.ignore_unimplemented)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_files_exist_only_when_held() {
        let files = Files::memory(MemLoader::new().with("a/b.conf", "vrrp_instance X {}"));
        assert!(files.exists(Path::new("a/b.conf")));
        assert!(!files.exists(Path::new("a/c.conf")));
        assert!(!Files::disk().exists(Path::new("/nonexistent/holdfast/file.conf")));
    }
}
