//! Every configuration we have — the case study and keepalived's samples —
//! reads without error, and printing then re-reading it gives the same model.

use std::path::{Path, PathBuf};

use holdfast_core::config::{self, printer, FsLoader, LoadOptions, MemLoader, Severity};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// keepalived's upstream sample configurations (see that folder's README).
fn samples_dir() -> PathBuf {
    repo().join("testdata/keepalived-samples")
}

fn samples() -> Vec<PathBuf> {
    let dir = samples_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("keepalived.conf.")
        })
        .collect();
    files.sort();
    files
}

fn roundtrip(cfg: &config::Config, what: &str) {
    let text = printer::print(cfg);
    let again = config::parse_str(
        "printed.conf",
        &text,
        &MemLoader::new(),
        &LoadOptions::default(),
    );
    let errors: Vec<String> = again
        .diagnostics
        .iter()
        .map(|d| d.render(&again.sources))
        .collect();
    let reread = again.config.unwrap_or_else(|| {
        panic!(
            "{what}: printed text does not read back:\n{}\n{text}",
            errors.join("")
        )
    });
    assert_eq!(
        &reread, cfg,
        "{what}: print-then-parse changed the model; printed:\n{text}"
    );
    let warnings: Vec<_> = again
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    assert!(
        warnings.is_empty(),
        "{what}: canonical text has warnings: {warnings:?}"
    );
}

/// The samples on which keepalived 2.2.7's `-t` reports a parser finding
/// (`config-test-keepalived-2.2.7.txt`, interface-existence warnings aside),
/// and SYNOPSIS, which is prose. Only these may give warnings; the others
/// must read silently as they do in keepalived.
const MAY_WARN: &[&str] = &[
    "keepalived.conf.SSL_GET",
    "keepalived.conf.SYNOPSIS",
    "keepalived.conf.conditional_conf",
    "keepalived.conf.fwmark",
    "keepalived.conf.track_interface",
    "keepalived.conf.vrrp.lvs_syncd",
    "keepalived.conf.vrrp.routes",
    "keepalived.conf.vrrp.rules",
    "keepalived.conf.vrrp.static_ipaddress",
];

#[test]
fn every_keepalived_sample_reads_without_error() {
    let files = samples();
    assert!(
        files.len() >= 25,
        "expected the 26 samples, found {}",
        files.len()
    );
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        for id in [None, Some("high"), Some("low")] {
            let opts = LoadOptions {
                config_id: id.map(str::to_string),
                strict: false,
            };
            let loaded = config::load(&path, &FsLoader, &opts);
            let cfg = loaded
                .config
                .clone()
                .unwrap_or_else(|| panic!("{name}: errors:\n{}", loaded.render()));
            let warnings = loaded.diagnostics.count(Severity::Warning);
            if !MAY_WARN.contains(&name.as_str()) {
                assert_eq!(
                    warnings,
                    0,
                    "{name} (config id {id:?}): keepalived is silent here but we warn:\n{}",
                    loaded.render()
                );
            }
            roundtrip(&cfg, &name);
        }
    }
}

#[test]
fn conditional_sample_follows_config_id() {
    let path = samples_dir().join("keepalived.conf.conditional_conf");
    let read = |id: Option<&str>| {
        let opts = LoadOptions {
            config_id: id.map(str::to_string),
            strict: false,
        };
        config::load(&path, &FsLoader, &opts).config.unwrap()
    };
    let high = read(Some("high"));
    let low = read(Some("low"));
    let none = read(None);
    assert_eq!(high.vrrp_scripts.len(), 1);
    assert_eq!(low.vrrp_scripts.len(), 1);
    assert!(
        none.vrrp_scripts.is_empty(),
        "without a config id the script lines are dropped, as keepalived"
    );
    assert_ne!(high.instances[0].priority, low.instances[0].priority);
}

#[test]
fn both_case_study_directors_read_and_round_trip() {
    for d in ["director1.conf", "director2.conf"] {
        let path = repo().join("scenarios/case-study").join(d);
        let loaded = config::load(&path, &FsLoader, &LoadOptions::default());
        let cfg = loaded
            .config
            .clone()
            .unwrap_or_else(|| panic!("{d}: {}", loaded.render()));
        roundtrip(&cfg, d);
    }
}
