//! How many instances of each VDU a flavour wants at given scale levels, from the VNFD's
//! initial deltas, scaling-aspect deltas and instantiation levels.

use std::collections::BTreeMap;

use tacker_pkg::{Flavour, ScalingAspect};

use crate::requests::ScaleInfo;

/// The scale level of each aspect.
pub type ScaleLevels = BTreeMap<String, u32>;

/// The aspect levels of an instantiation level (the flavour's default level when `None`;
/// all zero when the flavour has none).
pub fn instantiation_levels(flavour: &Flavour, level_id: Option<&str>) -> Result<ScaleLevels, String> {
    let mut levels: ScaleLevels = flavour
        .scaling_aspects
        .iter()
        .map(|a| (a.id.clone(), 0))
        .collect();
    let chosen = level_id.or(flavour.default_instantiation_level.as_deref());
    if let Some(id) = chosen {
        let level = flavour
            .instantiation_levels
            .iter()
            .find(|l| l.id == id)
            .ok_or_else(|| {
                format!(
                    "instantiationLevelId '{id}' is not defined in flavour '{}'",
                    flavour.flavour_id
                )
            })?;
        levels.extend(level.scale_levels.iter().map(|(k, v)| (k.clone(), *v)));
    }
    Ok(levels)
}

/// The scale levels an InstantiatedVnfInfo records (`scaleStatus`).
pub fn levels_of(instantiated_vnf_info: &serde_json::Value) -> ScaleLevels {
    instantiated_vnf_info
        .get("scaleStatus")
        .and_then(serde_json::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| {
                    Some((
                        s.get("aspectId")?.as_str()?.to_owned(),
                        s.get("scaleLevel")?.as_u64()? as u32,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Instances per VDU id at `levels`: the initial delta (or the VDU's minimum) plus the
/// deltas of every step each targeting aspect has taken.
pub fn vdu_counts(flavour: &Flavour, levels: &ScaleLevels) -> BTreeMap<String, u32> {
    flavour
        .vdus
        .iter()
        .map(|vdu| {
            let initial = vdu.initial_instances.unwrap_or(vdu.min_instances);
            let scaled: u32 = flavour
                .scaling_aspects
                .iter()
                .map(|aspect| steps_total(aspect, &vdu.id, levels.get(&aspect.id).copied().unwrap_or(0)))
                .sum();
            (vdu.id.clone(), initial + scaled)
        })
        .collect()
}

/// Instances added to `vdu_id` by `level` steps of `aspect` (each step uses its delta,
/// the last delta repeating, as SOL001 defines step_deltas).
fn steps_total(aspect: &ScalingAspect, vdu_id: &str, level: u32) -> u32 {
    let Some(deltas) = aspect.vdu_deltas.get(vdu_id) else {
        return 0;
    };
    (0..level as usize)
        .map(|step| {
            let delta_id = aspect.step_deltas.get(step).or(aspect.step_deltas.last());
            delta_id.and_then(|id| deltas.get(id)).copied().unwrap_or(0)
        })
        .sum()
}

/// The levels after scaling `aspect_id` by `steps` (negative: in), checked against the
/// aspect's max_scale_level and zero.
pub fn scaled(
    flavour: &Flavour,
    current: &ScaleLevels,
    aspect_id: &str,
    steps: i64,
) -> Result<ScaleLevels, String> {
    let aspect = flavour
        .scaling_aspects
        .iter()
        .find(|a| a.id == aspect_id)
        .ok_or_else(|| {
            format!(
                "aspectId '{aspect_id}' is not defined in flavour '{}'",
                flavour.flavour_id
            )
        })?;
    let now = i64::from(current.get(aspect_id).copied().unwrap_or(0));
    let target = now + steps;
    if target < 0 || target > i64::from(aspect.max_scale_level) {
        return Err(format!(
            "scaling '{aspect_id}' from level {now} by {steps} step(s) leaves the range 0 to {}",
            aspect.max_scale_level
        ));
    }
    let mut levels = current.clone();
    levels.insert(aspect_id.to_owned(), target as u32);
    Ok(levels)
}

/// The levels a ScaleVnfToLevelRequest asks for: an instantiation level, or each listed
/// aspect at its level (checked as [`scaled`] checks a step).
pub fn to_level(
    flavour: &Flavour,
    current: &ScaleLevels,
    level_id: Option<&str>,
    scale_info: Option<&[ScaleInfo]>,
) -> Result<ScaleLevels, String> {
    if let Some(level_id) = level_id {
        return instantiation_levels(flavour, Some(level_id));
    }
    let mut target = current.clone();
    for item in scale_info.unwrap_or_default() {
        let now = i64::from(target.get(&*item.aspect_id).copied().unwrap_or(0));
        target = scaled(
            flavour,
            &target,
            &item.aspect_id,
            i64::from(item.scale_level) - now,
        )?;
    }
    Ok(target)
}

/// VDU counts must stay within each VDU's profile.
pub fn check_counts(flavour: &Flavour, counts: &BTreeMap<String, u32>) -> Result<(), String> {
    for vdu in &flavour.vdus {
        let n = counts.get(&vdu.id).copied().unwrap_or(0);
        if n < vdu.min_instances || n > vdu.max_instances {
            return Err(format!(
                "{} instance(s) of {} is outside its vdu_profile ({} to {})",
                n, vdu.id, vdu.min_instances, vdu.max_instances
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tacker_pkg::{InstantiationLevel, Vdu};

    use super::*;

    fn flavour() -> Flavour {
        let vdu = |id: &str, max| Vdu {
            id: id.into(),
            name: id.to_lowercase(),
            description: None,
            min_instances: 1,
            max_instances: max,
            initial_instances: Some(1),
        };
        let aspect = |id: &str, vdu: &str, max| ScalingAspect {
            id: id.into(),
            name: None,
            description: None,
            max_scale_level: max,
            step_deltas: vec!["delta_1".into()],
            vdu_deltas: BTreeMap::from([(vdu.into(), BTreeMap::from([("delta_1".into(), 1)]))]),
        };
        Flavour {
            flavour_id: "simple".into(),
            description: None,
            vdus: vec![vdu("VDU1", 4), vdu("VDU2", 3)],
            scaling_aspects: vec![aspect("web", "VDU1", 3), aspect("kv", "VDU2", 2)],
            instantiation_levels: vec![InstantiationLevel {
                id: "big".into(),
                description: None,
                scale_levels: BTreeMap::from([("web".into(), 3), ("kv".into(), 2)]),
                vdu_instances: BTreeMap::new(),
            }],
            default_instantiation_level: None,
        }
    }

    #[test]
    fn counts_follow_levels_and_scaling_is_bounded() {
        let f = flavour();
        let zero = instantiation_levels(&f, None).unwrap();
        assert_eq!(
            vdu_counts(&f, &zero),
            BTreeMap::from([("VDU1".into(), 1), ("VDU2".into(), 1)])
        );
        let big = instantiation_levels(&f, Some("big")).unwrap();
        assert_eq!(
            vdu_counts(&f, &big),
            BTreeMap::from([("VDU1".into(), 4), ("VDU2".into(), 3)])
        );
        assert!(instantiation_levels(&f, Some("huge")).is_err());

        let out = scaled(&f, &zero, "web", 2).unwrap();
        assert_eq!(vdu_counts(&f, &out)["VDU1"], 3);
        assert!(scaled(&f, &out, "web", 2)
            .unwrap_err()
            .contains("leaves the range 0 to 3"));
        assert!(scaled(&f, &zero, "web", -1).is_err());
        assert!(scaled(&f, &zero, "nope", 1).is_err());
        assert!(check_counts(&f, &vdu_counts(&f, &out)).is_ok());
    }
}
