//! The panic hook that `install()` sets: it logs the panic at error level
//! with its message, location and thread, flushes, then runs the hook that
//! was there before.

use crate::callsite::Site;
use crate::entry::{Entry, Key};
use crate::level::Level;
use crate::logger::Logger;

static PANIC_SITE: Site = Site {
    level: Level::Error,
    module_path: "velo::panic",
    file: file!(),
    line: line!(),
    json_head: b"\"level\":\"error\",\"msg\":\"panic\"",
    text_msg: b"panic",
    json_caller: b"",
    text_caller: b"",
};

const MESSAGE: Key = Key::new(b",\"panic\":", b"panic");
const LOCATION: Key = Key::new(b",\"location\":", b"location");
const THREAD: Key = Key::new(b",\"thread\":", b"thread");

/// Chains a hook logging panics to `logger` before the current hook.
pub(crate) fn install_hook(logger: &'static Logger) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let mut entry = Entry::start(logger.core(), logger.context(), &PANIC_SITE);
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("Box<dyn Any>");
        entry.value(&MESSAGE, message);
        match info.location() {
            Some(location) => entry.display(&LOCATION, location),
            None => entry.value(&LOCATION, &()),
        }
        entry.value(
            &THREAD,
            std::thread::current().name().unwrap_or("<unnamed>"),
        );
        entry.finish();
        // The process may be about to end: make the entry durable. Inside
        // the writer this returns at once instead of waiting for itself.
        let _ = logger.sync();
        previous(info);
    }));
}
