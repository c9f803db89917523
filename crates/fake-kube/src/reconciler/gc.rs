//! The garbage collector: dependents of a Foreground-deleted owner are deleted before the
//! owner goes, dependents of an Orphan-deleted owner lose their ownerReference, and objects
//! whose owners are all gone are deleted (Background).

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::Ctx;
use crate::meta;
use crate::resources::ResourceType;
use crate::store::{DeleteOptions, Propagation};

type Dependent = (&'static ResourceType, Value);

pub fn step(ctx: &mut Ctx<'_>) {
    let mut uids: HashSet<String> = HashSet::new();
    let mut dependents: HashMap<String, Vec<Dependent>> = HashMap::new();
    let mut deleting: Vec<Dependent> = Vec::new();
    for (rt, obj) in ctx.state.all() {
        uids.insert(meta::uid(obj).to_string());
        for owner in meta::owner_uids(obj) {
            dependents
                .entry(owner.to_string())
                .or_default()
                .push((rt, obj.clone()));
        }
        if meta::is_deleting(obj) && !meta::finalizers(obj).is_empty() {
            deleting.push((rt, obj.clone()));
        }
    }
    for (rt, mut obj) in deleting {
        let uid = meta::uid(&obj).to_string();
        let deps = dependents.get(&uid).cloned().unwrap_or_default();
        let mut finalizers = meta::finalizers(&obj);
        if finalizers.iter().any(|f| f == "orphan") {
            for (drt, mut dep) in deps.clone() {
                if let Some(refs) = dep["metadata"]["ownerReferences"].as_array_mut() {
                    refs.retain(|r| r["uid"] != json!(uid));
                }
                ctx.state.put(drt, dep);
            }
            finalizers.retain(|f| f != "orphan");
        }
        if finalizers.iter().any(|f| f == "foregroundDeletion") {
            if deps.is_empty() {
                finalizers.retain(|f| f != "foregroundDeletion");
            } else {
                for (drt, dep) in &deps {
                    if meta::is_deleting(dep) {
                        continue;
                    }
                    let has_own = dependents.contains_key(meta::uid(dep));
                    let options = DeleteOptions {
                        propagation: Some(if has_own {
                            Propagation::Foreground
                        } else {
                            Propagation::Background
                        }),
                        ..DeleteOptions::default()
                    };
                    let _ = ctx
                        .state
                        .delete(drt, meta::namespace(dep), meta::name(dep), &options);
                }
            }
        }
        if finalizers != meta::finalizers(&obj) {
            meta::set_finalizers(&mut obj, &finalizers);
            ctx.state.put(rt, obj);
        }
    }
    // Background: dependents whose owners are all gone.
    for (owner, deps) in dependents {
        if uids.contains(&owner) {
            continue;
        }
        for (rt, dep) in deps {
            let orphaned = meta::owner_uids(&dep).iter().all(|u| !uids.contains(*u));
            if orphaned && !meta::is_deleting(&dep) {
                let options = DeleteOptions {
                    propagation: Some(Propagation::Background),
                    ..DeleteOptions::default()
                };
                let _ = ctx
                    .state
                    .delete(rt, meta::namespace(&dep), meta::name(&dep), &options);
            }
        }
    }
}
