//! A `tracing-subscriber` [`Layer`] writing events through a velo logger
//! (cargo feature `tracing-subscriber`), for programs that compose their
//! subscriber from layers rather than let velo be the whole subscriber
//! ([`bridge_tracing`](crate::bridge_tracing)).
//!
//! Events are written as the bridge writes them (`tracing_bridge.rs`).
//! Span data lives in the subscriber's registry: each span gets, in its
//! extensions, its fields encoded once and its scope (its parents' fields
//! then its own, each key once), so an event copies one ready-made list. A
//! `record` bumps the layer's epoch; a scope computed at an older epoch is
//! recomputed from its parent's before use.
//!
//! The layer filters with its logger's filter when an event arrives; it
//! never disables a call site, so the other layers still see every event
//! their own filters let through.

use crate::fields;
use crate::local;
use crate::logger::Logger;
use crate::tracing_bridge::{
    accepts, accepts_event, encode_fields, encode_span, write_event, FromLog,
};
use crate::tracing_spans::next_owner_id;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// A [`Layer`] that writes `tracing` events through a velo logger, with the
/// fields of their spans after the logger's context, outermost span first,
/// each key once (the innermost wins). Events and spans are filtered by the
/// logger's filter, their target matched as a module path.
///
/// Available with the cargo feature `tracing-subscriber`.
///
/// # Examples
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let logger = velo::Builder::new().writer(std::io::sink()).build()?;
/// let subscriber = tracing_subscriber::registry().with(velo::TracingLayer::new().logger(logger));
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("request", request_id = 7);
///     span.in_scope(|| tracing::info!(status = 200, "request handled"));
/// });
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Debug)]
pub struct TracingLayer {
    /// `None`: the default logger.
    logger: Option<Logger>,
    /// Bumped by every `record` that changes a span's fields.
    epoch: AtomicU64,
    /// Tells this layer's fields apart from another velo layer's, in a
    /// span's extensions and in a thread's span fields.
    id: u64,
}

impl Default for TracingLayer {
    fn default() -> TracingLayer {
        TracingLayer {
            logger: None,
            epoch: AtomicU64::new(0),
            id: next_owner_id(),
        }
    }
}

/// What the velo layers of a registry keep in a span's extensions: one
/// entry per layer (extensions hold one value per type), by layer id.
struct LayersFields(Vec<(u64, SpanFields)>);

impl LayersFields {
    fn get(&self, layer: u64) -> Option<&SpanFields> {
        self.0.iter().find(|(id, _)| *id == layer).map(|(_, f)| f)
    }

    fn get_mut(&mut self, layer: u64) -> Option<&mut SpanFields> {
        self.0
            .iter_mut()
            .find(|(id, _)| *id == layer)
            .map(|(_, f)| f)
    }
}

/// What one layer keeps of a span.
struct SpanFields {
    own: Vec<u8>,
    /// The parent's scope, then `own`, each key once.
    scope: Arc<[u8]>,
    /// The layer's epoch `scope` was computed at.
    epoch: u64,
}

impl TracingLayer {
    /// A layer writing through the default logger
    /// ([`logger`](crate::logger)). Install yours
    /// ([`Builder::install`](crate::Builder::install)) before the first
    /// span or event reaches the layer: that makes the default logger,
    /// and `install` then fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let subscriber = tracing_subscriber::registry().with(velo::TracingLayer::new());
    /// # drop(subscriber);
    /// ```
    #[must_use]
    pub fn new() -> TracingLayer {
        TracingLayer::default()
    }

    /// Writes through `logger` instead of the default logger.
    ///
    /// # Examples
    ///
    /// ```
    /// let audit = velo::Builder::new().writer(std::io::sink()).build()?;
    /// let layer = velo::TracingLayer::new().logger(audit);
    /// # drop(layer);
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn logger(mut self, logger: Logger) -> TracingLayer {
        self.logger = Some(logger);
        self
    }

    fn target(&self) -> &Logger {
        self.logger
            .as_ref()
            .unwrap_or_else(|| crate::logger::for_bridge())
    }

