//! VNF package management (ETSI SOL005 as Tacker serves it): package records and their
//! state rules, onboarding in the background (a leased job any server runs or resumes)
//! over the shared package store (`tacker_pkgstore`). HTTP-agnostic; the
//! server maps [`PkgError`] to ProblemDetails responses.

mod error;
mod jobs;
mod list;
mod onboarding;
mod service;
mod settings;
mod sweep;
mod user_data;
mod view;

pub use error::{PkgError, Result};
pub use jobs::OnboardingHold;
pub use list::PackageList;
pub use onboarding::{redacted, UriSource};
pub use service::PackageService;
pub use settings::PackageSettings;
pub use view::package_info;
