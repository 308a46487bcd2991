//! The event catalog: every `velo!` call site linked into the program,
//! whether or not it ever runs.
//!
//! Each call site's static descriptor is placed, at compile time, in a
//! link-time array (a `linkme` distributed slice: the linker gathers the
//! elements into one section, so nothing runs at startup and a site in a
//! function that never runs is listed all the same). `linkme` rather than
//! `inventory`: `inventory` registers its items from constructors that run
//! before `main`, which is code running, and costs a static constructor per
//! site. Sites of the `log` and `tracing` bridges are not `velo!` call
//! sites and are not listed.

use crate::callsite::CallSite;
use crate::escape;
use crate::number;

#[doc(hidden)]
#[linkme::distributed_slice]
pub static CATALOG: [&'static CallSite];

/// Every `velo!` call site linked into the program, whether or not it ever
/// ran: its level, message (the template as written), module path, file,
/// line and keys. For docs, alert rules and review of what a program logs.
///
/// # Examples
///
/// ```
/// fn never_called(user_id: u64) {
///     velo::velo!(warn, "quota exceeded", user_id);
/// }
///
/// let site = velo::catalog()
///     .find(|site| site.message() == "quota exceeded")
///     .expect("listed without running");
/// assert_eq!(site.level(), velo::Level::Warn);
/// assert_eq!(site.keys(), ["user_id"]);
/// ```
pub fn catalog() -> impl Iterator<Item = &'static CallSite> {
    CATALOG.iter().copied()
}

/// [`catalog`] as a JSON array, one object per call site, sorted by file
/// and line:
///
/// ```text
/// [{"level":"warn","message":"quota exceeded","module_path":"my_app::billing","file":"src/billing.rs","line":42,"keys":["user_id"]}]
/// ```
///
/// A site with a `target:` has a `"target"` key too.
///
/// # Examples
///
/// ```
/// let json = velo::catalog_json();
/// assert!(json.starts_with('['));
/// ```
#[must_use]
pub fn catalog_json() -> String {
    let mut sites: Vec<&CallSite> = catalog().collect();
    sites.sort_by_key(|s| (s.file(), s.line(), s.message()));
    let mut out = Vec::with_capacity(sites.len() * 128);
    out.push(b'[');
    for (i, site) in sites.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"level\":");
        escape::json_str(&mut out, site.level().as_str());
        out.extend_from_slice(b",\"message\":");
        escape::json_str(&mut out, site.message());
        out.extend_from_slice(b",\"module_path\":");
        escape::json_str(&mut out, site.module_path());
        if let Some(target) = site.target() {
            out.extend_from_slice(b",\"target\":");
            escape::json_str(&mut out, target);
        }
        out.extend_from_slice(b",\"file\":");
        escape::json_str(&mut out, site.file());
        out.extend_from_slice(b",\"line\":");
        number::int(&mut out, site.line());
        out.extend_from_slice(b",\"keys\":[");
        for (k, key) in site.keys().iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            escape::json_str(&mut out, key);
        }
        out.extend_from_slice(b"]}");
    }
    out.push(b']');
    String::from_utf8(out).expect("escaped from UTF-8 strings")
}
