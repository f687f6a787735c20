//! Where a scenario's configuration files are read from: the file system
//! for a scenario on disk, memory for one compiled into the binary (the
//! demo's case study), so that a copied binary needs no checkout beside it.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use holdfast_core::config::{FsLoader, MemLoader, SourceLoader};

/// The configuration files a scenario names, shared by every seed of a
/// sweep (hence `Send + Sync`).
#[derive(Clone)]
pub struct Files(Arc<dyn SourceLoader + Send + Sync>);

impl Files {
    /// Files on the local file system.
    pub fn disk() -> Files {
        Files(Arc::new(FsLoader))
    }

    /// Files held in memory.
    pub fn memory(files: MemLoader) -> Files {
        Files(Arc::new(files))
    }

    /// The loader the configuration parser reads through.
    pub fn loader(&self) -> &dyn SourceLoader {
        &*self.0
    }

    /// Whether `path` can be read.
    pub fn exists(&self, path: &Path) -> bool {
        self.0.read(path).is_ok()
    }
}

impl Default for Files {
    fn default() -> Files {
        Files::disk()
    }
}

impl fmt::Debug for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Files")
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
