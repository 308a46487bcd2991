//! Several outputs for one logger (`Builder::also`): the logger's own, then
//! each further one with its own format and, optionally, a filter of its
//! own that narrows what reaches it.
//!
//! The worker hands every entry to the [`Tee`], which writes it to the
//! first output in the logger's format and to each further output whose
//! filter admits it, in that output's format: one queue, one worker, each
//! entry decoded once. An entry's fate in the statistics is the first
//! output's (`written`, `bytes`, `dropped`). A further output's write
//! error, or entries it gives up on, do not stop the others: the error is
//! kept, named after its output, and returned at the next flush, which
//! counts and reports it as any write error (and `sync` returns it).

use super::{Lost, Output};
use crate::event::Event;
use crate::filter::Filter;
use crate::line::LineFormat;
use std::io;
use std::time::Duration;

/// One further output.
pub(crate) struct Branch {
    pub(crate) output: Box<dyn Output>,
    /// Its format (the logger's own is the first output's).
    pub(crate) format: LineFormat,
    /// What reaches it, within what the logger takes; `None`: everything.
    pub(crate) filter: Option<Filter>,
    /// Its place among the logger's outputs: `output 2`.
    pub(crate) place: String,
    /// What it is, as velo's messages say: `file app.log`.
    pub(crate) what: String,
}

impl Branch {
    fn admits(&self, ev: &Event<'_>) -> bool {
        self.filter.as_ref().is_none_or(|filter| {
            // velo's own entries (a panic, a drop warning) have no
            // message of the program's to match: by level and path only,
            // as the logger's own filter takes them.
            let message = match ev.site() {
                Some(site) if site.is_velos() => None,
                _ => Some(ev.filter_message()),
            };
            filter.passes(
                ev.level,
                ev.target().unwrap_or_else(|| ev.module_path()),
                message,
            )
        })
    }

    /// `e`, saying which output it came from: `output 2, file app.log:
    /// ...` (an output whose own errors start with what it is, a network
    /// one's, is not named twice).
    fn named(&self, e: io::Error) -> io::Error {
        let text = e.to_string();
        let named = if text.starts_with(&self.what) {
            format!("{}, {text}", self.place)
        } else {
            format!("{}, {}: {text}", self.place, self.what)
        };
        io::Error::new(e.kind(), named)
    }
}

/// The logger's output followed by further ones.
pub(crate) struct Tee {
    first: Box<dyn Output>,
    branches: Vec<Branch>,
    /// The further outputs' errors since the last flush, to report then.
    errors: Errors,
}

/// How long a `sync` waits for every output to deliver, together: a
/// network output's own wait (3 s), well within the bound after which the
/// worker counts as stuck (5 s).
const DELIVER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// How many different errors of further outputs one flush reports.
const ERRORS_KEPT: usize = 16;

/// Further outputs' errors, each different one once (a further output
/// whose error differs from the one before, or two further outputs
/// failing: each is said), up to [`ERRORS_KEPT`].
#[derive(Default)]
struct Errors {
    kept: Vec<io::Error>,
    /// More came than were kept.
    more: bool,
}

impl Errors {
    fn keep(&mut self, e: io::Error) {
        let text = e.to_string();
        if self.kept.iter().any(|k| k.to_string() == text) {
            return;
        }
        if self.kept.len() == ERRORS_KEPT {
            self.more = true;
        } else {
            self.kept.push(e);
        }
    }

    fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// `first`, then every error kept, in one error (`a; and b; and other
    /// outputs' errors`); the kept ones are taken.
    fn take_after(&mut self, first: Option<io::Error>) -> Option<io::Error> {
        let Errors { kept, more } = std::mem::take(self);
        let mut all = first.into_iter().chain(kept);
        let head = all.next()?;
        let mut text = head.to_string();
        for e in all {
            text.push_str("; and ");
            text.push_str(&e.to_string());
        }
        if more {
            text.push_str("; and other outputs' errors");
        }
        Some(io::Error::new(head.kind(), text))
    }
}

impl Tee {
    pub(crate) fn new(first: Box<dyn Output>, mut branches: Vec<Branch>) -> Tee {
        for branch in &mut branches {
            let label = format!("{}, {}", branch.place, branch.what);
            branch.output.set_label(&label);
        }
        Tee {
            first,
            branches,
            errors: Errors::default(),
        }
    }

