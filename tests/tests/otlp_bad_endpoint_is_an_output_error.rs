//! `Builder::otlp` takes `http://host:port[/path]`; anything else makes
//! `build` fail with `ErrorKind::Output`, naming the endpoint.

use velo::{Builder, ErrorKind};

#[test]
fn bad_endpoint_is_an_output_error() {
    let bad = [
        "",
        "127.0.0.1:4318",
        "https://collector:4318",
        "grpc://collector:4317",
        "http://collector",
        "http://:4318",
        "http://collector:http",
        "http://collector:99999",
        "http://user:pw@collector:4318",
        "http://collector:4318/v1/logs?x=1#frag",
        "http://collector:4318/a path",
    ];
    for endpoint in bad {
        let err = Builder::new().otlp(endpoint).build().map(drop).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Output, "{endpoint:?}: {err}");
        assert!(err.to_string().contains("http://host:port"), "{err}");
    }
    for endpoint in [
        "http://127.0.0.1:4318",
        "http://localhost:4318/",
        "http://[::1]:4318/prefix",
        "http://collector.internal:4318/v1/logs",
    ] {
        let logger = Builder::new().otlp(endpoint).build();
        assert!(logger.is_ok(), "{endpoint}: {:?}", logger.err());
    }
}
