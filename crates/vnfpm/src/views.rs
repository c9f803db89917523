//! PM jobs, reports and thresholds as /vnfpm/v2 shows them (relative `_links`; the API
//! server makes them absolute). Authentication and metadata are never shown.

use serde_json::{json, Map, Value};
use tacker_db::pm::{PmJobRow, PmReportRow, ThresholdRow};
use tacker_sol013::ResourceSchema;

pub const PREFIX: &str = "/vnfpm/v2";

/// Times to the second, as FM writes them.
pub use tacker_vnffm::views::datetime;

pub fn job_href(id: &str) -> String {
    format!("{PREFIX}/pm_jobs/{id}")
}

pub fn report_href(job_id: &str, report_id: &str) -> String {
    format!("{PREFIX}/pm_jobs/{job_id}/reports/{report_id}")
}

pub fn threshold_href(id: &str) -> String {
    format!("{PREFIX}/thresholds/{id}")
}

/// Tacker links measured objects to the v2 instance resource.
pub fn instance_href(id: &str) -> String {
    format!("/vnflcm/v2/vnf_instances/{id}")
}

/// PmJob, with its reports.
pub fn job(row: &PmJobRow, callback_uri: &str, reports: &[PmReportRow]) -> Value {
    let mut view = Map::new();
    view.insert("id".into(), json!(row.id));
    view.insert("objectType".into(), json!(row.object_type));
    let objects = row.object_instance_ids.to_value();
    view.insert("objectInstanceIds".into(), objects.clone());
    if let Some(subs) = &row.sub_object_instance_ids {
        view.insert("subObjectInstanceIds".into(), subs.to_value());
    }
    view.insert("criteria".into(), row.criteria.to_value());
    view.insert("callbackUri".into(), json!(callback_uri));
    let reports: Vec<Value> = reports
        .iter()
        .map(|r| json!({"href": report_href(&row.id, &r.id), "readyTime": datetime(&r.ready_time)}))
        .collect();
    view.insert("reports".into(), json!(reports));
    let object_links: Vec<Value> = objects
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|id| json!({"href": instance_href(id)}))
        .collect();
    view.insert(
        "_links".into(),
        json!({"self": {"href": job_href(&row.id)}, "objects": object_links}),
    );
    Value::Object(view)
}

/// PerformanceReport as `GET .../reports/{id}` shows it.
pub fn report(row: &PmReportRow) -> Value {
    json!({"entries": row.entries})
}

/// Threshold.
pub fn threshold(row: &ThresholdRow, callback_uri: &str) -> Value {
    let mut view = Map::new();
    view.insert("id".into(), json!(row.id));
    view.insert("objectType".into(), json!(row.object_type));
    view.insert("objectInstanceId".into(), json!(row.object_instance_id));
    if let Some(subs) = &row.sub_object_instance_ids {
        view.insert("subObjectInstanceIds".into(), subs.to_value());
    }
    view.insert("criteria".into(), row.criteria.to_value());
    view.insert("callbackUri".into(), json!(callback_uri));
    view.insert(
        "_links".into(),
        json!({"self": {"href": threshold_href(&row.id)}, "object": {"href": instance_href(&row.object_instance_id)}}),
    );
    Value::Object(view)
}

pub static PM_JOB: ResourceSchema = ResourceSchema {
    name: "PmJob",
    attributes: &[
        "id",
        "objectType",
        "objectInstanceIds",
        "subObjectInstanceIds",
        "criteria",
        "criteria/performanceMetric",
        "criteria/performanceMetricGroup",
        "criteria/collectionPeriod",
        "criteria/reportingPeriod",
        "criteria/reportingBoundary",
        "callbackUri",
        "reports",
        "reports/href",
        "reports/readyTime",
        "reports/expiryTime",
        "reports/fileSize",
        "_links",
        "_links/self",
        "_links/self/href",
        "_links/objects",
        "_links/objects/href",
    ],
    open: &[],
};

pub static THRESHOLD: ResourceSchema = ResourceSchema {
    name: "Threshold",
    attributes: &[
        "id",
        "objectType",
        "objectInstanceId",
        "subObjectInstanceIds",
        "criteria",
        "criteria/performanceMetric",
        "criteria/thresholdType",
        "criteria/simpleThresholdDetails",
        "criteria/simpleThresholdDetails/thresholdValue",
        "criteria/simpleThresholdDetails/hysteresis",
        "callbackUri",
        "_links",
        "_links/self",
        "_links/self/href",
        "_links/object",
        "_links/object/href",
    ],
    open: &[],
};
