//! Whether a probe should pass, decided from the simulated server's
//! behaviour and the checker's configuration alone (docs/keepalived.md,
//! "Checkers" and "HTTP_GET digests"): the oracle's own judge, so a bug
//! in core's HTTP reading (which the simulator uses to produce answers) is
//! not also the oracle's.

use std::time::Duration;

use md5::{Digest as _, Md5};

use holdfast_core::config::model::{Checker, CheckerKind};

use crate::scenario::Behaviour;

/// Whether a probe of `checker`'s url `url` against a server behaving as
/// `behaviour` passes, when its answer (as the network delivers it) comes
/// `after` the start and the probe is given up at `timeout`; when it
/// fails, what the reason a real server gives for going down must say.
pub fn verdict(
    behaviour: &Behaviour,
    checker: &Checker,
    url: usize,
    reachable: bool,
    after: Duration,
    timeout: Duration,
) -> Result<(), String> {
    let timed_out = || Err("timed out".to_string());
    if !reachable || after >= timeout {
        return timed_out();
    }
    let misc = matches!(checker.kind, CheckerKind::MiscCheck(_));
    match (&checker.kind, behaviour) {
        (_, Behaviour::Hang) => timed_out(),
        // A MISC_CHECK script exits 1 against a server that refuses; a
        // TCP or HTTP connection is refused.
        (_, Behaviour::Refuse) if misc => Err("exit status 1".into()),
        (_, Behaviour::Refuse) => Err("refused".into()),
        // keepalived's check_misc.c: 0 passes; with misc_dynamic 2 to 255
        // pass too (setting the weight); anything else fails.
        (CheckerKind::MiscCheck(m), Behaviour::Exit(code)) => match code {
            0 => Ok(()),
            2..=255 if m.dynamic => Ok(()),
            _ => Err(format!("exit status {code}")),
        },
        (CheckerKind::HttpGet(h) | CheckerKind::SslGet(h), b) => {
            let Some(u) = h.urls.get(url) else {
                return Ok(());
            };
            let (status, body) = match b {
                Behaviour::Ok | Behaviour::SlowMs(_) | Behaviour::Exit(_) => return Ok(()),
                Behaviour::Status(code) => (*code, ""),
                Behaviour::Body(text) => (200, text.as_str()),
                Behaviour::Raw(raw) => match read(raw) {
                    (Some(code), body) => (code, body),
                    // core says "no HTTP status line".
                    (None, _) => return Err("status line".into()),
                },
                Behaviour::Refuse | Behaviour::Hang => unreachable!("matched above"),
            };
            // The configuration holds keepalived's default (200-299) when
            // a url names no status.
            if !u
                .status_codes
                .iter()
                .any(|&(lo, hi)| (lo..=hi).contains(&status))
            {
                return Err(status.to_string());
            }
            match u.digest {
                Some(d) if d.0[..] != Md5::digest(body.as_bytes())[..] => Err("digest".into()),
                _ => Ok(()),
            }
        }
        // TCP_CHECK connects; MISC_CHECK's script exits 0.
        _ => Ok(()),
    }
}

