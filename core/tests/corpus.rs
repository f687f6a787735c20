//! Every configuration we have — the case study and keepalived's samples —
//! reads without error, and printing then re-reading it gives the same model.

use std::path::{Path, PathBuf};

use holdfast_core::config::{self, printer, LoadOptions, MemLoader, Severity};
use holdfast_fs::FsLoader;

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
    let again = config::parse_str("printed.conf", &text, &MemLoader::new(), &ignoring(None));
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
        .filter(|d| d.severity == Severity::Warning && !d.unimplemented)
        .collect();
    assert!(
        warnings.is_empty(),
        "{what}: canonical text has warnings: {warnings:?}"
    );
}

/// Options that run without unimplemented features (each one a warning).
fn ignoring(id: Option<&str>) -> LoadOptions {
    LoadOptions {
        config_id: id.map(str::to_string),
        strict: false,
        ignore_unimplemented: true,
    }
}

/// The samples that use a feature holdfast does not implement, and the
/// keywords that are refused in each (all config ids together).
const REFUSED: &[(&str, &[&str])] = &[
    ("keepalived.conf.IPv6", &["SMTP_CHECK"]),
    ("keepalived.conf.PING_CHECK", &["PING_CHECK"]),
    ("keepalived.conf.SMTP_CHECK", &["SMTP_CHECK"]),
    ("keepalived.conf.SSL_GET", &["auth_type AH"]),
    ("keepalived.conf.UDP_CHECK", &["UDP_CHECK"]),
    (
        "keepalived.conf.conditional_conf",
        &["net_namespace", "use_vmac"],
    ),
    (
        "keepalived.conf.track_interface",
        &["static_routes", "virtual_routes"],
    ),
    (
        "keepalived.conf.vrrp.lvs_syncd",
        &["lvs_sync_daemon_interface"],
    ),
    (
        "keepalived.conf.vrrp.routes",
        &["static_routes", "virtual_routes"],
    ),
    (
        "keepalived.conf.vrrp.rules",
        &["static_rules", "virtual_rules"],
    ),
    (
        "keepalived.conf.vrrp.static_ipaddress",
        &["static_ipaddress", "virtual_routes"],
    ),
];

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
fn every_keepalived_sample_reads_without_error_when_unimplemented_features_are_ignored() {
    let files = samples();
    assert!(
        files.len() >= 25,
        "expected the 26 samples, found {}",
        files.len()
    );
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        for id in [None, Some("high"), Some("low")] {
            let loaded = config::load(&path, &FsLoader, &ignoring(id));
            let cfg = loaded
                .config
                .clone()
                .unwrap_or_else(|| panic!("{name}: errors:\n{}", loaded.render()));
            let warnings = loaded
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning && !d.unimplemented)
                .count();
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

/// By default a sample that uses an unimplemented feature is refused, and
/// every error names such a feature: nothing else stops a sample.
#[test]
fn samples_with_unimplemented_features_are_refused_and_say_which() {
    let mut refused: Vec<(String, Vec<String>)> = Vec::new();
    for path in samples() {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let mut words = std::collections::BTreeSet::new();
        for id in [None, Some("high"), Some("low")] {
            let opts = LoadOptions {
                ignore_unimplemented: false,
                ..ignoring(id)
            };
            let loaded = config::load(&path, &FsLoader, &opts);
            for d in loaded.diagnostics.iter() {
                if d.severity == Severity::Error {
                    assert!(d.unimplemented, "{name}: {}", d.message);
                    assert!(
                        d.message
                            .contains("is not implemented by holdfast (keepalived "),
                        "{name}: {}",
                        d.message
                    );
                    assert!(
                        d.expected
                            .as_deref()
                            .is_some_and(|e| e.contains("--ignore-unimplemented")),
                        "{name}: {:?}",
                        d.expected
                    );
                    let word = d.message.split('`').nth(1).unwrap().to_string();
                    words.insert(word);
                }
            }
            assert_eq!(
                loaded.config.is_none(),
                !words.is_empty() && loaded.diagnostics.has_errors()
            );
        }
        if !words.is_empty() {
            refused.push((name, words.into_iter().collect()));
        }
    }
    let expected: Vec<(String, Vec<String>)> = REFUSED
        .iter()
        .map(|(n, w)| (n.to_string(), w.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(refused, expected);
}

#[test]
fn conditional_sample_follows_config_id() {
    let path = samples_dir().join("keepalived.conf.conditional_conf");
    let read = |id: Option<&str>| {
        config::load(&path, &FsLoader, &ignoring(id))
            .config
            .unwrap()
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
