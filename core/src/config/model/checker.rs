//! Health checkers of real servers.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One checker with its connection options and timing (inherited values
/// already resolved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checker {
    /// What it checks and how.
    pub kind: CheckerKind,
    /// Where it connects from and to.
    pub connect: Connect,
    /// Connection timeout.
    #[serde(with = "super::secs")]
    pub connect_timeout: Duration,
    /// Failures after the first before the server is declared down.
    pub retry: u32,
    /// Pause before a retry.
    #[serde(with = "super::secs")]
    pub delay_before_retry: Duration,
    /// Maximum random delay of the first check (0: none).
    #[serde(with = "super::secs")]
    pub warmup: Duration,
    /// Interval between checks.
    #[serde(with = "super::secs")]
    pub delay_loop: Duration,
    /// Start as failed.
    pub alpha: bool,
    /// Log every failure, not only state changes.
    pub log_all_failures: bool,
}

/// Connection options of a checker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Connect {
    /// Address to connect to (default: the real server's).
    pub ip: Option<IpAddr>,
    /// Port to connect to (default: the real server's).
    pub port: Option<u16>,
    /// Source address.
    pub bindto: Option<IpAddr>,
    /// Source port.
    pub bind_port: Option<u16>,
    /// Source interface.
    pub bind_if: Option<String>,
    /// fwmark put on the checker's packets.
    pub fwmark: Option<u32>,
}

/// The checker types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum CheckerKind {
    /// `HTTP_GET`.
    HttpGet(HttpCheck),
    /// `SSL_GET`.
    SslGet(HttpCheck),
    /// `TCP_CHECK`: a connect.
    TcpCheck,
    /// `MISC_CHECK`: a script.
    MiscCheck(MiscCheck),
    /// `SMTP_CHECK`.
    SmtpCheck(SmtpCheck),
    /// `DNS_CHECK`.
    DnsCheck(DnsCheck),
    /// `UDP_CHECK`.
    UdpCheck(UdpCheck),
    /// `PING_CHECK`.
    PingCheck,
    /// `FILE_CHECK`.
    FileCheck(FileCheck),
}

impl CheckerKind {
    /// A `MISC_CHECK` with `misc_dynamic`: its statuses 2 to 255 pass and
    /// set the real server's weight.
    pub fn is_dynamic(&self) -> bool {
        matches!(self, CheckerKind::MiscCheck(m) if m.dynamic)
    }

    /// Whether holdfast runs this kind of check. The reader refuses the
    /// others (or, with `--ignore-unimplemented`, drops them), so neither
    /// driver ever sees one: the daemon and the simulator cannot disagree
    /// about a check that one of them cannot make.
    pub fn is_implemented(&self) -> bool {
        matches!(
            self,
            CheckerKind::HttpGet(_)
                | CheckerKind::SslGet(_)
                | CheckerKind::TcpCheck
                | CheckerKind::MiscCheck(_)
        )
    }

    /// The block keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckerKind::HttpGet(_) => "HTTP_GET",
            CheckerKind::SslGet(_) => "SSL_GET",
            CheckerKind::TcpCheck => "TCP_CHECK",
            CheckerKind::MiscCheck(_) => "MISC_CHECK",
            CheckerKind::SmtpCheck(_) => "SMTP_CHECK",
            CheckerKind::DnsCheck(_) => "DNS_CHECK",
            CheckerKind::UdpCheck(_) => "UDP_CHECK",
            CheckerKind::PingCheck => "PING_CHECK",
            CheckerKind::FileCheck(_) => "FILE_CHECK",
        }
    }
}

/// HTTP protocol of `HTTP_GET` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum HttpProtocol {
    /// HTTP/1.0 (keepalived's default).
    #[default]
    #[serde(rename = "1.0")]
    Http10,
    /// HTTP/1.0 with `Connection: close`.
    #[serde(rename = "1.0C")]
    Http10Close,
    /// HTTP/1.1.
    #[serde(rename = "1.1")]
    Http11,
}

