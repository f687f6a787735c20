//! keepalived's per-instance VRRP counters (its `vrrp_stats`), and the text
//! its SIGUSR2 writes to `keepalived.stats` (keepalived's
//! `vrrp_print_stats`), so that scripts and exporters that read that file
//! read holdfast's the same way.

use std::fmt::Write as _;

use serde::Serialize;

use super::Reject;

/// One instance's counters, named as keepalived names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Adverts that passed the packet checks for this instance.
    pub advert_rcvd: u64,
    /// Adverts sent.
    pub advert_sent: u64,
    /// Times it became Master.
    pub become_master: u64,
    /// Times it left Master.
    pub release_master: u64,
    /// Packets shorter than their header says.
    pub packet_len_err: u64,
    /// Packets whose TTL / hop limit was not 255.
    pub ip_ttl_err: u64,
    /// Packets whose type was not advertisement.
    pub invalid_type_rcvd: u64,
    /// Adverts with another advertisement interval.
    pub advert_interval_err: u64,
    /// Adverts whose address list differs from the instance's. keepalived
    /// counts them; holdfast does not compare the lists yet, so this stays
    /// 0 (docs/keepalived.md, "Signals and the statistics file").
    pub addr_list_err: u64,
    /// Adverts with an authentication type keepalived does not know.
    pub invalid_authtype: u64,
    /// Adverts with another authentication type.
    pub authtype_mismatch: u64,
    /// Adverts whose password differs.
    pub auth_failure: u64,
    /// Priority-0 adverts received.
    pub pri_zero_rcvd: u64,
    /// Priority-0 adverts sent.
    pub pri_zero_sent: u64,
}

impl Stats {
    /// Counts a dropped advert under keepalived's name for its reason;
    /// reasons keepalived has no counter for are only in holdfast's own
    /// `rejected` map.
    pub fn reject(&mut self, reason: Reject) {
        match reason {
            Reject::Truncated => self.packet_len_err += 1,
            Reject::BadTtl => self.ip_ttl_err += 1,
            Reject::BadType => self.invalid_type_rcvd += 1,
            // keepalived 2.2.7 drops these too but never increments its
            // interval counter for them.
            Reject::IntervalMismatch => {}
            Reject::InvalidAuthType => self.invalid_authtype += 1,
            Reject::AddressCount | Reject::AddressList => self.addr_list_err += 1,
            Reject::AuthTypeMismatch => self.authtype_mismatch += 1,
            Reject::AuthMismatch => self.auth_failure += 1,
            Reject::BadVersion
            | Reject::BadChecksum
            | Reject::WrongVrid
            | Reject::FamilyMismatch => {}
        }
    }

    /// The instance's block of keepalived's stats file.
    pub fn keepalived_text(&self, instance: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "VRRP Instance: {instance}");
        let _ = writeln!(s, "  Advertisements:");
        let _ = writeln!(s, "    Received: {}", self.advert_rcvd);
        let _ = writeln!(s, "    Sent: {}", self.advert_sent);
        let _ = writeln!(s, "  Became master: {}", self.become_master);
        let _ = writeln!(s, "  Released master: {}", self.release_master);
        let _ = writeln!(s, "  Packet Errors:");
        let _ = writeln!(s, "    Length: {}", self.packet_len_err);
        let _ = writeln!(s, "    TTL: {}", self.ip_ttl_err);
        let _ = writeln!(s, "    Invalid Type: {}", self.invalid_type_rcvd);
        let _ = writeln!(
            s,
            "    Advertisement Interval: {}",
            self.advert_interval_err
        );
        let _ = writeln!(s, "    Address List: {}", self.addr_list_err);
        let _ = writeln!(s, "  Authentication Errors:");
        let _ = writeln!(s, "    Invalid Type: {}", self.invalid_authtype);
        let _ = writeln!(s, "    Type Mismatch: {}", self.authtype_mismatch);
        let _ = writeln!(s, "    Failure: {}", self.auth_failure);
        let _ = writeln!(s, "  Priority Zero:");
        let _ = writeln!(s, "    Received: {}", self.pri_zero_rcvd);
        let _ = writeln!(s, "    Sent: {}", self.pri_zero_sent);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stats_file_block_is_keepalived_s_layout() {
        let mut s = Stats {
            advert_rcvd: 12,
            advert_sent: 3,
            become_master: 1,
            pri_zero_sent: 1,
            ..Stats::default()
        };
        s.reject(Reject::AuthMismatch);
        s.reject(Reject::BadChecksum);
        assert_eq!(
            s.keepalived_text("VI_1"),
            "VRRP Instance: VI_1\n  Advertisements:\n    Received: 12\n    Sent: 3\n  Became master: 1\n  Released master: 0\n  Packet Errors:\n    Length: 0\n    TTL: 0\n    Invalid Type: 0\n    Advertisement Interval: 0\n    Address List: 0\n  Authentication Errors:\n    Invalid Type: 0\n    Type Mismatch: 0\n    Failure: 1\n  Priority Zero:\n    Received: 0\n    Sent: 1\n"
        );
    }

    #[test]
    fn each_reason_goes_to_keepalived_s_counter_for_it() {
        let mut s = Stats::default();
        for (reason, times) in [
            (Reject::Truncated, 1),
            (Reject::BadTtl, 2),
            (Reject::BadType, 3),
            (Reject::AuthTypeMismatch, 4),
            (Reject::AuthMismatch, 5),
            (Reject::IntervalMismatch, 6),
            (Reject::BadVersion, 7),
            (Reject::BadChecksum, 8),
            (Reject::WrongVrid, 9),
            (Reject::FamilyMismatch, 10),
            (Reject::InvalidAuthType, 11),
            (Reject::AddressCount, 12),
            (Reject::AddressList, 13),
        ] {
            for _ in 0..times {
                s.reject(reason);
            }
        }
        assert_eq!(
            s,
            Stats {
                packet_len_err: 1,
                ip_ttl_err: 2,
                invalid_type_rcvd: 3,
                authtype_mismatch: 4,
                auth_failure: 5,
                invalid_authtype: 11,
                addr_list_err: 25,
                ..Stats::default()
            },
            "keepalived 2.2.7 has no counter for the others"
        );
    }
}
