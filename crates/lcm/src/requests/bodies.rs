//! The request types. Attributes tacker-rs passes through without reading (external
//! virtual links, extensions) stay JSON; those it acts on are typed.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tacker_db::{StoredJson, StoredJsonError};

use super::fields::{present, Identifier, Steps, Text};
use super::parse;
use crate::error::Result;
use crate::model::{CancelMode, Operation};

/// KeyValuePairs.
pub type KeyValuePairs = Map<String, Value>;

/// `POST /vnf_instances`: CreateVnfRequest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVnfRequest {
    pub vnfd_id: Identifier,
    pub vnf_instance_name: Option<Text<255>>,
    pub vnf_instance_description: Option<Text<1024>>,
    pub metadata: Option<KeyValuePairs>,
}

/// `POST /vnf_lcm_op_occs/{id}/cancel`: CancelMode. SOL003 requires the mode; an empty
/// body is read as GRACEFUL, the mode that leaves the VIM consistent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    pub cancel_mode: CancelMode,
}

impl Default for CancelRequest {
    fn default() -> Self {
        CancelRequest {
            cancel_mode: CancelMode::Graceful,
        }
    }
}

/// `POST /subscriptions`: LccnSubscriptionRequest (the filter is checked by the
/// subscription rules, which know each API's notification types).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LccnSubscriptionRequest {
    pub callback_uri: Identifier,
    pub filter: Option<KeyValuePairs>,
    pub verbosity: Option<Verbosity>,
    pub authentication: Option<KeyValuePairs>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verbosity {
    #[default]
    Full,
    Short,
}

impl Verbosity {
    pub fn as_str(self) -> &'static str {
        match self {
            Verbosity::Full => "FULL",
            Verbosity::Short => "SHORT",
        }
    }
}

/// InstantiateVnfRequest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstantiateVnfRequest {
    pub flavour_id: Identifier,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instantiation_level_id: Option<Text<255>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_virtual_links: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_managed_virtual_links: Option<Vec<Value>>,
    /// v1: an array of VimConnectionInfo; v2: a map of them (checked by `vim_conn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vim_connection_info: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub localization_language: Option<Text<255>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_params: Option<KeyValuePairs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<KeyValuePairs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vnf_configurable_properties: Option<KeyValuePairs>,
    /// The registered VIM the request resolved to: recorded by the server with the
    /// request, never taken from a client (see [`OperationRequest::parse`]).
    #[serde(rename = "vimId", skip_serializing_if = "Option::is_none")]
    pub resolved_vim_id: Option<String>,
}

/// TerminateVnfRequest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TerminateVnfRequest {
    pub termination_type: TerminationType,
    /// Seconds; SOL003 leaves the default to the VNFM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graceful_termination_timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_params: Option<KeyValuePairs>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TerminationType {
    Forceful,
    Graceful,
}

/// ScaleVnfRequest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleVnfRequest {
    #[serde(rename = "type")]
    pub kind: ScaleType,
    pub aspect_id: Identifier,
    /// SOL003: "If the attribute is omitted, the default is 1".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_steps: Option<Steps>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_params: Option<KeyValuePairs>,
}

impl ScaleVnfRequest {
    /// The change of the aspect's scale level: positive out, negative in.
    pub fn signed_steps(&self) -> i64 {
        let steps = i64::from(self.number_of_steps.unwrap_or(Steps::ONE).get());
        match self.kind {
            ScaleType::ScaleOut => steps,
            ScaleType::ScaleIn => -steps,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScaleType {
    ScaleOut,
    ScaleIn,
}

/// ScaleVnfToLevelRequest: exactly one of the level and the scale info (checked against
/// the VNFD by the service).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleVnfToLevelRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instantiation_level_id: Option<Text<255>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_info: Option<Vec<ScaleInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_params: Option<KeyValuePairs>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleInfo {
    pub aspect_id: Identifier,
    pub scale_level: u32,
}

/// HealVnfRequest (v1 and v2 name the same attributes).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealVnfRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vnfc_instance_id: Option<Vec<Identifier>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Text<1024>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_params: Option<KeyValuePairs>,
}

/// ChangeCurrentVnfPkgRequest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeCurrentVnfPkgRequest {
    pub vnfd_id: Identifier,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_virtual_links: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_managed_virtual_links: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vim_connection_info: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_params: Option<KeyValuePairs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<KeyValuePairs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vnf_configurable_properties: Option<KeyValuePairs>,
}

