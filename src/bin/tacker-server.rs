//! tacker-server: serves the APIs; the database must already be migrated.

use clap::Parser;
use tacker_process::telemetry;
use tacker_process::DaemonArgs;
use tacker_server::{Application, BuildOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = DaemonArgs::parse();
    let config = args.load_config()?;
    telemetry::init(telemetry::LogOptions::from_config(&config));
    let drivers = tacker_k8s::configured_drivers(&config);
    let app = Application::build_with_drivers(config, BuildOptions::default(), drivers).await?;
    app.run_until_stopped().await
}
