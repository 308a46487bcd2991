//! The protobuf wire format of OTLP logs, written by hand: the few message
//! types a logger sends, without a code generator or a dependency.
//!
//! Field numbers are those of opentelemetry-proto's
//! `collector/logs/v1/logs_service.proto`, `logs/v1/logs.proto`,
//! `common/v1/common.proto` and `resource/v1/resource.proto`:
//!
//! ```text
//! ExportLogsServiceRequest { 1: ResourceLogs {
//!     1: Resource { 1: KeyValue* }                          encoded once
//!     2: ScopeLogs {
//!         1: InstrumentationScope { 1: name, 2: version }   encoded once
//!         2: LogRecord*                                     appended one by one
//! } } }
//! LogRecord { 1: time_unix_nano fixed64, 2: severity_number, 3: severity_text,
//!             5: body AnyValue, 6: attributes KeyValue*, 11: observed_time_unix_nano fixed64 }
//! KeyValue  { 1: key, 2: value AnyValue }
//! AnyValue  { oneof: 1 string, 2 bool, 3 int64, 4 double, 5 ArrayValue { 1: AnyValue* },
//!             6 KeyValueList { 1: KeyValue* }, 7 bytes }
//! ```
//!
//! A [`Batch`] keeps its records behind a reserved prefix; when it is sent,
//! the envelope (whose lengths are known only then) is written right-aligned
//! into that prefix, so the request is one contiguous slice and the records
//! are never copied.
//!
//! A sub-message whose length is not known in advance is opened with a
//! one-byte length placeholder and closed by patching it ([`close`]): most
//! attributes are shorter than 128 bytes and fit it; a longer one is moved
//! right by the extra length bytes once.
//!
//! Two traps of the format: an `AnyValue` member is part of a `oneof`, so
//! it is written even when it holds the default (`false`, `0`, `""`), or it
//! would decode as an empty value; and `int_value` is `int64`, not
//! `sint64`: a negative number is its two's complement in ten bytes.

use crate::number;
use crate::record::{Reader, Val};
use crate::timestamp;

const VARINT: u32 = 0;
const I64: u32 = 1;
const LEN: u32 = 2;
const I32: u32 = 5;

#[inline]
pub(super) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Bytes [`put_varint`] takes for `v`.
#[inline]
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[inline]
fn put_key(buf: &mut Vec<u8>, field: u32, wire: u32) {
    put_varint(buf, u64::from((field << 3) | wire));
}