impl HttpProtocol {
    /// Its name in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpProtocol::Http10 => "1.0",
            HttpProtocol::Http10Close => "1.0C",
            HttpProtocol::Http11 => "1.1",
        }
    }
}

/// `HTTP_GET` / `SSL_GET` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HttpCheck {
    /// URLs, checked one per `delay_loop`.
    pub urls: Vec<Url>,
    /// Request protocol.
    pub http_protocol: HttpProtocol,
    /// Check all URLs back to back when recovering.
    pub fast_recovery: bool,
    /// Host header (default: the real server's, then the virtual server's).
    pub virtualhost: Option<String>,
    /// SSL_GET: send SNI.
    pub enable_sni: bool,
    /// SSL_GET: the SNI name.
    pub sni_name: Option<String>,
    /// SSL_GET: send close_notify.
    pub tls_compliant: bool,
}

/// An MD5 digest, written as 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 16]);

impl Digest {
    /// Parses 32 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        fn nibble(b: u8) -> Option<u8> {
            match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                b'A'..=b'F' => Some(b - b'A' + 10),
                _ => None,
            }
        }
        let bytes = s.as_bytes();
        if bytes.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = nibble(bytes[2 * i])? << 4 | nibble(bytes[2 * i + 1])?;
        }
        Some(Digest(out))
    }

    /// Lower-case hex, as genhash prints it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::from_hex(&s).ok_or_else(|| serde::de::Error::custom("digest must be 32 hex digits"))
    }
}

/// `url { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Url {
    /// Request path.
    pub path: String,
    /// Expected MD5 of the body.
    pub digest: Option<Digest>,
    /// Accepted status codes as inclusive ranges (keepalived's default: 200-299).
    pub status_codes: Vec<(u16, u16)>,
    /// Host header for this URL.
    pub virtualhost: Option<String>,
}

/// `MISC_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiscCheck {
    /// The command line to run.
    pub path: String,
    /// How long it may run (default: delay_loop).
    #[serde(with = "super::secs::option")]
    pub timeout: Option<Duration>,
    /// Exit codes 2..=255 set the weight to code - 2.
    pub dynamic: bool,
    /// Run as this user.
    pub user: Option<String>,
}

/// `SMTP_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SmtpCheck {
    /// Name sent with HELO.
    pub helo_name: Option<String>,
    /// Extra hosts to check (legacy `host { }` blocks).
    pub hosts: Vec<Connect>,
}

/// DNS query type of `DNS_CHECK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[allow(missing_docs)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    #[default]
    Soa,
    Mx,
    Txt,
    Aaaa,
}

impl DnsType {
    /// Every type with its name.
    pub const ALL: [(DnsType, &'static str); 7] = [
        (DnsType::A, "A"),
        (DnsType::Ns, "NS"),
        (DnsType::Cname, "CNAME"),
        (DnsType::Soa, "SOA"),
        (DnsType::Mx, "MX"),
        (DnsType::Txt, "TXT"),
        (DnsType::Aaaa, "AAAA"),
    ];

    /// Its name in configuration.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("SOA", |(_, n)| n)
    }
}

/// `DNS_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsCheck {
    /// Query type.
    pub query_type: DnsType,
    /// Query name.
    pub name: String,
}

/// `UDP_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UdpCheck {
    /// Payload to send, as hex.
    pub payload: Option<String>,
    /// Pattern the reply must match (hex, `X` nibbles are wildcards).
    pub require_reply: Option<String>,
    /// Shortest reply accepted.
    pub min_reply_length: Option<u32>,
    /// Longest reply accepted.
    pub max_reply_length: Option<u32>,
}

/// `FILE_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCheck {
    /// The `track_file` name.
    pub track_file: String,
    /// The value adjusts the weight instead of failing the server.
    pub dynamic: bool,
    /// Multiplier of the value read.
    pub weight: i32,
    /// Reverse the sense.
    pub reverse: bool,
}
