//! [`Serde`]: any `serde::Serialize` value as a nested value of an entry.
//!
//! A `serde::Serializer` that writes straight into the record through the
//! [`Encoder`]: scalars with its typed methods, sequences and maps as
//! nested `SEQ` and `MAP` values opened and closed around their items. So
//! logging a struct allocates nothing and formats nothing on the caller's
//! thread; the worker writes it as nested JSON, or compact JSON in the text
//! format, like any other map.
//!
//! The shapes are serde_json's: a struct or map is an object, a sequence or
//! tuple an array, `None` and `()` are `null`, a unit variant is its name,
//! and other variants are `{"Variant": ...}`. Map keys are strings: a
//! number, `bool` or `char` key is written as its text (`1`, `true`), a
//! unit variant as its name, and a compound key (a tuple, say) as its
//! compact JSON text, which is the one case that allocates.
//!
//! A `Serialize` impl that fails (serde's `Error::custom`) leaves no half
//! value: what it wrote is taken back and the value becomes the string
//! `<serialize error: ...>`. A value nested more than 64 containers deep
//! is cut there: the container at that depth is the string
//! `"(nested too deep)"`.

use crate::record::{tag, Reader};
use crate::value::{Encoder, Mark, Value};
use serde::ser::{self, Serialize};
use std::fmt;

/// Logs any `serde::Serialize` value as nested data (feature `serde`).
///
/// The value is serialized straight into the entry, with no intermediate
/// `String` or `serde_json::Value`; the JSON format writes it as nested
/// JSON, the text format as compact JSON (quoted as a string when it holds
/// a blank or `=`). Shapes follow serde_json: structs
/// and maps are objects, sequences and tuples arrays, `None` is `null`,
/// enum variants are externally tagged (`"Unit"`, `{"Newtype": 1}`). Map
/// keys that are not strings are written as their text (`{"1": ..}`).
///
/// # Examples
///
/// ```
/// #[derive(serde::Serialize)]
/// struct User {
///     id: u64,
///     name: String,
///     roles: Vec<&'static str>,
///     manager: Option<u64>,
/// }
///
/// let user = User { id: 42, name: "ada".into(), roles: vec!["admin"], manager: None };
/// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
/// velo::velo!(logger: &logger, info, "saved", user = velo::Serde(&user));
/// // "user":{"id":42,"name":"ada","roles":["admin"],"manager":null}
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Serde<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> Value for Serde<'_, T> {
    fn encode(&self, e: &mut Encoder<'_>) {
        if !e.is_open() {
            // This `encode` runs after its caller wrote its one value.
            return;
        }
        // Nothing of a value that failed stays (`Encoder::attempt`).
        if let Err(err) = e.attempt(|e| self.0.serialize(ValueSerializer { e })) {
            e.fmt(format_args!("<serialize error: {}>", err.0));
        }
    }
}

/// An error a `Serialize` impl raised (the only kind: writing into the
/// record cannot fail).
#[derive(Debug)]
struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error(msg.to_string())
    }
}

/// Serializes one value into the record.
struct ValueSerializer<'e, 'b> {
    e: &'e mut Encoder<'b>,
}

/// A sequence or map being written; for an enum variant, inside the
/// one-entry map that names it.
///
/// Each element, and each entry of a map, is written whole or not at all:
/// a `Serialize` impl may ignore an element's error and go on, and the
/// element's half-written bytes (a container opened and never closed)
/// would leave the record unreadable.
struct Compound<'e, 'b> {
    e: &'e mut Encoder<'b>,
    start: usize,
    /// The `{"Variant": ...}` map around it, for variants.
    variant: Option<usize>,
    /// A map's key written without its value yet: where the entry began.
    key_at: Option<Mark>,
}

impl<'e, 'b> Compound<'e, 'b> {
    fn new(e: &'e mut Encoder<'b>, tag: u8) -> Compound<'e, 'b> {
        let start = e.open(tag);
        Compound {
            e,
            start,
            variant: None,
            key_at: None,
        }
    }

    /// `{"variant": <tag> ...`
    fn variant(e: &'e mut Encoder<'b>, variant: &str, tag: u8) -> Compound<'e, 'b> {
        let outer = e.open(tag::MAP);
        e.key(variant);
        let start = e.open(tag);
        Compound {
            e,
            start,
            variant: Some(outer),
            key_at: None,
        }
    }

    fn end(mut self) -> Result<(), Error> {
        self.complete_entry();
        self.e.close(self.start);
        if let Some(outer) = self.variant {
            self.e.close(outer);
        }
        Ok(())
    }

