//! The LCM operations (SOL003 LcmOperationType): what a driver says it supports.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Instantiate,
    Scale,
    ScaleToLevel,
    ChangeFlavour,
    Terminate,
    Heal,
    Operate,
    ChangeExtConn,
    ModifyInfo,
    ChangeVnfpkg,
}

impl Operation {
    pub const ALL: &'static [Operation] = &[
        Operation::Instantiate,
        Operation::Scale,
        Operation::ScaleToLevel,
        Operation::ChangeFlavour,
        Operation::Terminate,
        Operation::Heal,
        Operation::Operate,
        Operation::ChangeExtConn,
        Operation::ModifyInfo,
        Operation::ChangeVnfpkg,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Instantiate => "INSTANTIATE",
            Operation::Scale => "SCALE",
            Operation::ScaleToLevel => "SCALE_TO_LEVEL",
            Operation::ChangeFlavour => "CHANGE_FLAVOUR",
            Operation::Terminate => "TERMINATE",
            Operation::Heal => "HEAL",
            Operation::Operate => "OPERATE",
            Operation::ChangeExtConn => "CHANGE_EXT_CONN",
            Operation::ModifyInfo => "MODIFY_INFO",
            Operation::ChangeVnfpkg => "CHANGE_VNFPKG",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Operation::ALL
            .iter()
            .copied()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not a valid Operation"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>().unwrap(), *op);
        }
        assert!("instantiate".parse::<Operation>().is_err());
    }
}
