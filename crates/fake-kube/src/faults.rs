//! Error injection for negative tests: failing requests by verb and resource, and pods
//! that never become ready, crash-loop or fail.

use std::sync::Mutex;

use serde_json::Value;

use crate::selector::LabelSelector;
use crate::status::ApiError;

/// The error an injected failure answers with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InjectedError {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

impl InjectedError {
    pub fn new(code: u16, reason: &str, message: &str) -> Self {
        InjectedError {
            code,
            reason: reason.to_string(),
            message: message.to_string(),
        }
    }

    /// A 500 InternalError.
    pub fn internal(message: &str) -> Self {
        InjectedError::new(500, "InternalError", message)
    }
}

/// What happens to matching pods instead of going Running and Ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodFault {
    /// Stay Pending (containers waiting in ContainerCreating).
    NeverReady,
    /// Go Running but never Ready (CrashLoopBackOff).
    CrashLoop,
    /// Go Failed.
    Fail,
}

struct RequestFault {
    verb: String,
    resource: String,
    remaining: Option<u32>,
    error: InjectedError,
}

#[derive(Default)]
struct FaultState {
    requests: Vec<RequestFault>,
    pods: Vec<(LabelSelector, PodFault)>,
}

/// The faults in force; change them at any time through [`crate::FakeKube::faults`].
#[derive(Default)]
pub struct Faults {
    state: Mutex<FaultState>,
}

impl Faults {
    fn state(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fails every `verb` (`"*"` for any) on `resource` (plural such as `deployments` or kind
    /// such as `Deployment`; `"*"` for any) with `error`; `times` limits how many requests
    /// fail (`None`: until cleared).
    pub fn fail(&self, verb: &str, resource: &str, error: InjectedError, times: Option<u32>) {
        let plural = crate::resources::RESOURCES
            .iter()
            .find(|r| r.kind == resource)
            .map_or(resource, |r| r.plural);
        self.state().requests.push(RequestFault {
            verb: verb.to_string(),
            resource: plural.to_string(),
            remaining: times,
            error,
        });
    }

    /// Fails every create of `resource` with a 500.
    pub fn fail_create(&self, resource: &str) {
        self.fail(
            "create",
            resource,
            InjectedError::internal(&format!("injected failure creating {resource}")),
            None,
        );
    }

    /// Pods matching `selector` (a label selector string; `""` for all) behave as `fault`.
    pub fn pods(&self, selector: &str, fault: PodFault) -> Result<(), ApiError> {
        let selector = LabelSelector::parse(selector)?;
        self.state().pods.push((selector, fault));
        Ok(())
    }

    /// Removes every fault.
    pub fn clear(&self) {
        let mut state = self.state();
        state.requests.clear();
        state.pods.clear();
    }

    /// The injected error for this request, if any (and counts it).
    pub(crate) fn check(&self, verb: &str, resource: &str) -> Option<ApiError> {
        let mut state = self.state();
        let fault = state.requests.iter_mut().find(|f| {
            (f.verb == "*" || f.verb == verb)
                && (f.resource == "*" || f.resource == resource)
                && f.remaining != Some(0)
        })?;
        if let Some(n) = fault.remaining.as_mut() {
            *n -= 1;
        }
        Some(ApiError::Injected {
            code: fault.error.code,
            reason: fault.error.reason.clone(),
            message: fault.error.message.clone(),
        })
    }

    /// The fault for a pod, by its labels.
    pub(crate) fn pod_fault(&self, pod: &Value) -> Option<PodFault> {
        let labels = crate::meta::labels(pod);
        self.state()
            .pods
            .iter()
            .find(|(selector, _)| selector.matches(&labels))
            .map(|(_, fault)| *fault)
    }
}
