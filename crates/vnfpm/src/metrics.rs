//! What the Prometheus plugin can measure, and the alert rules that measure it: Tacker's
//! metric names per object type, its PromQL templates (etc/tacker/prometheus-plugin.yaml),
//! and the pod selection of an instance's VNFCs.

use regex::Regex;
use serde_json::{json, Value};

use crate::requests::ObjectType;

/// The compute metrics of Vnf and Vnfc objects (named `<metric>.<objectInstanceId>`).
pub const COMPUTE_METRICS: [&str; 6] = [
    "VCpuUsageMeanVnf",
    "VCpuUsagePeakVnf",
    "VMemoryUsageMeanVnf",
    "VMemoryUsagePeakVnf",
    "VDiskUsageMeanVnf",
    "VDiskUsagePeakVnf",
];

/// The metrics an object type supports, without their `.<object>` suffix.
pub fn supported(object_type: ObjectType) -> Vec<String> {
    match object_type {
        ObjectType::Vnf | ObjectType::Vnfc => COMPUTE_METRICS.iter().map(|m| (*m).to_owned()).collect(),
        ObjectType::VnfIntCp | ObjectType::VnfExtCp => ["Byte", "Packet"]
            .iter()
            .flat_map(|unit| {
                ["Incoming", "Outgoing"]
                    .iter()
                    .map(move |way| format!("{unit}{way}{}", object_type.as_str()))
            })
            .collect(),
    }
}

/// The performanceMetricGroup an object type has.
pub fn group(object_type: ObjectType) -> &'static str {
    match object_type {
        ObjectType::Vnf | ObjectType::Vnfc => "VirtualisedComputeResource",
        ObjectType::VnfIntCp => "VnfInternalCp",
        ObjectType::VnfExtCp => "VnfExternalCp",
    }
}

/// A metric name without its `.<object>` suffix.
pub fn base(metric: &str) -> &str {
    metric.split('.').next().unwrap_or(metric)
}

/// Whether values of the metric are counts (Cp metrics) rather than ratios and rates.
pub fn is_count(metric: &str) -> bool {
    metric.starts_with("Byte") || metric.starts_with("Packet")
}

/// The metrics a job measures on one object: the named ones that apply to it, and the
/// whole group when the job names it.
pub fn for_object(object_type: ObjectType, named: &[String], groups: &[String], object: &str) -> Vec<String> {
    let mut metrics: Vec<String> = Vec::new();
    let mut add = |metric: String| {
        if !metrics.contains(&metric) {
            metrics.push(metric);
        }
    };
    for metric in named {
        match object_type {
            // Compute metrics name their object.
            ObjectType::Vnf | ObjectType::Vnfc => {
                if metric.split_once('.').map(|(_, o)| o) == Some(object) {
                    add(metric.clone());
                }
            }
            ObjectType::VnfIntCp | ObjectType::VnfExtCp => add(metric.clone()),
        }
    }
    if groups.iter().any(|g| g == group(object_type)) {
        for metric in supported(object_type) {
            match object_type {
                ObjectType::Vnf | ObjectType::Vnfc => add(format!("{metric}.{object}")),
                _ => add(metric),
            }
        }
    }
    metrics
}

/// Tacker's PromQL for a metric; `pod` is a regular expression of pod names.
pub fn promql(
    metric: &str,
    namespace: &str,
    pod: &str,
    interface: &str,
    reporting_period: u32,
) -> Option<String> {
    // Inside a PromQL string a backslash escapes: the expression's own are doubled.
    let pod = pod.replace('\\', "\\\\");
    let selector = format!("namespace=\"{namespace}\",pod=~\"{pod}\"");
    let cpu = format!("sum(rate(pod_cpu_usage_seconds_total {{{selector}}}[{reporting_period}s]))");
    let memory = format!(
        "pod_memory_working_set_bytes{{{selector}}} / on(pod) (kube_node_status_capacity{{resource=\"memory\"}} * on(node) group_right kube_pod_info{{pod=~\"{pod}\"}})"
    );
    let disk = format!("max(container_fs_usage_bytes{{{selector}}}/ container_fs_limit_bytes{{{selector}}})");
    let network = |series: &str| {
        format!("sum({series} {{namespace=\"{namespace}\",interface=\"{interface}\",pod=~\"{pod}\"}})")
    };
    let expr = match base(metric) {
        "VCpuUsageMeanVnf" => format!("avg({cpu})"),
        "VCpuUsagePeakVnf" => format!("max({cpu})"),
        "VMemoryUsageMeanVnf" => format!("avg({memory})"),
        "VMemoryUsagePeakVnf" => format!("max({memory})"),
        "VDiskUsageMeanVnf" => format!("avg({disk})"),
        "VDiskUsagePeakVnf" => format!("max({disk})"),
        m if m.starts_with("ByteIncoming") => network("container_network_receive_bytes_total"),
        m if m.starts_with("PacketIncoming") => network("container_network_receive_packets_total"),
        m if m.starts_with("ByteOutgoing") => network("container_network_transmit_bytes_total"),
        m if m.starts_with("PacketOutgoing") => network("container_network_transmit_packets_total"),
        _ => return None,
    };
    Some(expr)
}

