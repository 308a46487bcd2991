//! The OTLP output's records, decoded by a loopback collector with the
//! official opentelemetry-proto types: severity number and text, body,
//! times, typed attributes, caller, target, resource and scope.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use velo::{velo, Builder, Level, Timestamp};
use velo_tests::otlp::{attr, body, has_attr, Any, Collector, LogRecord};
use velo_tests::{assert_child_passed, is_child, run_child_within};

struct Point {
    x: i64,
    y: i64,
}

impl velo::Value for Point {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        e.map([("x", self.x), ("y", self.y)]);
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn int(v: i64) -> Option<Any> {
    Some(Any::IntValue(v))
}

fn string(s: &str) -> Option<Any> {
    Some(Any::StringValue(s.to_owned()))
}

fn items(v: Option<&Any>) -> Vec<Option<Any>> {
    match v {
        Some(Any::ArrayValue(a)) => a.values.iter().map(|v| v.value.clone()).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn entries(v: Option<&Any>) -> Vec<(String, Option<Any>)> {
    match v {
        Some(Any::KvlistValue(l)) => l
            .values
            .iter()
            .map(|kv| {
                (
                    kv.key.clone(),
                    kv.value.as_ref().and_then(|v| v.value.clone()),
                )
            })
            .collect(),
        other => panic!("not a key-value list: {other:?}"),
    }
}

fn typed_scenario() {
    let collector = Collector::start();
    let logger = Builder::new()
        .otlp(collector.url())
        .app_name("checkout")
        .level(Level::Trace)
        .fields(velo::fields!(region = "eu-west-1"))
        .build()
        .unwrap();
    let before = now_nanos();
    let line = line!() + 4;
    let points = [Point { x: 1, y: -2 }, Point { x: 3, y: 4 }];
    let at = UNIX_EPOCH + Duration::from_millis(1500);
    let tuple = ("a", 1);
    velo!(logger: &logger, info, "order {order_id} placed", order_id = 42u64, big = u64::MAX, neg = -3i64,
        ratio = 2.5, small = 0.1f32, ok = false, name = "héllo\n\"x\"", ids = [1u8, 2, 3],
        none = Option::<u8>::None, wide = u128::MAX, wide_neg = i128::MIN, at, points,
        shown = %"disp", debugged = ?tuple, region = "call wins");
    velo!(logger: &logger, trace, "level");
    velo!(logger: &logger, debug, "level");
    velo!(logger: &logger, info, "level");
    velo!(logger: &logger, warn, "level");
    velo!(logger: &logger, error, "level");
    // A context field may be named `target`: velo's own attribute stays,
    // the field goes beside it as `fields.target`.
    let audit = logger.with(velo::fields!(target = "a field"));
    velo!(logger: &audit, target: "audit", warn, "login", user = "ada");
    // The call's own `fields.target` is the innermost: the context's
    // `target`, which would go there, gives way to it.
    velo!(logger: &audit, target: "audit", info, "both", "fields.target" = "call");
    logger.sync().unwrap();
    let after = now_nanos();

    let requests = collector.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.error, None);
        assert_eq!(request.path, "/v1/logs");
        assert_eq!(request.content_type, "application/x-protobuf");
        assert_eq!(request.decoded.resource_logs.len(), 1);
        let resource_logs = &request.decoded.resource_logs[0];
        let resource = resource_logs.resource.as_ref().unwrap();
        assert_eq!(resource.attributes.len(), 1);
        assert_eq!(resource.attributes[0].key, "service.name");
        assert_eq!(
            resource.attributes[0].value.as_ref().unwrap().value,
            string("checkout")
        );
        let scope = resource_logs.scope_logs[0].scope.as_ref().unwrap();
        assert_eq!(scope.name, "velo");
        assert_eq!(scope.version, env!("CARGO_PKG_VERSION"));
    }
    let records = collector.accepted();
    assert_eq!(records.len(), 8, "{records:#?}");
    for r in &records {
        let mut keys: Vec<&str> = r.attributes.iter().map(|kv| kv.key.as_str()).collect();
        keys.sort_unstable();
        let all = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), all, "each key once: {:?}", r.attributes);
    }

    let r = &records[0];
    assert_eq!(body(r), "order 42 placed");
    assert_eq!((r.severity_number, r.severity_text.as_str()), (9, "INFO"));
    assert!(before <= r.time_unix_nano && r.time_unix_nano <= after);
    assert!(r.time_unix_nano <= r.observed_time_unix_nano && r.observed_time_unix_nano <= after);
    assert_eq!(attr(r, "code.file.path"), string(file!()).as_ref());
    assert_eq!(attr(r, "code.line.number"), int(line.into()).as_ref());
    assert_eq!(attr(r, "order_id"), int(42).as_ref());
    assert_eq!(attr(r, "big"), string("18446744073709551615").as_ref());
    assert_eq!(attr(r, "neg"), int(-3).as_ref());
    assert_eq!(attr(r, "ratio"), Some(&Any::DoubleValue(2.5)));
    assert_eq!(attr(r, "small"), Some(&Any::DoubleValue(0.1)));
    assert_eq!(attr(r, "ok"), Some(&Any::BoolValue(false)));
    assert_eq!(attr(r, "name"), string("héllo\n\"x\"").as_ref());
    assert_eq!(items(attr(r, "ids")), [int(1), int(2), int(3)]);
    assert!(
        has_attr(r, "none") && attr(r, "none").is_none(),
        "null is an empty value"
    );
    assert_eq!(attr(r, "wide"), string(&u128::MAX.to_string()).as_ref());
    assert_eq!(attr(r, "wide_neg"), string(&i128::MIN.to_string()).as_ref());
    match attr(r, "at") {
        Some(Any::StringValue(s)) => assert!(
            s.starts_with("1970-01-01T00:00:01.5") && s.ends_with('Z'),
            "{s}"
        ),
        other => panic!("{other:?}"),
    }
    let points = items(attr(r, "points"));
    assert_eq!(points.len(), 2);
    assert_eq!(
        entries(points[0].as_ref()),
        [("x".to_owned(), int(1)), ("y".to_owned(), int(-2))]
    );
    assert_eq!(
        entries(points[1].as_ref()),
        [("x".to_owned(), int(3)), ("y".to_owned(), int(4))]
    );
    assert_eq!(attr(r, "shown"), string("disp").as_ref());
    assert_eq!(attr(r, "debugged"), string("(\"a\", 1)").as_ref());
    assert_eq!(
        attr(r, "region"),
        string("call wins").as_ref(),
        "the call's field over the context's"
    );
    assert!(!has_attr(r, "target"));
    assert_eq!(r.attributes.len(), 18, "{:?}", r.attributes);

    let levels: Vec<(i32, &str)> = records[1..6]
        .iter()
        .map(|r| (r.severity_number, r.severity_text.as_str()))
        .collect();
    assert_eq!(
        levels,
        [
            (1, "TRACE"),
            (5, "DEBUG"),
            (9, "INFO"),
            (13, "WARN"),
            (17, "ERROR")
        ]
    );
    assert!(records[1..6].iter().all(|r| body(r) == "level"));
    assert_eq!(attr(&records[2], "region"), string("eu-west-1").as_ref());

    let login = &records[6];
    assert_eq!(body(login), "login");
    assert_eq!(
        attr(login, "target"),
        string("audit").as_ref(),
        "velo's target, once"
    );
    assert_eq!(attr(login, "fields.target"), string("a field").as_ref());
    assert_eq!(attr(login, "user"), string("ada").as_ref());

    let both = &records[7];
    assert_eq!(body(both), "both");
    assert_eq!(attr(both, "target"), string("audit").as_ref());
    assert_eq!(attr(both, "fields.target"), string("call").as_ref());
    assert_eq!(attr(both, "region"), string("eu-west-1").as_ref());
    assert_eq!(both.attributes.len(), 5, "{:?}", both.attributes);
}

