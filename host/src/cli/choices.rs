//! The model's choices as command-line values: clap stays in this layer.

use crate::model::{Elevator, ScopeFilter};
use clap::builder::PossibleValue;

impl clap::ValueEnum for ScopeFilter {
    fn value_variants<'a>() -> &'a [Self] {
        &[ScopeFilter::All, ScopeFilter::System, ScopeFilter::User]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            ScopeFilter::All => "all",
            ScopeFilter::System => "system",
            ScopeFilter::User => "user",
        }))
    }
}

impl clap::ValueEnum for Elevator {
    fn value_variants<'a>() -> &'a [Self] {
        &[Elevator::Sudo, Elevator::Pkexec, Elevator::Run0]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            Elevator::Sudo => "sudo",
            Elevator::Pkexec => "pkexec",
            Elevator::Run0 => "run0",
        }))
    }
}
