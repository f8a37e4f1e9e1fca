//! Tuanji domain: validated identifiers, age arithmetic, China's working-day calendar and the
//! stable rule codes of the League member register.
//!
//! Pure and synchronous: no IO, no async, no clock. Every date is a calendar date in China
//! Standard Time ([`Date`]); callers pass "today" explicitly. Ages are whole years (周岁).
//!
//! Modules:
//! - [`rules`]: [`RuleCode`] (one per rule in DOMAIN.md, documented in `docs/rules.md`) and
//!   [`RuleViolation`], the error every rule check returns.
//! - [`ids`]: the resident identity number (公民身份号码, GB 11643-1999), [`ResidentId`].
//! - [`age`]: full years on a date ([`age_on`]) and calendar-month arithmetic ([`add_months`]).
//! - [`calendar`]: China's working-day calendar ([`WorkingCalendar`]).
//! - [`dues`]: League dues (团费) by calendar month in fen ([`YearMonth`], [`arrears`], [`trailing_gap`]).
//! - [`number`]: the development number (发展团员编号), [`DevelopmentNumber`].
//! - [`org`]: organisation codes, kinds and school levels, and the graduating-class cap.

pub mod age;
pub mod calendar;
pub mod dues;
pub mod ids;
pub mod number;
pub mod org;
pub mod rules;

/// A calendar date in China Standard Time (UTC+8). The domain never converts time zones: the
/// caller turns an instant into a China date before calling in.
pub use chrono::NaiveDate as Date;

pub use age::{add_months, age_on, birthday_at};
pub use calendar::{CalendarError, WorkingCalendar};
pub use dues::{arrears, format_yuan, trailing_gap, Arrears, Gap, YearMonth, YearMonthError};
pub use ids::{check_character, mask_id_like, ResidentId, Sex};
pub use number::DevelopmentNumber;
pub use org::{check_class_cap, OrgCode, OrgCodeError, OrgKind, SchoolLevel};
pub use rules::{Confidence, RuleCode, RuleViolation};

/// The error of every `FromStr` implementation on a closed set of names in this crate
/// ([`RuleCode`], [`Sex`], [`OrgKind`], [`SchoolLevel`]): the input is not one of the names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}: {value:?}")]
pub struct UnknownName {
    /// What was being parsed, e.g. `"rule code"`.
    pub what: &'static str,
    /// The rejected input (never personal data: these are code names).
    pub value: String,
}

impl UnknownName {
    pub(crate) fn new(what: &'static str, value: &str) -> Self {
        // Bound the echoed input so a huge or odd value cannot flood an error message.
        let value: String = value.chars().take(64).collect();
        Self { what, value }
    }
}
