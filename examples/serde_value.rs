//! Logging `serde::Serialize` values as nested data with `velo::Serde`
//! (feature `serde`): the value is serialized straight into the entry, then
//! written as nested JSON, or compact JSON in the text format.
//!
//! Run with `cargo run --example serde_value --features serde`.

use serde::Serialize;
use std::collections::BTreeMap;
use velo::{velo, Builder, Format, Serde};

#[derive(Serialize)]
struct User {
    id: u64,
    name: String,
    roles: Vec<Role>,
    manager: Option<u64>,
    /// Map keys that are not strings are written as their text.
    quota_by_year: BTreeMap<u16, u32>,
}

#[derive(Serialize)]
enum Role {
    Admin,
    Member { team: String },
}

fn main() -> Result<(), velo::Error> {
    let user = User {
        id: 42,
        name: "Ada \"the first\" Lovelace".into(),
        roles: vec![
            Role::Admin,
            Role::Member {
                team: "engines".into(),
            },
        ],
        manager: None,
        quota_by_year: [(2025, 100), (2026, 250)].into(),
    };
    for format in [Format::Json, Format::Text] {
        let logger = Builder::new().format(format).stdout().build()?;
        velo!(logger: &logger, info, "user saved", user = Serde(&user), by = "admin");
        logger.close();
    }
    Ok(())
}
