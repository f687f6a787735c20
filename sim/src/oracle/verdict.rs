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
        (CheckerKind::HttpGet(h) | CheckerKind::SslGet(h), b) => {
            let Some(u) = h.urls.get(url) else {
                return Ok(());
            };
            let (status, body) = match b {
                Behaviour::Ok | Behaviour::SlowMs(_) => return Ok(()),
                Behaviour::Status(code) => (*code, ""),
                Behaviour::Body(text) => (200, text.as_str()),
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
    }
}
