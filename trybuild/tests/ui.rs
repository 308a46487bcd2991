//! Compile-fail and pass cases for every diagnostic of `velo!` and `fields!`.
//!
//! Bless changed diagnostics with `TRYBUILD=overwrite cargo test -p velo-trybuild`
//! and review the `.stderr` diff like code.

#[test]
#[cfg_attr(miri, ignore)]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