    /// An element: written whole, or not at all.
    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.e.attempt(|e| value.serialize(ValueSerializer { e }))
    }

    /// A map's key: written whole or not at all, and remembered until its
    /// value is.
    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.complete_entry();
        let at = self.e.mark();
        self.e.attempt(|e| key.serialize(KeySerializer { e }))?;
        self.key_at = Some(at);
        Ok(())
    }

    /// A struct's field: its key and value, both or neither.
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        self.complete_entry();
        self.e.attempt(|e| {
            e.key(key);
            value.serialize(ValueSerializer { e })
        })
    }

    /// A map's value, after its key: on an error the key goes too.
    fn entry_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let Some(at) = self.key_at else {
            // A value with no key before it (a misused `SerializeMap`):
            // nothing to pair it with.
            return Err(ser::Error::custom("a map value without a key"));
        };
        // Should the value panic (and the panic be caught), its key stays
        // pending, and gets `null`.
        let result = self.value(value);
        self.key_at = None;
        if result.is_err() {
            self.e.rewind(at);
        }
        result
    }

    /// Gives a key whose value never came (a misused `SerializeMap`, or an
    /// impl that ignored its value's error) `null`, so that keys and
    /// values stay paired.
    fn complete_entry(&mut self) {
        if self.key_at.take().is_some() {
            self.e.null();
        }
    }
}

