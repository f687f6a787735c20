//! The protocol timers, exactly as keepalived computes them
//! (`VRRP_TIMER_SKEW`, `VRRP_MS_DOWN_TIMER` in keepalived's vrrp.h).

use std::time::Duration;

use super::wire::Version;

/// Skew_Time for a priority.
///
/// v2 (RFC 3768 §6.1): `(256 - priority) / 256` seconds, whatever the
/// interval; keepalived counts in whole microseconds, `(256 - p) *
/// 1,000,000 / 256` truncated (priority 150: 414,062 µs, not 414,062.5).
/// v3 (RFC 5798 §6.1): `(256 - priority) * Master_Adver_Interval / 256`;
/// keepalived computes it from the interval in centiseconds as `(256 - p)
/// * cs * 625 / 16` microseconds, truncated too.
pub fn skew(version: Version, priority: u8, master_adver_int: Duration) -> Duration {
    let weight = 256 - u64::from(priority);
    match version {
        Version::V2 => Duration::from_micros(weight * 1_000_000 / 256),
        Version::V3 => {
            let cs = master_adver_int.as_millis() as u64 / 10;
            Duration::from_micros(weight * cs * 625 / 16)
        }
    }
}

/// Master_Down_Interval: `down_timer_adverts` (the RFC's 3) intervals plus the skew.
pub fn master_down(
    version: Version,
    priority: u8,
    master_adver_int: Duration,
    down_timer_adverts: u32,
) -> Duration {
    master_adver_int * down_timer_adverts + skew(version, priority, master_adver_int)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_worked_examples_and_keepalived_measurements() {
        // RFC 3768 example: priority 100, 1 s: skew 0.609375 s, down 3.609375 s.
        let s = Duration::from_secs(1);
        assert_eq!(skew(Version::V2, 100, s), Duration::from_micros(609_375));
        assert_eq!(
            master_down(Version::V2, 100, s, 3),
            Duration::from_micros(3_609_375)
        );
        // docs/keepalived.md, "Measured timings": priority 150 → 414.1 ms
        // skew, 3414.1 ms down.
        // keepalived's microseconds, truncated.
        assert_eq!(skew(Version::V2, 150, s), Duration::from_micros(414_062));
        // v3 at 0.1 s, priority 100: 3 × 100 ms + 156/256 × 100 ms = 360.9375 ms, kept by
        // keepalived in whole microseconds: 360.937 ms (measured on the wire: 361.1).
        let fast = Duration::from_millis(100);
        assert_eq!(
            master_down(Version::V3, 100, fast, 3),
            Duration::from_micros(360_937)
        );
        // v2's skew ignores the interval; v3's scales with it.
        assert_eq!(
            skew(Version::V2, 100, Duration::from_secs(5)),
            Duration::from_micros(609_375)
        );
        assert_eq!(
            skew(Version::V3, 100, Duration::from_secs(5)),
            Duration::from_micros(3_046_875)
        );
        assert_eq!(skew(Version::V2, 255, s), Duration::from_micros(3_906));
    }
}
