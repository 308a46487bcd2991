//! A batch never grows past 1 MiB of records by taking one more: a record
//! that would take it past goes to the next batch, and a record larger than
//! that goes alone. So a collector that refuses a request too large for it
//! loses that record, not the hundred before it.

use velo::{velo, Builder};
use velo_tests::in_child;
use velo_tests::otlp::{attr, body, Any, Collector};

/// The protobuf envelope around a batch's records: resource, scope and
/// lengths, well under this.
const ENVELOPE: usize = 1024;

fn scenario() {
    let collector = Collector::start();
    let logger = Builder::new().otlp(collector.url()).build().unwrap();
    let big = "B".repeat(3 << 20);
    let mut sent = Vec::new();
    for i in 0..100u32 {
        velo!(logger: &logger, info, "small", i);
        sent.push(format!("small {i}"));
    }
    velo!(logger: &logger, info, "big", big = big.as_str());
    sent.push("big".to_owned());
    // Records of a third of a batch each: three to a batch, not four.
    let third = "t".repeat(350 << 10);
    for i in 0..10u32 {
        velo!(logger: &logger, info, "third", i, third = third.as_str());
        sent.push(format!("third {i}"));
    }
    logger.sync().expect("every batch delivered");
    assert_eq!(logger.stats().dropped, 0);

    let requests = collector.requests();
    let mut received = Vec::new();
    for request in &requests {
        let records = request.records();
        let bodies: Vec<String> = records
            .iter()
            .map(|r| match attr(r, "i") {
                Some(Any::IntValue(i)) => format!("{} {i}", body(r)),
                _ => body(r).to_owned(),
            })
            .collect();
        if bodies.iter().any(|b| b == "big") {
            assert_eq!(bodies, ["big"], "the large record goes alone");
        } else {
            assert!(
                request.raw.len() <= (1 << 20) + ENVELOPE,
                "a request of {} bytes holds {bodies:?}",
                request.raw.len()
            );
        }
        received.extend(bodies);
    }
    assert_eq!(received, sent, "every record once, in order");
}

#[test]
fn a_large_record_goes_alone() {
    in_child("a_large_record_goes_alone", scenario);
}
