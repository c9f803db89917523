//! Request bodies of /vnfpm/v2 (SOL003 3.3.1, API version 2.1.0), as types. The metrics
//! and object types are checked against what the Prometheus plugin can measure
//! ([`crate::metrics`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tacker_lcm::requests::{Identifier, Text};

/// The kind of object a PM job or threshold measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum ObjectType {
    Vnf,
    Vnfc,
    VnfIntCp,
    VnfExtCp,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Vnf => "Vnf",
            ObjectType::Vnfc => "Vnfc",
            ObjectType::VnfIntCp => "VnfIntCp",
            ObjectType::VnfExtCp => "VnfExtCp",
        }
    }
}

/// `POST /pm_jobs`: CreatePmJobRequest; `metadata.monitoring` says where the rules go.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePmJobRequest {
    pub object_type: ObjectType,
    pub object_instance_ids: Vec<Identifier>,
    pub sub_object_instance_ids: Option<Vec<Text<255>>>,
    pub criteria: PmJobCriteria,
    pub callback_uri: Text<255>,
    pub authentication: Option<Map<String, Value>>,
    pub metadata: Option<Map<String, Value>>,
}

/// PmJobCriteria.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PmJobCriteria {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance_metric: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance_metric_group: Option<Vec<String>>,
    /// Seconds.
    pub collection_period: u32,
    /// Seconds.
    pub reporting_period: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_boundary: Option<String>,
}

/// `PATCH /pm_jobs/{id}` and `PATCH /thresholds/{id}`: where notifications go.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackModifications {
    pub callback_uri: Option<Text<255>>,
    pub authentication: Option<Map<String, Value>>,
}

/// `POST /thresholds`: CreateThresholdRequest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateThresholdRequest {
    pub object_type: ObjectType,
    pub object_instance_id: Identifier,
    pub sub_object_instance_ids: Option<Vec<Text<255>>>,
    pub criteria: ThresholdCriteria,
    pub callback_uri: Text<255>,
    pub authentication: Option<Map<String, Value>>,
    pub metadata: Option<Map<String, Value>>,
}

/// ThresholdCriteria (SIMPLE only, as SOL003 3.3.1 defines).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdCriteria {
    pub performance_metric: String,
    pub threshold_type: ThresholdType,
    pub simple_threshold_details: Option<SimpleThresholdDetails>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ThresholdType {
    Simple,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleThresholdDetails {
    pub threshold_value: f64,
    pub hysteresis: f64,
}
