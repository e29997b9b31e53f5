//! The application shell: what the binary does with an event or a command. It wires the sources,
//! the inventory scan, the planner and the actions together, and owns everything that touches the
//! outside world besides AWS: the clock, the environment, stdout and the exit status.
//!
//! - [`run`]: one run end to end (scan, plan, prune, guard tags, alert, report).
//! - [`incident`]: the checks incidents trigger (task retirement, pull failure).
//! - [`event`]: the events the function receives; [`handler`]: one event in, one report out.
//! - [`config`]: environment variables; [`connect`]: AWS clients.
//! - [`cli`] and [`lambda`]: the two entry points; [`output`]: the readable table;
//!   [`metrics`]: the CloudWatch metrics line.

pub mod cli;
pub mod config;
pub mod connect;
pub mod event;
pub mod fanout;
pub mod handler;
pub mod incident;
pub mod lambda;
pub mod memory;
pub mod metrics;
pub mod output;
pub mod run;

use std::process::ExitCode;

use ecr_warden_core::time::Timestamp;

use config::Config;

/// The current time from the system clock: the one place the program reads it.
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Timestamp(secs)
}

/// Runs the binary: Lambda mode when the Lambda runtime API is present, the CLI otherwise.
/// Configuration errors exit with status 2 before anything is called.
pub async fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return cli::main().await;
    }
    init_logging(true, false);
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ecr-warden: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    match lambda::lambda_main(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecr-warden: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG`; by default ecr-warden's own progress (`info`; only
/// warnings under progress bars; `debug` with `-v`, which also shows AWS errors in full), and
/// only errors from the SDK.
pub fn init_logging(lambda: bool, verbose: bool) {
    let default = if verbose {
        "debug,aws_config=warn,aws_smithy_runtime=warn,aws_smithy_runtime_api=warn,hyper=warn,rustls=warn,h2=warn"
    } else if crate::progress::bars_on() {
        // The bars show the progress the info lines would.
        "warn,aws_config=error,aws_smithy_runtime=error"
    } else {
        "info,aws_config=error,aws_smithy_runtime=error"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::progress::LogWriter);
    if lambda {
        builder.json().without_time().init();
    } else {
        use std::io::IsTerminal;
        builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
}
