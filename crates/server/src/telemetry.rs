//! One tracing set-up for every binary: `RUST_LOG` wins, else info (debug with `[DEFAULT] debug`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(debug: bool) {
    let default = if debug {
        "debug,sqlx=warn,hyper=info,h2=info"
    } else {
        "info,sqlx=warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}
