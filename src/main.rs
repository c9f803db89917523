//! `tacker`: the all-in-one process for development and small sites. It creates its data
//! folder, keys and schema on first run, then serves the APIs and runs a conductor (and
//! its notification delivery) in the same process.

use clap::Parser;
use tacker::AllInOne;
use tacker_server::app::shutdown_signal;
use tacker_server::cli::DaemonArgs;
use tacker_server::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = DaemonArgs::parse();
    let config = args.load_config()?;
    telemetry::init(telemetry::LogOptions::from_config(&config));
    let drivers = tacker_k8s::drivers(tacker_k8s::KubernetesSettings::default());
    AllInOne::build(config, drivers)
        .await?
        .run(shutdown_signal())
        .await
}
