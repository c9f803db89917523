//! One tracing set-up for every binary: `RUST_LOG` wins, else info (debug with `[DEFAULT] debug`).
//! Colour only on a terminal, so files and the journal get plain text; `[DEFAULT] use_json`
//! (oslo.log's option) writes one JSON object per line for log collectors.

use std::io::IsTerminal;

use tacker_common::Config;
use tracing_subscriber::EnvFilter;

/// How a process logs.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// `[DEFAULT] debug`
    pub debug: bool,
    /// `[DEFAULT] use_json`
    pub json: bool,
}

impl LogOptions {
    pub fn from_config(config: &Config) -> Self {
        LogOptions {
            debug: config.debug,
            json: config.use_json,
        }
    }
}

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(options: LogOptions) {
    let default = if options.debug {
        "debug,sqlx=warn,hyper=info,h2=info"
    } else {
        "info,sqlx=warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(!options.json && colour_wanted());
    let _ = if options.json {
        // `message` and the event's fields at the top level, the request's span beside them.
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

/// Colour for a terminal only, and not when the user asks for none (no-color.org).
fn colour_wanted() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
