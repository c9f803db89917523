//! Each ETSI request type refuses what its schema refuses, and says where and why.

use serde_json::{json, Value};

use super::*;
use crate::model::Operation;

fn refused(operation: Operation, body: Value) -> String {
    match OperationRequest::parse(operation, Some(&body)) {
        Err(LcmError::BadRequest(message)) => message,
        other => panic!("{operation} {body}: expected a 400, got {other:?}"),
    }
}

fn accepted(operation: Operation, body: Value) -> OperationRequest {
    OperationRequest::parse(operation, Some(&body)).unwrap_or_else(|e| panic!("{operation} {body}: {e}"))
}

#[test]
fn a_body_that_is_not_an_object_is_refused() {
    let message = |body: Option<&Value>| match parse::<CreateVnfRequest>(body) {
        Err(LcmError::BadRequest(message)) => message,
        other => panic!("{other:?}"),
    };
    assert_eq!(message(None), "Malformed request body.");
    assert_eq!(
        message(Some(&json!([1]))),
        "The request body must be a JSON object."
    );
}

#[test]
fn create_and_subscription_requests() {
    let create = |body: Value| parse::<CreateVnfRequest>(Some(&body));
    assert_eq!(
        create(json!({})).unwrap_err().to_string(),
        "'vnfdId' is a required property"
    );
    assert_eq!(
        create(json!({"vnfdId": ""})).unwrap_err().to_string(),
        "Invalid input for field/attribute vnfdId. Value: \"\". Invalid length 0, expected a non-empty string."
    );
    let long = "x".repeat(256);
    assert!(create(json!({"vnfdId": "d", "vnfInstanceName": long}))
        .unwrap_err()
        .to_string()
        .starts_with("Invalid input for field/attribute vnfInstanceName. Value: \"xxx"));
    assert_eq!(
        create(json!({"vnfdId": "d", "metadata": "m"})).unwrap_err().to_string(),
        "Invalid input for field/attribute metadata. Value: \"m\". Invalid type: string \"m\", expected an object."
    );
    // null is "not given" for optional attributes, as Tacker's schemas allow.
    let ok = create(json!({"vnfdId": "d", "vnfInstanceName": null, "metadata": {"k": 1}})).unwrap();
    assert!(ok.vnf_instance_name.is_none());

    let subscription = |body: Value| parse::<LccnSubscriptionRequest>(Some(&body));
    assert_eq!(
        subscription(json!({})).unwrap_err().to_string(),
        "'callbackUri' is a required property"
    );
    assert_eq!(
        subscription(json!({"callbackUri": "http://x", "verbosity": "LOUD"}))
            .unwrap_err()
            .to_string(),
        "Invalid input for field/attribute verbosity. Value: \"LOUD\". Unknown variant `LOUD`, expected `FULL` or `SHORT`."
    );
    let ok = subscription(json!({"callbackUri": "http://x", "verbosity": "SHORT"})).unwrap();
    assert_eq!(ok.verbosity, Some(Verbosity::Short));
}

#[test]
fn instantiate_requests() {
    assert_eq!(
        refused(Operation::Instantiate, json!({})),
        "'flavourId' is a required property"
    );
    assert_eq!(
        refused(Operation::Instantiate, json!({"flavourId": 5})),
        "Invalid input for field/attribute flavourId. Value: 5. Invalid type: integer `5`, expected a non-empty string."
    );
    assert_eq!(
        refused(Operation::Instantiate, json!({"flavourId": "f", "additionalParams": [1]})),
        "Invalid input for field/attribute additionalParams. Value: [1]. Invalid type: sequence, expected an object."
    );
    assert_eq!(
        refused(
            Operation::Instantiate,
            json!({"flavourId": "f", "extVirtualLinks": {}})
        ),
        "Invalid input for field/attribute extVirtualLinks. Value: {}. Invalid type: map, expected an array."
    );
    // A client cannot name the registered VIM the server resolves.
    let OperationRequest::Instantiate(request) = accepted(
        Operation::Instantiate,
        json!({"flavourId": "f", "vimId": "forged"}),
    ) else {
        panic!("not an instantiation")
    };
    assert!(request.resolved_vim_id.is_none());
}

