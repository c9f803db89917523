//! api-paste.ini: which filters wrap which application under which URL prefix.
//!
//! Paste's own semantics, reduced to what Tacker's file uses: a `urlmap` composite maps
//! prefixes to composites, pipelines or apps; `call:tacker.auth:pipeline_factory`
//! composites pick their pipeline by `auth_strategy`; filters and apps name a factory.
//! This module only resolves names; the server decides which factories it implements.

use std::path::Path;

use crate::config::{AuthStrategy, ConfigError};
use crate::ini::IniFiles;

const URLMAP: &str = "egg:Paste#urlmap";
const PIPELINE_FACTORY: &str = "call:tacker.auth:pipeline_factory";

/// Why api-paste.ini cannot be resolved into mounts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasteError {
    #[error("'{0}' nests too deeply (a cycle?)")]
    TooDeep(String),
    #[error("[composite:{composite}] has no '{key}' pipeline")]
    NoPipelineFor { composite: String, key: &'static str },
    #[error("[composite:{composite}] uses unsupported '{usage}'")]
    UnsupportedUse { composite: String, usage: String },
    #[error("[composite:{0}] maps no URL prefix")]
    NoPrefix(String),
    #[error("[pipeline:{0}] has no 'pipeline' option")]
    NoPipelineOption(String),
    #[error("'{0}' has an empty pipeline")]
    EmptyPipeline(String),
    #[error("pipeline '{pipeline}' names undefined filter '{filter}'")]
    UndefinedFilter { pipeline: String, filter: String },
    #[error("[filter:{0}] has no paste.filter_factory")]
    NoFilterFactory(String),
    #[error("[app:{0}] has no paste.app_factory")]
    NoAppFactory(String),
    #[error("'{0}' is not defined as a composite, pipeline or app")]
    Undefined(String),
}

/// A filter or app section and the factory it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The section name after `filter:` / `app:`.
    pub name: String,
    /// The `paste.filter_factory` / `paste.app_factory` value.
    pub factory: String,
}

/// One URL prefix and the pipeline serving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The URL prefix, `/` for the root.
    pub prefix: String,
    /// Filters, outermost first.
    pub filters: Vec<Component>,
    /// The application at the end of the pipeline.
    pub app: Component,
}

/// The resolved api-paste.ini for one auth strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasteDeploy {
    /// Longest prefix first, so the first match is the one Paste's urlmap would pick.
    pub mounts: Vec<Mount>,
}

impl PasteDeploy {
    /// Reads the file and resolves the `app_name` composite (Tacker uses `tacker`).
    pub fn load(path: &Path, app_name: &str, strategy: AuthStrategy) -> Result<Self, ConfigError> {
        let files = IniFiles::load(&[path.to_path_buf()])?;
        Self::resolve(&files, app_name, strategy).map_err(|reason| ConfigError::Parse {
            path: path.to_path_buf(),
            reason: reason.into(),
        })
    }

    /// Resolves already-read paste content.
    pub fn resolve(files: &IniFiles, app_name: &str, strategy: AuthStrategy) -> Result<Self, PasteError> {
        let resolver = Resolver { files, strategy };
        let mut mounts = Vec::new();
        resolver.resolve_target(app_name, "", &[], &mut mounts, 0)?;
        mounts.sort_by(|a, b| b.prefix.len().cmp(&a.prefix.len()).then(a.prefix.cmp(&b.prefix)));
        Ok(PasteDeploy { mounts })
    }

    /// The mount Paste's urlmap would dispatch `path` to: the longest prefix that matches
    /// on a path-segment boundary.
    pub fn route(&self, path: &str) -> Option<&Mount> {
        self.mounts.iter().find(|m| prefix_matches(&m.prefix, path))
    }
}

/// True when `prefix` is `/`, equals `path`, or is followed in `path` by `/` or `.`
/// (`/v1.0/vims.json` belongs to `/v1.0`).
pub fn prefix_matches(prefix: &str, path: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

struct Resolver<'a> {
    files: &'a IniFiles,
    strategy: AuthStrategy,
}