fn defaults_scenario() {
    let collector = Collector::start();
    let logger = Builder::new()
        .otlp(format!("{}/", collector.url()))
        .caller(false)
        .timestamp(Timestamp::Off)
        .build()
        .unwrap();
    velo!(logger: &logger, info, "plain");
    logger.sync().unwrap();
    let records: Vec<LogRecord> = collector.accepted();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(body(r), "plain");
    assert_eq!(r.time_unix_nano, 0, "no time with Timestamp::Off");
    assert!(r.observed_time_unix_nano > 0);
    assert!(r.attributes.is_empty(), "no caller: {:?}", r.attributes);
    let exe = std::env::current_exe().unwrap();
    let exe = exe.file_name().unwrap().to_string_lossy();
    let request = &collector.requests()[0];
    assert_eq!(request.path, "/v1/logs");
    let resource = request.decoded.resource_logs[0].resource.as_ref().unwrap();
    assert_eq!(
        resource.attributes[0].value.as_ref().unwrap().value,
        string(&exe),
        "service.name defaults to the executable's name"
    );
}

#[test]
fn records_carry_typed_attributes_and_severity() {
    if is_child("records_carry_typed_attributes_and_severity") {
        return typed_scenario();
    }
    let out = run_child_within(
        "records_carry_typed_attributes_and_severity",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
}

#[test]
fn without_caller_or_time_and_with_the_default_service_name() {
    if is_child("without_caller_or_time_and_with_the_default_service_name") {
        return defaults_scenario();
    }
    let out = run_child_within(
        "without_caller_or_time_and_with_the_default_service_name",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
}

#[test]
fn thread_names_are_the_thread_name_attribute() {
    velo_tests::in_child("thread_names_are_the_thread_name_attribute", || {
        let collector = Collector::start();
        let logger = Builder::new()
            .otlp(format!("{}/", collector.url()))
            .caller(false)
            .thread_names(true)
            .build()
            .unwrap();
        std::thread::Builder::new()
            .name("exporter".into())
            .spawn({
                let logger = logger.clone();
                move || velo!(logger: &logger, info, "named", thread.name = "mine")
            })
            .unwrap()
            .join()
            .unwrap();
        logger.sync().unwrap();
        let records: Vec<LogRecord> = collector.accepted();
        assert_eq!(records.len(), 1);
        let keys: Vec<&str> = records[0]
            .attributes
            .iter()
            .map(|a| a.key.as_str())
            .collect();
        assert_eq!(keys, ["thread.name", "fields.thread.name"]);
        assert_eq!(
            attr(&records[0], "thread.name"),
            string("exporter").as_ref()
        );
        assert_eq!(
            attr(&records[0], "fields.thread.name"),
            string("mine").as_ref()
        );
    });
}

#[test]
fn targets_makes_the_module_path_the_target_attribute() {
    velo_tests::in_child("targets_makes_the_module_path_the_target_attribute", || {
        let collector = Collector::start();
        let logger = Builder::new()
            .otlp(format!("{}/", collector.url()))
            .caller(false)
            .targets(true)
            .build()
            .unwrap();
        velo!(logger: &logger, info, "module", target = "mine");
        velo!(logger: &logger, target: "audit", info, "named");
        logger.sync().unwrap();
        let records: Vec<LogRecord> = collector.accepted();
        assert_eq!(records.len(), 2);
        let keys: Vec<&str> = records[0]
            .attributes
            .iter()
            .map(|a| a.key.as_str())
            .collect();
        assert_eq!(keys, ["target", "fields.target"]);
        assert_eq!(attr(&records[0], "target"), string(module_path!()).as_ref());
        assert_eq!(attr(&records[0], "fields.target"), string("mine").as_ref());
        assert_eq!(attr(&records[1], "target"), string("audit").as_ref());
    });
}

/// Fields named `trace_id` and `span_id` holding W3C ids (a scope's,
/// typically) become the record's own trace context, not attributes; a
/// value that is not such an id stays an attribute.
#[test]
fn trace_and_span_ids_are_the_records_trace_context() {
    velo_tests::in_child("trace_and_span_ids_are_the_records_trace_context", || {
        let collector = Collector::start();
        let logger = Builder::new()
            .otlp(format!("{}/", collector.url()))
            .caller(false)
            .build()
            .unwrap();
        let trace = "4BF92F3577B34DA6A3CE929D0E0E4736";
        let span = "00f067aa0ba902b7";
        velo::scope(velo::fields!(trace_id = trace, span_id = span), || {
            velo!(logger: &logger, info, "linked", n = 1);
            // The innermost value wins, as for every key.
            velo!(logger: &logger, info, "inner", span_id = "b7ad6b7169203331");
        });
        velo!(logger: &logger, info, "not ids", trace_id = "abc", span_id = 42);
        velo!(logger: &logger, info, "zeros", trace_id = "00000000000000000000000000000000");
        logger.sync().unwrap();
        let records: Vec<LogRecord> = collector.accepted();
        assert_eq!(records.len(), 4);
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(&records[0].trace_id), trace.to_ascii_lowercase());
        assert_eq!(hex(&records[0].span_id), span);
        let keys: Vec<&str> = records[0]
            .attributes
            .iter()
            .map(|a| a.key.as_str())
            .collect();
        assert_eq!(keys, ["n"]);
        assert_eq!(hex(&records[1].span_id), "b7ad6b7169203331");
        assert_eq!(hex(&records[1].trace_id), trace.to_ascii_lowercase());
        assert!(records[2].trace_id.is_empty() && records[2].span_id.is_empty());
        assert_eq!(attr(&records[2], "trace_id"), string("abc").as_ref());
        assert_eq!(attr(&records[2], "span_id"), int(42).as_ref());
        assert!(records[3].trace_id.is_empty());
        assert!(has_attr(&records[3], "trace_id"));
    });
}
