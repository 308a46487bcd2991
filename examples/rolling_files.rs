//! A rolling log file: rotated by size, the three newest rotated files
//! kept, in a temporary directory whose files are printed at the end.
//!
//! Run with `cargo run --example rolling_files`.

use std::fs;
use velo::{velo, Builder, Format, Period, Rolling};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("velo-rolling-example-{}", std::process::id()));
    fs::create_dir_all(&dir)?;

    let logger = Builder::new()
        .format(Format::Json)
        .rolling(
            Rolling::new(dir.join("app.log"))
                .max_bytes(4 << 10) // tiny, to see rotations; 64 MiB is more usual
                .every(Period::Daily)
                .keep(3),
        )
        .build()?;

    for request in 0..200u32 {
        velo!(logger: &logger, info, "request handled", request, status = 200, path = "/api/items");
    }
    // After logrotate (or anyone) moved the live file away:
    // logger.reopen()?;
    logger.close();

    let mut files: Vec<_> = fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    println!("{}:", dir.display());
    for path in &files {
        let text = fs::read_to_string(path)?;
        let first = text.lines().next().unwrap_or_default();
        println!(
            "  {:<32} {:>5} bytes {:>3} entries, first: {}...",
            path.file_name().unwrap_or_default().to_string_lossy(),
            text.len(),
            text.lines().count(),
            first.chars().take(60).collect::<String>(),
        );
    }
    fs::remove_dir_all(&dir)?;
    Ok(())
}
