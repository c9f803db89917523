//! The SOL003 vocabulary: the enumerations tacker-rs stores in its database and its
//! drivers speak (lifecycle and fault management). Each reads back from its stored text
//! or fails, so a corrupt row is an error where it is read, never a silent default.

use std::fmt;
use std::str::FromStr;

/// A stored or sent text that is none of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {kind}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// An enumeration whose values are the given texts (as stored and as shown).
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

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
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// Requests name the values as SOL003 writes them; anything else is refused with
        /// the list of values, as serde's derived enums do.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(|_| {
                    serde::de::Error::unknown_variant(&text, &[$($text),+])
                })
            }
        }

        /// How the database crate reads the column back (`#[sqlx(try_from = "String")]`).
        impl TryFrom<String> for $name {
            type Error = UnknownValue;
            fn try_from(s: String) -> Result<Self, UnknownValue> {
                s.parse()
            }
        }
    };
}

vocabulary!(
    /// LcmOperationType: what an occurrence does, and what a driver says it supports.
    Operation {
        Instantiate = "INSTANTIATE",
        Scale = "SCALE",
        ScaleToLevel = "SCALE_TO_LEVEL",
        ChangeFlavour = "CHANGE_FLAVOUR",
        Terminate = "TERMINATE",
        Heal = "HEAL",
        Operate = "OPERATE",
        ChangeExtConn = "CHANGE_EXT_CONN",
        ModifyInfo = "MODIFY_INFO",
        ChangeVnfpkg = "CHANGE_VNFPKG",
    }
);

vocabulary!(
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

    /// A conductor has the operation in hand (or is about to): the states SOL003 lets a
    /// client cancel.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            OpState::Starting | OpState::Processing | OpState::RollingBack
        )
    }
}

vocabulary!(
    /// CancelModeType: how a running operation is to be cancelled.
    CancelMode {
        /// Stop before the operation's next call to the VIM.
        Graceful = "GRACEFUL",
        /// Stop at once, even in the middle of a call.
        Forceful = "FORCEFUL",
    }
);

vocabulary!(
    /// AlarmV1.ackState (VNF fault management).
    AckState {
        Unacknowledged = "UNACKNOWLEDGED",
        Acknowledged = "ACKNOWLEDGED",
    }
);

vocabulary!(
    /// PerceivedSeverityType.
    PerceivedSeverity {
        Critical = "CRITICAL",
        Major = "MAJOR",
        Minor = "MINOR",
        Warning = "WARNING",
        Indeterminate = "INDETERMINATE",
        Cleared = "CLEARED",
    }
);

vocabulary!(
    /// EventType of an alarm.
    EventType {
        CommunicationsAlarm = "COMMUNICATIONS_ALARM",
        ProcessingErrorAlarm = "PROCESSING_ERROR_ALARM",
        EnvironmentalAlarm = "ENVIRONMENTAL_ALARM",
        QosAlarm = "QOS_ALARM",
        EquipmentAlarm = "EQUIPMENT_ALARM",
    }
);

vocabulary!(
    /// FaultyResourceType.
    FaultyResourceType {
        Compute = "COMPUTE",
        Storage = "STORAGE",
        Network = "NETWORK",
    }
);

vocabulary!(
    /// VnfInstance.instantiationState.
    InstantiationState {
        NotInstantiated = "NOT_INSTANTIATED",
        Instantiated = "INSTANTIATED",
    }
);

vocabulary!(
    /// What a conductor is asked to do with an occurrence (tacker-rs's `pending_action`
    /// column, not SOL003's).
    PendingAction {
        Start = "start",
        Retry = "retry",
        Rollback = "rollback",
    }
);

vocabulary!(
    /// The two LCM APIs Tacker serves; their instances and occurrences are kept apart.
    /// The text is what the `api_version` columns hold.
    ApiVersion {
        /// `/vnflcm/v1` (SOL003 2.6.1, API version 1.3.0).
        V1 = "1",
        /// `/vnflcm/v2` (SOL003 3.3.1, API version 2.0.0).
        V2 = "2",
    }
);

impl ApiVersion {
    /// The value stored in the `api_version` columns.
    pub fn db(self) -> &'static str {
        self.as_str()
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

vocabulary!(
    /// The API a notification subscription belongs to. Subscriptions of every notification
    /// API share one table, whose `api_version` column holds this (LCM keeps ApiVersion's
    /// values).
    SubscriptionApi {
        LcmV1 = "1",
        LcmV2 = "2",
        /// `/vnffm/v1`.
        FmV1 = "fm1",
        /// `/vnfpm/v2`: a PM job's or threshold's own callback.
        PmV2 = "pm2",
    }
);

impl SubscriptionApi {
    /// The `Version` header of the notifications sent to its subscribers.
    pub fn version_header(self) -> &'static str {
        match self {
            SubscriptionApi::LcmV1 => ApiVersion::V1.number(),
            SubscriptionApi::LcmV2 => ApiVersion::V2.number(),
            SubscriptionApi::FmV1 => "1.3.0",
            SubscriptionApi::PmV2 => "2.1.0",
        }
    }

    /// The LCM API version, for an LCM subscription.
    pub fn lcm(self) -> Option<ApiVersion> {
        match self {
            SubscriptionApi::LcmV1 => Some(ApiVersion::V1),
            SubscriptionApi::LcmV2 => Some(ApiVersion::V2),
            SubscriptionApi::FmV1 | SubscriptionApi::PmV2 => None,
        }
    }
}

impl From<ApiVersion> for SubscriptionApi {
    fn from(api: ApiVersion) -> Self {
        match api {
            ApiVersion::V1 => SubscriptionApi::LcmV1,
            ApiVersion::V2 => SubscriptionApi::LcmV2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_and_nothing_else_does() {
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>(), Ok(*op));
        }
        for state in OpState::ALL {
            assert_eq!(OpState::try_from(state.to_string()), Ok(*state));
        }
        assert_eq!("2".parse(), Ok(ApiVersion::V2));
        let corrupt = OpState::try_from("FAILED_TEMPORARILY".to_owned()).unwrap_err();
        assert_eq!(corrupt.to_string(), "'FAILED_TEMPORARILY' is not a valid OpState");
        assert!("instantiate".parse::<Operation>().is_err());
        assert!("3".parse::<ApiVersion>().is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[allow(dead_code)]
        mode: CancelMode,
    }

    #[test]
    fn requests_name_the_values_they_accept() {
        let body: Body = read_mode(r#"FORCEFUL"#).unwrap();
        assert_eq!(body.mode, CancelMode::Forceful);
        let refused = read_mode("SOFT").unwrap_err();
        assert_eq!(
            refused,
            "unknown variant `SOFT`, expected `GRACEFUL` or `FORCEFUL`"
        );
    }

    /// Deserialises `{"mode": <text>}` with serde's own value deserializer.
    fn read_mode(text: &str) -> Result<Body, String> {
        use serde::de::value::{Error, MapDeserializer};
        use serde::Deserialize;
        let entries = [("mode", text)];
        Body::deserialize(MapDeserializer::<_, Error>::new(entries.into_iter())).map_err(|e| e.to_string())
    }
}