impl<'e, 'b> ser::Serializer for ValueSerializer<'e, 'b> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'e, 'b>;
    type SerializeTuple = Compound<'e, 'b>;
    type SerializeTupleStruct = Compound<'e, 'b>;
    type SerializeTupleVariant = Compound<'e, 'b>;
    type SerializeMap = Compound<'e, 'b>;
    type SerializeStruct = Compound<'e, 'b>;
    type SerializeStructVariant = Compound<'e, 'b>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.e.bool(v);
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.e.i64(v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.e.i128(v);
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.e.u64(v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.e.u128(v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.e.f32(v);
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.e.f64(v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.e.char(v);
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.e.str(v);
        Ok(())
    }

    /// Bytes are an array of numbers, as in serde_json.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let start = self.e.open(tag::SEQ);
        for &b in v {
            self.e.u64(b.into());
        }
        self.e.close(start);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.e.null();
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.e.null();
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let outer = self.e.open(tag::MAP);
        self.e.key(variant);
        value.serialize(ValueSerializer { e: &mut *self.e })?;
        self.e.close(outer);
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'e, 'b>, Error> {
        Ok(Compound::new(self.e, tag::SEQ))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Compound<'e, 'b>, Error> {
        Ok(Compound::new(self.e, tag::SEQ))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'e, 'b>, Error> {
        Ok(Compound::new(self.e, tag::SEQ))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'e, 'b>, Error> {
        Ok(Compound::variant(self.e, variant, tag::SEQ))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'e, 'b>, Error> {
        Ok(Compound::new(self.e, tag::MAP))
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'e, 'b>, Error> {
        Ok(Compound::new(self.e, tag::MAP))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'e, 'b>, Error> {
        Ok(Compound::variant(self.e, variant, tag::MAP))
    }

    /// Display output goes straight into the record, with no `String`.
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.e.display(value);
        Ok(())
    }
}

/// serde's seven compound traits for `$ty`, each a call of the type's own
/// method: `value` for an element or a tuple field, `$map_key` and
/// `entry_value` for a map's key and value, `field` for a struct's field.
macro_rules! compound_impls {
    ($ty:ident, $map_key:ident) => {
        compound_impls!(@elements $ty,
            SerializeSeq serialize_element,
            SerializeTuple serialize_element,
            SerializeTupleStruct serialize_field,
            SerializeTupleVariant serialize_field);
        compound_impls!(@fields $ty, SerializeStruct, SerializeStructVariant);

        impl ser::SerializeMap for $ty<'_, '_> {
            type Ok = ();
            type Error = Error;

            fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
                self.$map_key(key)
            }

            fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.entry_value(value)
            }

            fn end(self) -> Result<(), Error> {
                $ty::end(self)
            }
        }
    };
    (@elements $ty:ident, $($trait:ident $method:ident),*) => {$(
        impl ser::$trait for $ty<'_, '_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.value(value)
            }

            fn end(self) -> Result<(), Error> {
                $ty::end(self)
            }
        }
    )*};
    (@fields $ty:ident, $($trait:ident),*) => {$(
        impl ser::$trait for $ty<'_, '_> {
            type Ok = ();
            type Error = Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.field(key, value)
            }

            fn end(self) -> Result<(), Error> {
                $ty::end(self)
            }
        }
    )*};
}

compound_impls!(Compound, key);

/// Serializes a map key as a string: its text for scalars, its compact
/// JSON for compound keys.
struct KeySerializer<'e, 'b> {
    e: &'e mut Encoder<'b>,
}

impl KeySerializer<'_, '_> {
    fn int(self, v: impl itoa::Integer) -> Result<(), Error> {
        self.e.key(itoa::Buffer::new().format(v));
        Ok(())
    }

    /// A compound key: serialized as a value on the side, then written as
    /// the text of its compact JSON (rare, so the buffer is a new one).
    #[cold]
    fn compound(
        self,
        value: impl FnOnce(ValueSerializer<'_, '_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut encoded = Vec::new();
        value(ValueSerializer {
            e: &mut Encoder::new(&mut encoded),
        })?;
        json_key(self.e, &encoded);
        Ok(())
    }
}

/// Writes the encoded value `encoded` as a key: the text of its compact
/// JSON.
#[cold]
fn json_key(e: &mut Encoder<'_>, encoded: &[u8]) {
    let mut json = Vec::new();
    if let Some(v) = Reader::new(encoded).value() {
        crate::line::json_value(&mut json, v);
    }
    e.key(std::str::from_utf8(&json).unwrap_or_default());
}

impl<'e, 'b> ser::Serializer for KeySerializer<'e, 'b> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = KeyCompound<'e, 'b>;
    type SerializeTuple = KeyCompound<'e, 'b>;
    type SerializeTupleStruct = KeyCompound<'e, 'b>;
    type SerializeTupleVariant = KeyCompound<'e, 'b>;
    type SerializeMap = KeyCompound<'e, 'b>;
    type SerializeStruct = KeyCompound<'e, 'b>;
    type SerializeStructVariant = KeyCompound<'e, 'b>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.e.key(if v { "true" } else { "false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.e.key_fmt(format_args!("{v}"));
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.e.key_fmt(format_args!("{v}"));
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.e.key(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.e.key(v);
        Ok(())
    }

    /// Bytes are their text, invalid UTF-8 replaced.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.e.key(&String::from_utf8_lossy(v));
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.e.key("null");
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.compound(|s| s.serialize_newtype_variant(name, index, variant, value))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<KeyCompound<'e, 'b>, Error> {
        Ok(KeyCompound::new(self, tag::SEQ))
    }

    fn serialize_tuple(self, _len: usize) -> Result<KeyCompound<'e, 'b>, Error> {
        Ok(KeyCompound::new(self, tag::SEQ))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<KeyCompound<'e, 'b>, Error> {
        Ok(KeyCompound::new(self, tag::SEQ))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<KeyCompound<'e, 'b>, Error> {
        Ok(KeyCompound::variant(self, variant, tag::SEQ))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<KeyCompound<'e, 'b>, Error> {
        Ok(KeyCompound::new(self, tag::MAP))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<KeyCompound<'e, 'b>, Error> {
        Ok(KeyCompound::new(self, tag::MAP))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<KeyCompound<'e, 'b>, Error> {
        Ok(KeyCompound::variant(self, variant, tag::MAP))
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.e.key_fmt(format_args!("{value}"));
        Ok(())
    }
}

/// A compound map key being serialized on the side (see
/// [`KeySerializer::compound`]), written as its JSON text at the end.
///
/// It is written whole or not at all: after any part of it failed (an
/// error its `Serialize` impl ignored, a panic it caught) or a map key
/// inside it was left without its value, `end` fails and writes nothing.
struct KeyCompound<'e, 'b> {
    key: KeySerializer<'e, 'b>,
    encoded: Vec<u8>,
    start: usize,
    variant: Option<usize>,
    /// A part failed: the key is not written.
    failed: bool,
    /// A map key inside was written and its value not yet.
    key_pending: bool,
}

impl<'e, 'b> KeyCompound<'e, 'b> {
    fn new(key: KeySerializer<'e, 'b>, tag: u8) -> KeyCompound<'e, 'b> {
        let mut encoded = Vec::new();
        let start = Encoder::new(&mut encoded).open(tag);
        KeyCompound {
            key,
            encoded,
            start,
            variant: None,
            failed: false,
            key_pending: false,
        }
    }

    fn variant(key: KeySerializer<'e, 'b>, variant: &str, tag: u8) -> KeyCompound<'e, 'b> {
        let mut encoded = Vec::new();
        let mut e = Encoder::new(&mut encoded);
        let outer = e.open(tag::MAP);
        e.key(variant);
        let start = e.open(tag);
        KeyCompound {
            key,
            encoded,
            start,
            variant: Some(outer),
            failed: false,
            key_pending: false,
        }
    }

    /// Runs `part`, noting a failure: `failed` stays set if it returns an
    /// error or panics.
    fn part(
        &mut self,
        part: impl FnOnce(&mut Encoder<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let failed = std::mem::replace(&mut self.failed, true);
        Encoder::new(&mut self.encoded).attempt(part)?;
        self.failed = failed;
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.part(|e| value.serialize(ValueSerializer { e }))
    }

    fn field_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        if std::mem::replace(&mut self.key_pending, true) {
            self.failed = true;
        }
        self.part(|e| key.serialize(KeySerializer { e }))
    }

    fn entry_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !std::mem::replace(&mut self.key_pending, false) {
            self.failed = true;
        }
        self.value(value)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        self.part(|e| {
            e.key(key);
            value.serialize(ValueSerializer { e })
        })
    }

    fn end(mut self) -> Result<(), Error> {
        if self.failed || self.key_pending {
            return Err(ser::Error::custom(
                "a part of a map key could not be written",
            ));
        }
        let mut e = Encoder::new(&mut self.encoded);
        e.close(self.start);
        if let Some(outer) = self.variant {
            e.close(outer);
        }
        json_key(self.key.e, &self.encoded);
        Ok(())
    }
}

compound_impls!(KeyCompound, field_key);
