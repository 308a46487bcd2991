//! A `Value` whose containers nest without bound (a long linked list, a
//! degenerate tree) is cut at 64 levels, where `"(nested too deep)"`
//! stands for the rest: the worker, which formats nested values
//! recursively on its own thread, never runs out of stack.

use serde_json::Value as Json;
use velo::{velo, Builder, Encoder, Timestamp, Value};
use velo_tests::json_logger;

/// `{"inner":{"inner":...{"inner":0}...}}`, `self.0` levels deep.
struct Nest(u32);

impl Value for Nest {
    fn encode(&self, e: &mut Encoder<'_>) {
        if self.0 == 0 {
            return e.u64(0);
        }
        e.map([("inner", Nest(self.0 - 1))]);
    }
}

#[test]
fn deep_values_are_cut_at_64_levels() {
    let (logger, out) = json_logger(Builder::new().timestamp(Timestamp::Off));
    velo!(logger: &logger, info, "deep", v = Nest(100_000), next = 1);
    velo!(logger: &logger, info, "shallow", v = Nest(3));
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 2);
    let mut v = &entries[0]["v"];
    let mut levels = 0;
    while let Json::Object(map) = v {
        v = &map["inner"];
        levels += 1;
    }
    assert_eq!(levels, 64);
    assert_eq!(v, "(nested too deep)");
    assert_eq!(entries[0]["next"], 1);
    assert_eq!(
        entries[1]["v"],
        serde_json::json!({"inner": {"inner": {"inner": 0}}})
    );
}
