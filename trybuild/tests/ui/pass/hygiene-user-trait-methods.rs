// A trait of the user's, implemented for every type, with methods named
// like those the expansion calls and taking `self`: the expansion must not
// pick them (it calls its own by path). Every entry must still be written.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

#[allow(dead_code)]
trait Everywhere: Sized {
    fn finish(self) {
        panic!("the user's finish was called");
    }
    fn value(self) {}
    fn display(self) {}
    fn debug(self) {}
    fn accepts(self) {}
    fn interest(self) {}
    fn take(self) {}
}

impl<T> Everywhere for T {}

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
        .asynchronous(false)
        .build()
        .unwrap();
    let (a, b, c, d, e, f, g, h, i, j, k, m, n) = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
    velo::velo!(logger: &logger, info, "thirteen", a, b, c, d, e, f, g, h, i, j, k, m, n);
    velo::velo!(logger: &logger, every: 1s, info, "limited", a, shown = %b, debugged = ?c);
    velo::velo!(logger: &logger, sample: 2, info, "sampled", a);
    velo::velo!(logger: &logger, info, "three", a, shown = %b, debugged = ?c);
    let written = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert_eq!(written.lines().count(), 4, "{written}");
}
