//! Running scripts as keepalived does: the command line split into words
//! (no shell), as `script_user` (or the script's own user), killed at its
//! timeout, and — when running as root — refused if a non-root user could
//! have written it (keepalived's script security).

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use holdfast_core::config::model::Script;

/// Why a script cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// An empty command.
    #[error("empty command line")]
    Empty,
    /// The program is not an executable file we can find.
    #[error("{0}: not found")]
    NotFound(String),
    /// A non-root user could change what root would run.
    #[error("{path} is writable by a non-root user (or lives in a directory that is); refusing to run it as root (keepalived's script security)")]
    Insecure {
        /// The file or directory.
        path: String,
    },
    /// An unknown user or group.
    #[error("unknown user or group {0}")]
    NoSuchUser(String),
}

/// Splits a command line into words: whitespace separates, double and
/// single quotes group, a backslash escapes the next character.
pub fn split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\\') | (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    word.push(n);
                    in_word = true;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The program's path: as given when it has a slash, else found on PATH.
fn resolve(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// keepalived's rule when running as root: the file, and every directory
/// above it, must be owned by root and writable by nobody else.
fn check_security(path: &Path) -> Result<(), ScriptError> {
    let insecure = |p: &Path| ScriptError::Insecure {
        path: p.display().to_string(),
    };
    // The real file, not a symlink whose target someone else controls.
    let real = std::fs::canonicalize(path).map_err(|_| insecure(path))?;
    let mut p = Some(real.as_path());
    while let Some(here) = p {
        // What cannot be checked is not trusted.
        let m = std::fs::metadata(here).map_err(|_| insecure(here))?;
        let sticky_dir = m.is_dir() && m.mode() & 0o1000 != 0;
        let other_writes = m.mode() & 0o002 != 0 && !sticky_dir;
        let group_writes = m.mode() & 0o020 != 0 && m.gid() != 0;
        if m.uid() != 0 || other_writes || group_writes {
            return Err(insecure(here));
        }
        p = here.parent();
    }
    Ok(())
}

fn user_ids(user: &str, group: Option<&str>) -> Result<(u32, u32), ScriptError> {
    let name = std::ffi::CString::new(user).map_err(|_| ScriptError::NoSuchUser(user.into()))?;
    // SAFETY: getpwnam returns a pointer into static storage or null; read
    // at once, single-threaded use in this process's runtime.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(ScriptError::NoSuchUser(user.into()));
    }
    // SAFETY: non-null, as checked.
    let (uid, mut gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    if let Some(g) = group {
        let gname = std::ffi::CString::new(g).map_err(|_| ScriptError::NoSuchUser(g.into()))?;
        // SAFETY: as for getpwnam.
        let gr = unsafe { libc::getgrnam(gname.as_ptr()) };
        if gr.is_null() {
            return Err(ScriptError::NoSuchUser(g.into()));
        }
        // SAFETY: non-null, as checked.
        gid = unsafe { (*gr).gr_gid };
    }
    Ok((uid, gid))
}

/// A script ready to run.
#[derive(Debug, Clone)]
pub struct Prepared {
    program: PathBuf,
    args: Vec<String>,
    ids: Option<(u32, u32)>,
}

/// Checks a script and who runs it; `default_user` is `script_user`.
pub fn prepare(
    script: &Script,
    extra: &[String],
    default_user: Option<(&str, Option<&str>)>,
    enforce_security: bool,
) -> Result<Prepared, ScriptError> {
    let mut words = split(&script.command);
    if words.is_empty() {
        return Err(ScriptError::Empty);
    }
    let program = resolve(&words[0]).ok_or_else(|| ScriptError::NotFound(words[0].clone()))?;
    let user = script
        .user
        .as_deref()
        .map(|u| (u, script.group.as_deref()))
        .or(default_user);
    let ids = user.map(|(u, g)| user_ids(u, g)).transpose()?;
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if root && enforce_security && ids.is_none_or(|(uid, _)| uid == 0) {
        check_security(&program)?;
    }
    words.remove(0);
    words.extend(extra.iter().cloned());
    Ok(Prepared {
        program,
        args: words,
        ids,
    })
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// Exit status.
    Code(i32),
    /// Killed by a signal.
    Signal(i32),
    /// Still running at the timeout: killed.
    TimedOut,
    /// Could not start.
    Failed(String),
}

impl Prepared {
    /// Runs it to completion or `timeout`, whichever comes first.
    pub async fn run(&self, timeout: Duration) -> Exit {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some((uid, gid)) = self.ids {
            cmd.uid(uid).gid(gid);
        }
        // Its own process group: a timeout kills what it started too.
        cmd.process_group(0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return Exit::Failed(e.to_string()),
        };
        match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(status)) => match (status.code(), status.signal()) {
                (Some(c), _) => Exit::Code(c),
                (None, Some(s)) => Exit::Signal(s),
                _ => Exit::Failed("no status".into()),
            },
            Ok(Err(e)) => Exit::Failed(e.to_string()),
            Err(_) => {
                if let Some(pid) = child.id() {
                    // SAFETY: a signal to the group of a child we started.
                    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
                }
                let _ = child.kill().await;
                Exit::TimedOut
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_as_keepalived_does() {
        assert_eq!(split("/bin/x a  b"), ["/bin/x", "a", "b"]);
        assert_eq!(
            split(r#"/bin/x "a b" 'c d' e\ f"#),
            ["/bin/x", "a b", "c d", "e f"]
        );
        assert_eq!(split(""), Vec::<String>::new());
    }
}
