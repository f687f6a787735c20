//! Reading the configuration as `run` does: errors refuse it whole,
//! warnings are logged, and the host's defaults are filled in.

use holdfast_core::config::model::Config;
use holdfast_core::config::{self, LoadOptions, Severity};
use holdfast_fs::FsLoader;
use tracing::{error, warn};

use super::{DaemonError, Options};

/// Reads a configuration; errors are refused whole, warnings logged.
pub fn load(opts: &Options) -> Result<Config, DaemonError> {
    let lo = LoadOptions {
        config_id: opts.config_id.clone(),
        strict: false,
        ignore_unimplemented: opts.ignore_unimplemented,
    };
    let loaded = config::load(&opts.config, &FsLoader, &lo);
    for d in loaded.diagnostics.iter() {
        let text = d.render(&loaded.sources);
        match d.severity {
            Severity::Error => error!("{}", text.trim_end()),
            _ => warn!("{}", text.trim_end()),
        }
    }
    let mut config = loaded.config.ok_or_else(|| {
        DaemonError::Config(format!(
            "{}: {} error(s): the configuration is not used",
            opts.config.display(),
            loaded.diagnostics.count(Severity::Error)
        ))
    })?;
    config.global.fill_host_defaults(&host_name(), &user_name());
    Ok(config)
}

/// The host's name, as keepalived's default `router_id` (uname's nodename);
/// its first label is the default config id.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The name of the user the daemon runs as (keepalived's default alert
/// sender is USER@HOST).
fn user_name() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; the
    // name is copied out before any other call could reuse it.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_string_lossy()
            .into_owned()
    }
}