#[inline]
pub(super) fn put_bytes(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(buf, field, LEN);
    put_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

#[inline]
fn put_fixed64(buf: &mut Vec<u8>, field: u32, v: u64) {
    put_key(buf, field, I64);
    buf.extend_from_slice(&v.to_le_bytes());
}

#[inline]
fn put_uint(buf: &mut Vec<u8>, field: u32, v: u64) {
    put_key(buf, field, VARINT);
    put_varint(buf, v);
}

/// Opens a length-delimited field: its key and a one-byte placeholder for
/// the length. Returns where the contents start, for [`close`].
#[inline]
pub(super) fn open(buf: &mut Vec<u8>, field: u32) -> usize {
    put_key(buf, field, LEN);
    buf.push(0);
    buf.len()
}

/// Closes a field opened at `start`, writing its length; contents of 128
/// bytes or more move right by the length's extra bytes.
#[inline]
pub(super) fn close(buf: &mut Vec<u8>, start: usize) {
    let len = buf.len() - start;
    if len < 0x80 {
        buf[start - 1] = len as u8;
        return;
    }
    close_long(buf, start, len);
}

#[cold]
fn close_long(buf: &mut Vec<u8>, start: usize, len: usize) {
    let n = varint_len(len as u64);
    let end = buf.len();
    buf.resize(end + n - 1, 0);
    buf.copy_within(start..end, start + n - 1);
    let mut v = len as u64;
    for byte in &mut buf[start - 1..start - 1 + n] {
        *byte = (v as u8 & 0x7f) | if v >= 0x80 { 0x80 } else { 0 };
        v >>= 7;
    }
}

// ---- values ----------------------------------------------------------------

/// Appends the member of an `AnyValue` for a field's value:
///
/// - integers that fit `int64` as `int_value`; a `u64` above `i64::MAX` and
///   every `u128`/`i128` as `string_value` in decimal (OTLP has no wider
///   integer, and a double would round it);
/// - `f64` as `double_value`, `f32` as the `f64` nearest its shortest
///   decimal form (`0.1f32` is `0.1`, not `0.10000000149`);
/// - `bool`, strings as they are; a `SystemTime` as an RFC 3339 string;
/// - sequences as `array_value`, maps as `kvlist_value`;
/// - `None` (null) as no member at all: OTLP's empty value.
pub(super) fn put_any(buf: &mut Vec<u8>, v: Val<'_>) {
    match v {
        Val::U64(n) => match i64::try_from(n) {
            Ok(i) => put_uint(buf, 3, i as u64),
            Err(_) => put_decimal(buf, n),
        },
        Val::I64(i) => put_uint(buf, 3, i as u64),
        Val::U128(n) => put_decimal(buf, n),
        Val::I128(n) => put_decimal(buf, n),
        Val::F64(f) => put_fixed64(buf, 4, f.to_bits()),
        Val::F32(f) => put_fixed64(buf, 4, f32_as_f64(f).to_bits()),
        Val::Bool(b) => put_uint(buf, 2, u64::from(b)),
        Val::Null => {}
        Val::Str(s) => put_bytes(buf, 1, s.as_bytes()),
        Val::Time(secs, nanos) => {
            let s = open(buf, 1);
            timestamp::write_system_time(buf, secs, nanos);
            close(buf, s);
        }
        Val::Seq(items) => {
            let array = open(buf, 5);
            let mut r = Reader::new(items);
            while let Some(item) = r.value() {
                let any = open(buf, 1);
                put_any(buf, item);
                close(buf, any);
            }
            close(buf, array);
        }
        Val::Map(entries) => {
            let list = open(buf, 6);
            let mut r = Reader::new(entries);
            while let Some((key, value)) = r.field() {
                put_key_value(buf, 1, key, value);
            }
            close(buf, list);
        }
    }
}

fn put_decimal<I: itoa::Integer>(buf: &mut Vec<u8>, n: I) {
    let s = open(buf, 1);
    number::int(buf, n);
    close(buf, s);
}

/// The `f64` whose shortest decimal form is that of `f`.
fn f32_as_f64(f: f32) -> f64 {
    if !f.is_finite() {
        return f64::from(f);
    }
    let mut text = Vec::with_capacity(24);
    number::write_f32(&mut text, f);
    std::str::from_utf8(&text)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(f64::from(f))
}

/// Appends `KeyValue { key, value }` as field `field` of its parent.
pub(super) fn put_key_value(buf: &mut Vec<u8>, field: u32, key: &str, value: Val<'_>) {
    let kv = open(buf, field);
    put_bytes(buf, 1, key.as_bytes());
    let any = open(buf, 2);
    put_any(buf, value);
    close(buf, any);
    close(buf, kv);
}

// ---- log records -------------------------------------------------------------

/// The fields of a `LogRecord` before its body and attributes.
pub(super) struct RecordHead {
    pub(super) time_unix_nano: u64,
    pub(super) observed_time_unix_nano: u64,
    pub(super) severity_number: u8,
    pub(super) severity_text: &'static str,
}

/// Starts a `LogRecord` (field 2 of `ScopeLogs`); the caller appends the
/// body ([`open_body`]) and attributes ([`put_key_value`] with field
/// [`ATTRIBUTE`]), then calls [`close`] with the returned start.
pub(super) fn open_record(buf: &mut Vec<u8>, head: &RecordHead) -> usize {
    let record = open(buf, 2);
    put_fixed64(buf, 1, head.time_unix_nano);
    put_uint(buf, 2, u64::from(head.severity_number));
    put_bytes(buf, 3, head.severity_text.as_bytes());
    put_fixed64(buf, 11, head.observed_time_unix_nano);
    record
}

/// The `attributes` field of a `LogRecord`.
pub(super) const ATTRIBUTE: u32 = 6;

/// Writes a field named `trace_id` or `span_id` whose value is a W3C id in
/// hex (32 or 16 digits, either case, not all zeros) as the `LogRecord`'s
/// own `trace_id` (field 9) or `span_id` (field 10), the bytes a backend
/// links the record to its trace by; whether it did.
pub(super) fn put_trace_context(buf: &mut Vec<u8>, key: &str, value: Val<'_>) -> bool {
    let (field, len) = match key {
        "trace_id" => (9, 16),
        "span_id" => (10, 8),
        _ => return false,
    };
    let Val::Str(hex) = value else {
        return false;
    };
    let mut id = [0u8; 16];
    if hex.len() != 2 * len || !hex_decode(hex.as_bytes(), &mut id[..len]) {
        return false;
    }
    if id.iter().all(|&b| b == 0) {
        return false;
    }
    put_bytes(buf, field, &id[..len]);
    true
}

/// Decodes `hex` (two digits a byte) into `out`; whether every digit was
/// one.
fn hex_decode(hex: &[u8], out: &mut [u8]) -> bool {
    let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    for (pair, byte) in hex.chunks_exact(2).zip(out) {
        match (digit(pair[0]), digit(pair[1])) {
            (Some(hi), Some(lo)) => *byte = hi << 4 | lo,
            _ => return false,
        }
    }
    true
}

/// Opens the body of a `LogRecord` as a string `AnyValue`; the caller
/// appends the UTF-8 text and closes both returned starts, inner first.
pub(super) fn open_body(buf: &mut Vec<u8>) -> (usize, usize) {
    let body = open(buf, 5);
    let text = open(buf, 1);
    (body, text)
}

// ---- batches -----------------------------------------------------------------

/// Log records on their way to the collector, with the request's envelope.
#[derive(Debug)]
pub(crate) struct Batch {
    /// `1: Resource {..}`, a whole field of `ResourceLogs`.
    resource: Vec<u8>,
    /// `1: InstrumentationScope {..}`, a whole field of `ScopeLogs`.
    scope: Vec<u8>,
    /// `prefix` bytes reserved for the envelope, then the records, each a
    /// whole `2: LogRecord` field.
    pub(super) buf: Vec<u8>,
    prefix: usize,
    /// Records in the batch.
    pub(super) count: u64,
}

/// Room for the envelope's two keys and two lengths of up to ten bytes.
const ENVELOPE_SLACK: usize = 2 + 2 * 10;

impl Batch {
    /// An empty batch for the resource with attributes `resource` and the
    /// instrumentation scope `scope_name`, `scope_version`.
    pub(super) fn new(
        resource: &[(&str, Val<'_>)],
        scope_name: &str,
        scope_version: &str,
    ) -> Batch {
        let mut res = Vec::new();
        let r = open(&mut res, 1);
        for (key, value) in resource {
            put_key_value(&mut res, 1, key, *value);
        }
        close(&mut res, r);
        let mut scope = Vec::new();
        let s = open(&mut scope, 1);
        put_bytes(&mut scope, 1, scope_name.as_bytes());
        put_bytes(&mut scope, 2, scope_version.as_bytes());
        close(&mut scope, s);
        let prefix = res.len() + scope.len() + ENVELOPE_SLACK;
        Batch {
            resource: res,
            scope,
            buf: vec![0; prefix],
            prefix,
            count: 0,
        }
    }

    /// An empty batch with the same envelope (and no capacity reserved).
    pub(super) fn empty_like(&self) -> Batch {
        Batch {
            resource: self.resource.clone(),
            scope: self.scope.clone(),
            buf: vec![0; self.prefix],
            prefix: self.prefix,
            count: 0,
        }
    }

    /// Bytes of records in the batch.
    pub(super) fn records_len(&self) -> usize {
        self.buf.len() - self.prefix
    }

    pub(super) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Forgets the records, keeping the buffer.
    pub(super) fn clear(&mut self) {
        self.buf.truncate(self.prefix);
        self.count = 0;
    }

    /// Writes the envelope: everything before the first record.
    fn envelope(&self, head: &mut Vec<u8>) {
        let scope_logs = (self.scope.len() + self.records_len()) as u64;
        // Its key (field 2, length-delimited) is one byte.
        let scope_logs_field = 1 + varint_len(scope_logs) as u64 + scope_logs;
        let resource_logs = self.resource.len() as u64 + scope_logs_field;
        put_key(head, 1, LEN);
        put_varint(head, resource_logs);
        head.extend_from_slice(&self.resource);
        put_key(head, 2, LEN);
        put_varint(head, scope_logs);
        head.extend_from_slice(&self.scope);
    }

    /// The whole `ExportLogsServiceRequest`, the envelope written in place.
    pub(super) fn request(&mut self) -> &[u8] {
        let mut head = Vec::with_capacity(self.prefix);
        self.envelope(&mut head);
        let at = self.prefix - head.len();
        self.buf[at..self.prefix].copy_from_slice(&head);
        &self.buf[at..]
    }
}

// ---- the response ------------------------------------------------------------

/// `ExportLogsServiceResponse.partial_success`, when present:
/// `(rejected_log_records, error_message)`. Unknown fields are skipped;
/// `None` when it is absent or the bytes are not a response.
pub(super) fn partial_success(response: &[u8]) -> Option<(u64, String)> {
    let mut found = None;
    let mut r = Wire(response);
    while !r.0.is_empty() {
        let (field, wire) = r.key()?;
        if field == 1 && wire == LEN {
            let mut inner = Wire(r.len_delimited()?);
            let (mut rejected, mut message) = (0, String::new());
            while !inner.0.is_empty() {
                match inner.key()? {
                    (1, VARINT) => rejected = inner.varint()?,
                    (2, LEN) => {
                        message = String::from_utf8_lossy(inner.len_delimited()?).into_owned();
                    }
                    (_, wire) => inner.skip(wire)?,
                }
            }
            found = Some((rejected, message));
        } else {
            r.skip(wire)?;
        }
    }
    found
}

/// A reader of the wire format, for responses (and the tests).
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = *self.0.get(i)?;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.0 = &self.0[i + 1..];
                return Some(v);
            }
        }
        None
    }

    fn key(&mut self) -> Option<(u32, u32)> {
        let k = self.varint()?;
        Some(((k >> 3) as u32, (k & 7) as u32))
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn len_delimited(&mut self) -> Option<&'a [u8]> {
        let n = self.varint()?;
        self.take(usize::try_from(n).ok()?)
    }

    fn skip(&mut self, wire: u32) -> Option<()> {
        match wire {
            VARINT => self.varint().map(drop),
            I64 => self.take(8).map(drop),
            LEN => self.len_delimited().map(drop),
            I32 => self.take(4).map(drop),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_len_matches_the_encoding() {
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v), "{v}");
            assert_eq!(Wire(&b).varint(), Some(v));
        }
    }

    #[test]
    fn close_moves_long_contents() {
        for n in [0usize, 1, 127, 128, 300, 16_383, 16_384, 3_000_000] {
            let mut buf = vec![0xAA];
            let s = open(&mut buf, 1);
            buf.extend(std::iter::repeat_n(7u8, n));
            close(&mut buf, s);
            let mut r = Wire(&buf[1..]);
            assert_eq!(r.key(), Some((1, LEN)));
            let body = r.len_delimited().unwrap();
            assert_eq!(body.len(), n);
            assert!(body.iter().all(|&b| b == 7));
            assert!(r.0.is_empty());
        }
    }

    #[test]
    fn values_encode_as_any_value_members() {
        let cases: [(Val<'_>, &[u8]); 10] = [
            (Val::Bool(false), &[0x10, 0]),
            (Val::Bool(true), &[0x10, 1]),
            (Val::U64(0), &[0x18, 0]),
            (Val::U64(300), &[0x18, 0xAC, 0x02]),
            (
                Val::I64(-1),
                &[
                    0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
                ],
            ),
            (Val::U64(u64::MAX), b"\x0a\x1418446744073709551615"),
            (Val::U128(7), b"\x0a\x017"),
            (Val::I128(-7), b"\x0a\x02-7"),
            (Val::Str(""), &[0x0a, 0]),
            (Val::Null, &[]),
        ];
        for (value, expected) in cases {
            let mut buf = Vec::new();
            put_any(&mut buf, value);
            assert_eq!(buf, expected, "{value:?}");
        }
        let mut buf = Vec::new();
        put_any(&mut buf, Val::F32(0.1));
        assert_eq!(buf[0], 0x21);
        assert_eq!(f64::from_le_bytes(buf[1..].try_into().unwrap()), 0.1);
        let mut buf = Vec::new();
        put_any(&mut buf, Val::Time(1, 5));
        let mut text = Vec::new();
        timestamp::write_system_time(&mut text, 1, 5);
        assert_eq!(buf[..2], [0x0a, text.len() as u8]);
        assert_eq!(buf[2..], text[..]);
    }

    #[test]
    fn the_request_is_the_envelope_then_the_records() {
        let mut batch = Batch::new(&[("service.name", Val::Str("svc"))], "velo", "1");
        let head = RecordHead {
            time_unix_nano: 1,
            observed_time_unix_nano: 2,
            severity_number: 9,
            severity_text: "INFO",
        };
        for _ in 0..3 {
            let r = open_record(&mut batch.buf, &head);
            close(&mut batch.buf, r);
            batch.count += 1;
        }
        let records = batch.buf[batch.prefix..].to_vec();
        let request = batch.request().to_vec();
        let mut r = Wire(&request);
        assert_eq!(r.key(), Some((1, LEN)));
        let mut resource_logs = Wire(r.len_delimited().unwrap());
        assert!(r.0.is_empty());
        assert_eq!(resource_logs.key(), Some((1, LEN)));
        let resource = resource_logs.len_delimited().unwrap();
        assert!(resource.windows(12).any(|w| w == b"service.name"));
        assert_eq!(resource_logs.key(), Some((2, LEN)));
        let mut scope_logs = Wire(resource_logs.len_delimited().unwrap());
        assert!(resource_logs.0.is_empty());
        assert_eq!(scope_logs.key(), Some((1, LEN)));
        assert_eq!(
            scope_logs.len_delimited().unwrap(),
            b"\x0a\x04velo\x12\x011"
        );
        assert_eq!(scope_logs.0, &records[..]);
    }

    #[test]
    fn partial_success_is_read_and_unknown_fields_skipped() {
        // partial_success { rejected_log_records: 3, error_message: "old" }, then
        // an unknown fixed32 field.
        let response = b"\x0a\x07\x08\x03\x12\x03old\x15\x01\x02\x03\x04";
        assert_eq!(partial_success(response), Some((3, "old".to_owned())));
        assert_eq!(partial_success(b""), None);
        assert_eq!(partial_success(b"\x0a\x05\x08"), None);
    }
}
