//! `velo::catalog()` lists every `velo!` call site linked into the program,
//! whether or not it ever ran, with its level, message as written, module
//! path, file, line and keys in call order; `velo::catalog_json()` is the
//! same as a JSON array. Records of the `log` bridge have no call site and
//! are not listed.

use serde_json::Value as Json;
use velo::{velo, Builder, Level, Timestamp};
use velo_tests::Capture;

const FILE: &str = "tests/tests/catalog_lists_call_sites_that_never_ran.rs";
const MODULE: &str = "catalog_lists_call_sites_that_never_ran";

/// Line of the `velo!` call in `never_called`.
const NEVER_LINE: u32 = line!() + 5;

#[allow(dead_code, reason = "listed in the catalog without ever running")]
fn never_called(order_id: u64, amount: f64) {
    let currency = "EUR";
    velo!(warn, "refund of {amount} {currency} for order {order_id} failed", order_id, amount = amount, reason = %"card expired");
}

mod billing {
    pub fn audit(l: &velo::Logger) {
        velo::velo!(logger: l, target: "audit", every: 1s, info, "invoice sent", invoice = 7);
    }
}

fn site(message: &str) -> &'static velo::CallSite {
    let mut found = velo::catalog().filter(|s| s.message() == message);
    let site = found
        .next()
        .unwrap_or_else(|| panic!("{message:?} is listed"));
    assert!(found.next().is_none(), "{message:?} is listed once");
    site
}

#[test]
fn a_site_that_never_ran_is_listed_with_what_the_compiler_knew() {
    let s = site("refund of {amount} {currency} for order {order_id} failed");
    assert_eq!(s.level(), Level::Warn);
    assert_eq!(s.module_path(), MODULE);
    assert_eq!(s.file(), FILE);
    assert_eq!(s.line(), NEVER_LINE);
    assert_eq!(s.target(), None);
    // The call's fields in call order, then the variables its template
    // captures, in the order they first appear.
    assert_eq!(s.keys(), ["order_id", "amount", "reason", "currency"]);

    let s = site("invoice sent");
    assert_eq!(s.level(), Level::Info);
    assert_eq!(s.module_path(), format!("{MODULE}::billing"));
    assert_eq!(s.target(), Some("audit"));
    assert_eq!(s.keys(), ["invoice"]);
}

#[test]
fn catalog_json_is_a_json_array_of_the_same_sites() {
    let json: Json = serde_json::from_str(&velo::catalog_json()).expect("valid JSON");
    let sites = json.as_array().expect("an array");
    assert_eq!(sites.len(), velo::catalog().count());
    let refund = sites
        .iter()
        .find(|s| {
            s["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("refund of"))
        })
        .expect("listed");
    assert_eq!(
        refund,
        &serde_json::json!({
            "level": "warn",
            "message": "refund of {amount} {currency} for order {order_id} failed",
            "module_path": MODULE,
            "file": FILE,
            "line": NEVER_LINE,
            "keys": ["order_id", "amount", "reason", "currency"],
        })
    );
    let invoice = sites
        .iter()
        .find(|s| s["message"] == "invoice sent")
        .unwrap();
    assert_eq!(invoice["target"], "audit");
    // Sorted by file and line.
    let order: Vec<(String, u64)> = sites
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_owned(),
                s["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn log_bridge_records_are_written_but_not_listed() {
    let out = Capture::new();
    Builder::new()
        .format(velo::Format::Json)
        .timestamp(Timestamp::Off)
        .writer(out.clone())
        .install()
        .unwrap();
    velo::bridge_log().unwrap();
    log::warn!("from the log facade");
    billing::audit(velo::logger());
    velo::sync().unwrap();
    let msgs = out.msgs();
    assert_eq!(msgs, ["from the log facade", "invoice sent"]);
    let listed: Vec<&str> = velo::catalog().map(|s| s.message()).collect();
    assert!(!listed.contains(&"from the log facade"), "{listed:?}");
    assert!(
        velo::catalog().all(|s| s.file() == FILE),
        "only this file's sites are linked into this test: {listed:?}"
    );
    assert_eq!(velo::catalog().count(), 2);
}
