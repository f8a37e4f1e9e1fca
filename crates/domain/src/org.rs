//! Organisations (团组织): codes, kinds, school levels, and the graduating-class cap.
//!
//! Levels (DOMAIN-SOURCES §9): central → provincial (and sector committees) → city →
//! county/district → basic-level committee (基层团委, 团工委, 团总支) → branch (团支部). A
//! member's organisation relation (组织关系) sits only in a branch (`TRF_BRANCH_ONLY`).

use std::fmt;
use std::str::FromStr;

use crate::rules::{RuleCode, RuleViolation};
use crate::UnknownName;

/// Longest organisation code accepted.
const ORG_CODE_MAX: usize = 40;

/// An organisation code: 1 to 40 characters of `[0-9A-Za-z_-]`, e.g. the GB/T 2260
/// administrative code `110105` where the organisation has one, or a code such as
/// `110105-S01-C2024-3`. Case is kept as given. Serialised as the string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgCode(String);

/// Why a string is not an [`OrgCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgCodeError {
    /// The code is empty (after trimming surrounding whitespace).
    #[error("an organisation code must not be empty")]
    Empty,
    /// The code is longer than 40 characters.
    #[error("an organisation code has at most 40 characters, found {len}")]
    TooLong {
        /// Number of characters found.
        len: usize,
    },
    /// A character outside `[0-9A-Za-z_-]`.
    #[error("organisation code character {position} must be a letter, digit, '_' or '-', found {found:?}")]
    InvalidChar {
        /// 1-based position of the character.
        position: usize,
        /// The character found.
        found: char,
    },
}

impl OrgCode {
    /// Parses an organisation code; surrounding whitespace is trimmed.
    ///
    /// # Errors
    /// [`OrgCodeError`] if the code is empty, longer than 40 characters, or contains a character
    /// other than ASCII letters, digits, `_` and `-`.
    pub fn parse(s: &str) -> Result<Self, OrgCodeError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(OrgCodeError::Empty);
        }
        let len = s.chars().count();
        if len > ORG_CODE_MAX {
            return Err(OrgCodeError::TooLong { len });
        }
        if let Some((i, found)) = s
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(OrgCodeError::InvalidChar {
                position: i + 1,
                found,
            });
        }
        Ok(OrgCode(s.to_string()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OrgCode {
    type Err = OrgCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgCode::parse(s)
    }
}

impl serde::Serialize for OrgCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for OrgCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        OrgCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Implements `as_str`, `Display` and `FromStr` for a unit enum from one name table.
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $( $variant:ident => $name:literal ),* $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[ $( $ty::$variant, )* ];

            /// The snake_case name, as serialised.
            pub fn as_str(self) -> &'static str {
                match self { $( $ty::$variant => $name, )* }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;
            /// Parses the snake_case name (exact).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $name => Ok($ty::$variant), )*
                    other => Err(UnknownName::new($what, other)),
                }
            }
        }
    };
}

/// The kind of a League organisation. Serialised in snake_case (`"basic_committee"`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 团中央, the Central Committee.
    Central,
    /// 团省委, a provincial committee (also sector committees such as 全国铁道团委).
    Provincial,
    /// 团市委, a city committee.
    City,
    /// 团县委 / 团区委, a county or district committee.
    County,
    /// 乡镇（街道）团委, a township or street committee.
    Township,
    /// 基层团委, a basic-level committee (e.g. a school's or enterprise's committee).
    BasicCommittee,
    /// 团工委, a working committee.
    WorkingCommittee,
    /// 团总支, a general branch; approves admissions only when authorised by its superior.
    GeneralBranch,
    /// 团支部, a branch: the only organisation a member's relation can sit in.
    Branch,
}

named_enum!(OrgKind, "organisation kind", {
    Central => "central",
    Provincial => "provincial",
    City => "city",
    County => "county",
    Township => "township",
    BasicCommittee => "basic_committee",
    WorkingCommittee => "working_committee",
    GeneralBranch => "general_branch",
    Branch => "branch",
});