/// The pods of an instance's Deployments, as one regular expression: a pod created by a
/// Deployment is `<deployment>-<replicaset hash>-<5 characters>`, so the expression also
/// matches the pods that replace today's (after a heal or a scale). A name of another form
/// is matched as it is.
pub fn pods_regexp(info: &Value) -> Option<String> {
    let replica = Regex::new(r"-[0-9a-f]{1,10}-[0-9a-z]{5}$").ok()?;
    let mut patterns: Vec<String> = Vec::new();
    for resource in info["vnfcResourceInfo"].as_array().into_iter().flatten() {
        let compute = &resource["computeResource"];
        if compute["vimLevelResourceType"] != "Deployment" {
            continue;
        }
        let Some(name) = compute["resourceId"].as_str() else {
            continue;
        };
        let pattern = if replica.is_match(name) {
            format!(
                "{}-[0-9a-f]{{1,10}}-[0-9a-z]{{5}}$",
                regex::escape(&replica.replace(name, ""))
            )
        } else {
            format!("{}$", regex::escape(name))
        };
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    (!patterns.is_empty()).then(|| format!("({})", patterns.join("|")))
}

/// The pod of one VNFC (by vnfcInfo id), if it runs in a Deployment.
pub fn vnfc_pod(info: &Value, vnfc_id: &str) -> Option<String> {
    let vnfc = info["vnfcInfo"].as_array()?.iter().find(|v| v["id"] == vnfc_id)?;
    let resource = info["vnfcResourceInfo"]
        .as_array()?
        .iter()
        .find(|r| r["id"] == vnfc["vnfcResourceInfoId"])?;
    let compute = &resource["computeResource"];
    (compute["vimLevelResourceType"] == "Deployment")
        .then(|| compute["resourceId"].as_str().map(regex::escape))
        .flatten()
}

/// One alerting rule, as Tacker writes them: it fires all the time, and its value travels
/// in the `value` annotation.
pub struct RuleLabels<'a> {
    /// `vnfpm` or `vnfpm_threshold`.
    pub function_type: &'a str,
    /// `job_id` or `threshold_id`, and its value.
    pub owner: (&'a str, &'a str),
    pub object_instance_id: &'a str,
    pub sub_object_instance_id: Option<&'a str>,
    pub metric: &'a str,
}

pub fn rule(expr: String, collection_period: u32, labels: &RuleLabels<'_>) -> Value {
    let mut all = json!({
        "receiver_type": "tacker",
        "function_type": labels.function_type,
        labels.owner.0: labels.owner.1,
        "object_instance_id": labels.object_instance_id,
        "metric": labels.metric,
    });
    if let Some(sub) = labels.sub_object_instance_id {
        all["sub_object_instance_id"] = json!(sub);
    }
    json!({
        "alert": uuid::Uuid::new_v4().to_string(),
        "expr": expr,
        "for": format!("{collection_period}s"),
        "labels": all,
        "annotations": {"value": "{{$value}}"},
    })
}

/// The rule file of a job or threshold: one group named after it.
pub fn rule_file(owner_id: &str, rules: Vec<Value>) -> Vec<u8> {
    let file = json!({"groups": [{"name": format!("tacker_{owner_id}"), "rules": rules}]});
    serde_json::to_vec_pretty(&file).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_pods_become_a_pattern_for_their_replacements() {
        let info = json!({"vnfcResourceInfo": [
            {"id": "a", "computeResource": {"resourceId": "web-5d8f7c9b6-abcde", "vimLevelResourceType": "Deployment"}},
            {"id": "b", "computeResource": {"resourceId": "web-5d8f7c9b6-fghij", "vimLevelResourceType": "Deployment"}},
            {"id": "c", "computeResource": {"resourceId": "db-1234567890", "vimLevelResourceType": "Deployment"}},
            {"id": "d", "computeResource": {"resourceId": "one", "vimLevelResourceType": "Pod"}},
        ]});
        let pattern = pods_regexp(&info).unwrap();
        // regex::escape escapes `-` too; RE2 (Prometheus) reads `\-` as `-`.
        assert_eq!(pattern, r"(web-[0-9a-f]{1,10}-[0-9a-z]{5}$|db\-1234567890$)");
        let matcher = Regex::new(&format!("^{pattern}")).unwrap();
        assert!(matcher.is_match("web-7f6d5c4b3-zzzzz"));
        assert!(!matcher.is_match("one"));
        assert_eq!(pods_regexp(&json!({})), None);
    }

    #[test]
    fn a_job_measures_named_metrics_of_its_object_and_whole_groups() {
        let named = vec![
            "VCpuUsageMeanVnf.i1".to_owned(),
            "VMemoryUsageMeanVnf.i2".to_owned(),
        ];
        assert_eq!(
            for_object(ObjectType::Vnf, &named, &[], "i1"),
            vec!["VCpuUsageMeanVnf.i1"]
        );
        let all = for_object(
            ObjectType::Vnf,
            &named,
            &["VirtualisedComputeResource".into()],
            "i1",
        );
        assert_eq!(all.len(), 6);
        assert_eq!(
            supported(ObjectType::VnfIntCp),
            [
                "ByteIncomingVnfIntCp",
                "ByteOutgoingVnfIntCp",
                "PacketIncomingVnfIntCp",
                "PacketOutgoingVnfIntCp"
            ]
        );
        let expr = promql("VMemoryUsageMeanVnf.i1", "default", "(web$)", "*", 30).unwrap();
        assert!(
            expr.starts_with("avg(pod_memory_working_set_bytes{namespace=\"default\",pod=~\"(web$)\"}"),
            "{expr}"
        );
    }
}
