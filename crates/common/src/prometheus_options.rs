//! `[prometheus_plugin]`: which of Tacker's Prometheus receivers are served, and the
//! fault-management list's page size (`[v2_vnfm] vnffm_alarm_page_size`).

use std::time::Duration;

use crate::config::{parse_bool, parsed, ConfigError, ValueRule};
use crate::ini::IniFiles;

const SECTION: &str = "prometheus_plugin";

#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusPluginOptions {
    /// `fault_management`: `POST /alert` raises and clears alarms.
    pub fault_management: bool,
    /// `performance_management`: `/pm_event` and `/pm_threshold`.
    pub performance_management: bool,
    /// `auto_healing`: `POST /alert/auto_healing`.
    pub auto_healing: bool,
    /// `auto_scaling`: `POST /alert/auto_scaling`.
    pub auto_scaling: bool,
    /// `timer_interval` (seconds): how long auto-heal alerts of one instance are gathered
    /// before its VNFCs are healed in one operation.
    pub timer_interval: Duration,
    /// `reporting_period_margin` (seconds): a PM job's report for a metric is skipped when
    /// the last one is younger than its reporting period less this.
    pub reporting_period_margin: u32,
    /// `reporting_period_threshold` and `collection_period_threshold` (seconds): the
    /// windows of threshold rules.
    pub reporting_period_threshold: u32,
    pub collection_period_threshold: u32,
    /// `[v2_vnfm] vnffm_alarm_page_size`: page size of the alarm list (0: no paging).
    pub alarm_page_size: usize,
    /// `[v2_vnfm] vnfpm_pmjob_page_size`: page size of the PM job and threshold lists.
    pub pm_page_size: usize,
}

impl PrometheusPluginOptions {
    pub fn from_ini(files: &IniFiles) -> Result<Self, ConfigError> {
        let flag = |option: &str| parsed(files, SECTION, option, false, parse_bool);
        let page_size = |option: &str| {
            parsed(files, "v2_vnfm", option, 0, |s| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| ValueRule("must be a non-negative integer"))
            })
        };
        // Accepted: one page size serves PM jobs and thresholds.
        files.get("v2_vnfm", "vnfpm_pmthreshold_page_size")?;
        // Tacker's plugin classes, packages and rule timings are accepted; tacker-rs has
        // one implementation of each receiver.
        for option in [
            "test_rule_with_promtool",
            "performance_management_package",
            "performance_management_class",
            "performance_management_threshold_package",
            "performance_management_threshold_class",
            "fault_management_package",
            "fault_management_class",
            "auto_healing_package",
            "auto_healing_class",
            "auto_scaling_package",
            "auto_scaling_class",
        ] {
            files.get(SECTION, option)?;
        }
        let seconds = |option: &str, default: u32| {
            parsed(files, SECTION, option, default, |s| {
                s.trim()
                    .parse::<u32>()
                    .map_err(|_| ValueRule("must be a non-negative whole number of seconds"))
            })
        };
        Ok(PrometheusPluginOptions {
            reporting_period_margin: seconds("reporting_period_margin", 1)?,
            reporting_period_threshold: seconds("reporting_period_threshold", 90)?,
            collection_period_threshold: seconds("collection_period_threshold", 30)?,
            fault_management: flag("fault_management")?,
            performance_management: flag("performance_management")?,
            auto_healing: flag("auto_healing")?,
            auto_scaling: flag("auto_scaling")?,
            timer_interval: Duration::from_secs_f64(parsed(files, SECTION, "timer_interval", 20.0, |s| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or(ValueRule("must be a non-negative number of seconds"))
            })?),
            alarm_page_size: page_size("vnffm_alarm_page_size")?,
            pm_page_size: page_size("vnfpm_pmjob_page_size")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_are_off_unless_enabled() {
        let off = PrometheusPluginOptions::from_ini(&IniFiles::parse_str("").unwrap()).unwrap();
        assert!(!off.fault_management && !off.performance_management && !off.auto_healing);
        let on = PrometheusPluginOptions::from_ini(
            &IniFiles::parse_str("[prometheus_plugin]\nfault_management = True\ntimer_interval = 5\n")
                .unwrap(),
        )
        .unwrap();
        assert!(on.fault_management);
        assert_eq!(on.timer_interval, Duration::from_secs(5));
        assert_eq!(off.timer_interval, Duration::from_secs(20));
        assert!(PrometheusPluginOptions::from_ini(
            &IniFiles::parse_str("[prometheus_plugin]\nfault_management = maybe\n").unwrap()
        )
        .is_err());
    }
}
