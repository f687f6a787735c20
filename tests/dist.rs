//! The man pages and shell completions under `dist/` are generated from the
//! command line's clap definition (`src/cli.rs`) and committed, so that
//! `cargo deb` packages them without a generation step. This test generates
//! them again and fails when a committed file differs: after changing the
//! command line, run `HOLDFAST_BLESS=1 cargo test --test dist` and commit
//! what it writes.

use std::path::{Path, PathBuf};

use clap_complete::Shell;

/// Every generated file: its path under the repository and its content.
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut cmd = holdfast::cli::command();
    cmd.build();
    let mut out = Vec::new();
    // Section 8: holdfast is a system daemon run by root, as keepalived(8).
    let man = |cmd: clap::Command| {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .section("8")
            .render(&mut page)
            .expect("the man page renders");
        page
    };
    // clap's own `help` subcommand gets no page, so the main page does not
    // list it either.
    // (The switch must come before `build`, which adds that subcommand.)
    let mut main = holdfast::cli::command().disable_help_subcommand(true);
    main.build();
    out.push((PathBuf::from("dist/man/holdfast.8"), man(main)));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("holdfast-{}", sub.get_name());
        let page = man(sub
            .clone()
            .name(name.clone())
            .version(env!("CARGO_PKG_VERSION")));
        out.push((PathBuf::from(format!("dist/man/{name}.8")), page));
    }
    for (shell, file) in [
        (Shell::Bash, "holdfast"),
        (Shell::Zsh, "_holdfast"),
        (Shell::Fish, "holdfast.fish"),
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "holdfast", &mut script);
        out.push((PathBuf::from(format!("dist/completions/{file}")), script));
    }
    out
}

#[test]
fn man_pages_and_completions_match_the_command_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var("HOLDFAST_BLESS").as_deref() == Ok("1");
    let mut stale = Vec::new();
    for (path, content) in generated() {
        let full = root.join(&path);
        if bless {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, &content).unwrap();
        } else if std::fs::read(&full).ok().as_deref() != Some(&content[..]) {
            stale.push(path.display().to_string());
        }
    }
    // A page of a subcommand that is gone would still be packaged.
    let made: Vec<PathBuf> = generated().into_iter().map(|(p, _)| p).collect();
    for dir in ["dist/man", "dist/completions"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = Path::new(dir).join(entry.unwrap().file_name());
            if !made.contains(&path) {
                stale.push(format!(
                    "{} (no longer generated: remove it)",
                    path.display()
                ));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated from src/cli.rs but differing from the committed files: {stale:?}; \
         run `HOLDFAST_BLESS=1 cargo test --test dist` and commit them"
    );
}

#[test]
fn every_subcommand_has_its_page_and_the_main_page_lists_it() {
    let cmd = holdfast::cli::command();
    let files = generated();
    let main = String::from_utf8(files[0].1.clone()).unwrap();
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        assert!(
            files
                .iter()
                .any(|(p, _)| p.ends_with(format!("holdfast-{name}.8"))),
            "no page for {name}"
        );
        // roff escapes the dash: `holdfast\-run(8)`.
        assert!(
            main.contains(&format!("holdfast\\-{name}(8)")),
            "holdfast.8 does not list holdfast-{name}(8)"
        );
    }
    // Every page the main page lists exists.
    for line in main.lines().filter(|l| l.ends_with("(8)")) {
        let page = line.replace("\\-", "-").replace("(8)", ".8");
        assert!(
            files.iter().any(|(p, _)| p.ends_with(&page)),
            "holdfast.8 lists {line}, which has no page"
        );
    }
}
