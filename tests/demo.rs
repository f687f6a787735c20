//! `holdfast demo` end to end: it prints the summary, writes the report,
//! and the page opens in headless Chromium without errors, its screenshot
//! showing the timeline. Chromium is Debian's `chromium`; without it the
//! browser part is skipped with a message, unless HOLDFAST_REQUIRE_CHROMIUM
//! is set (as `.ci/run` does), which makes it fail instead.

use std::path::{Path, PathBuf};
use std::process::Command;

fn demo(dir: &Path) -> String {
    // Bounded: a hung simulator fails the test instead of the CI job.
    let out = Command::new("timeout")
        .arg("300")
        .arg(env!("CARGO_BIN_EXE_holdfast"))
        .args(["demo", "--seeds", "20", "-o"])
        .arg(dir)
        .output()
        .expect("holdfast runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| {
            std::env::var_os("PATH")
                .map(|p| {
                    std::env::split_paths(&p)
                        .map(|d| d.join(name))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .find(|p| p.exists())
}

/// Runs headless Chromium on the page, bounded by `timeout`, with its own
/// profile, sRGB colours at scale 1 (the screenshot's pixels are compared).
fn browse(browser: &Path, page: &Path, profile: &Path, extra: &[&str]) -> std::process::Output {
    Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--force-color-profile=srgb",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

#[test]
fn the_demo_writes_a_report_that_opens_in_a_browser() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = demo(&dir);
    assert!(stdout.contains("invariants: all held"), "{stdout}");
    assert!(stdout.contains("director1 crashes"), "{stdout}");
    let page = dir.join("index.html");
    assert!(
        stdout.contains(&format!("report: {}", page.display())),
        "{stdout}"
    );
    for f in [
        "trace.jsonl",
        "sweep.json",
        "timeline.png",
        "timeline.svg",
        "sweep.png",
        "index.html",
    ] {
        assert!(dir.join(f).exists(), "{f} written");
    }

    let Some(browser) = chromium() else {
        if std::env::var_os("HOLDFAST_REQUIRE_CHROMIUM").is_some() {
            panic!("HOLDFAST_REQUIRE_CHROMIUM is set but no chromium is installed");
        }
        eprintln!("skipped: no chromium (apt-get install chromium) to open the report");
        return;
    };
    let page = page.canonicalize().unwrap();
    // The page's script marks how many pictures loaded.
    let profile = dir.join("chromium-profile");
    let dom = browse(&browser, &page, &profile, &["--dump-dom"]);
    let html = String::from_utf8_lossy(&dom.stdout);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(
        html.contains("data-images-loaded=\"2/2\""),
        "pictures did not load:\n{log}"
    );
    // The page's own console: script errors and resources that failed.
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    for line in &console {
        assert!(
            !(line.contains("Uncaught")
                || line.contains("Error")
                || line.contains("Failed to load")),
            "the page reported an error: {line}"
        );
    }
    let shot = dir.join("screenshot.png");
    let out = browse(
        &browser,
        &page,
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1700,1400",
        ],
    );
    assert!(
        shot.exists(),
        "no screenshot:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The timeline is on screen: its Master and Backup bands.
    let img = image::open(&shot).unwrap().to_rgb8();
    let count = |c: (u8, u8, u8)| img.pixels().filter(|p| (p[0], p[1], p[2]) == c).count();
    let master = count((0x2e, 0x7d, 0x32));
    let backup = count((0x1e, 0x88, 0xe5));
    assert!(
        master > 20_000 && backup > 20_000,
        "timeline not visible: {master} master, {backup} backup pixels"
    );
}

/// A copy of the binary, alone in an empty directory outside the checkout,
/// runs the demo from there: the case study is compiled in, and the report
/// goes to `./holdfast-demo/` when no `-o` is given. As root, the checkout
/// and the build directory are hidden under empty tmpfs mounts in a private
/// mount namespace while it runs, so a binary that still looked for its
/// scenario beside the sources (as it once did, through the path it was
/// built from) fails here.
#[test]
fn a_copied_binary_runs_the_demo_from_an_empty_directory() {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        assert!(
            std::env::var_os("HOLDFAST_REQUIRE_PRIVILEGED").is_none(),
            "HOLDFAST_REQUIRE_PRIVILEGED is set but not root (hiding the checkout needs a mount namespace)"
        );
        eprintln!("note: not root, so the checkout stays visible to the copied binary");
    }
    let dir = std::env::temp_dir().join(format!("holdfast-demo-alone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(dir.clone());
    let bin = dir.join("holdfast");
    std::fs::copy(env!("CARGO_BIN_EXE_holdfast"), &bin).unwrap();
    // target/debug/holdfast: the build directory is two levels up.
    let target = Path::new(env!("CARGO_BIN_EXE_holdfast"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf();
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |args: &[&str]| {
        let mut cmd = Command::new("timeout");
        cmd.arg("300");
        if root {
            // Hide the build directory first: once the checkout is hidden,
            // a build directory inside it is gone.
            cmd.args(["unshare", "--mount", "--propagation", "private", "sh", "-c"])
                .arg(
                    "for d in \"$1\" \"$2\"; do [ ! -d \"$d\" ] || mount -t tmpfs hidden \"$d\" || exit 97; done; \
                     shift 2; exec \"$@\"",
                )
                .arg("hide")
                .arg(&target)
                .arg(checkout);
        }
        cmd.arg(&bin)
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("holdfast runs")
    };
    let out = run(&["demo", "--seeds", "4"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed ({:?}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("report: holdfast-demo/index.html"),
        "{stdout}"
    );
    for f in [
        "index.html",
        "trace.jsonl",
        "sweep.json",
        "case-study.json",
        "case-study/director1.conf",
        "case-study/director2.conf",
    ] {
        assert!(dir.join("holdfast-demo").join(f).exists(), "{f} written");
    }
    // What it wrote beside the report replays as any scenario file.
    let replay = run(&["sim", "holdfast-demo/case-study.json"]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&replay.stdout)
            .lines()
            .next()
            .unwrap_or_default(),
        stdout.lines().next().unwrap_or_default(),
        "the replay's first line differs from the demo's"
    );
}
