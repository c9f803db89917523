//! tacker-conductor: runs the LCM operations the API servers record in the shared
//! database (the schema must be migrated), and delivers their notifications.

use anyhow::Context;
use clap::Parser;
use tacker_conductor::{ConductorProcess, Wake};
use tacker_db::{url::redact, Database, PoolSettings};
use tacker_server::app::shutdown_signal;
use tacker_server::cli::DaemonArgs;
use tacker_server::lcm_wiring::notification_settings;
use tacker_server::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = DaemonArgs::parse();
    let config = args.load_config()?;
    telemetry::init(telemetry::LogOptions::from_config(&config));
    let db = Database::connect(
        &config.database_connection,
        &PoolSettings::from_options(&config.database),
    )
    .await
    .with_context(|| {
        format!(
            "cannot open [database] connection {}",
            redact(&config.database_connection)
        )
    })?;
    db.ensure_migrated().await?;
    let conductor = ConductorProcess::build(
        &config,
        db.clone(),
        tacker_k8s::drivers(tacker_k8s::KubernetesSettings::default()),
        notification_settings(&config.lcm)?,
        Wake::default(),
    )?;
    conductor.run(shutdown_signal()).await;
    db.close().await;
    Ok(())
}
