//! The receivers Tacker mounts for Alertmanager's webhooks (its Prometheus plugin). Tacker
//! mounts them without authentication (api-paste.ini's `prometheus_*` apps), so
//! Alertmanager needs no credentials; each answers 404 while its `[prometheus_plugin]`
//! option is off.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{post, MethodRouter};
use axum::Router;

use crate::error::EtsiError;
use crate::extract::EtsiJson;
use crate::AppState;

/// `POST /alert` (FmAlertRouter): alarms raised and cleared.
pub fn fault_router(state: AppState) -> Router {
    receiver("/alert", post(alert), state)
}

/// `POST /alert/auto_healing` (AutoHealingRouter): HEAL operations.
pub fn auto_heal_router(state: AppState) -> Router {
    receiver("/alert/auto_healing", post(auto_heal), state)
}

fn receiver(path: &str, route: MethodRouter<AppState>, state: AppState) -> Router {
    let limit = state.config.max_request_body_size;
    Router::new()
        .route(path, route)
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn alert(State(state): State<AppState>, EtsiJson(body): EtsiJson) -> Result<StatusCode, EtsiError> {
    if !state.config.prometheus_plugin.fault_management {
        return Err(EtsiError::new(
            StatusCode::NOT_FOUND,
            "Fault management API is not enabled.",
        ));
    }
    let report = state.fm.receive_alerts(body).await?;
    tracing::debug!(
        raised = report.raised,
        cleared = report.cleared,
        unchanged = report.unchanged,
        "alerts received"
    );
    Ok(StatusCode::NO_CONTENT)
}

async fn auto_heal(State(state): State<AppState>, EtsiJson(body): EtsiJson) -> Result<StatusCode, EtsiError> {
    if !state.config.prometheus_plugin.auto_healing {
        return Err(EtsiError::new(
            StatusCode::NOT_FOUND,
            "Auto healing API is not enabled.",
        ));
    }
    let report = state.auto_heal.receive(body).await?;
    tracing::debug!(
        queued = report.queued,
        skipped = report.skipped,
        "auto-heal alerts received"
    );
    Ok(StatusCode::NO_CONTENT)
}
