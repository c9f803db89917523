//! tacker-manage: database schema, VIM keys, development certificates, VIM configuration.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tacker_process::telemetry::init(Default::default());
    tacker_manage::run(tacker_manage::Cli::parse()).await
}
