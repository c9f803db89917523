//! The namespace controller: a `default` ServiceAccount in every active namespace, and
//! the contents of a terminating namespace deleted before the namespace goes.

use serde_json::json;

use super::Ctx;
use crate::meta;
use crate::resources::{rt, RESOURCES};
use crate::store::DeleteOptions;

pub fn step(ctx: &mut Ctx<'_>) {
    for ns in ctx.state.list(rt("namespaces"), None) {
        let name = meta::name(&ns).to_string();
        if !meta::is_deleting(&ns) {
            if ctx.state.get(rt("serviceaccounts"), &name, "default").is_none() {
                ctx.create(
                    "serviceaccounts",
                    json!({"metadata": {"name": "default", "namespace": name}}),
                );
            }
            continue;
        }
        let mut remaining = 0;
        for rt in RESOURCES.iter().filter(|r| r.namespaced) {
            for obj in ctx.state.list(rt, Some(&name)) {
                remaining += 1;
                if !meta::is_deleting(&obj) {
                    let _ = ctx
                        .state
                        .delete(rt, &name, meta::name(&obj), &DeleteOptions::default());
                }
            }
        }
        if remaining == 0 {
            ctx.state.remove(rt("namespaces"), "", &name);
        }
    }
}
