//! The SOL003 vocabulary: API versions, operations, states.

use std::fmt;
use std::str::FromStr;

/// LcmOperationType: shared with the drivers, which say which ones they perform.
pub use tacker_driver::Operation;

/// The two LCM APIs Tacker serves; their instances and occurrences are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    /// `/vnflcm/v1` (SOL003 2.6.1, API version 1.3.0).
    V1,
    /// `/vnflcm/v2` (SOL003 3.3.1, API version 2.0.0).
    V2,
}

impl ApiVersion {
    /// The value stored in the `api_version` columns.
    pub fn db(self) -> &'static str {
        match self {
            ApiVersion::V1 => "1",
            ApiVersion::V2 => "2",
        }
    }

    pub fn from_db(value: &str) -> Self {
        if value == "1" {
            ApiVersion::V1
        } else {
            ApiVersion::V2
        }
    }

    /// The URI prefix of the API.
    pub fn prefix(self) -> &'static str {
        match self {
            ApiVersion::V1 => "/vnflcm/v1",
            ApiVersion::V2 => "/vnflcm/v2",
        }
    }

    /// The API version number clients see (`Version` header, api_versions).
    pub fn number(self) -> &'static str {
        match self {
            ApiVersion::V1 => "1.3.0",
            ApiVersion::V2 => "2.0.0",
        }
    }
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("'{s}' is not a valid {}", stringify!($name))),
                }
            }
        }
    };
}

string_enum!(
    /// LcmOperationStateType.
    OpState {
        Starting = "STARTING",
        Processing = "PROCESSING",
        Completed = "COMPLETED",
        FailedTemp = "FAILED_TEMP",
        Failed = "FAILED",
        RollingBack = "ROLLING_BACK",
        RolledBack = "ROLLED_BACK",
    }
);

impl OpState {
    /// The operation is over and releases its instance.
    pub fn is_final(self) -> bool {
        matches!(self, OpState::Completed | OpState::Failed | OpState::RolledBack)
    }
}

pub const NOT_INSTANTIATED: &str = "NOT_INSTANTIATED";
pub const INSTANTIATED: &str = "INSTANTIATED";

/// What the conductor is asked to do with an occurrence (`pending_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingAction {
    Start,
    Retry,
    Rollback,
}

impl PendingAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingAction::Start => "start",
            PendingAction::Retry => "retry",
            PendingAction::Rollback => "rollback",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "start" => Some(PendingAction::Start),
            "retry" => Some(PendingAction::Retry),
            "rollback" => Some(PendingAction::Rollback),
            _ => None,
        }
    }
}
