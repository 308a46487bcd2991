//! Helpers for velo's integration tests: writers that capture, fail or
//! stall, and parsing of captured JSON lines.

#[cfg(feature = "otlp")]
pub mod otlp;

use serde_json::{Map, Value};

#[cfg(feature = "rsyslog")]
pub mod rsyslog;
#[cfg(unix)]
pub mod signals;
pub mod syslog;
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A writer into a [`Capture`] that fails ("disk on fire") while `broken`
/// is set.
#[derive(Debug)]
pub struct Switch {
    pub broken: Arc<std::sync::atomic::AtomicBool>,
    pub out: Capture,
}

impl Write for Switch {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(io::Error::other("disk on fire"));
        }
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer whose output the test can read; clones share the buffer.
#[derive(Clone, Default, Debug)]
pub struct Capture {
    bytes: Arc<Mutex<Vec<u8>>>,
    /// Number of `flush` calls seen.
    flushes: Arc<AtomicUsize>,
}

impl Capture {
    /// An empty capture.
    pub fn new() -> Capture {
        Capture::default()
    }

    /// Everything written so far, as UTF-8.
    pub fn text(&self) -> String {
        let bytes = self.bytes.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8(bytes.clone()).expect("velo writes UTF-8")
    }

    /// The complete lines written so far.
    pub fn lines(&self) -> Vec<String> {
        let text = self.text();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "output ends mid-line: {text:?}"
        );
        text.lines().map(str::to_owned).collect()
    }

    /// Every line parsed as a JSON object, in order.
    pub fn entries(&self) -> Vec<Map<String, Value>> {
        self.lines().iter().map(|l| parse_line(l)).collect()
    }

    /// The `msg` of every entry, in order.
    pub fn msgs(&self) -> Vec<String> {
        self.entries()
            .iter()
            .map(|e| e["msg"].as_str().expect("every entry has a msg").to_owned())
            .collect()
    }

    /// Number of flushes seen.
    pub fn flushes(&self) -> usize {
        self.flushes.load(Ordering::SeqCst)
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Parses one output line as a JSON object, keeping key order.
///
/// # Panics
///
/// When the line is not a JSON object: that is a test failure.
pub fn parse_line(line: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => map,
        Ok(other) => panic!("line is not a JSON object: {other}"),
        Err(e) => panic!("line is not valid JSON ({e}): {line:?}"),
    }
}

/// The keys of an entry, in order.
pub fn keys(entry: &Map<String, Value>) -> Vec<&str> {
    entry.keys().map(String::as_str).collect()
}

/// A writer that fails its first `failures` writes, then works.
#[derive(Clone, Debug)]
pub struct Flaky {
    remaining: Arc<AtomicUsize>,
    inner: Capture,
}

impl Flaky {
    /// Fails `failures` times, then writes into `inner`.
    pub fn new(failures: usize, inner: Capture) -> Flaky {
        Flaky {
            remaining: Arc::new(AtomicUsize::new(failures)),
            inner,
        }
    }

