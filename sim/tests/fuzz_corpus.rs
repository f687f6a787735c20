//! Replays the scenario fuzz corpus through the fuzz target's entry point,
//! and throws random and mutated inputs at it, on stable Rust.

use holdfast_sim::fuzzing::scenario_parser;
use proptest::prelude::*;

include!("../../fuzz/corpus.rs");

fn corpus() -> Vec<(String, Vec<u8>)> {
    corpus_of("scenario_parser")
}

#[test]
fn every_corpus_input_is_handled() {
    let inputs = corpus();
    assert!(inputs.len() >= 7, "corpus has only {} files", inputs.len());
    for (name, data) in inputs {
        let result = std::panic::catch_unwind(|| scenario_parser(&data));
        assert!(result.is_ok(), "fuzz corpus input {name} panics");
    }
}

proptest! {
    #[test]
    fn random_bytes_are_handled(data in prop::collection::vec(any::<u8>(), 0..512)) {
        scenario_parser(&data);
    }

    #[test]
    fn mutated_corpus_inputs_are_handled(pick in 0usize..64, at in 0usize..4096, byte in any::<u8>(), cut in 0usize..4096) {
        let inputs = corpus();
        let (_, mut data) = inputs[pick % inputs.len()].clone();
        if !data.is_empty() {
            let i = at % data.len();
            data[i] = byte;
            data.truncate(cut.max(i + 1));
        }
        scenario_parser(&data);
    }
}
