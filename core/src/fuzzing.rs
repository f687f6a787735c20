//! Entry points shared by the fuzz targets under `fuzz/` and the regression
//! tests that replay their corpora on stable Rust.

use crate::config::{self, printer, LoadOptions, MemLoader};

/// Reads arbitrary bytes as a configuration. Any input may be rejected, but
/// nothing may panic, and whatever is accepted must print to text that reads
/// back to the same model.
pub fn config_parser(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // An include of the file itself, and one other file, exercise the include path.
    let loader = MemLoader::new()
        .with("/fuzz/inc.conf", "router_id fuzz\n")
        .with("/fuzz/main.conf", text.as_ref());
    for config_id in [None, Some("high".to_string())] {
        let opts = LoadOptions {
            config_id,
            strict: false,
        };
        let loaded = config::load(std::path::Path::new("/fuzz/main.conf"), &loader, &opts);
        // Rendering touches every span: it must not panic either.
        let _ = loaded.render();
        if let Some(cfg) = loaded.config {
            let printed = printer::print(&cfg);
            let again = config::parse_str(
                "printed.conf",
                &printed,
                &MemLoader::new(),
                &LoadOptions::default(),
            );
            match again.config {
                Some(reread) => assert!(
                    reread == cfg,
                    "print-then-parse changed the model; printed:\n{printed}"
                ),
                None => panic!(
                    "printed text does not read back:\n{}\n{printed}",
                    again.render()
                ),
            }
        }
    }
}
