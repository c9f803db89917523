use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tacker_server::telemetry::init(false);
    tacker_manage::run(tacker_manage::Cli::parse()).await
}