/// A raw answer as keepalived 2.2.7 reads it (`check_http.c`): the status
/// is the three digits after the first space of the first line, when a
/// space or the line's end follows them; the body is what follows the
/// first blank line, cut at the value of the first `Content-Length:`
/// (that spelling, blanks before the number allowed), when the number
/// ends its line. keepalived looks for both in its first read buffer
/// (4,095 bytes); the simulated answers are shorter.
fn read(raw: &str) -> (Option<u16>, &str) {
    let first = raw.split('\n').next().unwrap_or("").trim_end_matches('\r');
    let status = first.split_once(' ').and_then(|(_, rest)| {
        let (digits, after) = rest.split_at_checked(3)?;
        let ok = digits.bytes().all(|b| b.is_ascii_digit())
            && (after.is_empty() || after.starts_with(' '));
        ok.then(|| digits.parse().ok()).flatten()
    });
    let Some((_, body)) = raw.split_once("\r\n\r\n") else {
        return (status, "");
    };
    let length = raw.split_once("Content-Length:").and_then(|(_, rest)| {
        let rest = rest.trim_start_matches([' ', '\t']);
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        rest[..end]
            .parse::<usize>()
            .ok()
            .filter(|_| !rest[..end].starts_with('+'))
    });
    match length {
        Some(n) if n < body.len() => (status, &body[..n]),
        _ => (status, body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_core::config::model::{Connect, Digest, HttpCheck, Url};

    fn passes(
        b: &Behaviour,
        c: &Checker,
        url: usize,
        up: bool,
        after: Duration,
        t: Duration,
    ) -> bool {
        verdict(b, c, url, up, after, t).is_ok()
    }

    fn http(digest: Option<Digest>, status_codes: Vec<(u16, u16)>) -> Checker {
        Checker {
            kind: CheckerKind::HttpGet(HttpCheck {
                urls: vec![Url {
                    path: "/".into(),
                    digest,
                    status_codes,
                    virtualhost: None,
                }],
                ..HttpCheck::default()
            }),
            connect: Connect::default(),
            connect_timeout: Duration::from_secs(3),
            retry: 1,
            delay_before_retry: Duration::from_secs(3),
            warmup: Duration::ZERO,
            delay_loop: Duration::from_secs(6),
            alpha: false,
            log_all_failures: false,
        }
    }

    #[test]
    fn judges_status_digest_and_time() {
        let ms = Duration::from_millis;
        let t = ms(6000);
        let plain = http(None, vec![(200, 299)]);
        assert!(passes(&Behaviour::Status(204), &plain, 0, true, ms(2), t));
        assert!(!passes(&Behaviour::Status(500), &plain, 0, true, ms(2), t));
        let said = verdict(&Behaviour::Status(500), &plain, 0, true, ms(2), t);
        assert_eq!(said, Err("500".to_string()));
        assert!(!passes(&Behaviour::Ok, &plain, 0, true, t, t));
        assert!(!passes(&Behaviour::Ok, &plain, 0, false, ms(2), t));
        let only_500 = http(None, vec![(500, 500)]);
        assert!(passes(
            &Behaviour::Status(500),
            &only_500,
            0,
            true,
            ms(2),
            t
        ));
        // md5("hello") = 5d41402abc4b2a76b9719d911017c592.
        let d = Digest([
            0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76, 0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17,
            0xc5, 0x92,
        ]);
        let digested = http(Some(d), vec![(200, 299)]);
        let body = |s: &str| Behaviour::Body(s.into());
        assert!(passes(&body("hello"), &digested, 0, true, ms(2), t));
        assert!(!passes(&body("hello!"), &digested, 0, true, ms(2), t));
        assert!(!passes(
            &Behaviour::Status(200),
            &digested,
            0,
            true,
            ms(2),
            t
        ));
        // The same page, framed as odd servers frame it.
        let raw = |s: &str| Behaviour::Raw(s.into());
        let cut = raw("HTTP/1.1 200\r\nContent-Length:\t5\r\n\r\nhello, and more");
        assert!(passes(&cut, &digested, 0, true, ms(2), t));
        let not_a_length = raw("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello!");
        assert!(!passes(&not_a_length, &digested, 0, true, ms(2), t));
        let lower = raw("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello!");
        assert!(!passes(&lower, &digested, 0, true, ms(2), t));
        assert!(passes(
            &raw("HTTP/1.1 204\r\n\r\n"),
            &plain,
            0,
            true,
            ms(2),
            t
        ));
        let said = verdict(&raw("HTTP/1.1 2040\r\n\r\n"), &plain, 0, true, ms(2), t);
        assert_eq!(said, Err("status line".to_string()));
        assert_eq!(read("HTTP/1.0 503\n\n"), (Some(503), ""));
    }
}
