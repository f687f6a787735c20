//! Entry points shared by the fuzz targets under `fuzz/` and the regression
//! tests that replay their corpora on stable Rust.

use crate::config::{self, printer, LoadOptions, MemLoader};

/// Reads arbitrary bytes as a configuration. Any input may be rejected, but
/// nothing may panic, and whatever is accepted must print to text that reads
/// back to the same model.
pub fn config_parser(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // An include of the file itself, and one other file, exercise the include path.
    let loader = MemLoader::new()
        .with("/fuzz/inc.conf", "router_id fuzz\n")
        .with("/fuzz/main.conf", text.as_ref());
    for config_id in [None, Some("high".to_string())] {
        // Unimplemented features kept (as warnings), so that more inputs
        // reach the printer.
        let opts = LoadOptions {
            config_id,
            strict: false,
            ignore_unimplemented: true,
        };
        let loaded = config::load(std::path::Path::new("/fuzz/main.conf"), &loader, &opts);
        // Rendering touches every span: it must not panic either.
        let _ = loaded.render();
        if let Some(cfg) = loaded.config {
            let printed = printer::print(&cfg);
            let again = config::parse_str(
                "printed.conf",
                &printed,
                &MemLoader::new(),
                &LoadOptions {
                    ignore_unimplemented: true,
                    ..LoadOptions::default()
                },
            );
            match again.config {
                Some(reread) => assert!(
                    reread == cfg,
                    "print-then-parse changed the model; printed:\n{printed}"
                ),
                None => panic!(
                    "printed text does not read back:\n{}\n{printed}",
                    again.render()
                ),
            }
        }
    }
}

/// Reads arbitrary bytes as a VRRP message. The input is a family byte
/// (4 or 6, anything else is 4), the source and destination addresses of
/// that family, then the message. Nothing may panic, and an accepted advert
/// must emit to bytes that parse back to the same advert with the same
/// checksum variant.
pub fn vrrp_decoder(data: &[u8]) {
    use crate::vrrp::wire::{Packet, Repr};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    let Some((&family, rest)) = data.split_first() else {
        return;
    };
    let (src, dst, message): (IpAddr, IpAddr, &[u8]) = if family == 6 {
        if rest.len() < 32 {
            return;
        }
        let s: [u8; 16] = rest[..16].try_into().expect("16 bytes");
        let d: [u8; 16] = rest[16..32].try_into().expect("16 bytes");
        (
            Ipv6Addr::from(s).into(),
            Ipv6Addr::from(d).into(),
            &rest[32..],
        )
    } else {
        if rest.len() < 8 {
            return;
        }
        let s: [u8; 4] = rest[..4].try_into().expect("4 bytes");
        let d: [u8; 4] = rest[4..8].try_into().expect("4 bytes");
        (
            Ipv4Addr::from(s).into(),
            Ipv4Addr::from(d).into(),
            &rest[8..],
        )
    };
    let Ok(parsed) = Repr::parse(&Packet::new_unchecked(message), src, dst) else {
        return;
    };
    let bytes = parsed.repr.to_bytes(src, dst, parsed.checksum);
    let again = Repr::parse(&Packet::new_unchecked(&bytes[..]), src, dst)
        .expect("an emitted advert parses");
    assert_eq!(again, parsed, "emit-then-parse changed the advert");
}

/// Judges arbitrary bytes as an HTTP response: nothing may panic, the body
/// is a suffix of the response, and a response judged against its own
/// digest passes unless its status is refused.
pub fn http_response(data: &[u8]) {
    use crate::check::http::{body, body_digest, judge, HttpFailure};
    use crate::config::model::Url;

    // The hashed bytes are a run of the response itself, after its headers.
    let b = body(data);
    if !b.is_empty() {
        let start = b.as_ptr() as usize - data.as_ptr() as usize;
        assert!(
            start >= 4 && start + b.len() <= data.len() && &data[start - 4..start] == b"\r\n\r\n"
        );
    }
    let url = Url {
        path: "/".into(),
        digest: Some(body_digest(data)),
        status_codes: vec![(100, 999)],
        virtualhost: None,
    };
    match judge(data, &url) {
        Ok(()) | Err(HttpFailure::NoResponse) | Err(HttpFailure::NoStatus) => {}
        Err(other) => panic!("a response failed against its own digest: {other}"),
    }
}
