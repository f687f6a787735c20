//! Judging an HTTP_GET / SSL_GET response exactly as keepalived does
//! (docs/keepalived.md, "HTTP_GET digests"): the status code from the first
//! line, then the MD5 of the raw bytes after the first CRLFCRLF, cut at a
//! `Content-Length:` found in the first read buffer, with no de-chunking. A
//! pure function of the bytes received, so any bytes at all are safe input.

use md5::{Digest as _, Md5};
use serde::Serialize;

use crate::config::model::{Digest, Url};

/// keepalived accumulates headers in a 4096-byte buffer (one byte for the
/// terminating NUL); headers that do not fit leave no body to hash.
const HEADER_BUFFER: usize = 4095;

/// Why a response fails its check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpFailure {
    /// Nothing was received.
    NoResponse,
    /// The first line carries no status code.
    NoStatus,
    /// The status code is not in the url's `status_code` set.
    Status(u16),
    /// The body's MD5 is not the url's `digest`.
    Digest {
        /// The configured digest.
        expected: Digest,
        /// What the body hashes to.
        got: Digest,
    },
}

impl std::fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpFailure::NoResponse => f.write_str("no response"),
            HttpFailure::NoStatus => f.write_str("no HTTP status line"),
            HttpFailure::Status(code) => write!(f, "HTTP status code {code} not accepted"),
            HttpFailure::Digest { expected, got } => {
                write!(
                    f,
                    "MD5 digest {} differs from the configured {}",
                    got.to_hex(),
                    expected.to_hex()
                )
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The status code: the three digits after the first space of the first
/// line, followed by a space or the end of the line.
pub fn status_code(response: &[u8]) -> Option<u16> {
    let line_end = find(response, b"\r\n")
        .or_else(|| response.iter().position(|&b| b == b'\n'))
        .unwrap_or(response.len());
    let line = &response[..line_end];
    let space = line.iter().position(|&b| b == b' ')?;
    let rest = &line[space + 1..];
    if rest.len() < 3 || !rest[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if rest.get(3).is_some_and(|&b| b != b' ') {
        return None;
    }
    Some(
        rest[..3]
            .iter()
            .fold(0u16, |n, d| n * 10 + u16::from(d - b'0')),
    )
}

/// keepalived's `extract_content_length`: the first `Content-Length:` (case
/// sensitive) anywhere in `buffer`, a decimal after optional blanks, which
/// must end at `\r`, `\n` or the end of the buffer.
fn content_length(buffer: &[u8]) -> Option<usize> {
    let at = find(buffer, b"Content-Length:")? + b"Content-Length:".len();
    let rest = &buffer[at..];
    let digits_start = rest
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(rest.len());
    let digits = &rest[digits_start..];
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 {
        return None;
    }
    match digits.get(len) {
        None | Some(b'\r') | Some(b'\n') => {}
        Some(_) => return None,
    }
    std::str::from_utf8(&digits[..len]).ok()?.parse().ok()
}

/// The bytes keepalived hashes: after the first CRLFCRLF, cut at the
/// Content-Length when one is found (in the bytes of the first read buffer,
/// here taken as the first 4095 bytes of the response).
pub fn body(response: &[u8]) -> &[u8] {
    let window = &response[..response.len().min(HEADER_BUFFER)];
    let Some(end) = find(window, b"\r\n\r\n") else {
        return &[];
    };
    let body = &response[end + 4..];
    match content_length(window) {
        Some(n) => &body[..n.min(body.len())],
        None => body,
    }
}

/// The MD5 of [`body`], as `genhash` prints it.
pub fn body_digest(response: &[u8]) -> Digest {
    Digest(Md5::digest(body(response)).into())
}

/// Judges one response for one url: status first, then the digest if the
/// url has one (keepalived's `http_handle_response`).
pub fn judge(response: &[u8], url: &Url) -> Result<(), HttpFailure> {
    if response.is_empty() {
        return Err(HttpFailure::NoResponse);
    }
    let code = status_code(response).ok_or(HttpFailure::NoStatus)?;
    if !url
        .status_codes
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&code))
    {
        return Err(HttpFailure::Status(code));
    }
    if let Some(expected) = url.digest {
        let got = body_digest(response);
        if got != expected {
            return Err(HttpFailure::Digest { expected, got });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(r: &[u8]) -> String {
        body_digest(r).to_hex()
    }

    /// The experiments with Debian's genhash 2.2.7 (docs/keepalived.md,
    /// "HTTP_GET digests").
    #[test]
    fn genhash_experiments() {
        let hello = "5eb63bbbe01eeed093cb22bb8f5acdc3";
        assert_eq!(
            hex(b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world"),
            hello
        );
        assert_eq!(
            hex(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello world"),
            "5d41402abc4b2a76b9719d911017c592"
        );
        assert_eq!(hex(b"HTTP/1.0 200 OK\r\n\r\nhello world"), hello);
        assert_eq!(
            hex(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "fc3946cc674492e3e09d9e45c4c09023"
        );
        assert_eq!(
            hex(b"HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello world"),
            hello
        );
        assert_eq!(
            hex(b"HTTP/1.0 404 Not Found\r\nContent-Length: 11\r\n\r\nhello world"),
            hello
        );
        assert_eq!(
            hex(b"HTTP/1.0 200 OK\r\n\r\nabc Content-Length: 3\r\nxyz"),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\nhello"),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        let big: Vec<u8> = (0..20000u32).map(|i| ((i * 7 + 3) % 251) as u8).collect();
        let mut r = b"HTTP/1.0 200 OK\r\nContent-Length: 20000\r\n\r\n".to_vec();
        r.extend_from_slice(&big);
        assert_eq!(hex(&r), "6b8d8515768d866f41dbc3e59c0dc9bc");
        let mut r = b"HTTP/1.0 200 OK\r\nContent-Length: 10000\r\n\r\n".to_vec();
        r.extend_from_slice(&big);
        assert_eq!(hex(&r), "0957e1b1f4b02a32e478ccc65784ab92");
    }

    #[test]
    fn judging() {
        let url = |digest: Option<&str>| Url {
            path: "/".into(),
            digest: digest.map(|d| Digest::from_hex(d).unwrap()),
            status_codes: vec![(200, 299)],
            virtualhost: None,
        };
        let ok = b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
        assert_eq!(
            judge(ok, &url(Some("5eb63bbbe01eeed093cb22bb8f5acdc3"))),
            Ok(())
        );
        assert_eq!(judge(ok, &url(None)), Ok(()));
        assert!(matches!(
            judge(ok, &url(Some("640205b7b0fc66c1ea91c463fac6334c"))),
            Err(HttpFailure::Digest { .. })
        ));
        assert_eq!(
            judge(b"HTTP/1.0 500 Oops\r\n\r\n", &url(None)),
            Err(HttpFailure::Status(500))
        );
        assert_eq!(judge(b"", &url(None)), Err(HttpFailure::NoResponse));
        assert_eq!(judge(b"garbage", &url(None)), Err(HttpFailure::NoStatus));
        assert_eq!(status_code(b"HTTP/1.1 204\r\n"), Some(204));
        assert_eq!(status_code(b"HTTP/1.1 2045 x\r\n"), None);
    }
}
