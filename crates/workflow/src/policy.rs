//! [`AdmissionPolicy`]: the typed `[policy]` of the admission machine (团员发展).

use serde::{Deserialize, Serialize};
use tuanji_domain::RuleCode;

use crate::definition::Definition;
use crate::error::LoadError;

/// The lowest `min_age` a workflow may set: League Constitution Art. 1 ("十四周岁以上"),
/// DOMAIN-SOURCES.md §1.4. ADM_AGE_MIN is a floor rule.
pub const MIN_AGE_FLOOR: u32 = 14;

/// Which members the yes votes of the branch general meeting (支部大会) are counted against
/// (ADM_MEETING_MAJORITY, DOMAIN-SOURCES.md §1.3; which one the 2023 rules use is `[U]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MajorityBasis {
    /// Variant B (default): yes votes > half of the voting-entitled members (应到会有表决权);
    /// members on probation (留团察看) are not entitled. Policy value `"entitled"`.
    Entitled,
    /// Variant A: yes votes > half of the entitled members present. Policy value `"present"`.
    Present,
}

impl MajorityBasis {
    /// The policy value: `entitled` or `present`.
    pub fn as_str(self) -> &'static str {
        match self {
            MajorityBasis::Entitled => "entitled",
            MajorityBasis::Present => "present",
        }
    }
}

/// The numbers the admission guards read, from `[policy]` of an admission workflow file.
/// Defaults (in `workflows/admission.v1.toml`) and sources: DOMAIN.md "Admission (§1)";
/// values marked `[U]` there are unverified and must be confirmed by a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdmissionPolicy {
    /// ADM_AGE_MIN: least age in full years (周岁) on the application date; 14, a floor.
    pub min_age: u32,
    /// ADM_AGE_MAX: age in full years must be below this on the application and meeting dates; 28.
    pub max_age: u32,
    /// ADM_TALK_DEADLINE: months from application to the talk before it is flagged overdue; 1.
    pub talk_deadline_months: u32,
    /// ADM_OBSERVATION: least calendar months from activist approval to determination; 3.
    pub observation_months: u32,
    /// ADM_CLASS_HOURS: least number of class hours (学时) of League classes; 8.
    pub class_hours: u32,
    /// ADM_CLASS_HOURS: least minutes of one class hour; 45.
    pub class_hour_minutes: u32,
    /// ADM_PUBLICITY: working days of publicity (公示), holiday-aware; 5 `[U]`.
    pub publicity_working_days: u32,
    /// ADM_MEETING_MAJORITY: the denominator of the meeting vote; entitled (variant B) `[U]`.
    pub meeting_majority: MajorityBasis,
    /// ADM_APPROVAL_DEADLINE: days from the meeting to approval before it is flagged overdue; 30 `[U]`.
    pub approval_deadline_days: u32,
    /// ADM_MENTORS: least number of mentors (培养联系人); 1.
    pub mentors_min: u32,
    /// ADM_MENTORS: most mentors; 2.
    pub mentors_max: u32,
    /// ADM_SPONSORS: exact number of sponsors (入团介绍人); 2.
    pub sponsors: u32,
    /// ADM_CLASS_CAP: most members, in percent of a junior-high graduating class; 30.
    pub junior_high_cap_percent: u32,
    /// ADM_CLASS_CAP: most members, in percent of a senior-high graduating class; 60.
    pub senior_high_cap_percent: u32,
    /// ADM_ARCHIVE: days from approval to filing the application form (入团志愿书) PDF; 30.
    pub archive_deadline_days: u32,
    /// ADM_ARCHIVE: largest application form PDF, in bytes; 20 971 520 (20 MiB).
    pub archive_max_bytes: u64,
}

/// Every key of an admission `[policy]`.
pub const ADMISSION_POLICY_KEYS: &[&str] = &[
    "min_age",
    "max_age",
    "talk_deadline_months",
    "observation_months",
    "class_hours",
    "class_hour_minutes",
    "publicity_working_days",
    "meeting_majority",
    "approval_deadline_days",
    "mentors_min",
    "mentors_max",
    "sponsors",
    "junior_high_cap_percent",
    "senior_high_cap_percent",
    "archive_deadline_days",
    "archive_max_bytes",
];

impl AdmissionPolicy {
    /// The typed `[policy]` of an admission definition.
    ///
    /// # Errors
    /// The first (by line) [`LoadError`] of [`AdmissionPolicy::check`].
    pub fn from_definition(def: &Definition) -> Result<Self, LoadError> {
        AdmissionPolicy::check(def).map_err(|errors| {
            errors.into_iter().next().unwrap_or_else(|| {
                LoadError::new(def.file.clone(), def.policy_line, "invalid [policy]")
            })
        })
    }

