//! [`LoadError`]: why a workflow file was refused.

use tuanji_domain::RuleCode;

/// A workflow file that cannot be loaded: a TOML syntax error, an unknown key, a table that does
/// not hang together (unknown state, duplicate transition, unreachable state…) or a broken floor
/// rule.
///
/// Displayed as `file:line: message`, e.g.
/// `admission.v1.toml:12: ADM_AGE_MIN is a floor rule: min_age = 13 is below 14`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LoadError {
    /// The file name (or path) as given to the loader.
    pub file: String,
    /// 1-based line the error points at; 0 when the error concerns no line (an unreadable file).
    pub line: usize,
    /// The floor rule that was broken (e.g. [`RuleCode::AdmAgeMin`]); `None` for other errors.
    pub rule: Option<RuleCode>,
    /// What is wrong; for a floor rule it starts with the rule code (`ADM_AGE_MIN …`).
    pub message: String,
}

impl LoadError {
    /// An error that breaks no floor rule.
    pub fn new(file: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        LoadError {
            file: file.into(),
            line,
            rule: None,
            message: message.into(),
        }
    }

    /// An error that breaks floor rule `rule`; the message is prefixed with the rule code.
    pub fn floor(file: impl Into<String>, line: usize, rule: RuleCode, message: &str) -> Self {
        LoadError {
            file: file.into(),
            line,
            message: format!("{} is a floor rule: {message}", rule.as_str()),
            rule: Some(rule),
        }
    }
}
