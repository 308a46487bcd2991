//! Benchmarks of velo: criterion benches in `benches/`, and programs in
//! `src/bin/` that measure the whole pipeline, alone (`throughput`) and side
//! by side with its peers and the hand-written baselines (`compare`).

pub mod peers;
pub mod sink;
pub mod tsc;
