// Generated code must name nothing the user can shadow: a crate-level item
// called `core` (tokio-rs/tracing#2761) or `std`, and locals named like the
// expansion's own.

use ::std::io::{self, Write};
use ::std::sync::{Arc, Mutex};

#[allow(dead_code)]
mod core {
    pub mod option {
        pub struct Option;
    }
    pub fn concat() {}
    pub fn line() {}
    pub fn module_path() {}
}

#[allow(dead_code)]
mod std {}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn main() {
    let out = Capture::default();
    let logger = velo::Builder::new()
        .writer(out.clone())
        .format(velo::Format::Json)
        .timestamp(velo::Timestamp::Off)
        .caller(false)
        .asynchronous(false)
        .build()
        .unwrap();
    let __velo = 0_u8;
    let __velo_entry = 1_u8;
    let __velo_logger = "not a logger";
    let __velo_interest = 2_u16;
    let __velo_v0 = 3_i64;
    let __velo_fields = 4_u32;
    let __velo_site = 5_u8;
    // Names of items the expansion once declared next to the arguments.
    #[allow(non_snake_case)]
    let __VELO_SITE = 6_u64;
    #[allow(non_snake_case)]
    let __VELO_KEY_0 = 7_u64;

    velo::velo!(logger: &logger, info, "a", __velo, __velo_entry, __velo_logger, n = __velo_v0);
    velo::velo!(logger: &logger, warn, "b", __velo_interest, __velo_fields, __velo_site);
    velo::velo!(logger: &logger, error, "c", site = __VELO_SITE, key = __VELO_KEY_0);
    let child = logger.with(velo::fields!(__velo_entry, __velo_fields));
    velo::velo!(logger: &child, info, "d");
    logger.sync().unwrap();

    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let expected = [
        r#"{"level":"info","msg":"a","__velo":0,"__velo_entry":1,"__velo_logger":"not a logger","n":3}"#,
        r#"{"level":"warn","msg":"b","__velo_interest":2,"__velo_fields":4,"__velo_site":5}"#,
        r#"{"level":"error","msg":"c","site":6,"key":7}"#,
        r#"{"level":"info","msg":"d","__velo_entry":1,"__velo_fields":4}"#,
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), expected, "{text}");
}