    /// The typed `[policy]` of an admission definition, or every problem with it.
    ///
    /// # Errors
    /// Sorted by line: an unknown key (on its own line); a missing or wrong-typed key (on the
    /// line of `[policy]`); `meeting_majority` other than `entitled`/`present`; `min_age` below
    /// [`MIN_AGE_FLOOR`] (floor rule [`RuleCode::AdmAgeMin`], on the line of `min_age`);
    /// `min_age` ≥ `max_age`; `mentors_min` of 0 or above `mentors_max`; a class hour of 0
    /// minutes; a cap above 100 %.
    pub fn check(def: &Definition) -> Result<Self, Vec<LoadError>> {
        let mut errors = Vec::new();
        for key in def.policy.keys() {
            if !ADMISSION_POLICY_KEYS.contains(&key.as_str()) {
                errors.push(LoadError::new(
                    def.file.clone(),
                    key_line(def, key),
                    format!("unknown [policy] key `{key}` for workflow `admission`"),
                ));
            }
        }
        let mut u32_of = |key: &str| match def.policy_u32(key) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                0
            }
        };
        let mut policy = AdmissionPolicy {
            min_age: u32_of("min_age"),
            max_age: u32_of("max_age"),
            talk_deadline_months: u32_of("talk_deadline_months"),
            observation_months: u32_of("observation_months"),
            class_hours: u32_of("class_hours"),
            class_hour_minutes: u32_of("class_hour_minutes"),
            publicity_working_days: u32_of("publicity_working_days"),
            meeting_majority: MajorityBasis::Entitled,
            approval_deadline_days: u32_of("approval_deadline_days"),
            mentors_min: u32_of("mentors_min"),
            mentors_max: u32_of("mentors_max"),
            sponsors: u32_of("sponsors"),
            junior_high_cap_percent: u32_of("junior_high_cap_percent"),
            senior_high_cap_percent: u32_of("senior_high_cap_percent"),
            archive_deadline_days: u32_of("archive_deadline_days"),
            archive_max_bytes: 0,
        };
        match def.policy_u64("archive_max_bytes") {
            Ok(v) => policy.archive_max_bytes = v,
            Err(e) => errors.push(e),
        }
        match def.policy_str("meeting_majority") {
            Ok("entitled") => policy.meeting_majority = MajorityBasis::Entitled,
            Ok("present") => policy.meeting_majority = MajorityBasis::Present,
            Ok(other) => errors.push(LoadError::new(
                def.file.clone(),
                key_line(def, "meeting_majority"),
                format!("[policy] meeting_majority must be \"entitled\" or \"present\", not \"{other}\""),
            )),
            Err(e) => errors.push(e),
        }

        let present = |key: &str| matches!(def.policy.get(key), Some(toml::Value::Integer(_)));
        if present("min_age") && policy.min_age < MIN_AGE_FLOOR {
            errors.push(LoadError::floor(
                def.file.clone(),
                key_line(def, "min_age"),
                RuleCode::AdmAgeMin,
                &format!("min_age = {} is below {MIN_AGE_FLOOR}", policy.min_age),
            ));
        }
        let mut sanity = |ok: bool, key: &str, message: String| {
            if !ok {
                errors.push(LoadError::new(
                    def.file.clone(),
                    key_line(def, key),
                    message,
                ));
            }
        };
        if present("min_age") && present("max_age") {
            sanity(
                policy.min_age < policy.max_age,
                "max_age",
                format!(
                    "[policy] max_age = {} must be above min_age = {}",
                    policy.max_age, policy.min_age
                ),
            );
        }
        if present("mentors_min") && present("mentors_max") {
            sanity(
                policy.mentors_min >= 1 && policy.mentors_min <= policy.mentors_max,
                "mentors_min",
                format!(
                    "[policy] mentors_min = {} must be at least 1 and at most mentors_max = {}",
                    policy.mentors_min, policy.mentors_max
                ),
            );
        }
        if present("class_hour_minutes") {
            sanity(
                policy.class_hour_minutes > 0,
                "class_hour_minutes",
                "[policy] class_hour_minutes must be above 0".into(),
            );
        }
        for key in ["junior_high_cap_percent", "senior_high_cap_percent"] {
            if let Ok(v) = def.policy_u32(key) {
                sanity(v <= 100, key, format!("[policy] {key} = {v} is above 100"));
            }
        }

        if errors.is_empty() {
            Ok(policy)
        } else {
            errors.sort_by_key(|e| e.line);
            Err(errors)
        }
    }
}

/// The line of `key` in `[policy]`, or of `[policy]` itself when the key is absent.
fn key_line(def: &Definition, key: &str) -> usize {
    def.policy_key_lines
        .get(key)
        .copied()
        .unwrap_or(def.policy_line)
}
