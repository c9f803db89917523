//! `tacker-db-manage [--config-file F] upgrade head`, as Tacker's command is used.

use clap::Parser;
use tacker_manage::{Cli, Command, DbAction};

#[derive(Debug, Parser)]
#[command(name = "tacker-db-manage")]
struct Args {
    #[arg(
        long = "config-file",
        value_name = "PATH",
        default_value = "/etc/tacker/tacker.conf"
    )]
    config_files: Vec<std::path::PathBuf>,
    #[command(subcommand)]
    action: DbAction,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tacker_process::telemetry::init(Default::default());
    let args = Args::parse();
    tacker_manage::run(Cli {
        config_files: args.config_files,
        command: Command::Db { action: args.action },
    })
    .await
}