    fn fail(&self) -> io::Result<()> {
        let left = self.remaining.load(Ordering::SeqCst);
        if left > 0 {
            self.remaining.store(left - 1, Ordering::SeqCst);
            return Err(io::Error::other("disk on fire"));
        }
        Ok(())
    }
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.fail()?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that sleeps on every write, so the queue fills up.
#[derive(Clone, Debug)]
pub struct Slow {
    delay: Duration,
    inner: Capture,
}

impl Slow {
    /// Sleeps `delay` per write, then writes into `inner`.
    pub fn new(delay: Duration, inner: Capture) -> Slow {
        Slow { delay, inner }
    }
}

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(self.delay);
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer whose writes wait until it is opened (a writer stuck for good
/// until then: a full pipe, a hung filesystem), then go to `inner`.
/// Clones share the gate.
#[derive(Clone, Debug, Default)]
pub struct Held {
    /// (a write has begun, open)
    state: Arc<(Mutex<(bool, bool)>, std::sync::Condvar)>,
    inner: Capture,
}

impl Held {
    /// A closed gate in front of `inner`.
    pub fn new(inner: Capture) -> Held {
        Held {
            state: Arc::default(),
            inner,
        }
    }

    /// Lets every write through, now and from now on.
    pub fn open(&self) {
        let (lock, cv) = &*self.state;
        lock.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
        cv.notify_all();
    }

    /// Whether a write has begun (and, unless opened, is waiting).
    pub fn entered(&self) -> bool {
        self.state
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// Waits until a write has begun; panics after [`CHILD_TIMEOUT`], so a
    /// test in the test process itself cannot hang on it.
    pub fn wait_entered(&self) {
        let (lock, cv) = &*self.state;
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = cv
            .wait_timeout_while(guard, CHILD_TIMEOUT, |s| !s.0)
            .unwrap_or_else(PoisonError::into_inner);
        assert!(guard.0, "no write began");
    }
}

impl Write for Held {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (lock, cv) = &*self.state;
        let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 = true;
        cv.notify_all();
        let _open = cv
            .wait_while(state, |s| !s.1)
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A JSON logger writing into a fresh capture.
pub fn json_logger(builder: velo::Builder) -> (velo::Logger, Capture) {
    capture_logger(builder.format(velo::Format::Json))
}

/// A text-format logger writing into a fresh capture.
pub fn text_logger(builder: velo::Builder) -> (velo::Logger, Capture) {
    capture_logger(builder.format(velo::Format::Text))
}

fn capture_logger(builder: velo::Builder) -> (velo::Logger, Capture) {
    let capture = Capture::new();
    let logger = builder
        .writer(capture.clone())
        .build()
        .expect("valid configuration");
    (logger, capture)
}

/// Environment variable naming the child scenario a re-executed test binary
/// should run.
const CHILD_ENV: &str = "VELO_TEST_CHILD";

/// Whether this process is the child started by [`run_child`] for `name`.
/// Child scenarios are `#[test]` functions that return at once otherwise.
pub fn is_child(name: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == name)
}

/// Runs the test `name` of the current test binary in a child process with
/// `envs` set (and `VELO_LOG`, `RUST_LOG`, `VELO_FORMAT`, `NO_COLOR` cleared
/// unless given), returning its output.
pub fn run_child(name: &str, envs: &[(&str, &str)]) -> std::process::Output {
    child_command(name, envs)
        .output()
        .expect("the test binary runs")
}

fn child_command(name: &str, envs: &[(&str, &str)]) -> std::process::Command {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = std::process::Command::new(exe);
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name);
    for var in [
        "VELO_LOG",
        "RUST_LOG",
        "VELO_FORMAT",
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "RUST_LOG_STYLE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// How long a child scenario that could hang gets before it is taken for
/// hung: far more than any of them needs on a loaded machine, so that only
/// a real hang reaches it.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// [`run_child`] for a scenario that could hang: a child still running
/// after `timeout` is killed (with every process it forked) and the test
/// fails, showing what the child wrote until then.
///
/// # Panics
///
/// When the child does not exit within `timeout`.
pub fn run_child_within(
    name: &str,
    envs: &[(&str, &str)],
    timeout: Duration,
) -> std::process::Output {
    run_within(child_command(name, envs), timeout)
}

/// Runs `cmd` as [`run_child_within`] runs a child scenario: a process
/// still running after `timeout` is killed (with every process it forked)
/// and the test fails, showing what it wrote until then.
///
/// # Panics
///
/// When the process does not exit within `timeout`.
pub fn run_within(cmd: std::process::Command, timeout: Duration) -> std::process::Output {
    run_paced(cmd, timeout, Duration::ZERO)
}

/// [`run_within`], reading the process's stdout and stderr slowly: a pause
/// of `pause` after each read of at most 8 KiB, so that a process writing
/// more than that pace allows is held up in its writes, as by a slow
/// reader of its pipes.
///
/// # Panics
///
/// When the process does not exit within `timeout`.
pub fn run_paced(
    mut cmd: std::process::Command,
    timeout: Duration,
    pause: Duration,
) -> std::process::Output {
    use std::process::Stdio;
    use std::time::Instant;
    let name = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so that a process the scenario forked dies
    // with it and does not keep the pipes open.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().expect("the test binary runs");
    // Read both pipes as the child writes, so a full pipe never stalls it.
    let (done_tx, done) = std::sync::mpsc::channel();
    let read = |pipe: Option<Box<dyn io::Read + Send>>| {
        let got = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut pipe) = pipe {
            let (got, done_tx) = (Arc::clone(&got), done_tx.clone());
            std::thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    got.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend_from_slice(&chunk[..n]);
                    if !pause.is_zero() {
                        std::thread::sleep(pause);
                    }
                }
                let _ = done_tx.send(());
            });
        }
        got
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break Some(status);
        }
        if start.elapsed() >= timeout {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if status.is_none() {
        kill_group(&mut child);
    }
    // The pipes reach their end when the child and what it forked are
    // gone; wait for both readers, but not for a process that left the
    // group and still holds a pipe.
    let readers_done = Instant::now() + Duration::from_secs(5);
    for _ in 0..2 {
        let left = readers_done.saturating_duration_since(Instant::now());
        if done.recv_timeout(left).is_err() {
            break;
        }
    }
    let take = |got: &Arc<Mutex<Vec<u8>>>| {
        std::mem::take(&mut *got.lock().unwrap_or_else(PoisonError::into_inner))
    };
    let (stdout, stderr) = (take(&stdout), take(&stderr));
    let Some(status) = status else {
        panic!(
            "`{name}` did not exit within {timeout:?} (hung) and was killed\n\
             --- stdout ---\n{}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr),
        );
    };
    std::process::Output {
        status,
        stdout,
        stderr,
    }
}

/// Kills a child started by [`run_child_within`] and its process group.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negated pid signals the process group the
        // child leads (it was started with `process_group(0)`); it touches
        // no memory of this process.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The JSON entries among a child's stderr lines (the test harness prints
/// other lines too).
pub fn json_lines(output: &[u8]) -> Vec<Map<String, Value>> {
    String::from_utf8_lossy(output)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(parse_line)
        .collect()
}

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when dropped.
#[derive(Debug)]
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// Creates `velo-<name>-<pid>-<n>` in the temporary directory.
    pub fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("velo-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temporary directory");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether `file_name` is a rotated file of the rolling log `live`:
/// `<live>.YYYYMMDDTHHMMSS.NNNNNN`.
pub fn is_rotated_name(file_name: &str, live: &str) -> bool {
    let Some(suffix) = file_name
        .strip_prefix(live)
        .and_then(|s| s.strip_prefix('.'))
    else {
        return false;
    };
    let b = suffix.as_bytes();
    b.len() == 22
        && b[8] == b'T'
        && b[15] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || i == 15 || c.is_ascii_digit())
}