#[test]
fn terminate_scale_and_heal_requests() {
    assert_eq!(
        refused(Operation::Terminate, json!({})),
        "'terminationType' is a required property"
    );
    assert_eq!(
        refused(Operation::Terminate, json!({"terminationType": "SOON"})),
        "Invalid input for field/attribute terminationType. Value: \"SOON\". Unknown variant `SOON`, expected `FORCEFUL` or `GRACEFUL`."
    );
    assert_eq!(
        refused(
            Operation::Terminate,
            json!({"terminationType": "GRACEFUL", "gracefulTerminationTimeout": -1})
        ),
        "Invalid input for field/attribute gracefulTerminationTimeout. Value: -1. Invalid value: integer `-1`, expected a non-negative integer."
    );
    assert_eq!(
        refused(Operation::Scale, json!({"type": "SCALE_OUT"})),
        "'aspectId' is a required property"
    );
    assert_eq!(
        refused(
            Operation::Scale,
            json!({"type": "SCALE_OUT", "aspectId": "a", "numberOfSteps": 0})
        ),
        "Invalid input for field/attribute numberOfSteps. Value: 0. Invalid value: integer `0`, expected an integer of at least 1."
    );
    let OperationRequest::Scale(scale) =
        accepted(Operation::Scale, json!({"type": "SCALE_IN", "aspectId": "a"}))
    else {
        panic!("not a scale")
    };
    assert_eq!(scale.signed_steps(), -1, "SOL003's default is one step");
    assert_eq!(
        refused(
            Operation::ScaleToLevel,
            json!({"scaleInfo": [{"aspectId": "a", "scaleLevel": 1}, {"aspectId": "b"}]})
        ),
        "'scaleLevel' is a required property of scaleInfo[1]"
    );
    assert_eq!(
        refused(
            Operation::ScaleToLevel,
            json!({"scaleInfo": [{"aspectId": "a", "scaleLevel": "high"}]})
        ),
        "Invalid input for field/attribute scaleInfo[0].scaleLevel. Value: \"high\". Invalid type: string \"high\", expected a non-negative integer."
    );
    assert_eq!(
        refused(Operation::Heal, json!({"vnfcInstanceId": ["pod", 7]})),
        "Invalid input for field/attribute vnfcInstanceId[1]. Value: 7. Invalid type: integer `7`, expected a non-empty string."
    );
    assert!(refused(Operation::Heal, json!({"cause": "x".repeat(1025)}))
        .ends_with("Invalid length 1025, expected a string of at most 1024 characters."));
}

#[test]
fn other_operation_requests() {
    assert_eq!(
        refused(Operation::ChangeVnfpkg, json!({})),
        "'vnfdId' is a required property"
    );
    assert_eq!(
        refused(Operation::ChangeFlavour, json!({})),
        "'newFlavourId' is a required property"
    );
    assert_eq!(
        refused(Operation::Operate, json!({"changeStateTo": "PAUSED"})),
        "Invalid input for field/attribute changeStateTo. Value: \"PAUSED\". Unknown variant `PAUSED`, expected `STARTED` or `STOPPED`."
    );
    assert_eq!(
        refused(Operation::ChangeExtConn, json!({})),
        "'extVirtualLinks' is a required property"
    );
    // MODIFY_INFO is shown as sent: null is refused, left out is fine.
    assert_eq!(
        refused(Operation::ModifyInfo, json!({"vnfInstanceName": null})),
        "Invalid input for field/attribute vnfInstanceName. Value: null. Invalid type: null, expected a string of at most 255 characters."
    );
    assert_eq!(
        refused(Operation::ModifyInfo, json!({"metadata": null})),
        "Invalid input for field/attribute metadata. Value: null. Invalid type: null, expected an object."
    );
    accepted(Operation::ModifyInfo, json!({}));
}

#[test]
fn a_stored_request_reads_back_as_it_was_stored() {
    let body = json!({
        "flavourId": "simple",
        "instantiationLevelId": "big",
        "additionalParams": {"lcm-kubernetes-def-files": ["a.yaml"]},
        "vnfConfigurableProperties": {"isAutoscaleEnabled": true},
    });
    let mut request = accepted(Operation::Instantiate, body.clone());
    if let OperationRequest::Instantiate(r) = &mut request {
        r.resolved_vim_id = Some("vim-1".into());
    }
    let stored = request.to_stored();
    let mut expected = body;
    expected["vimId"] = json!("vim-1");
    assert_eq!(stored.to_value(), expected);
    let read = OperationRequest::from_stored(Operation::Instantiate, &stored).unwrap();
    assert_eq!(read.to_stored(), stored);
    assert_eq!(
        read.additional_params()["lcm-kubernetes-def-files"],
        json!(["a.yaml"])
    );
    // A stored request that no longer reads is an error, not a request with defaults.
    let stale = tacker_db::StoredJson::from(json!({"type": "SCALE_OUT"}));
    assert!(OperationRequest::from_stored(Operation::Scale, &stale).is_err());
}