impl Resolver<'_> {
    fn section(&self, kind: &str, name: &str) -> Option<&std::collections::BTreeMap<String, String>> {
        self.files.section(&format!("{kind}:{name}"))
    }

    fn resolve_target(
        &self,
        name: &str,
        prefix: &str,
        filters: &[Component],
        mounts: &mut Vec<Mount>,
        depth: u8,
    ) -> Result<(), PasteError> {
        if depth > 16 {
            return Err(PasteError::TooDeep(name.into()));
        }
        if let Some(section) = self.section("composite", name) {
            let usage = section.get("use").map(String::as_str).unwrap_or_default();
            return match usage {
                URLMAP => self.resolve_urlmap(name, section, prefix, filters, mounts, depth),
                PIPELINE_FACTORY => {
                    let key = self.strategy.as_str();
                    let pipeline = section.get(key).ok_or_else(|| PasteError::NoPipelineFor {
                        composite: name.into(),
                        key,
                    })?;
                    self.resolve_pipeline(name, pipeline, prefix, filters, mounts, depth)
                }
                other => Err(PasteError::UnsupportedUse {
                    composite: name.into(),
                    usage: other.into(),
                }),
            };
        }
        if let Some(section) = self.section("pipeline", name) {
            let pipeline = section
                .get("pipeline")
                .ok_or_else(|| PasteError::NoPipelineOption(name.into()))?;
            return self.resolve_pipeline(name, pipeline, prefix, filters, mounts, depth);
        }
        if let Some(section) = self.section("app", name) {
            let factory = section
                .get("paste.app_factory")
                .ok_or_else(|| PasteError::NoAppFactory(name.into()))?;
            mounts.push(Mount {
                prefix: if prefix.is_empty() {
                    "/".into()
                } else {
                    prefix.into()
                },
                filters: filters.to_vec(),
                app: Component {
                    name: name.into(),
                    factory: factory.clone(),
                },
            });
            return Ok(());
        }
        Err(PasteError::Undefined(name.into()))
    }

    fn resolve_urlmap(
        &self,
        name: &str,
        section: &std::collections::BTreeMap<String, String>,
        prefix: &str,
        filters: &[Component],
        mounts: &mut Vec<Mount>,
        depth: u8,
    ) -> Result<(), PasteError> {
        let mut any = false;
        for (key, target) in section.iter().filter(|(k, _)| k.starts_with('/')) {
            any = true;
            let sub = key.trim_end_matches('/');
            let full = format!("{prefix}{sub}");
            self.resolve_target(target, &full, filters, mounts, depth + 1)?;
        }
        if any {
            Ok(())
        } else {
            Err(PasteError::NoPrefix(name.into()))
        }
    }

    fn resolve_pipeline(
        &self,
        name: &str,
        pipeline: &str,
        prefix: &str,
        filters: &[Component],
        mounts: &mut Vec<Mount>,
        depth: u8,
    ) -> Result<(), PasteError> {
        let mut parts: Vec<&str> = pipeline.split_whitespace().collect();
        let app = parts
            .pop()
            .ok_or_else(|| PasteError::EmptyPipeline(name.into()))?;
        let mut chain = filters.to_vec();
        for filter in parts {
            let section = self
                .section("filter", filter)
                .ok_or_else(|| PasteError::UndefinedFilter {
                    pipeline: name.into(),
                    filter: filter.into(),
                })?;
            let factory = section
                .get("paste.filter_factory")
                .ok_or_else(|| PasteError::NoFilterFactory(filter.into()))?;
            chain.push(Component {
                name: filter.into(),
                factory: factory.clone(),
            });
        }
        self.resolve_target(app, prefix, &chain, mounts, depth + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "[composite:tacker]\nuse = egg:Paste#urlmap\n/: versions\n/v1.0: api_v1\n/vnflcm: lcm_versions\n/vnflcm/v1: lcm_v1\n\n\
[composite:api_v1]\nuse = call:tacker.auth:pipeline_factory\nnoauth = request_id catch_errors app_v1\nkeystone = request_id catch_errors authtoken app_v1\n\n\
[composite:lcm_versions]\nuse = call:tacker.auth:pipeline_factory\nnoauth = request_id lcm_versions_app\nkeystone = request_id lcm_versions_app\n\n\
[pipeline:lcm_v1]\npipeline = request_id lcm_app\n\n\
[filter:request_id]\npaste.filter_factory = oslo_middleware:RequestId.factory\n\
[filter:catch_errors]\npaste.filter_factory = oslo_middleware:CatchErrors.factory\n\
[filter:authtoken]\npaste.filter_factory = keystonemiddleware.auth_token:filter_factory\n\
[app:versions]\npaste.app_factory = tacker.api.versions:Versions.factory\n\
[app:app_v1]\npaste.app_factory = tacker.api.v1.router:APIRouter.factory\n\
[app:lcm_versions_app]\npaste.app_factory = v:f\n[app:lcm_app]\npaste.app_factory = l:f\n";

    fn deploy(strategy: AuthStrategy) -> PasteDeploy {
        PasteDeploy::resolve(&IniFiles::parse_str(SAMPLE).unwrap(), "tacker", strategy).unwrap()
    }

    #[test]
    fn strategy_picks_the_pipeline() {
        let names = |d: &PasteDeploy, prefix: &str| -> Vec<String> {
            let m = d.mounts.iter().find(|m| m.prefix == prefix).unwrap();
            m.filters.iter().map(|f| f.name.clone()).collect()
        };
        assert_eq!(
            names(&deploy(AuthStrategy::NoAuth), "/v1.0"),
            ["request_id", "catch_errors"]
        );
        assert_eq!(
            names(&deploy(AuthStrategy::Keystone), "/v1.0"),
            ["request_id", "catch_errors", "authtoken"]
        );
    }

    #[test]
    fn routing_takes_the_longest_prefix_on_segment_boundaries() {
        let d = deploy(AuthStrategy::NoAuth);
        assert_eq!(d.route("/vnflcm/v1/vnf_instances").unwrap().app.name, "lcm_app");
        assert_eq!(
            d.route("/vnflcm/api_versions").unwrap().app.name,
            "lcm_versions_app"
        );
        assert_eq!(d.route("/v1.0/vims.json").unwrap().app.name, "app_v1");
        assert_eq!(d.route("/v1.00").unwrap().app.name, "versions");
        assert_eq!(d.route("/").unwrap().app.name, "versions");
    }

    #[test]
    fn undefined_names_are_reported() {
        let text = SAMPLE.replace("request_id catch_errors app_v1", "request_id nosuch app_v1");
        let err = PasteDeploy::resolve(
            &IniFiles::parse_str(&text).unwrap(),
            "tacker",
            AuthStrategy::NoAuth,
        )
        .unwrap_err();
        assert_eq!(
            err,
            PasteError::UndefinedFilter {
                pipeline: "api_v1".into(),
                filter: "nosuch".into()
            }
        );
        assert!(err.to_string().contains("nosuch"), "{err}");
    }
}
