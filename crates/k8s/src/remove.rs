//! Removing what an instance runs (terminate, rollback of instantiate): every object that
//! carries the instance's label, of the kinds the manifests name and the usual kinds,
//! deleted in reverse creation order with Foreground propagation, then waited for until
//! gone (watched by the label, read again at least every poll interval). Objects owned by
//! another object (a Deployment's ReplicaSets and pods, ...) are left to the garbage
//! collector; objects without the label were not made by this instance and are never
//! touched.

use std::collections::BTreeSet;

use kube::api::{DeleteParams, ListParams};
use serde_json::Value;

use crate::error::Result;
use crate::manifests::{self, INSTANCE_LABEL};
use crate::operation::{to_value, Operation};
use crate::resources::{Resolved, SWEPT};

/// Deletes the instance's objects of `kinds` (apiVersion, kind) and of the usual kinds,
/// with `grace` seconds of grace (`None`: the object's default); waits until they are gone.
pub(crate) async fn remove_labelled(
    op: &Operation,
    kinds: &[(String, String)],
    grace: Option<u32>,
) -> Result<()> {
    let named: BTreeSet<(String, String)> = kinds.iter().cloned().collect();
    let mut all: Vec<(String, String, bool)> =
        named.iter().map(|(a, k)| (a.clone(), k.clone(), true)).collect();
    for (api_version, kind) in SWEPT {
        if !named.iter().any(|(_, k)| k == kind) {
            all.push(((*api_version).to_owned(), (*kind).to_owned(), false));
        }
    }
    // Reverse creation order: workloads before the services, config and namespace they use.
    all.sort_by_key(|(_, kind, _)| std::cmp::Reverse(manifests::rank(kind)));

    let selector = format!("{INSTANCE_LABEL}={}", op.instance_id);
    let mut deleted: Vec<(Resolved, String)> = Vec::new();
    for (api_version, kind, from_manifests) in all {
        let resolved = op.resolve(&api_version, &kind).await?;
        let api = resolved.api(&op.session, &op.namespace);
        let scope = if resolved.namespaced {
            op.namespace.as_str()
        } else {
            "(cluster)"
        };
        let list = match api.list(&ListParams::default().labels(&selector)).await {
            Ok(list) => list,
            Err(e) => {
                let err = op.session.err(format!("list {kind} {scope} ({selector})"), e);
                // The usual kinds are only a safety net: a VIM user need not be allowed to
                // list (or the cluster to serve) kinds the package does not use.
                if !from_manifests && matches!(err.api_code(), Some(403 | 404)) {
                    tracing::debug!(kind, error = %err, "not swept");
                    continue;
                }
                return Err(err);
            }
        };
        for item in list.items {
            let object = to_value(item)?;
            let owned = object
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|owners| !owners.is_empty());
            if owned {
                continue;
            }
            let name = manifests::name(&object).to_owned();
            let params = DeleteParams {
                grace_period_seconds: grace,
                ..DeleteParams::foreground()
            };
            tracing::debug!(object = %resolved.describe(&op.namespace, &name), "deleting");
            match api.delete(&name, &params).await {
                Ok(_) => deleted.push((resolved.clone(), name)),
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(e) => {
                    return Err(op
                        .session
                        .err(format!("delete {}", resolved.describe(&op.namespace, &name)), e))
                }
            }
        }
    }

    let mut watched: Vec<Resolved> = Vec::new();
    for (resolved, _) in &deleted {
        if !watched.iter().any(|w| w.same_kind(resolved)) {
            watched.push(resolved.clone());
        }
    }
    op.poll_until("resources were not deleted", &watched, || async {
        let mut left = Vec::new();
        for (resolved, name) in &deleted {
            if op.get(resolved, name).await?.is_some() {
                left.push(resolved.describe(&op.namespace, name));
            }
        }
        Ok(left)
    })
    .await
}
