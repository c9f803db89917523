//! The parts of a TOSCA VNFD that the VNF manager acts on: the VNF's identity, its deployment
//! flavours, their VDUs, scaling aspects and instantiation levels, and software images.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::definitions::Definitions;
use crate::error::{PackageError, Result};

const VNF_TYPE: &str = "tosca.nodes.nfv.VNF";
const VDU_TYPE: &str = "tosca.nodes.nfv.Vdu.Compute";
const SW_IMAGE_TYPE: &str = "tosca.artifacts.nfv.SwImage";

/// What is wrong with a deployment flavour's topology template; shown to the user after
/// the file it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum FlavourProblem {
    #[error("policy '{policy}' has no aspects")]
    NoAspects { policy: String },
    #[error("aspect '{aspect}' needs a non-negative max_scale_level")]
    NoMaxScaleLevel { aspect: String },
    #[error("policy '{policy}' has no levels")]
    NoLevels { policy: String },
    #[error("instantiation level '{level}' names unknown aspect '{aspect}'")]
    LevelUnknownAspect { level: String, aspect: String },
    #[error("instantiation level '{level}' needs a scale_level for '{aspect}'")]
    LevelNoScaleLevel { level: String, aspect: String },
    #[error(
        "instantiation level '{level}' puts '{aspect}' at level {scale_level}, above its max_scale_level {max_scale_level}"
    )]
    LevelAboveMax {
        level: String,
        aspect: String,
        scale_level: u32,
        max_scale_level: u32,
    },
    #[error("default_level '{level}' is not one of the instantiation levels")]
    UnknownDefaultLevel { level: String },
    #[error("policy '{policy}' names no aspect")]
    NoAspect { policy: String },
    #[error("policy '{policy}' names unknown aspect '{aspect}'")]
    UnknownAspect { policy: String, aspect: String },
    #[error("policy '{policy}' delta '{delta}' needs number_of_instances")]
    DeltaNoInstances { policy: String, delta: String },
    #[error("policy '{policy}' does not define step delta '{step}'")]
    MissingStepDelta { policy: String, step: String },
    #[error("policy '{policy}' level '{level}' needs number_of_instances")]
    LevelNoInstances { policy: String, level: String },
    #[error("policy '{policy}' names unknown instantiation level '{level}'")]
    UnknownLevel { policy: String, level: String },
    #[error("policy '{policy}' needs initial_delta.number_of_instances")]
    NoInitialDelta { policy: String },
    #[error("policy '{policy}' has no targets")]
    NoTargets { policy: String },
    #[error("policy '{policy}' targets '{target}', which is not a VDU")]
    TargetNotVdu { policy: String, target: String },
    #[error("VDU '{vdu}' has no properties")]
    VduNoProperties { vdu: String },
    #[error("VDU '{vdu}' has no name")]
    VduNoName { vdu: String },
    #[error("VDU '{vdu}' needs vdu_profile.{bound}_number_of_instances")]
    VduNoBound { vdu: String, bound: &'static str },
    #[error("VDU '{vdu}' has min_number_of_instances above max_number_of_instances")]
    VduMinAboveMax { vdu: String },
    #[error("the software image of '{node}' has no name")]
    ImageNoName { node: String },
    #[error("each policy must be a one-entry map")]
    PolicyNotOneEntryMap,
    #[error("empty policy")]
    EmptyPolicy,
    #[error("policies must be a list or a map")]
    PoliciesNotListOrMap,
}

