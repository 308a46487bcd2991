// Expanded code is clean under the strictest lints a user may set.
#![deny(warnings, clippy::pedantic)]

fn main() {
    let logger = velo::Builder::new()
        .writer(std::io::sink())
        .build()
        .unwrap();
    let port: u16 = 8080;
    let user = "ada";
    let headers = vec![("accept", "*/*")];
    velo::velo!(info, "server started", port, tls = false);
    velo::velo!(warn, "slow request", http.path = "/api", latency_ms = 12.5, user = %user, headers = ?headers);
    velo::velo!(logger: &logger, error, "query failed", "error code" = 40001, attempt = 3);
    velo::velo!(logger: &logger, debug, "no fields");
    let fields = velo::fields!(port, service = "api");
    let _child = logger.with(fields);
    velo::close();
}