    /// The scope of `span` as of `epoch`, recomputed (with its parents')
    /// when a `record` made it stale. A loop, not a recursion: spans may
    /// nest tens of thousands deep.
    fn scope<S>(&self, span: &SpanRef<'_, S>, epoch: u64) -> Arc<[u8]>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        // From `span` up to the first one whose scope is current.
        let mut stale = Vec::new();
        let mut outer: Option<Arc<[u8]>> = None;
        for s in span.scope() {
            if let Some(f) = s
                .extensions()
                .get::<LayersFields>()
                .and_then(|l| l.get(self.id))
            {
                if f.epoch == epoch {
                    outer = Some(Arc::clone(&f.scope));
                    break;
                }
            }
            stale.push(s);
        }
        // Then down again, outermost first.
        for s in stale.iter().rev() {
            let mut ext = s.extensions_mut();
            if let Some(f) = ext
                .get_mut::<LayersFields>()
                .and_then(|l| l.get_mut(self.id))
            {
                f.scope = combine(outer.as_deref(), &f.own);
                f.epoch = epoch;
                outer = Some(Arc::clone(&f.scope));
            }
        }
        outer.unwrap_or_else(|| Arc::from(&[][..]))
    }

    /// Gives `velo!` and `log` entries of this thread the fields of the
    /// span it is in now (see `local::set_span_scope`). The registry has
    /// entered or exited the span before the layer hears of it.
    fn follow_current<S>(&self, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let epoch = self.epoch.load(Relaxed);
        let scope = ctx.lookup_current().map(|span| self.scope(&span, epoch));
        local::set_span_scope(self.id, scope);
    }
}

fn combine(outer: Option<&[u8]>, own: &[u8]) -> Arc<[u8]> {
    match outer {
        Some(outer) if !outer.is_empty() => fields::merge(outer, own).into(),
        _ => own.into(),
    }
}