impl OrgKind {
    /// The Chinese name: `"团中央"`, `"团省委"`, `"团市委"`, `"团县委"`, `"乡镇团委"`, `"基层团委"`,
    /// `"团工委"`, `"团总支"`, `"团支部"`.
    pub fn chinese(self) -> &'static str {
        match self {
            OrgKind::Central => "团中央",
            OrgKind::Provincial => "团省委",
            OrgKind::City => "团市委",
            OrgKind::County => "团县委",
            OrgKind::Township => "乡镇团委",
            OrgKind::BasicCommittee => "基层团委",
            OrgKind::WorkingCommittee => "团工委",
            OrgKind::GeneralBranch => "团总支",
            OrgKind::Branch => "团支部",
        }
    }

    /// Whether this is a branch (团支部), where members' relations sit (`TRF_BRANCH_ONLY`).
    pub fn is_branch(self) -> bool {
        self == OrgKind::Branch
    }

    /// Whether an organisation of this kind can hold the authority to approve admissions
    /// (`ADM_APPROVAL`): every kind except a branch. A general branch (团总支) approves only when
    /// authorised by its superior committee — the organisation's `approves_admissions` flag
    /// decides; this function only rules out kinds that never can
    /// (《发展团员工作细则》 step 12, DOMAIN-SOURCES §1.1).
    pub fn may_approve_admissions(self) -> bool {
        !self.is_branch()
    }
}

/// The level of a school, for school organisations and the graduating-class cap. Serialised in
/// snake_case (`"senior_high"`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SchoolLevel {
    /// 初中, junior high school.
    JuniorHigh,
    /// 高中, senior high school.
    SeniorHigh,
    /// 中职, secondary vocational school.
    Vocational,
    /// 高校, university or college.
    University,
}

named_enum!(SchoolLevel, "school level", {
    JuniorHigh => "junior_high",
    SeniorHigh => "senior_high",
    Vocational => "vocational",
    University => "university",
});

impl SchoolLevel {
    /// The Chinese name: `"初中"`, `"高中"`, `"中职"`, `"高校"`.
    pub fn chinese(self) -> &'static str {
        match self {
            SchoolLevel::JuniorHigh => "初中",
            SchoolLevel::SeniorHigh => "高中",
            SchoolLevel::Vocational => "中职",
            SchoolLevel::University => "高校",
        }
    }

    /// The national default cap on members in a graduating class, in percent (`ADM_CLASS_CAP`):
    /// 30 for junior high, 60 for senior high, none for other levels
    /// (《中学共青团改革实施方案》, 2016; DOMAIN-SOURCES §1.6).
    pub fn default_class_cap_percent(self) -> Option<u32> {
        match self {
            SchoolLevel::JuniorHigh => Some(30),
            SchoolLevel::SeniorHigh => Some(60),
            SchoolLevel::Vocational | SchoolLevel::University => None,
        }
    }
}

