//! Why an advert was dropped: every reason has a name, so drivers can count
//! them (keepalived's VRRP-MIB counters are the model).

use serde::Serialize;

/// A reason to drop a received advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reject {
    /// Not the length its header and address list say (keepalived's
    /// `packet_len_err`).
    Truncated,
    /// Version field is neither 2 nor 3, or not the instance's version.
    BadVersion,
    /// Type field is not 1 (advertisement).
    BadType,
    /// IPv4 TTL or IPv6 hop limit is not 255 (or outside a unicast peer's range).
    BadTtl,
    /// Checksum does not verify in any variant keepalived accepts.
    BadChecksum,
    /// No instance here has this VRID on this interface.
    WrongVrid,
    /// v2 authentication type is none keepalived knows (0, 1, 2).
    InvalidAuthType,
    /// v2 authentication type differs from the instance's.
    AuthTypeMismatch,
    /// v2 PASS password differs from the instance's.
    AuthMismatch,
    /// v2 advertisement interval differs from the instance's.
    IntervalMismatch,
    /// Address family of the advert is not the instance's.
    FamilyMismatch,
    /// It lists another number of addresses than the instance has
    /// (keepalived's "unexpected ip number count", `addr_list_err`).
    AddressCount,
    /// One of the instance's addresses is missing from its list
    /// (keepalived's "ip address associated with VRID not present in
    /// MASTER advert", `addr_list_err`).
    AddressList,
}

impl Reject {
    /// Every reason, for counters.
    pub const ALL: [Reject; 13] = [
        Reject::Truncated,
        Reject::BadVersion,
        Reject::BadType,
        Reject::BadTtl,
        Reject::BadChecksum,
        Reject::WrongVrid,
        Reject::InvalidAuthType,
        Reject::AuthTypeMismatch,
        Reject::AuthMismatch,
        Reject::IntervalMismatch,
        Reject::FamilyMismatch,
        Reject::AddressCount,
        Reject::AddressList,
    ];

    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Reject::Truncated => "truncated",
            Reject::BadVersion => "bad_version",
            Reject::BadType => "bad_type",
            Reject::BadTtl => "bad_ttl",
            Reject::BadChecksum => "bad_checksum",
            Reject::WrongVrid => "wrong_vrid",
            Reject::InvalidAuthType => "invalid_auth_type",
            Reject::AuthTypeMismatch => "auth_type_mismatch",
            Reject::AuthMismatch => "auth_mismatch",
            Reject::IntervalMismatch => "interval_mismatch",
            Reject::FamilyMismatch => "family_mismatch",
            Reject::AddressCount => "address_count",
            Reject::AddressList => "address_list",
        }
    }
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for Reject {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_has_its_own_name_the_same_in_json() {
        let names: Vec<&str> = Reject::ALL.iter().map(|r| r.as_str()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), Reject::ALL.len(), "{names:?}");
        for r in Reject::ALL {
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        assert_eq!(Reject::BadTtl.as_str(), "bad_ttl");
    }
}
