//! Making your own types loggable: `impl velo::Value` writes a type through
//! the `Encoder`'s methods (a number, a string, an array, an object), so it
//! is logged as data in every format, with no `%` or `?`. For types that
//! already implement `serde::Serialize`, see the `serde_value` example.
//!
//! Run with `cargo run --example custom_value`.

use velo::{velo, Builder, Encoder, Format, Value};

/// A newtype logged as the number it wraps.
struct UserId(u64);

impl Value for UserId {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.u64(self.0);
    }
}

/// An enum logged as its name.
enum Plan {
    Free,
    Team { seats: u32 },
}

impl Value for Plan {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.str(match self {
            Plan::Free => "free",
            Plan::Team { .. } => "team",
        });
    }
}

/// A struct logged as an object: `{"x":1.5,"y":-2.0}`. The values of one
/// `map` share a type; see `Account` for mixed ones.
struct Point {
    x: f64,
    y: f64,
}

impl Value for Point {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.map([("x", self.x), ("y", self.y)]);
    }
}

/// Values of different types in one object: each entry a `&dyn Value`.
struct Account {
    id: UserId,
    plan: Plan,
    email: Option<String>,
    home: Point,
}

impl Value for Account {
    fn encode(&self, e: &mut Encoder<'_>) {
        let seats = match self.plan {
            Plan::Free => None,
            Plan::Team { seats } => Some(seats),
        };
        e.map([
            ("id", &self.id as &dyn Value),
            ("plan", &self.plan),
            ("seats", &seats),
            ("email", &self.email),
            ("home", &self.home),
        ]);
    }
}

/// A collection logged as an array of its items.
struct Path(Vec<Point>);

impl Value for Path {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.seq(&self.0);
    }
}

fn main() -> Result<(), velo::Error> {
    let logger = Builder::new().format(Format::Json).stdout().build()?;
    let account = Account {
        id: UserId(42),
        plan: Plan::Team { seats: 5 },
        email: Some("ada@example.com".into()),
        home: Point { x: 1.5, y: -2.0 },
    };
    velo!(logger: &logger, info, "account loaded", account, user = UserId(7), plan = Plan::Free);
    let route = Path(vec![Point { x: 0.0, y: 0.0 }, Point { x: 3.0, y: 4.0 }]);
    velo!(logger: &logger, info, "route planned", route);
    logger.close();
    Ok(())
}