/// `ADM_CLASS_CAP`: Ok if `members_after` members in a graduating class of `class_size` students
/// stays within `cap_percent`: `members_after * 100 <= cap_percent * class_size`.
///
/// The denominator is the graduating class (毕业班), not the whole school
/// (《中学共青团改革实施方案》, 团中央 and 教育部, 2016; DOMAIN-SOURCES §1.6). Arithmetic is exact
/// (no rounding, no overflow).
///
/// # Errors
/// `ADM_CLASS_CAP` with the numbers, e.g. "senior_high graduating class of 40 allows 24 members
/// (60 %); admitting would make 25".
pub fn check_class_cap(
    level: SchoolLevel,
    class_size: u32,
    members_after: u32,
    cap_percent: u32,
) -> Result<(), RuleViolation> {
    let limit = u64::from(cap_percent) * u64::from(class_size);
    if u64::from(members_after) * 100 <= limit {
        return Ok(());
    }
    let allowed = limit / 100;
    let noun = if allowed == 1 { "member" } else { "members" };
    Err(RuleViolation::new(
        RuleCode::AdmClassCap,
        format!(
            "{level} graduating class of {class_size} allows {allowed} {noun} ({cap_percent} %); admitting would make {members_after}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_code_accepts_letters_digits_underscore_dash() {
        let code = OrgCode::parse(" 110105-S01_c2 ").expect("valid");
        assert_eq!(code.as_str(), "110105-S01_c2");
        assert_eq!(
            OrgCode::parse(&"a".repeat(40)).map(|c| c.as_str().len()),
            Ok(40)
        );
    }

    #[test]
    fn org_code_rejects_empty_long_and_odd_characters() {
        assert_eq!(OrgCode::parse("  "), Err(OrgCodeError::Empty));
        assert_eq!(
            OrgCode::parse(&"a".repeat(41)),
            Err(OrgCodeError::TooLong { len: 41 })
        );
        let err = OrgCode::parse("110105 S01").expect_err("space");
        assert_eq!(
            err,
            OrgCodeError::InvalidChar {
                position: 7,
                found: ' '
            }
        );
        assert_eq!(
            err.to_string(),
            "organisation code character 7 must be a letter, digit, '_' or '-', found ' '"
        );
        assert_eq!(
            OrgCode::parse("团支部"),
            Err(OrgCodeError::InvalidChar {
                position: 1,
                found: '团'
            })
        );
    }

    #[test]
    fn org_kind_names_round_trip() {
        for &kind in OrgKind::ALL {
            assert_eq!(kind.as_str().parse::<OrgKind>(), Ok(kind));
        }
        assert_eq!(OrgKind::BasicCommittee.as_str(), "basic_committee");
        assert_eq!(OrgKind::Central.chinese(), "团中央");
        assert_eq!(OrgKind::GeneralBranch.chinese(), "团总支");
        assert_eq!(OrgKind::Branch.chinese(), "团支部");
        let err = "committee".parse::<OrgKind>().expect_err("unknown");
        assert_eq!(err.to_string(), r#"unknown organisation kind: "committee""#);
    }

    #[test]
    fn trf_branch_only_and_adm_approval_by_kind() {
        assert!(OrgKind::Branch.is_branch());
        assert!(!OrgKind::GeneralBranch.is_branch());
        assert!(!OrgKind::Branch.may_approve_admissions());
        let approvers = OrgKind::ALL
            .iter()
            .filter(|k| k.may_approve_admissions())
            .count();
        assert_eq!(approvers, 8);
        assert!(OrgKind::GeneralBranch.may_approve_admissions());
    }

    #[test]
    fn school_level_names_round_trip() {
        for &level in SchoolLevel::ALL {
            assert_eq!(level.as_str().parse::<SchoolLevel>(), Ok(level));
        }
        assert_eq!(SchoolLevel::SeniorHigh.as_str(), "senior_high");
        assert_eq!(SchoolLevel::JuniorHigh.chinese(), "初中");
        assert!("high".parse::<SchoolLevel>().is_err());
    }

    #[test]
    fn serde_uses_snake_case_names() {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Row {
            code: OrgCode,
            kind: OrgKind,
            level: SchoolLevel,
        }
        let row = Row {
            code: OrgCode::parse("110105").expect("valid"),
            kind: OrgKind::BasicCommittee,
            level: SchoolLevel::SeniorHigh,
        };
        let text = toml::to_string(&row).expect("serialise");
        assert_eq!(
            text,
            "code = \"110105\"\nkind = \"basic_committee\"\nlevel = \"senior_high\"\n"
        );
        assert_eq!(toml::from_str::<Row>(&text).expect("deserialise"), row);
        let bad = "code = \"a b\"\nkind = \"branch\"\nlevel = \"university\"\n";
        assert!(toml::from_str::<Row>(bad).is_err());
    }

    #[test]
    fn adm_class_cap_allows_up_to_60_percent_of_senior_high_class() {
        assert_eq!(check_class_cap(SchoolLevel::SeniorHigh, 40, 24, 60), Ok(()));
        let err = check_class_cap(SchoolLevel::SeniorHigh, 40, 25, 60).expect_err("over cap");
        assert_eq!(err.code, RuleCode::AdmClassCap);
        assert_eq!(
            err.message,
            "senior_high graduating class of 40 allows 24 members (60 %); admitting would make 25"
        );
    }

    #[test]
    fn adm_class_cap_rejects_31_percent_of_junior_high_class() {
        // 30 % of 45 is 13.5: 13 members fit, 14 do not.
        assert_eq!(check_class_cap(SchoolLevel::JuniorHigh, 45, 13, 30), Ok(()));
        let err = check_class_cap(SchoolLevel::JuniorHigh, 45, 14, 30).expect_err("over cap");
        assert_eq!(
            err.message,
            "junior_high graduating class of 45 allows 13 members (30 %); admitting would make 14"
        );
        assert_eq!(
            SchoolLevel::JuniorHigh.default_class_cap_percent(),
            Some(30)
        );
        assert_eq!(
            SchoolLevel::SeniorHigh.default_class_cap_percent(),
            Some(60)
        );
        assert_eq!(SchoolLevel::University.default_class_cap_percent(), None);
    }

    #[test]
    fn adm_class_cap_edge_cases() {
        let err = check_class_cap(SchoolLevel::JuniorHigh, 0, 1, 30).expect_err("empty class");
        assert_eq!(
            err.message,
            "junior_high graduating class of 0 allows 0 members (30 %); admitting would make 1"
        );
        assert_eq!(check_class_cap(SchoolLevel::JuniorHigh, 0, 0, 30), Ok(()));
        let err = check_class_cap(SchoolLevel::JuniorHigh, 5, 2, 30).expect_err("1.5 allowed");
        assert_eq!(
            err.message,
            "junior_high graduating class of 5 allows 1 member (30 %); admitting would make 2"
        );
        assert_eq!(
            check_class_cap(SchoolLevel::SeniorHigh, u32::MAX, u32::MAX, 100),
            Ok(())
        );
    }
}
