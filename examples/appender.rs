//! An output of your own: `Builder::appender` hands every entry to your code
//! as a `velo::Record`, with its level, message, caller and typed fields.
//! Here one appender counts entries by level, adds up a typed field and
//! keeps the errors in memory (as an alerting hook would forward them),
//! beside the usual lines on stderr.
//!
//! Run with `cargo run --example appender`.

use std::io;
use std::sync::{Arc, Mutex};
use velo::{velo, Appender, Builder, FieldValue, Format, Level, Record};

/// What the appender saw: entries per level, and each error's message and
/// fields.
#[derive(Default, Debug)]
struct Seen {
    per_level: [u64; 6],
    /// The sum of every `total` field: its value is an `f64`, not text.
    paid: f64,
    errors: Vec<(String, Vec<(String, String)>)>,
}

/// Counts entries by level; keeps errors whole.
struct Tally(Arc<Mutex<Seen>>);

impl Appender for Tally {
    fn append(&mut self, record: &Record<'_>) -> io::Result<()> {
        let mut seen = self.0.lock().map_err(|_| io::Error::other("poisoned"))?;
        seen.per_level[record.level() as usize] += 1;
        if let Some(FieldValue::F64(total)) = record.field("total") {
            seen.paid += total;
        }
        if record.level() >= Level::Error {
            let fields = record
                .fields()
                .map(|(key, value)| (key.to_owned(), value.to_string()))
                .collect();
            seen.errors.push((record.message().to_owned(), fields));
        }
        Ok(())
    }
}

fn main() -> Result<(), velo::Error> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let logger = Builder::new()
        .level(Level::Debug)
        .stderr()
        .format(Format::Text)
        .also(Builder::new().appender(Tally(Arc::clone(&seen))))
        .fields(velo::fields!(service = "checkout"))
        .build()?;

    for order in 1..=5_u64 {
        velo!(logger: &logger, debug, "pricing order {order}", order);
        if order % 2 == 0 {
            velo!(logger: &logger, error, "payment for order {order} failed", order, code = 402);
        } else {
            velo!(logger: &logger, info, "order {order} paid", order, total = 9.5 * order as f64);
        }
    }
    logger.sync()?;

    let seen = seen.lock().expect("not poisoned");
    for level in [Level::Debug, Level::Info, Level::Error] {
        println!("{level}: {}", seen.per_level[level as usize]);
    }
    for (message, fields) in &seen.errors {
        println!("error: {message} {fields:?}");
    }
    println!("paid: {}", seen.paid);
    Ok(())
}
