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

    /// The underlying I/O error, for write and file errors: its message
    /// ends this error's (so [`source`](std::error::Error::source) skips
    /// it, and a printer of the chain, `anyhow`'s `{:#}` among them, shows
    /// each message once); here for its OS error code.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir();
    /// let err = velo::Builder::new().file(&dir).build().unwrap_err();
    /// let io = err.io_error().expect("an I/O error");
    /// assert!(err.to_string().ends_with(&io.to_string()));
    /// assert!(std::error::Error::source(&err).is_none());
    /// ```
    #[must_use]
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_deref()
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

/// The I/O error's own message ends this error's: the source is what is
/// under it, so that each message of the chain is shown once (the API
/// guidelines' rule). [`Error::io_error`] gives the I/O error itself.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref()?.source()
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = e.io_kind().unwrap_or(io::ErrorKind::Other);
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    /// The messages a printer of the chain shows, `anyhow`'s `{:#}` as it
    /// does: each error's `Display`, then its source's, and so on.
    fn chain(e: &dyn std::error::Error) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut next = e.source();
        while let Some(e) = next {
            out.push(e.to_string());
            next = e.source();
        }
        out
    }

    #[test]
    fn a_printer_of_the_chain_shows_each_message_once() {
        let io = io::Error::other(Layer(
            "disk says no",
            Some(Box::new(Layer("sector 7", None))),
        ));
        let e = Error::io(ErrorKind::Write, "writing log output failed", io);
        assert_eq!(
            chain(&e),
            ["writing log output failed: disk says no", "sector 7"]
        );
        assert_eq!(
            e.io_error().map(ToString::to_string).as_deref(),
            Some("disk says no")
        );

        let e = Error::io(
            ErrorKind::File,
            "cannot open log file `x`",
            io::ErrorKind::IsADirectory.into(),
        );
        assert_eq!(chain(&e).len(), 1, "{:?}", chain(&e));
        assert_eq!(e.io_kind(), Some(io::ErrorKind::IsADirectory));
    }
}
