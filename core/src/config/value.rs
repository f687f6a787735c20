//! Parsers for the values keepalived.conf uses: timers, addresses with
//! prefixes, address ranges, status-code ranges, booleans.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::{char, digit0, digit1};
use nom::combinator::{all_consuming, map_res, opt, recognize};
use nom::sequence::{pair, preceded, separated_pair};
use nom::IResult;

fn decimal_u64(input: &str) -> IResult<&str, u64> {
    map_res(digit1, str::parse::<u64>)(input)
}

/// `<TIMER>`: seconds with an optional fraction, at microsecond resolution
/// (digits past the sixth are dropped, as keepalived does).
pub fn timer(s: &str) -> Option<Duration> {
    let parsed: IResult<&str, (&str, Option<&str>)> =
        all_consuming(pair(recognize(digit0), opt(preceded(char('.'), digit0))))(s);
    let (_, (whole, frac)) = parsed.ok()?;
    if whole.is_empty() && frac.is_none_or(str::is_empty) {
        return None;
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut micros: u64 = 0;
    let frac = frac.unwrap_or("");
    for (i, d) in frac.bytes().take(6).enumerate() {
        micros += u64::from(d - b'0') * 10u64.pow(5 - i as u32);
    }
    Duration::from_secs(secs).checked_add(Duration::from_micros(micros))
}

/// Writes a duration as keepalived.conf seconds, exactly (no trailing zeros).
pub fn format_timer(d: Duration) -> String {
    let micros = d.subsec_micros();
    if micros == 0 {
        d.as_secs().to_string()
    } else {
        let frac = format!("{micros:06}");
        format!("{}.{}", d.as_secs(), frac.trim_end_matches('0'))
    }
}

/// `<BOOL>`: on|off|true|false|yes|no.
pub fn boolean(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// An integer, with an optional sign.
pub fn integer(s: &str) -> Option<i64> {
    let parsed: IResult<&str, (Option<char>, u64)> =
        all_consuming(pair(opt(alt((char('-'), char('+')))), decimal_u64))(s);
    let (_, (sign, n)) = parsed.ok()?;
    let n = i64::try_from(n).ok()?;
    Some(if sign == Some('-') { -n } else { n })
}

/// An address, IPv4 or IPv6.
pub fn ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

/// `ADDR[/PREFIX]`, with the prefix checked against the family.
pub fn ip_prefix(s: &str) -> Result<(IpAddr, Option<u8>), String> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an IPv4 or IPv6 address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => None,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                return Err(format!(
                    "`/{p}` is not a prefix length for this address (0 to {max})"
                ))
            }
        },
    };
    Ok((addr, prefix))
}

