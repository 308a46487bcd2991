//! The error type of velo's fallible operations.

use std::fmt;
use std::io;
use std::sync::Arc;

/// What went wrong, for callers that want to react to a kind of failure.
///
/// # Examples
///
/// ```
/// use velo::{Builder, ErrorKind};
///
/// let logger = match Builder::new().filter("my_app=loud").writer(std::io::sink()).build() {
///     Err(e) if e.kind() == ErrorKind::Filter => Builder::new().writer(std::io::sink()).build()?,
///     other => other?,
/// };
/// assert!(logger.filter().enabled(velo::Level::Info, "my_app"));
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `buffer_size` was zero or not a power of two.
    BufferSize,
    /// A filter directive could not be parsed.
    Filter,
    /// The log file could not be opened.
    File,
    /// `install()` was called after a default logger was already in use
    /// (installed, or made from the environment by a first `velo!`).
    AlreadyInstalled,
    /// Writing or flushing the output failed.
    Write,
    /// The logger's output made no progress for several seconds: `sync`
    /// or `close` stopped waiting for it.
    Timeout,
    /// An output's address or settings are invalid (a syslog address that
    /// does not parse, an OTLP endpoint that is not `http://`).
    Output,
}

/// An error from building, installing or syncing a logger.
///
/// # Examples
///
/// ```
/// let err = velo::Builder::new().buffer_size(1000).build().unwrap_err();
/// assert_eq!(err.kind(), velo::ErrorKind::BufferSize);
/// assert!(err.to_string().contains("power of two"));
/// ```
#[derive(Clone, Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Arc<io::Error>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn io(kind: ErrorKind, message: impl Into<String>, source: io::Error) -> Error {
        Error {
            kind,
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The kind of failure.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = "my_app=loud".parse::<velo::Filter>().unwrap_err();
    /// assert_eq!(err.kind(), velo::ErrorKind::Filter);
    /// ```
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The underlying I/O error's kind, for write and file errors.
    ///
    /// # Examples
    ///
    /// ```
    /// // A file where the log file's directory should be.
    /// let plain = std::env::temp_dir().join(format!("velo-doc-io-kind-{}", std::process::id()));
    /// std::fs::write(&plain, "")?;
    /// let err = velo::Builder::new().file(plain.join("app.log")).build().unwrap_err();
    /// assert_eq!(err.kind(), velo::ErrorKind::File);
    /// assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotADirectory));
    /// # std::fs::remove_file(&plain)?;
    ///
    /// let err = "my_app=loud".parse::<velo::Filter>().unwrap_err();
    /// assert_eq!(err.io_kind(), None); // not an I/O error
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        self.source.as_ref().map(|e| e.kind())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = e.io_kind().unwrap_or(io::ErrorKind::Other);
        io::Error::new(kind, e)
    }
}
