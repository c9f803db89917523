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

/// `POST /alert/auto_scaling` (AutoScalingRouter): SCALE operations.
pub fn auto_scale_router(state: AppState) -> Router {
    receiver("/alert/auto_scaling", post(auto_scale), state)
}

/// `POST /pm_event` (PmEventRouter): PM job reports.
pub fn pm_event_router(state: AppState) -> Router {
    receiver("/pm_event", post(pm_event), state)
}

/// `POST /pm_threshold` (PmThresholdRouter): threshold crossings.
pub fn pm_threshold_router(state: AppState) -> Router {
    receiver("/pm_threshold", post(pm_threshold), state)
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

async fn pm_event(State(state): State<AppState>, EtsiJson(body): EtsiJson) -> Result<StatusCode, EtsiError> {
    performance_management(&state)?;
    let report = state.pm.receive_pm_events(body).await?;
    tracing::debug!(
        reports = report.recorded,
        skipped = report.skipped,
        "PM events received"
    );
    Ok(StatusCode::NO_CONTENT)
}

async fn pm_threshold(
    State(state): State<AppState>,
    EtsiJson(body): EtsiJson,
) -> Result<StatusCode, EtsiError> {
    performance_management(&state)?;
    let report = state.pm.receive_threshold_events(body).await?;
    tracing::debug!(
        crossings = report.recorded,
        skipped = report.skipped,
        "threshold events received"
    );
    Ok(StatusCode::NO_CONTENT)
}

fn performance_management(state: &AppState) -> Result<(), EtsiError> {
    if state.config.prometheus_plugin.performance_management {
        Ok(())
    } else {
        Err(EtsiError::new(
            StatusCode::NOT_FOUND,
            "Performance management API is not enabled.",
        ))
    }
}

async fn auto_scale(
    State(state): State<AppState>,
    EtsiJson(body): EtsiJson,
) -> Result<StatusCode, EtsiError> {
    if !state.config.prometheus_plugin.auto_scaling {
        return Err(EtsiError::new(
            StatusCode::NOT_FOUND,
            "Auto scaling API is not enabled.",
        ));
    }
    let report = state.auto_scale.receive(body).await?;
    tracing::debug!(
        started = report.started,
        skipped = report.skipped,
        "auto-scale alerts received"
    );
    Ok(StatusCode::NO_CONTENT)
}
