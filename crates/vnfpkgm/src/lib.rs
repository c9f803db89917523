//! VNF package management (ETSI SOL005 as Tacker serves it): package records and their
//! state rules, storage on disk, and onboarding in the background. HTTP-agnostic; the
//! server maps [`PkgError`] to ProblemDetails responses.

mod error;
mod jobs;
mod list;
mod onboarding;
mod service;
mod settings;
mod store;
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
