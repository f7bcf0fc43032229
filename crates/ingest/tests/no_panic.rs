//! Property tests: no parser panics or lets an invalid fix through, on
//! arbitrary bytes or on real files with random damage. (The long campaigns
//! run under cargo-fuzz, see docs/FUZZING.md; this keeps a quick guard in CI.)

use proptest::prelude::*;
use sillage_ingest::fuzz_check;
use sillage_model::SourceFormat;

fn shared(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../../shared/data/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Known-good inputs of several formats, to damage.
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![
        shared("gpx-fixtures/wikipedia_example.gpx"),
        shared("gpx-fixtures/with_accuracy.gpx"),
        shared("geolife-sample/020/Trajectory/20111130020900.plt"),
    ];
    let fuzz_seeds = format!("{}/../../fuzz/seeds", env!("CARGO_MANIFEST_DIR"));
    for dir in std::fs::read_dir(fuzz_seeds).unwrap() {
        for entry in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            seeds.push(std::fs::read(entry.unwrap().path()).unwrap());
        }
    }
    seeds
}

#[derive(Debug, Clone)]
enum Damage {
    Set(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Truncate(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    let syntax = prop::sample::select(b"{}[]<>\",:0123456789-.eE \n\t/ZT".to_vec());
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Damage::Set(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Damage::Delete(i, n)),
        (any::<usize>(), prop::collection::vec(syntax, 1..16))
            .prop_map(|(i, v)| Damage::Insert(i, v)),
        any::<usize>().prop_map(Damage::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    for d in damages {
        let len = bytes.len().max(1);
        match d {
            Damage::Set(i, b) => {
                if let Some(x) = bytes.get_mut(i % len) {
                    *x = *b;
                }
            }
            Damage::Delete(i, n) => {
                let start = (i % len).min(bytes.len());
                let end = (start + n).min(bytes.len());
                bytes.drain(start..end);
            }
            Damage::Insert(i, v) => {
                let at = (i % len).min(bytes.len());
                bytes.splice(at..at, v.iter().copied());
            }
            Damage::Truncate(i) => bytes.truncate(i % len),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn damaged_real_inputs_never_panic(seed in any::<prop::sample::Index>(), damages in prop::collection::vec(damage(), 1..6)) {
        let seeds = seeds();
        let input = apply(seed.get(&seeds).clone(), &damages);
        fuzz_check(None, &input);
    }

    #[test]
    fn arbitrary_bytes_never_panic_in_any_parser(
        format in prop::sample::select(SourceFormat::ALL.to_vec()),
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        fuzz_check(Some(format), &bytes);
    }
}
