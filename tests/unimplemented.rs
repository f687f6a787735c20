//! A feature holdfast does not implement is refused the same way by
//! `holdfast check`, `holdfast run` and `holdfast sim`, each naming the
//! keyword and its place; with `--ignore-unimplemented` all three run
//! without it, the same way: a DNS_CHECK is dropped, so its real server has
//! no checker and stays in the pool, in the daemon as in the simulator.

// The daemon part watches a real process.
#![allow(clippy::disallowed_methods)]

mod netns;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use netns::{available, case_study, wait_every, Lab};

/// The case study's director 1 with DNS_CHECK instead of TCP_CHECK on the
/// HTTPS service's two real servers.
fn with_dns_check(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(case_study(1)).unwrap();
    let changed = text.replace("TCP_CHECK {", "DNS_CHECK {");
    assert_eq!(changed.matches("DNS_CHECK {").count(), 2);
    let path = dir.join("director1.conf");
    std::fs::write(&path, changed).unwrap();
    std::fs::copy(case_study(2), dir.join("director2.conf")).unwrap();
    path
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn holdfast(dir: &Path, args: &[&str]) -> Output {
    Command::new("timeout")
        .arg("120")
        .arg(env!("CARGO_BIN_EXE_holdfast"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("holdfast runs")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Where the first DNS_CHECK stands in the file, as `LINE:COL`.
fn place(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("DNS_CHECK"))
        .unwrap();
    format!("{}:{}", n + 1, line.find("DNS_CHECK").unwrap() + 1)
}

const SCENARIO: &str = r#"{ "name": "dns", "duration": 120, "directors": [
    { "name": "director1", "config": "director1.conf" },
    { "name": "director2", "config": "director2.conf" } ] }"#;

const REFUSED: &str = "`DNS_CHECK` is not implemented by holdfast (keepalived checks the real server with a DNS query)";

#[test]
fn check_run_and_sim_refuse_a_dns_check_at_its_place() {
    let dir = scratch("unimplemented-refused");
    let conf = with_dns_check(&dir);
    std::fs::write(dir.join("dns.json"), SCENARIO).unwrap();
    let at = format!("director1.conf:{}: error: {REFUSED}", place(&conf));

    let check = holdfast(&dir, &["check", "-f", "director1.conf"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    assert!(text(&check.stderr).contains(&at), "{}", text(&check.stderr));
    assert!(
        text(&check.stderr).contains("--ignore-unimplemented"),
        "the error says how to run without it"
    );

    // The daemon reads its file before it touches anything, so this needs
    // no privileges: it stops at the configuration.
    let run = holdfast(
        &dir,
        &["run", "-f", "director1.conf", "--dump", "dump.json"],
    );
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains(&at), "{}", text(&run.stderr));

    let sim = holdfast(&dir, &["sim", "dns.json"]);
    assert_eq!(sim.status.code(), Some(2), "{}", text(&sim.stderr));
    assert!(text(&sim.stderr).contains(REFUSED), "{}", text(&sim.stderr));
    assert!(
        text(&sim.stderr).contains(&place(&conf)),
        "{}",
        text(&sim.stderr)
    );
}

/// With the opt-out, `check` warns, `sim` runs the pool without the
/// checker, and (as root) the daemon does the same.
#[test]
fn with_ignore_unimplemented_all_three_run_without_the_checker() {
    let dir = scratch("unimplemented-ignored");
    let conf = with_dns_check(&dir);
    std::fs::write(dir.join("dns.json"), SCENARIO).unwrap();

    let check = holdfast(
        &dir,
        &[
            "check",
            "-f",
            "director1.conf",
            "--ignore-unimplemented",
            "--json",
        ],
    );
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let warning = format!(
        "director1.conf:{}: warning: {REFUSED}; ignored, as --ignore-unimplemented asks",
        place(&conf)
    );
    assert!(
        text(&check.stderr).contains(&warning),
        "{}",
        text(&check.stderr)
    );
    let model: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let https = &model["virtual_servers"][1];
    for rs in https["real_servers"].as_array().unwrap() {
        assert_eq!(rs["checkers"], serde_json::json!([]), "{rs}");
    }

    // The simulator: the HTTPS servers never leave the pool.
    let sim = holdfast(
        &dir,
        &[
            "sim",
            "dns.json",
            "--ignore-unimplemented",
            "--trace",
            "trace.jsonl",
        ],
    );
    assert_eq!(sim.status.code(), Some(0), "{}", text(&sim.stderr));
    let trace = std::fs::read_to_string(dir.join("trace.jsonl")).unwrap();
    let https_changes: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains(r#""kind":"real_server""#) && l.contains(":443"))
        .collect();
    assert!(https_changes.is_empty(), "{https_changes:?}");

    // The daemon: the same two servers are up with no checker.
    if !available() {
        return;
    }
    let mut lab = Lab::new("unimpl");
    let d1 = lab.holdfast_with("d1", &conf, &["--ignore-unimplemented"]);
    // Past the first checks (1 s plus warm-up jitter), the dump is read
    // until the HTTPS servers show up with no probe result.
    std::thread::sleep(Duration::from_secs(2));
    let https_up = wait_every(Duration::from_millis(200), Duration::from_secs(10), || {
        let Some(dump) = lab.try_dump(d1, "d1") else {
            return false;
        };
        let https: Vec<serde_json::Value> = dump["real_servers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["port"] == serde_json::json!(443))
            .cloned()
            .collect();
        https.len() == 2
            && https
                .iter()
                .all(|s| s["up"] == serde_json::json!(true) && s["last"] == serde_json::json!([]))
    });
    assert!(
        https_up.is_some(),
        "the daemon does not keep the HTTPS servers up without their checker:\n{}",
        lab.logs()
    );
    assert!(
        lab.procs[d1].log().contains("DNS_CHECK"),
        "the daemon's log names what it runs without:\n{}",
        lab.logs()
    );
}