/// ChangeVnfFlavourRequest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeVnfFlavourRequest {
    pub new_flavour_id: Identifier,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instantiation_level_id: Option<Text<255>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_virtual_links: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_managed_virtual_links: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vim_connection_info: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_params: Option<KeyValuePairs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<KeyValuePairs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vnf_configurable_properties: Option<KeyValuePairs>,
}

/// OperateVnfRequest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperateVnfRequest {
    pub change_state_to: OperationalState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_type: Option<TerminationType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graceful_stop_timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_params: Option<KeyValuePairs>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationalState {
    Started,
    Stopped,
}

/// ChangeExtVnfConnectivityRequest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeExtVnfConnectivityRequest {
    pub ext_virtual_links: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vim_connection_info: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_params: Option<KeyValuePairs>,
}

/// VnfInfoModificationRequest. It becomes the occurrence's changedInfo
/// (VnfInfoModifications) as sent, so its attributes may be left out but not `null`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VnfInfoModificationRequest {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vnf_instance_name: Option<Text<255>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vnf_instance_description: Option<Text<1024>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vnfd_id: Option<Text<255>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vnf_pkg_id: Option<Text<255>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vnf_provider: Option<Text<255>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vnf_product_name: Option<Text<255>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vnf_software_version: Option<Text<255>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vnfd_version: Option<Text<255>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub metadata: Option<KeyValuePairs>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub extensions: Option<KeyValuePairs>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vnf_configurable_properties: Option<KeyValuePairs>,
    /// v1: an array of VimConnectionInfo; v2: a map (checked by `vim_conn`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vim_connection_info: Option<Value>,
}

/// The request of one LCM operation, as the server stores it with the occurrence and
/// the conductor reads it back.
#[derive(Debug, Clone)]
pub enum OperationRequest {
    Instantiate(InstantiateVnfRequest),
    Terminate(TerminateVnfRequest),
    Scale(ScaleVnfRequest),
    ScaleToLevel(ScaleVnfToLevelRequest),
    Heal(HealVnfRequest),
    ChangeVnfpkg(ChangeCurrentVnfPkgRequest),
    ChangeFlavour(ChangeVnfFlavourRequest),
    Operate(OperateVnfRequest),
    ChangeExtConn(ChangeExtVnfConnectivityRequest),
    ModifyInfo(VnfInfoModificationRequest),
}

/// Calls the generic `$read` with the request type of `$operation`, wrapping the result
/// in its variant.
macro_rules! by_operation {
    ($operation:expr, $read:ident($($arg:expr),*)) => {
        match $operation {
            Operation::Instantiate => $read::<InstantiateVnfRequest>($($arg),*).map(OperationRequest::Instantiate),
            Operation::Terminate => $read::<TerminateVnfRequest>($($arg),*).map(OperationRequest::Terminate),
            Operation::Scale => $read::<ScaleVnfRequest>($($arg),*).map(OperationRequest::Scale),
            Operation::ScaleToLevel => $read::<ScaleVnfToLevelRequest>($($arg),*).map(OperationRequest::ScaleToLevel),
            Operation::Heal => $read::<HealVnfRequest>($($arg),*).map(OperationRequest::Heal),
            Operation::ChangeVnfpkg => $read::<ChangeCurrentVnfPkgRequest>($($arg),*).map(OperationRequest::ChangeVnfpkg),
            Operation::ChangeFlavour => $read::<ChangeVnfFlavourRequest>($($arg),*).map(OperationRequest::ChangeFlavour),
            Operation::Operate => $read::<OperateVnfRequest>($($arg),*).map(OperationRequest::Operate),
            Operation::ChangeExtConn => $read::<ChangeExtVnfConnectivityRequest>($($arg),*).map(OperationRequest::ChangeExtConn),
            Operation::ModifyInfo => $read::<VnfInfoModificationRequest>($($arg),*).map(OperationRequest::ModifyInfo),
        }
    };
}

