//! Checker blocks of a `real_server`.

use std::time::Duration;

use super::reader::Cx;
use crate::config::lexer::Token;
use crate::config::model::{
    Checker, CheckerKind, Connect, Digest, DnsCheck, DnsType, FileCheck, HttpCheck, HttpProtocol,
    MiscCheck, SmtpCheck, UdpCheck, Url,
};
use crate::config::tree::Stmt;
use crate::config::value;

/// The checker block keywords holdfast reads.
pub const CHECKER_KEYWORDS: &[&str] = &[
    "HTTP_GET",
    "SSL_GET",
    "TCP_CHECK",
    "MISC_CHECK",
    "SMTP_CHECK",
    "DNS_CHECK",
    "UDP_CHECK",
    "PING_CHECK",
    "FILE_CHECK",
];

/// Checker settings a virtual or real server passes down to its checkers.
#[derive(Debug, Clone, Default)]
pub struct Inherited {
    /// `connect_timeout`.
    pub connect_timeout: Option<Duration>,
    /// `retry`.
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Duration>,
    /// `warmup`.
    pub warmup: Option<Duration>,
    /// `alpha`.
    pub alpha: Option<bool>,
}

const MAX_TIMER: Duration = Duration::from_secs(86_400);

impl Inherited {
    /// Reads one of the inherited keywords; false when `key` is not one.
    pub fn read(&mut self, cx: &mut Cx, s: Stmt, key: &str) -> bool {
        match key {
            "connect_timeout" => {
                // keepalived keeps it in 32-bit microseconds.
                self.connect_timeout = cx
                    .timer(
                        s,
                        Duration::from_micros(1),
                        Duration::from_micros(u32::MAX as u64),
                    )
                    .or(self.connect_timeout)
            }
            "retry" => self.retry = cx.u32(s, 0).or(self.retry),
            "nb_get_retry" => {
                cx.deprecated(s, "retry");
                self.retry = cx.u32(s, 0).or(self.retry);
            }
            "delay_before_retry" => {
                self.delay_before_retry = cx
                    .timer(s, Duration::ZERO, MAX_TIMER)
                    .or(self.delay_before_retry)
            }
            "warmup" => self.warmup = cx.timer(s, Duration::ZERO, MAX_TIMER).or(self.warmup),
            "alpha" => self.alpha = cx.flag(s).or(self.alpha),
            _ => return false,
        }
        true
    }
}

