//! tacker-server: serves the APIs; the database must already be migrated.

use clap::Parser;
use tacker_server::cli::DaemonArgs;
use tacker_server::{telemetry, Application, BuildOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = DaemonArgs::parse();
    let config = args.load_config()?;
    telemetry::init(telemetry::LogOptions::from_config(&config));
    let app = Application::build(config, BuildOptions::default()).await?;
    app.run_until_stopped().await
}
