//! Benchmarks of velo: criterion benches in `benches/`, and programs in
//! `src/bin/` that measure the whole pipeline.
