//! Command-line options shared by the tacker-rs daemons.

use std::path::PathBuf;

use clap::Parser;
use tacker_common::Config;

/// oslo.config's command line: one or more `--config-file`, later files win.
#[derive(Debug, Parser)]
pub struct DaemonArgs {
    /// A tacker.conf file; repeat the option to layer files (later ones win).
    #[arg(
        long = "config-file",
        value_name = "PATH",
        default_value = "/etc/tacker/tacker.conf"
    )]
    pub config_files: Vec<PathBuf>,
}

impl DaemonArgs {
    /// Loads the configuration; the error names the file or the option that is wrong.
    pub fn load_config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.config_files)?)
    }
}