/// Reads one checker block.
pub fn checker(
    cx: &mut Cx,
    s: Stmt,
    up: &Inherited,
    delay_loop: Duration,
    virtualhost: Option<&str>,
) -> Option<Checker> {
    cx.arity_with(s, 0, 0, || format!("{} {{ ... }}", s.name()));
    if s.block_open().is_none() && !cx.need_block(s, &format!("{} {{ ... }}", s.name())) {
        return None;
    }
    let mut own = up.clone();
    let mut connect = Connect::default();
    let mut delay_loop = delay_loop;
    let mut log_all_failures = false;
    let mut kind = match s.name() {
        "HTTP_GET" => CheckerKind::HttpGet(HttpCheck::default()),
        "SSL_GET" => CheckerKind::SslGet(HttpCheck::default()),
        "TCP_CHECK" => CheckerKind::TcpCheck,
        "MISC_CHECK" => CheckerKind::MiscCheck(MiscCheck {
            path: String::new(),
            timeout: None,
            dynamic: false,
            user: None,
        }),
        "SMTP_CHECK" => CheckerKind::SmtpCheck(SmtpCheck::default()),
        "DNS_CHECK" => CheckerKind::DnsCheck(DnsCheck {
            query_type: DnsType::Soa,
            name: ".".into(),
        }),
        "UDP_CHECK" => CheckerKind::UdpCheck(UdpCheck::default()),
        "PING_CHECK" => CheckerKind::PingCheck,
        _ => CheckerKind::FileCheck(FileCheck {
            track_file: String::new(),
            dynamic: false,
            weight: 1,
            reverse: false,
        }),
    };
    let mut misc_path_seen = false;
    for item in s.items() {
        let k = item.name();
        if own.read(cx, item, k) || connect_option(cx, item, &mut connect) {
            continue;
        }
        match (k, &mut kind) {
            ("delay_loop", _) => {
                delay_loop = cx
                    .timer(item, Duration::from_micros(1), MAX_TIMER)
                    .unwrap_or(delay_loop)
            }
            ("log_all_failures", _) => log_all_failures = cx.flag(item).unwrap_or(log_all_failures),
            ("url", CheckerKind::HttpGet(h) | CheckerKind::SslGet(h)) => {
                if let Some(u) = url(cx, item) {
                    h.urls.push(u);
                }
            }
            ("http_protocol", CheckerKind::HttpGet(h) | CheckerKind::SslGet(h)) => {
                if let Some(t) = cx.one(item, "http_protocol 1.0|1.0C|1.1") {
                    match t.text.as_str() {
                        "1.0" => h.http_protocol = HttpProtocol::Http10,
                        "1.0C" | "1.0c" => h.http_protocol = HttpProtocol::Http10Close,
                        "1.1" => h.http_protocol = HttpProtocol::Http11,
                        other => cx.error(
                            t.span,
                            format!("http_protocol `{other}` is not valid"),
                            "1.0, 1.0C or 1.1",
                        ),
                    }
                }
            }
            ("fast_recovery", CheckerKind::HttpGet(h) | CheckerKind::SslGet(h)) => {
                h.fast_recovery = cx.flag(item).unwrap_or(h.fast_recovery)
            }
            ("virtualhost", CheckerKind::HttpGet(h) | CheckerKind::SslGet(h)) => {
                h.virtualhost = cx.string(item).or(h.virtualhost.take())
            }
            ("enable_sni", CheckerKind::SslGet(h)) => {
                h.enable_sni = cx.flag(item).unwrap_or(h.enable_sni)
            }
            ("sni_name", CheckerKind::SslGet(h)) => {
                h.sni_name = cx.string(item).or(h.sni_name.take())
            }
            ("tls_compliant", CheckerKind::SslGet(h)) => {
                h.tls_compliant = cx.flag(item).unwrap_or(h.tls_compliant)
            }
            ("misc_path", CheckerKind::MiscCheck(m)) => {
                cx.no_block(item);
                if cx.arity(item, 1, usize::MAX, "misc_path <command line>") {
                    m.path = join_words(item.args());
                    misc_path_seen = true;
                }
            }
            ("misc_timeout", CheckerKind::MiscCheck(m)) => {
                m.timeout = cx
                    .int(item, 1, 86_400)
                    .map(|n| Duration::from_secs(n as u64))
                    .or(m.timeout)
            }
            ("misc_dynamic", CheckerKind::MiscCheck(m)) => {
                m.dynamic = cx.flag(item).unwrap_or(m.dynamic)
            }
            ("user", CheckerKind::MiscCheck(m)) => {
                cx.no_block(item);
                if cx.arity(item, 1, 2, "user <user> [group]") {
                    m.user = Some(item.args()[0].text.to_string());
                }
            }
            ("helo_name", CheckerKind::SmtpCheck(sm)) => {
                sm.helo_name = cx.string(item).or(sm.helo_name.take())
            }
            ("host", CheckerKind::SmtpCheck(sm)) => {
                if cx.need_block(item, "host { connect_ip ...; connect_port ... }") {
                    let mut c = Connect::default();
                    for h in item.items() {
                        if !connect_option(cx, h, &mut c) {
                            cx.unknown(h, "SMTP_CHECK host");
                        }
                    }
                    sm.hosts.push(c);
                }
            }
            ("type", CheckerKind::DnsCheck(d)) => {
                if let Some(t) = cx.one(item, "type A|NS|CNAME|SOA|MX|TXT|AAAA") {
                    match DnsType::ALL
                        .iter()
                        .find(|(_, n)| n.eq_ignore_ascii_case(&t.text))
                    {
                        Some((ty, _)) => d.query_type = *ty,
                        None => cx.error(
                            t.span,
                            format!("DNS type `{}` is not supported", t.text),
                            "A, NS, CNAME, SOA, MX, TXT or AAAA",
                        ),
                    }
                }
            }
            ("name", CheckerKind::DnsCheck(d)) => {
                d.name = cx.string(item).unwrap_or(std::mem::take(&mut d.name))
            }
            ("payload", CheckerKind::UdpCheck(u)) => {
                u.payload = hex_string(cx, item).or(u.payload.take())
            }
            ("require_reply", CheckerKind::UdpCheck(u)) => {
                u.require_reply = cx.string(item).or(u.require_reply.take())
            }
            ("min_reply_length", CheckerKind::UdpCheck(u)) => {
                u.min_reply_length = cx
                    .int(item, 0, 65_535)
                    .map(|n| n as u32)
                    .or(u.min_reply_length)
            }
            ("max_reply_length", CheckerKind::UdpCheck(u)) => {
                u.max_reply_length = cx
                    .int(item, 0, 65_535)
                    .map(|n| n as u32)
                    .or(u.max_reply_length)
            }
            ("track_file", CheckerKind::FileCheck(f)) => {
                f.track_file = cx.string(item).unwrap_or(std::mem::take(&mut f.track_file))
            }
            ("dynamic", CheckerKind::FileCheck(f)) => {
                f.dynamic = cx.flag(item).unwrap_or(f.dynamic)
            }
            ("weight", CheckerKind::FileCheck(f)) => {
                cx.no_block(item);
                if cx.arity(item, 1, 2, "weight <integer> [reverse]") {
                    if let Some(w) = cx.int_tok(
                        &item.args()[0],
                        -(i32::MAX as i64),
                        i32::MAX as i64,
                        "weight",
                    ) {
                        f.weight = w as i32;
                    }
                    f.reverse = item.args().get(1).is_some_and(|t| t.text == "reverse");
                }
            }
            (
                "regex" | "regex_no_match" | "regex_options" | "regex_stack" | "regex_min_offset"
                | "regex_max_offset",
                _,
            ) => cx.not_implemented(item),
            _ => cx.unknown(item, s.name()),
        }
    }
    match &mut kind {
        CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) => {
            h.urls.shrink_to_fit();
            if h.urls.is_empty() {
                cx.error(
                    s.keyword().span,
                    format!("{} has no url", s.name()),
                    "url { path /...; digest ... } in the block",
                );
                return None;
            }
            if h.virtualhost.is_none() {
                h.virtualhost = virtualhost.map(str::to_string);
            }
        }
        CheckerKind::MiscCheck(_) if !misc_path_seen => {
            cx.error(
                s.keyword().span,
                "MISC_CHECK has no misc_path",
                "misc_path <command line> in the block",
            );
            return None;
        }
        CheckerKind::FileCheck(f) if f.track_file.is_empty() => {
            cx.error(
                s.keyword().span,
                "FILE_CHECK has no track_file",
                "track_file <name> in the block",
            );
            return None;
        }
        _ => {}
    }
    let (retry_default, dbr_default) = match kind {
        CheckerKind::HttpGet(_) | CheckerKind::SslGet(_) => (1, Duration::from_secs(3)),
        CheckerKind::MiscCheck(_) => (0, Duration::from_secs(1)),
        CheckerKind::DnsCheck(_) => (3, delay_loop),
        _ => (1, Duration::from_secs(1)),
    };
    Some(Checker {
        kind,
        connect,
        connect_timeout: own.connect_timeout.unwrap_or(Duration::from_secs(5)),
        retry: own.retry.unwrap_or(retry_default),
        delay_before_retry: own.delay_before_retry.unwrap_or(dbr_default),
        warmup: own.warmup.unwrap_or(delay_loop),
        delay_loop,
        alpha: own.alpha.unwrap_or(false),
        log_all_failures,
    })
}

