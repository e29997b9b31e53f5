//! Progress of a run's long steps (scanning scopes, listing repositories, describing task
//! definitions, deleting). On a terminal, bars on stderr that log lines pass above; elsewhere
//! (Lambda, CI, a pipe), a plain line per step at most every 15 seconds, and when it ends.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// The bars, once a terminal asked for them.
static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Plain progress lines come at most this often.
const LINE_EVERY: Duration = Duration::from_secs(15);

/// Draws bars on stderr from now on (the command line, on a terminal).
pub fn use_bars() {
    let _ = BARS.set(MultiProgress::new());
}

/// True when bars are drawn.
pub fn bars_on() -> bool {
    BARS.get().is_some()
}

/// One step of a run, counted to its total.
pub struct Step {
    name: &'static str,
    total: u64,
    done: AtomicU64,
    bar: Option<ProgressBar>,
    last_line: Mutex<Instant>,
}

/// Starts a step of `total` units.
pub fn step(name: &'static str, total: usize) -> Step {
    let total = total as u64;
    let bar = BARS.get().map(|bars| {
        let bar = bars.add(ProgressBar::new(total));
        let style = ProgressStyle::with_template("{prefix:>22} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("a valid template")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name);
        bar
    });
    Step {
        name,
        total,
        done: AtomicU64::new(0),
        bar,
        last_line: Mutex::new(Instant::now()),
    }
}

impl Step {
    /// Counts `n` more units done.
    pub fn add(&self, n: usize) {
        let done = self.done.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        let mut last = self.last_line.lock().expect("not poisoned");
        if last.elapsed() >= LINE_EVERY {
            *last = Instant::now();
            tracing::info!("{}: {done} of {}", self.name, self.total);
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        let done = self.done.load(Ordering::Relaxed);
        match &self.bar {
            Some(bar) => {
                bar.finish_and_clear();
                if let Some(bars) = BARS.get() {
                    bars.remove(bar);
                }
            }
            None if self.total > 0 => {
                tracing::info!("{}: {done} of {} done", self.name, self.total)
            }
            None => {}
        }
    }
}

/// Where log lines go: stderr, above the bars when there are any.
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match BARS.get() {
            Some(bars) => bars.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}
