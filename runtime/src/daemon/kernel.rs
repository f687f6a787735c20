//! The driver's other side: everything of the machine the driver loop
//! touches — the clock, what arrives (packets, netlink events, probe and
//! script results, signals) and what core's outputs do. The production
//! daemon's [`System`](super::system::System) is one; a test replaces it
//! with a recording fake and drives the very same loop
//! ([`Driver`](super::Driver)) with scripted inputs and a virtual clock.

use holdfast_core::config::model::Config;
use holdfast_core::lvs::Table;
use holdfast_core::node::{Input, Interface, Output};
use holdfast_core::time::Instant;

use super::DaemonError;

/// An input for core, and when the kernel received it if it said (a
/// packet's receive timestamp, on core's clock).
pub type Arrival = (Input, Option<Instant>);

/// What woke the driver loop.
#[derive(Debug)]
pub enum Wake {
    /// The deadline the loop waited for has come.
    Timer,
    /// An input for core.
    Input(Arrival),
    /// A signal.
    Signal(Signal),
}

/// The signals the loop acts on, by what they mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM, SIGINT or SIGQUIT: the orderly stop (named in the log and
    /// the trace).
    Stop(&'static str),
    /// SIGHUP: read the configuration again.
    Reload,
    /// SIGUSR1 or keepalived's SIGJSON: the state as JSON.
    Dump,
    /// SIGUSR2: keepalived's statistics file; SIGSTATS_CLEAR (`true`) then
    /// zeroes the counters.
    Stats {
        /// Zero the counters after writing them.
        clear: bool,
    },
    /// Any other signal whose default would end the process: logged and
    /// ignored.
    Ignored(i32),
}

/// The machine under the driver loop. Methods are called from one task,
/// one at a time, in the loop's order; none of them decides anything.
// The loop runs on one thread (a current-thread runtime): no `Send` bound
// is wanted on these futures.
#[allow(async_fn_in_trait)]
pub trait Kernel {
    /// Core's clock: the time since the daemon started (monotonic).
    fn now(&self) -> Instant;
    /// The interfaces as the kernel knows them now (names, primary
    /// addresses, link state).
    fn interfaces(&self) -> Vec<Interface>;
    /// An input that is already waiting, without waiting for one.
    fn try_next(&mut self) -> Option<Arrival>;
    /// Waits until something happens, or until `deadline` (then
    /// [`Wake::Timer`]). When both are ready, the timer comes first.
    async fn next(&mut self, deadline: Option<Instant>) -> Result<Wake, DaemonError>;
    /// Carries out one output of core. What the kernel answers at once
    /// (whether an address could be added) comes back as an input, which
    /// the loop gives core before it drains on.
    async fn carry_out(&mut self, output: Output) -> Option<Input>;
    /// The LVS table core wants, after a drain in which it changed.
    fn apply_table(&mut self, table: &Table);
    /// Opens what the configuration's instances need (sockets per
    /// interface and family, announcers): at start, and at a reload before
    /// core takes the new file. An error leaves the kernel as it was: the
    /// reload is refused.
    fn configure(&mut self, config: &Config) -> Result<(), DaemonError>;
    /// The data plane's state, for the dump.
    fn data_plane(&self) -> serde_json::Value;
    /// Forgets scripts and mail that have finished.
    fn reap(&mut self);
    /// A stop begins (before core releases its instances): alert mail
    /// still trying to leave is abandoned, so a relay that does not answer
    /// cannot hold the exit up.
    fn stopping(&mut self);
    /// The end: core has released its instances; what is still held (an
    /// address, the LVS table unless kept) goes, and scripts and the
    /// stop's own mail get a bounded while to finish.
    async fn stop(&mut self);
}
