//! Running `nft`: a script on its standard input, bounded in time, and
//! the listing of holdfast's table without what changes by itself.

use std::io::Write as _;
use std::process::{Command, Stdio};

use super::super::DataPlaneError;

/// How long one nft run may take (a 2,000-service table takes about 3 s).
const NFT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `nft` with `args`, feeding `input` on stdin.
pub(super) fn nft(args: &[&str], input: Option<&str>) -> Result<String, DataPlaneError> {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            DataPlaneError::Unavailable(format!(
                "nftables: cannot run nft ({e}); install the nftables package"
            ))
        })?;
    // A hung nft must not hold the data plane (and a stop) forever.
    let pid = child.id();
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let dog = std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = watch.recv_timeout(NFT_TIMEOUT) {
            // SAFETY: a signal to our own child after 60 s without an
            // answer. Its pid could only be reused once it is reaped, and
            // the waiting side says so right after reaping: the window is
            // the few microseconds between the two.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    });
    // stdin closes at the end of this block: nft reads to its end.
    let written = match (child.stdin.take(), input) {
        (Some(mut stdin), Some(text)) => stdin.write_all(text.as_bytes()),
        _ => Ok(()),
    };
    // Always reaped, even when the ruleset could not be written.
    let out = child.wait_with_output();
    let _ = done.send(());
    let _ = dog.join();
    let out = out.map_err(|e| DataPlaneError::Kernel(format!("nft: {e}")))?;
    // nft's own complaint says more than the broken pipe it caused.
    if !out.status.success() {
        return Err(DataPlaneError::Kernel(format!(
            "nft {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    written.map_err(|e| DataPlaneError::Kernel(format!("nft: writing the ruleset: {e}")))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The table as listed, without what changes by itself: clients'
/// persistence entries (they come and go with traffic).
pub(super) fn listing() -> Result<Option<serde_json::Value>, DataPlaneError> {
    let text = match nft(&["-j", "list", "table", "inet", "holdfast"], None) {
        Ok(t) => t,
        // No table at all is a state too: everything was deleted.
        Err(DataPlaneError::Kernel(e)) if e.contains("No such file") => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| DataPlaneError::Kernel(format!("nft -j: unreadable listing: {e}")))?;
    if let Some(items) = v.get_mut("nftables").and_then(|x| x.as_array_mut()) {
        items.retain(|i| i.get("metainfo").is_none());
        for i in items.iter_mut() {
            if let Some(m) = i.get_mut("set").and_then(|m| m.as_object_mut()) {
                if m.get("name")
                    .and_then(|n| n.as_str())
                    .is_some_and(|n| n.starts_with("ps_"))
                {
                    m.remove("elem");
                }
            }
        }
    }
    Ok(Some(v))
}
