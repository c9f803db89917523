//! tacker-conductor: runs the LCM operations the API servers record in the shared
//! database (the schema must be migrated), and delivers their notifications.

use clap::Parser;
use tacker_conductor::{ConductorProcess, Wake};
use tacker_db::Database;
use tacker_process::shutdown_signal;
use tacker_process::telemetry;
use tacker_process::DaemonArgs;
use tacker_server::lcm_wiring::notification_settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = DaemonArgs::parse();
    let config = args.load_config()?;
    telemetry::init(telemetry::LogOptions::from_config(&config));
    let db = Database::open(&config.database).await?;
    db.ensure_migrated().await?;
    let conductor = ConductorProcess::build(
        &config,
        db.clone(),
        tacker_k8s::configured_drivers(&config),
        notification_settings(&config.lcm)?,
        Wake::default(),
    )?;
    conductor.run(shutdown_signal()).await;
    db.close().await;
    Ok(())
}