type FlavourResult<T> = std::result::Result<T, FlavourProblem>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vnfd {
    pub vnfd_id: String,
    pub provider: String,
    pub product_name: String,
    pub software_version: String,
    pub descriptor_version: String,
    pub flavours: Vec<Flavour>,
    pub software_images: Vec<SoftwareImage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flavour {
    pub flavour_id: String,
    pub description: Option<String>,
    pub vdus: Vec<Vdu>,
    pub scaling_aspects: Vec<ScalingAspect>,
    pub instantiation_levels: Vec<InstantiationLevel>,
    pub default_instantiation_level: Option<String>,
}

/// A VDU: for a CNF, one Kubernetes workload named by `name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vdu {
    /// The node template name (`VDU1`), the id scaling policies target.
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub min_instances: u32,
    pub max_instances: u32,
    pub initial_instances: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingAspect {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub max_scale_level: u32,
    pub step_deltas: Vec<String>,
    /// For each VDU the aspect scales: instances added per delta id.
    pub vdu_deltas: BTreeMap<String, BTreeMap<String, u32>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstantiationLevel {
    pub id: String,
    pub description: Option<String>,
    /// The scale level of each aspect at this instantiation level.
    pub scale_levels: BTreeMap<String, u32>,
    /// The number of instances of each VDU at this instantiation level.
    pub vdu_instances: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftwareImage {
    /// `<VDU or storage node>` the image belongs to.
    pub id: String,
    pub name: String,
    pub version: String,
    pub checksum: Option<(String, String)>,
    pub container_format: Option<String>,
    pub disk_format: Option<String>,
    pub min_disk: Option<u64>,
    pub min_ram: Option<u64>,
    pub size: Option<u64>,
    /// The image file inside the package, when it is bundled.
    pub image_path: Option<String>,
}

impl Vnfd {
    pub fn from_definitions(defs: &Definitions) -> Result<Self> {
        let types = TypeIndex::new(defs);
        let (entry_path, entry) = defs
            .files
            .first()
            .ok_or_else(|| PackageError::package("no VNFD"))?;
        let (vnf_type, vnf_props) = vnf_node(entry, &types).ok_or_else(|| {
            PackageError::in_file(
                entry_path,
                format!("no node template or substitution mapping of a type derived from {VNF_TYPE}"),
            )
        })?;
        let property = |name: &str| -> Result<String> {
            vnf_props
                .get(name)
                .and_then(scalar_string)
                .or_else(|| types.property_default(&vnf_type, name))
                .ok_or_else(|| PackageError::in_file(entry_path, format!("the VNF has no {name}")))
        };
        let mut vnfd = Vnfd {
            vnfd_id: property("descriptor_id")?,
            provider: property("provider")?,
            product_name: property("product_name")?,
            software_version: property("software_version")?,
            descriptor_version: property("descriptor_version")?,
            flavours: Vec::new(),
            software_images: Vec::new(),
        };
        for (path, doc) in &defs.files {
            let Some(topology) = doc.get("topology_template") else {
                continue;
            };
            let Some(flavour_id) = flavour_id(topology, &vnf_type, &types, path == entry_path) else {
                continue;
            };
            if vnfd.flavours.iter().any(|f| f.flavour_id == flavour_id) {
                return Err(PackageError::in_file(
                    path,
                    format!("flavour '{flavour_id}' is defined twice"),
                ));
            }
            let flavour = Flavour::parse(flavour_id, topology, &vnf_type, &types)
                .map_err(|problem| PackageError::in_file(path, problem.to_string()))?;
            vnfd.software_images.extend(
                software_images(topology, &types)
                    .map_err(|problem| PackageError::in_file(path, problem.to_string()))?,
            );
            vnfd.flavours.push(flavour);
        }
        if vnfd.flavours.is_empty() {
            return Err(PackageError::in_file(
                entry_path,
                "the VNFD defines no deployment flavour",
            ));
        }
        Ok(vnfd)
    }

    pub fn flavour(&self, flavour_id: &str) -> Option<&Flavour> {
        self.flavours.iter().find(|f| f.flavour_id == flavour_id)
    }
}

/// Node types by name, with inheritance.
struct TypeIndex<'a> {
    types: BTreeMap<&'a str, (&'a str, &'a Map<String, Value>)>,
}

impl<'a> TypeIndex<'a> {
    fn new(defs: &'a Definitions) -> Self {
        TypeIndex {
            types: defs.node_types(),
        }
    }

    /// Whether `name` is `base` or derives from it (cycles end the walk).
    fn derives_from(&self, name: &str, base: &str) -> bool {
        let mut current = name;
        for _ in 0..32 {
            if current == base {
                return true;
            }
            match self
                .types
                .get(current)
                .and_then(|(_, t)| t.get("derived_from"))
                .and_then(Value::as_str)
            {
                Some(parent) => current = parent,
                None => return false,
            }
        }
        false
    }

    /// A property's default (or its single valid value) from the type or its ancestors.
    fn property_default(&self, name: &str, property: &str) -> Option<String> {
        let mut current = name;
        for _ in 0..32 {
            let (_, body) = self.types.get(current)?;
            if let Some(def) = body.get("properties").and_then(|p| p.get(property)) {
                if let Some(default) = def.get("default").and_then(scalar_string) {
                    return Some(default);
                }
                let valid = def.get("constraints").and_then(Value::as_array).and_then(|cs| {
                    cs.iter()
                        .find_map(|c| c.get("valid_values").and_then(Value::as_array))
                });
                if let Some([only]) = valid.map(Vec::as_slice) {
                    return scalar_string(only);
                }
            }
            current = body.get("derived_from").and_then(Value::as_str)?;
        }
        None
    }
}

/// The VNF node of the entry file: its type and the properties the template sets.
fn vnf_node(entry: &Value, types: &TypeIndex<'_>) -> Option<(String, Map<String, Value>)> {
    let topology = entry.get("topology_template")?;
    let templates = topology.get("node_templates").and_then(Value::as_object);
    let from_template = templates.into_iter().flatten().find_map(|(_, node)| {
        let ty = node.get("type")?.as_str()?;
        types.derives_from(ty, VNF_TYPE).then(|| {
            let props = node
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            (ty.to_owned(), props)
        })
    });
    from_template.or_else(|| {
        let mapping = topology.get("substitution_mappings")?;
        let ty = mapping.get("node_type")?.as_str()?;
        types.derives_from(ty, VNF_TYPE).then(|| {
            let props = mapping
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            (ty.to_owned(), props)
        })
    })
}

/// The flavour a topology template defines: the substitution mapping's `flavour_id`, or, in
/// a single-file VNFD, the VNF template's literal `flavour_id`.
fn flavour_id(topology: &Value, vnf_type: &str, types: &TypeIndex<'_>, is_entry: bool) -> Option<String> {
    if let Some(mapping) = topology.get("substitution_mappings") {
        let mapped = mapping.get("node_type").and_then(Value::as_str)?;
        if !types.derives_from(mapped, VNF_TYPE) && mapped != vnf_type {
            return None;
        }
        return mapping
            .get("properties")
            .and_then(|p| p.get("flavour_id"))
            .and_then(scalar_string);
    }
    if !is_entry {
        return None;
    }
    let templates = topology.get("node_templates")?.as_object()?;
    templates.values().find_map(|node| {
        let ty = node.get("type")?.as_str()?;
        if !types.derives_from(ty, VNF_TYPE) {
            return None;
        }
        node.get("properties")?.get("flavour_id").and_then(scalar_string)
    })
}

impl Flavour {
    fn parse(
        flavour_id: String,
        topology: &Value,
        vnf_type: &str,
        types: &TypeIndex<'_>,
    ) -> FlavourResult<Self> {
        let templates = topology.get("node_templates").and_then(Value::as_object);
        let mut description = None;
        let mut vdus = Vec::new();
        for (id, node) in templates.into_iter().flatten() {
            let ty = node.get("type").and_then(Value::as_str).unwrap_or_default();
            let props = node.get("properties");
            if ty == vnf_type || types.derives_from(ty, VNF_TYPE) {
                description = props
                    .and_then(|p| p.get("flavour_description"))
                    .and_then(scalar_string);
            } else if types.derives_from(ty, VDU_TYPE) {
                vdus.push(Vdu::parse(id, props)?);
            }
        }
        let mut flavour = Flavour {
            flavour_id,
            description,
            vdus,
            scaling_aspects: Vec::new(),
            instantiation_levels: Vec::new(),
            default_instantiation_level: None,
        };
        flavour.apply_policies(topology.get("policies"))?;
        Ok(flavour)
    }

    fn apply_policies(&mut self, policies: Option<&Value>) -> FlavourResult<()> {
        let policies = named_policies(policies)?;
        // Aspects and levels first: the per-VDU policies refer to them.
        for (name, policy) in &policies {
            match policy_type(policy) {
                "tosca.policies.nfv.ScalingAspects" => self.add_aspects(name, policy)?,
                "tosca.policies.nfv.InstantiationLevels" => self.add_levels(name, policy)?,
                _ => {}
            }
        }
        for (name, policy) in &policies {
            match policy_type(policy) {
                "tosca.policies.nfv.VduScalingAspectDeltas" => self.add_vdu_deltas(name, policy)?,
                "tosca.policies.nfv.VduInstantiationLevels" => self.add_vdu_levels(name, policy)?,
                "tosca.policies.nfv.VduInitialDelta" => self.add_initial_delta(name, policy)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn add_aspects(&mut self, policy_name: &str, policy: &Value) -> FlavourResult<()> {
        let aspects = props(policy)
            .get("aspects")
            .and_then(Value::as_object)
            .ok_or_else(|| FlavourProblem::NoAspects {
                policy: policy_name.to_owned(),
            })?;
        for (id, aspect) in aspects {
            let max_scale_level = uint(aspect.get("max_scale_level"))
                .ok_or_else(|| FlavourProblem::NoMaxScaleLevel { aspect: id.clone() })?;
            let step_deltas = aspect
                .get("step_deltas")
                .and_then(Value::as_array)
                .map(|ds| ds.iter().filter_map(scalar_string).collect())
                .unwrap_or_default();
            self.scaling_aspects.push(ScalingAspect {
                id: id.clone(),
                name: aspect.get("name").and_then(scalar_string),
                description: aspect.get("description").and_then(scalar_string),
                max_scale_level,
                step_deltas,
                vdu_deltas: BTreeMap::new(),
            });
        }
        Ok(())
    }

    fn add_levels(&mut self, policy_name: &str, policy: &Value) -> FlavourResult<()> {
        let props = props(policy);
        let levels =
            props
                .get("levels")
                .and_then(Value::as_object)
                .ok_or_else(|| FlavourProblem::NoLevels {
                    policy: policy_name.to_owned(),
                })?;
        for (id, level) in levels {
            let mut scale_levels = BTreeMap::new();
            for (aspect, info) in level
                .get("scale_info")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let aspect_def = self
                    .scaling_aspects
                    .iter()
                    .find(|a| &a.id == aspect)
                    .ok_or_else(|| FlavourProblem::LevelUnknownAspect {
                        level: id.clone(),
                        aspect: aspect.clone(),
                    })?;
                let level =
                    uint(info.get("scale_level")).ok_or_else(|| FlavourProblem::LevelNoScaleLevel {
                        level: id.clone(),
                        aspect: aspect.clone(),
                    })?;
                if level > aspect_def.max_scale_level {
                    return Err(FlavourProblem::LevelAboveMax {
                        level: id.clone(),
                        aspect: aspect.clone(),
                        scale_level: level,
                        max_scale_level: aspect_def.max_scale_level,
                    });
                }
                scale_levels.insert(aspect.clone(), level);
            }
            self.instantiation_levels.push(InstantiationLevel {
                id: id.clone(),
                description: level.get("description").and_then(scalar_string),
                scale_levels,
                vdu_instances: BTreeMap::new(),
            });
        }
        self.default_instantiation_level = props.get("default_level").and_then(scalar_string);
        if let Some(default) = &self.default_instantiation_level {
            if !self.instantiation_levels.iter().any(|l| &l.id == default) {
                return Err(FlavourProblem::UnknownDefaultLevel {
                    level: default.clone(),
                });
            }
        }
        Ok(())
    }

    fn add_vdu_deltas(&mut self, policy_name: &str, policy: &Value) -> FlavourResult<()> {
        let props = props(policy);
        let aspect_id =
            props
                .get("aspect")
                .and_then(scalar_string)
                .ok_or_else(|| FlavourProblem::NoAspect {
                    policy: policy_name.to_owned(),
                })?;
        let targets = self.targets(policy_name, policy)?;
        let aspect = self
            .scaling_aspects
            .iter_mut()
            .find(|a| a.id == aspect_id)
            .ok_or_else(|| FlavourProblem::UnknownAspect {
                policy: policy_name.to_owned(),
                aspect: aspect_id.clone(),
            })?;
        let mut deltas = BTreeMap::new();
        for (delta, body) in props
            .get("deltas")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let n =
                uint(body.get("number_of_instances")).ok_or_else(|| FlavourProblem::DeltaNoInstances {
                    policy: policy_name.to_owned(),
                    delta: delta.clone(),
                })?;
            deltas.insert(delta.clone(), n);
        }
        for step in &aspect.step_deltas {
            if !deltas.contains_key(step) {
                return Err(FlavourProblem::MissingStepDelta {
                    policy: policy_name.to_owned(),
                    step: step.clone(),
                });
            }
        }
        for vdu in targets {
            aspect.vdu_deltas.insert(vdu, deltas.clone());
        }
        Ok(())
    }

    fn add_vdu_levels(&mut self, policy_name: &str, policy: &Value) -> FlavourResult<()> {
        let targets = self.targets(policy_name, policy)?;
        let levels = props(policy)
            .get("levels")
            .and_then(Value::as_object)
            .ok_or_else(|| FlavourProblem::NoLevels {
                policy: policy_name.to_owned(),
            })?;
        for (level_id, body) in levels {
            let n =
                uint(body.get("number_of_instances")).ok_or_else(|| FlavourProblem::LevelNoInstances {
                    policy: policy_name.to_owned(),
                    level: level_id.clone(),
                })?;
            let level = self
                .instantiation_levels
                .iter_mut()
                .find(|l| &l.id == level_id)
                .ok_or_else(|| FlavourProblem::UnknownLevel {
                    policy: policy_name.to_owned(),
                    level: level_id.clone(),
                })?;
            for vdu in &targets {
                level.vdu_instances.insert(vdu.clone(), n);
            }
        }
        Ok(())
    }

    fn add_initial_delta(&mut self, policy_name: &str, policy: &Value) -> FlavourResult<()> {
        let targets = self.targets(policy_name, policy)?;
        let n = uint(
            props(policy)
                .get("initial_delta")
                .and_then(|d| d.get("number_of_instances")),
        )
        .ok_or_else(|| FlavourProblem::NoInitialDelta {
            policy: policy_name.to_owned(),
        })?;
        for vdu in self.vdus.iter_mut().filter(|v| targets.contains(&v.id)) {
            vdu.initial_instances = Some(n);
        }
        Ok(())
    }

    /// The policy's targets, each of which must be a VDU of this flavour.
    fn targets(&self, policy_name: &str, policy: &Value) -> FlavourResult<Vec<String>> {
        let targets: Vec<String> = policy
            .get("targets")
            .and_then(Value::as_array)
            .map(|ts| ts.iter().filter_map(scalar_string).collect())
            .unwrap_or_default();
        if targets.is_empty() {
            return Err(FlavourProblem::NoTargets {
                policy: policy_name.to_owned(),
            });
        }
        for target in &targets {
            if !self.vdus.iter().any(|v| &v.id == target) {
                return Err(FlavourProblem::TargetNotVdu {
                    policy: policy_name.to_owned(),
                    target: target.clone(),
                });
            }
        }
        Ok(targets)
    }
}

impl Vdu {
    fn parse(id: &str, props: Option<&Value>) -> FlavourResult<Self> {
        let props = props.ok_or_else(|| FlavourProblem::VduNoProperties { vdu: id.to_owned() })?;
        let name = props
            .get("name")
            .and_then(scalar_string)
            .ok_or_else(|| FlavourProblem::VduNoName { vdu: id.to_owned() })?;
        let profile = props.get("vdu_profile");
        let bound = |bound: &'static str| {
            uint(profile.and_then(|p| p.get(format!("{bound}_number_of_instances")))).ok_or_else(|| {
                FlavourProblem::VduNoBound {
                    vdu: id.to_owned(),
                    bound,
                }
            })
        };
        let min = bound("min")?;
        let max = bound("max")?;
        if min > max {
            return Err(FlavourProblem::VduMinAboveMax { vdu: id.to_owned() });
        }
        Ok(Vdu {
            id: id.to_owned(),
            name,
            description: props.get("description").and_then(scalar_string),
            min_instances: min,
            max_instances: max,
            initial_instances: None,
        })
    }
}

/// Software images of VDUs (and virtual storages) in a topology template.
fn software_images(topology: &Value, types: &TypeIndex<'_>) -> FlavourResult<Vec<SoftwareImage>> {
    let mut images = Vec::new();
    let templates = topology.get("node_templates").and_then(Value::as_object);
    for (node_id, node) in templates.into_iter().flatten() {
        let ty = node.get("type").and_then(Value::as_str).unwrap_or_default();
        if types.derives_from(ty, VNF_TYPE) {
            continue;
        }
        let artifacts = node.get("artifacts").and_then(Value::as_object);
        for (_, artifact) in artifacts.into_iter().flatten() {
            if artifact.get("type").and_then(Value::as_str) != Some(SW_IMAGE_TYPE) {
                continue;
            }
            let p = props(artifact);
            let field = |k: &str| p.get(k).and_then(scalar_string);
            let checksum = p.get("checksum").and_then(|c| {
                Some((
                    c.get("algorithm").and_then(scalar_string)?,
                    c.get("hash").and_then(scalar_string)?,
                ))
            });
            images.push(SoftwareImage {
                id: node_id.clone(),
                name: field("name").ok_or_else(|| FlavourProblem::ImageNoName {
                    node: node_id.clone(),
                })?,
                version: field("version").unwrap_or_default(),
                checksum,
                container_format: field("container_format"),
                disk_format: field("disk_format"),
                min_disk: size_in_bytes(p.get("min_disk")),
                min_ram: size_in_bytes(p.get("min_ram")),
                size: size_in_bytes(p.get("size")),
                image_path: artifact.get("file").and_then(scalar_string),
            });
        }
    }
    Ok(images)
}

/// TOSCA lets policies be a list of one-entry maps or a map.
fn named_policies(policies: Option<&Value>) -> FlavourResult<Vec<(String, Value)>> {
    match policies {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let map = item
                    .as_object()
                    .filter(|m| m.len() == 1)
                    .ok_or(FlavourProblem::PolicyNotOneEntryMap)?;
                let (name, body) = map.iter().next().ok_or(FlavourProblem::EmptyPolicy)?;
                Ok((name.clone(), body.clone()))
            })
            .collect(),
        Some(Value::Object(map)) => Ok(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Some(_) => Err(FlavourProblem::PoliciesNotListOrMap),
    }
}

fn policy_type(policy: &Value) -> &str {
    policy.get("type").and_then(Value::as_str).unwrap_or_default()
}

fn props(node: &Value) -> &Value {
    node.get("properties").unwrap_or(&Value::Null)
}

/// Strings, numbers and booleans as the text the VNFD author wrote.
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn uint(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// TOSCA sizes (`10 GB`, `512 MiB`, or a bare number of bytes) in bytes.
fn size_in_bytes(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (number, unit) = s.split_at(split);
            let number: u64 = number.parse().ok()?;
            let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1,
                "kb" => 1000,
                "kib" => 1 << 10,
                "mb" => 1000 * 1000,
                "mib" => 1 << 20,
                "gb" => 1000 * 1000 * 1000,
                "gib" => 1 << 30,
                "tb" => 1000 * 1000 * 1000 * 1000,
                "tib" => 1 << 40,
                _ => return None,
            };
            number.checked_mul(factor)
        }
        _ => None,
    }
}
