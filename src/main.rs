//! `tacker`: the all-in-one process for development and small sites. It creates its data
//! folder, keys and schema on first run, then serves the APIs and runs a conductor (and
//! its notification delivery) in the same process.

use clap::Parser;
use tacker_conductor::{ConductorProcess, Wake};
use tacker_server::app::shutdown_signal;
use tacker_server::cli::DaemonArgs;
use tacker_server::lcm_wiring::notification_settings;
use tacker_server::{telemetry, Application, BuildOptions};
use tokio::sync::watch;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = DaemonArgs::parse();
    let config = args.load_config()?;
    telemetry::init(config.debug);
    std::fs::create_dir_all(&config.state_path)?;
    let app = Application::build(config.clone(), BuildOptions { migrate: true }).await?;
    let wake = Wake::from_notify(app.state().work_queued.clone());
    let conductor = ConductorProcess::build(
        &config,
        app.state().db.clone(),
        tacker_k8s::drivers(tacker_k8s::KubernetesSettings::default()),
        notification_settings(&config.lcm)?,
        wake,
    )?;

    let (stop, stopped) = watch::channel(false);
    let wait = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let signal = async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    let conductor = tokio::spawn(conductor.run(wait(stopped.clone())));
    let server = app.run_until(wait(stopped));
    let (served, _, _) = tokio::join!(server, conductor, signal);
    served
}
