//! Compile-fail tests pinning every diagnostic of the velo macros.
//!
//! The cases live in `tests/ui/` (one `.rs`/`.stderr` pair per mistake) and
//! `tests/ui/pass/`; `tests/ui.rs` runs them. This crate has no code.