/// The files of the rolling log `live` in `dir`, each with its text: the
/// rotated files sorted by name (which is rotation order), then the live
/// file if it exists.
pub fn rolling_files(dir: &std::path::Path, live: &str) -> Vec<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the log directory")
        .map(|e| e.expect("a directory entry").file_name())
        .map(|n| n.into_string().expect("a UTF-8 name"))
        .filter(|n| is_rotated_name(n, live))
        .collect();
    names.sort();
    if dir.join(live).exists() {
        names.push(live.to_owned());
    }
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).expect("a UTF-8 log file");
            (n, text)
        })
        .collect()
}

/// The body of a test whose scenario could hang: runs `scenario` in a child
/// process (this test binary again, running only the test `name`, which
/// must be the calling test), and fails the test if the child fails or is
/// still running after [`CHILD_TIMEOUT`].
pub fn in_child(name: &str, scenario: impl FnOnce()) {
    if is_child(name) {
        return scenario();
    }
    assert_child_passed(&run_child_within(name, &[], CHILD_TIMEOUT));
}

/// Asserts that a child's scenario passed, showing what it printed if not.
pub fn assert_child_passed(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "the child failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The keys of a JSON line's top-level object as written, duplicates
/// included (parsing into a map would hide a key written twice), each
/// unescaped.
///
/// # Panics
///
/// When the line is not a JSON object: that is a test failure.
pub fn raw_keys(line: &str) -> Vec<String> {
    parse_line(line);
    let bytes = line.as_bytes();
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b'"' => {
                let start = i;
                i += 1;
                while bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let rest = line[i + 1..].trim_start();
                if depth == 1 && rest.starts_with(':') {
                    let key: String =
                        serde_json::from_str(&line[start..=i]).expect("a JSON string");
                    keys.push(key);
                }
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

/// The keys of a text-format line's `key=value` pairs, in order: every
/// word after the level that has a `=` outside quotes before any quote.
/// The message must hold no `=`.
pub fn text_keys(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in line.chars() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == ' ' && !quoted {
            words.push(std::mem::take(&mut word));
            continue;
        }
        word.push(c);
    }
    words.push(word);
    words
        .iter()
        .filter_map(|w| {
            let eq = w.find('=')?;
            (!w[..eq].contains('"') || w.starts_with('"'))
                .then(|| w[..eq].trim_matches('"').to_owned())
        })
        .collect()
}

/// A user's own wrapper around `velo!` that writes the call's first tokens
/// itself, in this file: the caller must still be the wrapper's call site,
/// file and line alike.
#[macro_export]
macro_rules! audit {
    ($logger:expr, $msg:literal $(, $k:ident = $v:expr)*) => {
        velo::velo!(logger: $logger, target: "audit", info, $msg $(, $k = $v)*)
    };
}

/// Asserts that the entry with message `msg` in `out` carries a backtrace
/// whose first frame is the caller's, named `qualified` (with its path) or,
/// with line tables only, starting with `bare`; and that no frame names any
/// of `plumbing`.
///
/// # Panics
///
/// When no such entry arrived, or its backtrace is not so.
pub fn assert_backtrace_starts_at(
    out: &Capture,
    msg: &str,
    qualified: &str,
    bare: &str,
    plumbing: &[&str],
) {
    let entries = out.entries();
    let e = entries
        .iter()
        .find(|e| e["msg"] == msg)
        .expect("the entry arrived");
    let bt = e["backtrace"].as_str().expect("a backtrace");
    let first = bt.lines().next().unwrap();
    assert!(
        first.starts_with(qualified) || first.starts_with(bare),
        "the first frame is the caller's: {bt}"
    );
    for plumbing in plumbing {
        assert!(!bt.contains(plumbing), "no {plumbing} frame: {bt}");
    }
}

/// The numbers of the first line of `text` that starts with `prefix`, a
/// child's report of the form `PREFIXname 1 other 2`.
///
/// # Panics
///
/// When no line starts with `prefix`, or a value is not a number.
pub fn reported_counts(text: &str, prefix: &str) -> Vec<usize> {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` report: {text}"))
        .split(' ')
        .skip(1)
        .step_by(2)
        .map(|n| n.parse().unwrap())
        .collect()
}

/// What velo says on stderr when `dropped` entries a writer logged to its
/// own logger, in the last round of a write, were dropped.
pub fn writer_drops_said(dropped: usize) -> String {
    let were = if dropped == 1 {
        "1 entry was".to_owned()
    } else {
        format!("{dropped} entries were")
    };
    format!(
        "velo: {were} dropped: the log writer logged them while writing its own entries, round after round"
    )
}
