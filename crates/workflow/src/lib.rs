//! Tuanji workflows: the versioned transition tables of `workflows/*.toml`.
//!
//! Each file describes one machine and version (e.g. `admission.v1.toml`, 团员发展): its states,
//! every allowed transition `(from, command) → to`, the roles that may issue it and the guards,
//! flags and actions it runs, by name ([`names`]). [`Definition::parse`] validates a file,
//! including the national floor rules that no file may configure away; [`Registry`] holds every
//! file of a directory; [`builtin`] holds the files shipped in the binary.
//!
//! Pure and synchronous: no IO beyond reading workflow files.

pub mod admission;
pub mod definition;
pub mod error;
pub mod evaluation;
pub mod guards;
pub mod names;
pub mod party;
pub mod policy;
pub mod registry;
pub mod relation;
pub mod standing;

use std::sync::OnceLock;

pub use definition::{
    Definition, StateDef, StateKind, TransitionDef, ADMISSION, ADMITTED, EVALUATION, HISTORY,
    LOCKED_STATES, NEW, PARTY_RECOMMENDATION, RELATION, STANDING,
};
pub use error::LoadError;
pub use policy::{AdmissionPolicy, MajorityBasis, MIN_AGE_FLOOR};
pub use registry::Registry;

/// The workflow files shipped with Tuanji: `(file name, text)`.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "workflows/admission.v1.toml",
        include_str!("../../../workflows/admission.v1.toml"),
    ),
    (
        "workflows/standing.v1.toml",
        include_str!("../../../workflows/standing.v1.toml"),
    ),
    (
        "workflows/relation.v1.toml",
        include_str!("../../../workflows/relation.v1.toml"),
    ),
    (
        "workflows/audit.v1.toml",
        include_str!("../../../workflows/audit.v1.toml"),
    ),
    (
        "workflows/party_recommendation.v1.toml",
        include_str!("../../../workflows/party_recommendation.v1.toml"),
    ),
    (
        "workflows/evaluation.v1.toml",
        include_str!("../../../workflows/evaluation.v1.toml"),
    ),
];

/// The shipped workflow files ([`BUILTIN_FILES`]), validated once.
///
/// # Errors
/// Every [`LoadError`] of the shipped files (a build defect: the crate's tests load them).
pub fn try_builtin() -> Result<&'static Registry, &'static [LoadError]> {
    static BUILTIN: OnceLock<Result<Registry, Vec<LoadError>>> = OnceLock::new();
    match BUILTIN.get_or_init(|| Registry::from_files(BUILTIN_FILES)) {
        Ok(registry) => Ok(registry),
        Err(errors) => Err(errors),
    }
}

/// The shipped workflow files, embedded with `include_str!` so the binary works from any
/// directory.
///
/// # Panics
/// If a shipped file is invalid. That is a build defect, not bad input: the crate's tests load
/// every shipped file, so a release cannot contain one. Use [`try_builtin`] to handle it.
pub fn builtin() -> &'static Registry {
    match try_builtin() {
        Ok(registry) => registry,
        Err(errors) => {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!(
                "the shipped workflow files are invalid: {}",
                messages.join("; ")
            )
        }
    }
}
