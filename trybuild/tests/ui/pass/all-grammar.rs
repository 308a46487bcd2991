// Every form of the `velo!` grammar, in every position an expression fits.

use std::fmt;
use std::sync::Arc;

use velo::velo;

struct Request {
    path: &'static str,
    status: u16,
}

struct Peer;

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("10.0.0.1")
    }
}

#[derive(Debug)]
struct Headers {
    accept: &'static str,
}

fn main() {
    let logger = velo::Builder::new()
        .writer(std::io::sink())
        .level(velo::LevelFilter::Trace)
        .build()
        .unwrap();
    let shared = Arc::new(logger.clone());
    let port = 8080;
    let peer = Peer;
    let headers = Headers { accept: "*/*" };
    let req = Request {
        path: "/api",
        status: 200,
    };
    let r#type = "json";

    // Levels.
    velo!(logger: &logger, trace, "trace");
    velo!(logger: &logger, debug, "debug");
    velo!(logger: &logger, info, "info");
    velo!(logger: &logger, warn, "warn");
    velo!(logger: &logger, error, "error");
    if port == 0 {
        velo!(logger: &logger, fatal, "fatal");
    }

    // Fields: shorthand, %shorthand, ?shorthand, dotted keys (also as a
    // shorthand field access), string-literal keys, sigils, raw identifiers.
    velo!(logger: &logger, info, "fields", port, %peer, ?headers);
    velo!(logger: &logger, info, "fields", req.path, req.status, http.status = 200);
    velo!(logger: &logger, info, "fields", "content type" = "json", "a\"b" = %peer);
    velo!(logger: &logger, info, "fields", display = %peer, debug = ?headers, accept = headers.accept);
    velo!(logger: &logger, info, "fields", r#type, r#match = 1);
    velo!(logger: &logger, info, "trailing comma", port,);
    velo!(info, "default logger", port = port + 1,);

    // Loggers: by value, by reference, behind an `Arc`, and a child.
    velo!(logger: logger, info, "by value");
    velo!(logger: shared, info, "arc");
    velo!(logger: &shared, info, "reference to arc");
    velo!(logger: &*shared, info, "deref arc");
    let child = logger.with(velo::fields!(request_id = 7, %peer, "k k" = ?headers));
    velo!(logger: &child, info, "child");

    // As an expression: match arm, closure body, block tail.
    match port {
        0 => velo!(logger: &logger, error, "no port"),
        1..=1023 => velo!(logger: &logger, warn, "privileged port", port),
        _ => velo!(logger: &logger, info, "port", port),
    }
    let log = |n: i32| velo!(logger: &logger, debug, "closure", n);
    log(1);
    let unit: () = velo!(logger: &logger, info, "unit");
    let () = unit;
    logger.sync().unwrap();
    velo::close();
}
