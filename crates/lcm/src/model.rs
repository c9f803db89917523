//! The SOL003 vocabulary the LCM API speaks (defined in `tacker-sol003`, which the
//! database and the drivers share).

pub use tacker_sol003::{
    ApiVersion, CancelMode, InstantiationState, OpState, Operation, PendingAction, UnknownValue,
};
