//! `tacker`: the all-in-one process for development and small sites. It creates its data
//! folder, keys and schema on first run, then serves the APIs and runs a conductor (and
//! its notification delivery) in the same process.

use clap::Parser;
use tacker::AllInOne;
use tacker_process::shutdown_signal;
use tacker_process::telemetry;
use tacker_process::DaemonArgs;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = DaemonArgs::parse();
    let config = args.load_config()?;
    telemetry::init(telemetry::LogOptions::from_config(&config));
    let drivers = tacker_k8s::configured_drivers(&config);
    AllInOne::build(config, drivers)
        .await?
        .run(shutdown_signal())
        .await
}