    /// Runs `f` on every further output; their errors, named.
    fn each(&mut self, mut f: impl FnMut(&mut dyn Output) -> io::Result<()>) -> Errors {
        let mut errors = Errors::default();
        for branch in &mut self.branches {
            if let Err(e) = f(&mut *branch.output) {
                errors.keep(branch.named(e));
            }
        }
        errors
    }

    /// After a flush: the first output's error and those further outputs
    /// had since the last flush (`branch`, and those kept from their
    /// writes), in one error: a further output's failure must not go
    /// unsaid for as long as the first output keeps failing.
    fn flushed(&mut self, first: io::Result<()>, branch: Errors) -> io::Result<()> {
        for e in branch.kept {
            self.errors.keep(e);
        }
        self.errors.more |= branch.more;
        self.errors.take_after(first.err()).map_or(Ok(()), Err)
    }
}

/// `ev` as an output that shows no time must see it: without one (a
/// syslog header, an OTLP record take the time from the entry, not from
/// the line's format). Entries are dated whenever any output shows time.
fn timed_for<'e, 'a>(ev: &'e Event<'a>, format: &LineFormat) -> std::borrow::Cow<'e, Event<'a>> {
    if ev.time.is_some() && !format.shows_time() {
        let mut untimed = ev.clone();
        untimed.time = None;
        std::borrow::Cow::Owned(untimed)
    } else {
        std::borrow::Cow::Borrowed(ev)
    }
}

impl Output for Tee {
    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize> {
        // No output here runs the user's code unguarded (a stream guards
        // its writer, an appender's output the appender): none of them can
        // panic past this loop.
        let written = self.first.write(&timed_for(ev, format), format);
        for branch in &mut self.branches {
            if !branch.admits(ev) {
                continue;
            }
            let (output, format) = (&mut *branch.output, &mut branch.format);
            let ev = timed_for(ev, format);
            if let Err(e) = output.write(&ev, format) {
                self.errors.keep(branch.named(e));
            }
        }
        written
    }

    fn flush(&mut self) -> io::Result<()> {
        let first = self.first.flush();
        let branch = self.each(|output| output.flush());
        self.flushed(first, branch)
    }

    fn deliver(&mut self) -> io::Result<()> {
        // One bound for them all (see `Output::deliver_by`).
        let deadline = std::time::Instant::now() + DELIVER_WAIT;
        let first = self.first.deliver_by(deadline);
        let branch = self.each(|output| output.deliver_by(deadline));
        self.flushed(first, branch)
    }

    fn writes_bytes(&self) -> bool {
        self.first.writes_bytes()
    }

    fn reports_progress(&self) -> bool {
        self.first.reports_progress()
    }

    fn healthy(&self) -> bool {
        self.errors.is_empty()
            && self.first.healthy()
            && self.branches.iter().all(|b| b.output.healthy())
    }

    fn reopen(&mut self) -> io::Result<()> {
        // Its own errors only: write errors wait for the next flush.
        let first = self.first.reopen();
        let mut branch = self.each(|output| output.reopen());
        first?;
        branch.take_after(None).map_or(Ok(()), Err)
    }

    fn forget_buffered(&mut self) {
        self.first.forget_buffered();
        for branch in &mut self.branches {
            branch.output.forget_buffered();
        }
    }

    fn retry_in(&self) -> Option<Duration> {
        std::iter::once(self.first.retry_in())
            .chain(self.branches.iter().map(|b| b.output.retry_in()))
            .flatten()
            .min()
    }

    fn give_up(&mut self) {
        self.first.give_up();
        for branch in &mut self.branches {
            branch.output.give_up();
        }
    }

    fn idle(&mut self) {
        self.first.idle();
        for branch in &mut self.branches {
            branch.output.idle();
            branch.format.idle();
        }
    }

    fn take_lost(&mut self) -> Lost {
        for branch in &mut self.branches {
            // Not the statistics' to count: the first output's fate is
            // the entry's. Said as an error of that output instead.
            if branch.output.take_lost().entries != 0 {
                // No count in the text: said once on stderr while it
                // lasts, not once per pass with a new number.
                let e = io::Error::other("gave up on entries it could not deliver");
                self.errors.keep(branch.named(e));
            }
        }
        self.first.take_lost()
    }
}
