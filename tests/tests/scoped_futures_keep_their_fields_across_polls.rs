//! `velo::scoped(fields, future)` puts its fields in scope around each poll
//! of the future, on whichever thread polls it, and only then: code that
//! runs between polls does not see them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use velo::{velo, Builder, Timestamp};
use velo_tests::{json_logger, Capture};

/// A future that is pending `polls - 1` times, logging on every poll.
struct Steps<'l> {
    logger: &'l velo::Logger,
    step: u32,
    polls: u32,
}

impl Future for Steps<'_> {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let step = self.step;
        velo!(logger: self.logger, info, "step", step);
        self.step += 1;
        if self.step == self.polls {
            Poll::Ready(step)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

fn logger() -> (velo::Logger, Capture) {
    json_logger(Builder::new().timestamp(Timestamp::Off).caller(false))
}

#[test]
fn fields_hold_across_polls_and_not_between_them() {
    let (l, out) = logger();
    let steps = Steps {
        logger: &l,
        step: 0,
        polls: 3,
    };
    let mut task = Box::pin(velo::scoped(velo::fields!(request_id = 7), steps));
    let result = loop {
        match poll_once(&mut task) {
            Poll::Ready(v) => break v,
            Poll::Pending => velo!(logger: &l, info, "executor between polls"),
        }
    };
    assert_eq!(result, 2);
    l.sync().unwrap();
    assert_eq!(
        out.lines(),
        [
            r#"{"level":"info","msg":"step","request_id":7,"step":0}"#,
            r#"{"level":"info","msg":"executor between polls"}"#,
            r#"{"level":"info","msg":"step","request_id":7,"step":1}"#,
            r#"{"level":"info","msg":"executor between polls"}"#,
            r#"{"level":"info","msg":"step","request_id":7,"step":2}"#,
        ]
    );
}

#[test]
fn an_async_block_keeps_them_across_awaits_and_threads() {
    let (l, out) = logger();
    let task = velo::scoped(velo::fields!(job = "sync"), async {
        velo!(logger: &l, info, "begin");
        let n = Steps {
            logger: &l,
            step: 0,
            polls: 2,
        }
        .await;
        velo!(logger: &l, info, "end", n);
    });
    let mut task = Box::pin(task);
    assert!(poll_once(&mut task).is_pending());
    // The rest of the future runs on another thread.
    std::thread::scope(|s| {
        s.spawn(move || while poll_once(&mut task).is_pending() {});
    });
    velo!(logger: &l, info, "after");
    l.sync().unwrap();
    let mut lines = out.lines();
    // Entries of two threads: compare as a set of lines in order per thread.
    lines.sort();
    let mut expected = vec![
        r#"{"level":"info","msg":"after"}"#,
        r#"{"level":"info","msg":"begin","job":"sync"}"#,
        r#"{"level":"info","msg":"end","job":"sync","n":1}"#,
        r#"{"level":"info","msg":"step","job":"sync","step":0}"#,
        r#"{"level":"info","msg":"step","job":"sync","step":1}"#,
    ];
    expected.sort_unstable();
    assert_eq!(lines, expected);
}

#[test]
fn scoped_inside_a_scope_adds_to_it() {
    let (l, out) = logger();
    velo::scope(velo::fields!(outer = 1, shared = "outer"), || {
        let mut task = Box::pin(velo::scoped(
            velo::fields!(shared = "future"),
            Steps {
                logger: &l,
                step: 0,
                polls: 1,
            },
        ));
        assert!(poll_once(&mut task).is_ready());
        velo!(logger: &l, info, "scope only");
    });
    l.sync().unwrap();
    assert_eq!(
        out.lines(),
        [
            r#"{"level":"info","msg":"step","outer":1,"shared":"future","step":0}"#,
            r#"{"level":"info","msg":"scope only","outer":1,"shared":"outer"}"#,
        ]
    );
}

/// Logs when dropped: a cancelled task's clean-up.
struct Guard<'l>(&'l velo::Logger);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        velo!(logger: self.0, warn, "cancelled");
    }
}

#[test]
fn a_scoped_future_is_dropped_inside_its_scope() {
    let (l, out) = logger();
    let task = {
        let l = &l;
        velo::scoped(velo::fields!(request_id = 7), async move {
            let _guard = Guard(l);
            std::future::pending::<()>().await;
        })
    };
    let mut task = Box::pin(task);
    assert!(task
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    velo!(logger: &l, info, "between");
    drop(task);
    velo!(logger: &l, info, "after");
    l.sync().unwrap();
    let entries = out.entries();
    let by_msg = |m: &str| entries.iter().find(|e| e["msg"] == m).unwrap().clone();
    assert_eq!(by_msg("cancelled")["request_id"], 7, "{entries:?}");
    assert!(!by_msg("between").contains_key("request_id"));
    assert!(!by_msg("after").contains_key("request_id"));
}
