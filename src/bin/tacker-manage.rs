use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tacker_server::telemetry::init(Default::default());
    tacker_manage::run(tacker_manage::Cli::parse()).await
}
