//! `tacker`: the all-in-one process for development and small sites. It creates its data
//! folder, keys and schema on first run, then serves the APIs.

use clap::Parser;
use tacker_server::cli::DaemonArgs;
use tacker_server::{telemetry, Application, BuildOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = DaemonArgs::parse();
    let config = args.load_config()?;
    telemetry::init(config.debug);
    std::fs::create_dir_all(&config.state_path)?;
    let app = Application::build(config, BuildOptions { migrate: true }).await?;
    app.run_until_stopped().await
}