/// `A.B.C.D-E`, `A.B.C.D-E.F.G.H`, `X::A-B` or `ADDR/PREFIX` as an inclusive
/// range of addresses; a single address is a range of one.
pub fn ip_range(s: &str) -> Result<(IpAddr, IpAddr), String> {
    if let Some((base, prefix)) = s.split_once('/') {
        let (addr, prefix) = ip_prefix(&format!("{base}/{prefix}"))?;
        let prefix = prefix.unwrap_or(0);
        return Ok(match addr {
            IpAddr::V4(a) => {
                let host_bits = 32 - u32::from(prefix);
                let mask = if host_bits == 32 {
                    0
                } else {
                    u32::MAX << host_bits
                };
                let first = u32::from(a) & mask;
                (IpAddr::V4(first.into()), IpAddr::V4((first | !mask).into()))
            }
            IpAddr::V6(a) => {
                let host_bits = 128 - u32::from(prefix);
                let mask = if host_bits == 128 {
                    0
                } else {
                    u128::MAX << host_bits
                };
                let first = u128::from(a) & mask;
                (IpAddr::V6(first.into()), IpAddr::V6((first | !mask).into()))
            }
        });
    }
    let Some((first, last)) = s.rsplit_once('-') else {
        let a = ip(s).ok_or_else(|| format!("`{s}` is not an IPv4 or IPv6 address"))?;
        return Ok((a, a));
    };
    let first_addr =
        ip(first).ok_or_else(|| format!("`{first}` is not an IPv4 or IPv6 address"))?;
    let last_addr = match (first_addr, ip(last)) {
        (IpAddr::V4(_), Some(l @ IpAddr::V4(_))) | (IpAddr::V6(_), Some(l @ IpAddr::V6(_))) => l,
        (IpAddr::V4(a), None) => {
            let n: u8 = last.parse().map_err(|_| {
                format!("`{last}` is not the last byte of an IPv4 range (0 to 255)")
            })?;
            let o = a.octets();
            IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], n))
        }
        (IpAddr::V6(a), None) => {
            let n = u16::from_str_radix(last, 16).map_err(|_| {
                format!("`{last}` is not the last group of an IPv6 range (hex 0 to ffff)")
            })?;
            let mut seg = a.segments();
            seg[7] = n;
            IpAddr::V6(Ipv6Addr::from(seg))
        }
        _ => return Err(format!("`{s}` mixes IPv4 and IPv6")),
    };
    let ordered = match (first_addr, last_addr) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a <= b,
        (IpAddr::V6(a), IpAddr::V6(b)) => a <= b,
        _ => false,
    };
    if !ordered {
        return Err(format!("range `{s}` ends before it starts"));
    }
    Ok((first_addr, last_addr))
}

/// `N` or `N-M` for status codes.
pub fn status_range(s: &str) -> Option<(u16, u16)> {
    let single = map_res(digit1, str::parse::<u16>);
    let range = separated_pair(
        map_res(digit1, str::parse::<u16>),
        tag("-"),
        map_res(digit1, str::parse::<u16>),
    );
    let parsed: IResult<&str, (u16, u16)> =
        all_consuming(alt((range, nom::combinator::map(single, |n| (n, n)))))(s);
    parsed.ok().map(|(_, r)| r)
}

/// A netmask as a prefix length: dotted IPv4 (`255.255.255.0`, contiguous) or a number.
pub fn netmask(s: &str) -> Option<u8> {
    if let Ok(n) = s.parse::<u8>() {
        return (n <= 128).then_some(n);
    }
    let m: Ipv4Addr = s.parse().ok()?;
    let bits = u32::from(m);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers() {
        assert_eq!(timer("3"), Some(Duration::from_secs(3)));
        assert_eq!(timer("2.71828"), Some(Duration::from_micros(2_718_280)));
        assert_eq!(timer(".5"), Some(Duration::from_millis(500)));
        assert_eq!(timer("0.1234567"), Some(Duration::from_micros(123_456)));
        assert_eq!(timer("-1"), None);
        assert_eq!(timer("1s"), None);
        assert_eq!(timer("."), None);
        assert_eq!(format_timer(Duration::from_micros(2_718_280)), "2.71828");
        assert_eq!(format_timer(Duration::from_secs(60)), "60");
    }

    #[test]
    fn ranges() {
        let (a, b) = ip_range("192.168.200.3-10").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("192.168.200.3".into(), "192.168.200.10".into())
        );
        let (a, b) = ip_range("ae00::2-9").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("ae00::2".into(), "ae00::9".into())
        );
        let (a, b) = ip_range("192.168.202.8/29").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("192.168.202.8".into(), "192.168.202.15".into())
        );
        assert!(ip_range("10.0.0.9-3").is_err());
        assert_eq!(status_range("200-299"), Some((200, 299)));
        assert_eq!(status_range("503"), Some((503, 503)));
        assert_eq!(netmask("255.255.255.0"), Some(24));
        assert_eq!(netmask("255.0.255.0"), None);
        assert!(ip_prefix("192.168.100./24").is_err());
        assert!(ip_prefix("10.0.0.1/33").is_err());
    }
}
