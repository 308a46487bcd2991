//! An error value is written with its whole source chain, as one string
//! `outer: middle: root`, whether it is a standard error, a `dyn Error`
//! trait object or any error wrapped in `velo::Chain`.

use std::error::Error;
use std::fmt;
use velo::{velo, Builder};
use velo_tests::json_logger;

#[derive(Debug)]
struct Layer {
    what: &'static str,
    source: Option<Box<dyn Error + Send + Sync>>,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
}

impl Error for Layer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

fn chain() -> Layer {
    Layer {
        what: "request failed",
        source: Some(Box::new(Layer {
            what: "config unreadable",
            source: Some(Box::new(std::io::Error::other("disk on \"fire\"\n"))),
        })),
    }
}

/// An error whose message already ends with its source's, as some
/// libraries write them.
#[derive(Debug)]
struct Repeats(std::io::Error);

impl fmt::Display for Repeats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot connect: {}", self.0)
    }
}

impl Error for Repeats {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn every_form_of_error_carries_its_chain() {
    let (logger, out) = json_logger(Builder::new().caller(false));
    let err = chain();
    let boxed: Box<dyn Error + Send + Sync> = Box::new(chain());
    let dynamic: &(dyn Error + 'static) = &err;
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, chain());
    velo!(logger: &logger, error, "chain", err = velo::Chain(&err));
    velo!(logger: &logger, error, "boxed", err = boxed);
    velo!(logger: &logger, error, "dyn", err = dynamic);
    velo!(logger: &logger, error, "io", err = io);
    velo!(logger: &logger, error, "repeats", err = velo::Chain(&Repeats(std::io::Error::other("refused"))));
    velo!(logger: &logger, error, "display only", err = %err);
    let layer = |what, source: Option<Layer>| Layer {
        what,
        source: source.map(|s| Box::new(s) as Box<dyn Error + Send + Sync>),
    };
    // Ends with the same word, but is another error's message.
    let suffix = layer("connection timeout", Some(layer("timeout", None)));
    velo!(logger: &logger, error, "suffix", err = velo::Chain(&suffix));
    // A wrapper that shows its source's message as its own.
    let transparent = layer("a", Some(layer("b", Some(layer("b", None)))));
    velo!(logger: &logger, error, "transparent", err = velo::Chain(&transparent));
    // `Chain` of an unsized error: a trait object, and in generic code.
    velo!(logger: &logger, error, "chain of dyn", err = velo::Chain(dynamic));
    velo!(logger: &logger, error, "chain of a box's", err = velo::Chain(&*boxed));
    fn log_any<E: Error + ?Sized>(logger: &velo::Logger, err: &E) {
        velo!(logger: logger, error, "generic", err = velo::Chain(err));
    }
    log_any(&logger, dynamic);
    logger.sync().unwrap();
    let entries = out.entries();
    let full = "request failed: config unreadable: disk on \"fire\"\n";
    for e in &entries[..3] {
        assert_eq!(e["err"], full, "{e:?}");
    }
    // io::Error's Display is its inner error's, and its source is the
    // inner error's source.
    assert_eq!(
        entries[3]["err"],
        "request failed: config unreadable: disk on \"fire\"\n"
    );
    assert_eq!(entries[4]["err"], "cannot connect: refused", "not repeated");
    assert_eq!(entries[5]["err"], "request failed", "`%` is Display alone");
    assert_eq!(entries[6]["err"], "connection timeout: timeout");
    assert_eq!(entries[7]["err"], "a: b", "a wrapper's message once");
    for e in &entries[8..11] {
        assert_eq!(e["err"], full, "{e:?}");
    }
}

/// A `&dyn Error` a function borrows (not `'static`), as most code holds
/// one, is logged as it is, with its chain, through `err = e` and through
/// a template's placeholder.
#[test]
fn a_borrowed_dyn_error_is_logged_as_it_is() {
    fn report(logger: &velo::Logger, e: &dyn Error) {
        velo!(logger: logger, error, "failed: {e}");
    }
    fn report_send(logger: &velo::Logger, e: &(dyn Error + Send + Sync)) {
        velo!(logger: logger, error, "failed", err = e);
    }
    let (logger, out) = json_logger(Builder::new().caller(false));
    let err = chain();
    report(&logger, &err);
    report_send(&logger, &err);
    logger.sync().unwrap();
    let entries = out.entries();
    let full = "request failed: config unreadable: disk on \"fire\"\n";
    assert_eq!(entries[0]["e"], full);
    assert_eq!(entries[0]["msg"], format!("failed: {full}"));
    assert_eq!(entries[1]["err"], full);
}

/// The standard library's generic errors (a channel's, a lock's) are
/// values too, whatever they hold.
#[test]
fn the_standard_librarys_generic_errors_are_values() {
    let (logger, out) = json_logger(Builder::new().caller(false));
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    drop(rx);
    let send = tx.send(vec![1]).unwrap_err();
    velo!(logger: &logger, error, "send", err = send);
    let (tx, rx) = std::sync::mpsc::sync_channel::<u8>(0);
    let try_send = tx.try_send(1).unwrap_err();
    velo!(logger: &logger, error, "try_send", err = try_send);
    drop(rx);
    let lock = std::sync::Arc::new(std::sync::Mutex::new(0));
    let poisoner = std::sync::Arc::clone(&lock);
    let _ = std::thread::spawn(move || {
        let _guard = poisoner.lock().unwrap();
        panic!("poison the lock");
    })
    .join();
    let poisoned = lock.lock().unwrap_err();
    velo!(logger: &logger, error, "poison", err = poisoned);
    let utf16 = String::from_utf16(&[0xD800]).unwrap_err();
    velo!(logger: &logger, error, "utf16", err = utf16);
    logger.sync().unwrap();
    let entries = out.entries();
    let errs: Vec<&str> = entries.iter().map(|e| e["err"].as_str().unwrap()).collect();
    assert_eq!(
        errs,
        [
            "sending on a closed channel",
            "sending on a full channel",
            "poisoned lock: another task failed inside",
            "invalid utf-16: lone surrogate found",
        ]
    );
}
