//! Reading what velo's syslog output sends: RFC 5424 messages and RFC 6587
//! octet-counted frames, parsed strictly so a malformed header fails the
//! test.

use serde_json::{Map, Value};

/// One RFC 5424 message, split into its header fields and MSG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub pri: u8,
    pub version: String,
    pub timestamp: String,
    pub hostname: String,
    pub app_name: String,
    pub procid: String,
    pub msgid: String,
    pub structured_data: String,
    pub msg: String,
}

impl Message {
    /// Parses `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID
    /// SP MSGID SP SD SP MSG`.
    ///
    /// # Panics
    ///
    /// When `bytes` is not such a message (a test failure).
    pub fn parse(bytes: &[u8]) -> Message {
        let text = std::str::from_utf8(bytes).expect("a syslog message is UTF-8");
        let rest = text.strip_prefix('<').expect("starts with <PRI>");
        let (pri, rest) = rest.split_once('>').expect("<PRI> is closed");
        let mut parts = rest.splitn(8, ' ');
        let mut next = |what: &str| {
            parts
                .next()
                .unwrap_or_else(|| panic!("no {what} in {text:?}"))
                .to_owned()
        };
        let message = Message {
            pri: pri.parse().expect("PRI is a number"),
            version: next("VERSION"),
            timestamp: next("TIMESTAMP"),
            hostname: next("HOSTNAME"),
            app_name: next("APP-NAME"),
            procid: next("PROCID"),
            msgid: next("MSGID"),
            structured_data: next("STRUCTURED-DATA"),
            msg: next("MSG"),
        };
        for field in [
            &message.timestamp,
            &message.hostname,
            &message.app_name,
            &message.procid,
        ] {
            assert!(
                !field.is_empty() && field.bytes().all(|b| b.is_ascii_graphic()),
                "header field {field:?} is not PRINTUSASCII"
            );
        }
        message
    }

    /// The facility (PRI / 8).
    pub fn facility(&self) -> u8 {
        self.pri / 8
    }

    /// The severity (PRI % 8).
    pub fn severity(&self) -> u8 {
        self.pri % 8
    }

    /// MSG parsed as a JSON line.
    pub fn json(&self) -> Map<String, Value> {
        crate::parse_line(&self.msg)
    }
}

/// Splits a TCP stream of octet-counted frames (`LEN SP FRAME`) into its
/// frames; returns them and the bytes of an incomplete last frame.
///
/// # Panics
///
/// When the stream is not octet-counted.
pub fn octet_frames(mut stream: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut frames = Vec::new();
    loop {
        let Some(space) = stream.iter().position(|&b| b == b' ') else {
            return (frames, stream);
        };
        let len: usize = std::str::from_utf8(&stream[..space])
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| panic!("not an octet count: {:?}", &stream[..space]));
        if stream.len() < space + 1 + len {
            return (frames, stream);
        }
        frames.push(&stream[space + 1..space + 1 + len]);
        stream = &stream[space + 1 + len..];
    }
}

/// The host's name as the kernel has it (what `gethostname` returns).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("the host name")
        .trim()
        .to_owned()
}