impl OperationRequest {
    /// The body a client sent for `operation`.
    pub fn parse(operation: Operation, body: Option<&Value>) -> Result<Self> {
        let mut request = by_operation!(operation, parse(body))?;
        if let OperationRequest::Instantiate(instantiate) = &mut request {
            instantiate.resolved_vim_id = None;
        }
        Ok(request)
    }

    /// The request stored with an occurrence of `operation`.
    pub fn from_stored(operation: Operation, stored: &StoredJson) -> Result<Self, StoredJsonError> {
        fn read<T: DeserializeOwned>(stored: &StoredJson) -> Result<T, StoredJsonError> {
            stored.parse()
        }
        by_operation!(operation, read(stored))
    }

    /// The form stored with the occurrence (its `operationParams`).
    pub fn to_stored(&self) -> StoredJson {
        let stored = match self {
            OperationRequest::Instantiate(r) => StoredJson::from_serialize(r),
            OperationRequest::Terminate(r) => StoredJson::from_serialize(r),
            OperationRequest::Scale(r) => StoredJson::from_serialize(r),
            OperationRequest::ScaleToLevel(r) => StoredJson::from_serialize(r),
            OperationRequest::Heal(r) => StoredJson::from_serialize(r),
            OperationRequest::ChangeVnfpkg(r) => StoredJson::from_serialize(r),
            OperationRequest::ChangeFlavour(r) => StoredJson::from_serialize(r),
            OperationRequest::Operate(r) => StoredJson::from_serialize(r),
            OperationRequest::ChangeExtConn(r) => StoredJson::from_serialize(r),
            OperationRequest::ModifyInfo(r) => StoredJson::from_serialize(r),
        };
        // Strings, numbers, maps and unit variants: serialising them cannot fail.
        stored.expect("a request serialises to JSON")
    }

    /// The request's `vimConnectionInfo`, to be resolved or encrypted before storing.
    pub fn vim_connection_info_mut(&mut self) -> Option<&mut Value> {
        match self {
            OperationRequest::Instantiate(r) => r.vim_connection_info.as_mut(),
            OperationRequest::ChangeVnfpkg(r) => r.vim_connection_info.as_mut(),
            OperationRequest::ChangeFlavour(r) => r.vim_connection_info.as_mut(),
            OperationRequest::ChangeExtConn(r) => r.vim_connection_info.as_mut(),
            OperationRequest::ModifyInfo(r) => r.vim_connection_info.as_mut(),
            OperationRequest::Terminate(_)
            | OperationRequest::Scale(_)
            | OperationRequest::ScaleToLevel(_)
            | OperationRequest::Heal(_)
            | OperationRequest::Operate(_) => None,
        }
    }

    /// The request's `additionalParams` (MODIFY_INFO has none).
    pub fn additional_params(&self) -> KeyValuePairs {
        let params = match self {
            OperationRequest::Instantiate(r) => &r.additional_params,
            OperationRequest::Terminate(r) => &r.additional_params,
            OperationRequest::Scale(r) => &r.additional_params,
            OperationRequest::ScaleToLevel(r) => &r.additional_params,
            OperationRequest::Heal(r) => &r.additional_params,
            OperationRequest::ChangeVnfpkg(r) => &r.additional_params,
            OperationRequest::ChangeFlavour(r) => &r.additional_params,
            OperationRequest::Operate(r) => &r.additional_params,
            OperationRequest::ChangeExtConn(r) => &r.additional_params,
            OperationRequest::ModifyInfo(_) => &None,
        };
        params.clone().unwrap_or_default()
    }
}
