//! Replays every fuzz corpus input through the same entry point the fuzz
//! target uses, on stable Rust, and throws random and mutated inputs at it.

use holdfast_core::fuzzing::{config_parser, http_response, vrrp_decoder};
use proptest::prelude::*;

fn corpus() -> Vec<(String, Vec<u8>)> {
    corpus_of("config_parser")
}

include!("../../fuzz/corpus.rs");

#[test]
fn every_corpus_input_is_handled() {
    let inputs = corpus();
    assert!(inputs.len() >= 28, "corpus has only {} files", inputs.len());
    for (name, data) in inputs {
        let result = std::panic::catch_unwind(|| config_parser(&data));
        assert!(result.is_ok(), "fuzz corpus input {name} panics");
    }
}

#[test]
fn every_vrrp_corpus_input_is_handled() {
    let inputs = corpus_of("vrrp_decoder");
    assert!(inputs.len() >= 24, "corpus has only {} files", inputs.len());
    for (name, data) in inputs {
        let result = std::panic::catch_unwind(|| vrrp_decoder(&data));
        assert!(result.is_ok(), "fuzz corpus input {name} panics");
    }
}

#[test]
fn every_http_corpus_input_is_handled() {
    let inputs = corpus_of("http_response");
    assert!(inputs.len() >= 4);
    for (name, data) in inputs {
        let result = std::panic::catch_unwind(|| http_response(&data));
        assert!(result.is_ok(), "fuzz corpus input {name} panics");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Pieces of keepalived syntax glued at random: far likelier than raw
    /// bytes to reach deep into the reader.
    #[test]
    fn random_config_shaped_text_never_panics(pieces in proptest::collection::vec(prop_oneof![
        Just("{"), Just("}"), Just("\n"), Just(" "), Just("\t"), Just("\""), Just("#"), Just("!"), Just("@high "), Just("@^x "),
        Just("$A=1"), Just("${A}"), Just("$A "), Just("include x"), Just("vrrp_instance"), Just("VI_1"), Just("virtual_server"),
        Just("real_server"), Just("10.0.0.1"), Just("fd00::1/64"), Just("80"), Just("-1"), Just("0.5"), Just("group"),
        Just("vrrp_sync_group"), Just("HTTP_GET"), Just("url"), Just("path"), Just("digest"), Just("status_code"), Just("200-299"),
        Just("interface"), Just("eth0"), Just("virtual_router_id"), Just("priority"), Just("virtual_ipaddress"), Just("track_script"),
        Just("vrrp_script"), Just("script"), Just("weight"), Just("fwmark"), Just("virtual_server_group"), Just("TCP_CHECK"),
        Just("authentication"), Just("auth_pass"), Just("auth_type"), Just("PASS"), Just("global_defs"), Just("é"),
    ], 0..120)) {
        config_parser(pieces.concat().as_bytes());
    }

    /// A keepalived advert with a few bytes changed, or random bytes.
    #[test]
    fn mutated_vrrp_adverts_never_panic(pick in any::<prop::sample::Index>(), edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6), tail in proptest::collection::vec(any::<u8>(), 0..40)) {
        let inputs = corpus_of("vrrp_decoder");
        let (_, mut data) = inputs[pick.index(inputs.len())].clone();
        for (at, byte) in edits {
            let i = at.index(data.len());
            data[i] = byte;
        }
        vrrp_decoder(&data);
        vrrp_decoder(&tail);
    }

    /// Random bytes, and HTTP-shaped pieces glued at random.
    #[test]
    fn random_http_responses_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..200), pieces in proptest::collection::vec(prop_oneof![
        Just("HTTP/1.0 "), Just("200"), Just(" OK"), Just("\r\n"), Just("\r\n\r\n"), Just("Content-Length:"), Just(" 5"), Just("x"), Just("99999999999999999999"), Just("\n"),
    ], 0..30)) {
        http_response(&raw);
        http_response(pieces.concat().as_bytes());
    }

    /// A corpus file with a few bytes changed.
    #[test]
    fn mutated_corpus_never_panics(pick in any::<prop::sample::Index>(), edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let inputs = corpus();
        let (_, mut data) = inputs[pick.index(inputs.len())].clone();
        if !data.is_empty() {
            for (at, byte) in edits {
                let i = at.index(data.len());
                data[i] = byte;
            }
        }
        config_parser(&data);
    }
}