fn join_words(words: &[Token]) -> String {
    words
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn hex_string(cx: &mut Cx, s: Stmt) -> Option<String> {
    let t = cx.one_with(s, || format!("{} <hex string>", s.name()))?;
    if t.text.len() % 2 == 0 && t.text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(t.text.to_string())
    } else {
        cx.error(
            t.span,
            format!("`{}` is not a hex string", t.text),
            "an even number of hex digits",
        );
        None
    }
}

/// The connection options shared by checkers (and SMTP `host` blocks).
fn connect_option(cx: &mut Cx, s: Stmt, c: &mut Connect) -> bool {
    match s.name() {
        "connect_ip" => c.ip = cx.ip(s).or(c.ip),
        "connect_port" => {
            if let Some(t) = cx.one(s, "connect_port <port>") {
                c.port = cx.port_tok(t, "connect_port").or(c.port);
            }
        }
        "bindto" | "bind_to" => c.bindto = cx.ip(s).or(c.bindto),
        "bind_port" => {
            if let Some(t) = cx.one(s, "bind_port <port>") {
                c.bind_port = cx.port_tok(t, "bind_port").or(c.bind_port);
            }
        }
        "bind_if" => c.bind_if = cx.string(s).or(c.bind_if.take()),
        "fwmark" => c.fwmark = cx.u32(s, 0).or(c.fwmark),
        _ => return false,
    }
    true
}

fn url(cx: &mut Cx, s: Stmt) -> Option<Url> {
    if !cx.need_block(s, "url { path /...; digest ...; status_code ... }") {
        return None;
    }
    let mut path = None;
    let mut digest = None;
    let mut status = Vec::new();
    let mut virtualhost = None;
    for item in s.items() {
        match item.name() {
            "path" => path = cx.string(item).or(path),
            "digest" => {
                if let Some(t) = cx.one(item, "digest <32 hex digits>") {
                    match Digest::from_hex(&t.text) {
                        Some(d) => digest = Some(d),
                        None => cx.error(
                            t.span,
                            format!(
                                "digest `{}` is not an MD5 digest ({} characters)",
                                t.text,
                                t.text.chars().count()
                            ),
                            "32 hex digits, as printed by `holdfast genhash`",
                        ),
                    }
                }
            }
            "status_code" => {
                cx.no_block(item);
                if cx.arity(item, 1, usize::MAX, "status_code CODE|FROM-TO ...") {
                    for t in item.args() {
                        match value::status_range(&t.text) {
                            Some((a, b))
                                if (100..=999).contains(&a)
                                    && (100..=999).contains(&b)
                                    && a <= b =>
                            {
                                status.push((a, b))
                            }
                            _ => cx.error(
                                t.span,
                                format!("status_code `{}` is not valid", t.text),
                                "a code 100..999 or a range such as 200-299",
                            ),
                        }
                    }
                }
            }
            "virtualhost" => virtualhost = cx.string(item).or(virtualhost),
            "regex" | "regex_no_match" | "regex_options" | "regex_stack" | "regex_min_offset"
            | "regex_max_offset" | "tls_compliant" => cx.not_implemented(item),
            _ => cx.unknown(item, "url"),
        }
    }
    let Some(path) = path else {
        cx.error(
            s.keyword().span,
            "url has no path",
            "path /... in the url block",
        );
        return None;
    };
    if status.is_empty() {
        status.push((200, 299));
    }
    Some(Url {
        path,
        digest,
        status_codes: status,
        virtualhost,
    })
}