impl<S> Layer<S> for TracingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        // A span the filter rejects adds no fields, as with the bridge.
        let own = if accepts(self.target(), attrs.metadata()) {
            encode_span(self.target(), attrs)
        } else {
            Vec::new()
        };
        let epoch = self.epoch.load(Relaxed);
        let outer = span.parent().map(|p| self.scope(&p, epoch));
        let scope = combine(outer.as_deref(), &own);
        let fields = SpanFields { own, scope, epoch };
        let mut ext = span.extensions_mut();
        match ext.get_mut::<LayersFields>() {
            // Another velo layer of this registry saw the span first.
            Some(layers) => layers.0.push((self.id, fields)),
            None => ext.insert(LayersFields(vec![(self.id, fields)])),
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        if !accepts(self.target(), span.metadata()) {
            return;
        }
        let values = encode_fields(values);
        if values.is_empty() {
            return;
        }
        if let Some(f) = span
            .extensions_mut()
            .get_mut::<LayersFields>()
            .and_then(|l| l.get_mut(self.id))
        {
            f.own = fields::merge(&f.own, &values);
            f.epoch = u64::MAX;
        }
        // Relaxed: the epoch only says "look again"; the data is read
        // under the span's extensions lock.
        self.epoch.fetch_add(1, Relaxed);
        // The span this thread is in may be the one recorded into, or
        // inside it.
        self.follow_current(&ctx);
    }

    fn on_enter(&self, _id: &Id, ctx: Context<'_, S>) {
        self.follow_current(&ctx);
    }

    fn on_exit(&self, _id: &Id, ctx: Context<'_, S>) {
        self.follow_current(&ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let logger = self.target();
        let from_log = FromLog::of(event);
        if !accepts_event(logger, event, from_log.as_ref()) {
            return;
        }
        let epoch = self.epoch.load(Relaxed);
        let scope = ctx.event_span(event).map(|span| self.scope(&span, epoch));
        write_event(
            logger,
            event,
            from_log.as_ref(),
            scope.as_deref().unwrap_or_default(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::captured::Captured as Lines;
    use crate::Builder;
    use tracing_subscriber::layer::SubscriberExt;

    /// A synchronous JSON logger into `lines`, without time or caller.
    fn json_builder(lines: &Lines) -> Builder {
        Builder::new()
            .format(crate::Format::Json)
            .timestamp(crate::Timestamp::Off)
            .caller(false)
            .asynchronous(false)
            .writer(lines.clone())
    }

    #[test]
    fn a_layer_writes_events_with_their_spans() {
        let lines = Lines::default();
        let logger = json_builder(&lines)
            .filter("info,noisy=off")
            .build()
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(TracingLayer::new().logger(logger));
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!(
                "outer",
                a = 1,
                shared = "outer",
                late = tracing::field::Empty
            );
            let _o = outer.enter();
            let inner = tracing::info_span!("inner", b = 2, shared = "inner");
            let _i = inner.enter();
            let hidden = tracing::debug_span!("hidden", h = 1);
            hidden.in_scope(|| tracing::info!(c = true, "in spans"));
            outer.record("late", 9);
            tracing::info!("after a record");
            tracing::info!(target: "noisy", "dropped");
            tracing::debug!("below the level");
            tracing::info!(parent: None, "root");
        });
        assert_eq!(
            lines.lines(),
            [
                r#"{"level":"info","msg":"in spans","a":1,"b":2,"shared":"inner","c":true}"#,
                r#"{"level":"info","msg":"after a record","a":1,"late":9,"b":2,"shared":"inner"}"#,
                r#"{"level":"info","msg":"root"}"#,
            ]
        );
    }

    #[test]
    fn velo_entries_carry_the_fields_of_the_span_they_are_in() {
        let lines = Lines::default();
        let logger = json_builder(&lines).build().unwrap();
        let layer = TracingLayer::new().logger(logger.clone());
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("outer", a = 1, late = tracing::field::Empty);
            let o = outer.enter();
            crate::velo!(logger: &logger, info, "in outer");
            let inner = tracing::info_span!("inner", b = 2);
            let i = inner.enter();
            outer.record("late", 9);
            crate::scope(crate::fields!(b = "scope"), || {
                crate::velo!(logger: &logger, info, "in inner", c = 3);
            });
            drop(i);
            crate::velo!(logger: &logger, info, "inner exited");
            drop(o);
            crate::velo!(logger: &logger, info, "after");
        });
        assert_eq!(
            lines.lines(),
            [
                r#"{"level":"info","msg":"in outer","a":1}"#,
                r#"{"level":"info","msg":"in inner","a":1,"late":9,"b":"scope","c":3}"#,
                r#"{"level":"info","msg":"inner exited","a":1,"late":9}"#,
                r#"{"level":"info","msg":"after"}"#,
            ]
        );
    }

    #[test]
    fn two_velo_layers_in_one_registry_each_keep_their_spans() {
        let (first, second) = (Lines::default(), Lines::default());
        let (a, b) = (
            json_builder(&first).build().unwrap(),
            json_builder(&second).build().unwrap(),
        );
        let subscriber = tracing_subscriber::registry()
            .with(TracingLayer::new().logger(a.clone()))
            .with(TracingLayer::new().logger(b));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("req", request_id = 7);
            span.in_scope(|| {
                tracing::info!("event");
                crate::velo!(logger: &a, info, "velo");
            });
        });
        assert_eq!(
            first.lines(),
            [
                r#"{"level":"info","msg":"event","request_id":7}"#,
                r#"{"level":"info","msg":"velo","request_id":7}"#,
            ]
        );
        assert_eq!(
            second.lines(),
            [r#"{"level":"info","msg":"event","request_id":7}"#]
        );
    }

    #[test]
    fn a_scoped_subscriber_leaves_the_outer_spans_fields_in_place() {
        let lines = Lines::default();
        let logger = json_builder(&lines).build().unwrap();
        let outer = tracing_subscriber::registry().with(TracingLayer::new().logger(logger.clone()));
        tracing::subscriber::with_default(outer, || {
            let global = tracing::info_span!("global", request_id = 7);
            let _g = global.enter();
            let inner =
                tracing_subscriber::registry().with(TracingLayer::new().logger(logger.clone()));
            tracing::subscriber::with_default(inner, || {
                tracing::info_span!("scoped", x = 1).in_scope(|| {
                    crate::velo!(logger: &logger, info, "in the scoped span");
                });
            });
            crate::velo!(logger: &logger, info, "back in the global span");
        });
        assert_eq!(
            lines.lines(),
            [
                r#"{"level":"info","msg":"in the scoped span","x":1}"#,
                r#"{"level":"info","msg":"back in the global span","request_id":7}"#,
            ]
        );
    }

    #[test]
    fn spans_nested_deep_do_not_overflow_the_stack_after_a_record() {
        let lines = Lines::default();
        let logger = json_builder(&lines).build().unwrap();
        let subscriber = tracing_subscriber::registry().with(TracingLayer::new().logger(logger));
        // On a thread with a small stack: after the `record`, every span's
        // scope is stale, 20,000 of them from the event up to the root.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                tracing::subscriber::with_default(subscriber, || {
                    let outer = tracing::info_span!("outer", late = tracing::field::Empty);
                    let _o = outer.enter();
                    let mut spans = Vec::new();
                    for depth in 0..20_000u32 {
                        spans.push(tracing::info_span!("level", depth).entered());
                    }
                    outer.record("late", 1);
                    tracing::info!("deep inside");
                    // Exited innermost first, as they were entered.
                    while spans.pop().is_some() {}
                });
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(
            lines.lines(),
            [r#"{"level":"info","msg":"deep inside","late":1,"depth":19999}"#]
        );
    }
}
