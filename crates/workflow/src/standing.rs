//! The standing machine (团籍, `workflows/standing.v1.toml`): its typed `[policy]` ([`StandingPolicy`]),
//! the recorded steps ([`StandingStep`], the payload of each log entry), the instance data they build
//! ([`StandingData`]), the guards named in the file ([`check_guard`]) and the sweep's due steps
//! ([`StandingData::due_steps`]).
//!
//! One instance per member (person), for the whole membership: `member` (good standing),
//! `on_probation` (留团察看), `recommended_for_party` (holds a valid 推优 recommendation),
//! `party_member` (党员 who keeps League membership until 28); terminal `aged_out` (超龄离团),
//! `withdrawn` (退团), `removed` (除名), `expelled` (开除团籍), `deceased`.
//!
//! Rules: DOMAIN.md "Standing (§2)" (STD_*), "Evaluation and dues" (EVL_UNQUALIFIED, DUE_STUDENT), sources
//! in DOMAIN-SOURCES.md §2 and §7. Dates are calendar dates in China Standard Time; ages are full years
//! (周岁); periods are calendar months; money is in fen (分, integers).
//!
//! Also shared with the other machines of issue 4: the branch general meeting with a secret ballot
//! ([`BranchMeeting`], [`check_meeting`]) and the policy reader.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tuanji_domain::dues::{self, Arrears, Gap, YearMonth};
use tuanji_domain::{add_months, age_on, birthday_at, Date, RuleCode, RuleViolation};

use crate::definition::Definition;
use crate::error::LoadError;
use crate::policy::MajorityBasis;
use crate::relation::OrgFact;

/// The age-out age may not be raised above 28 (团章 Art. 1: "年龄在十四周岁以上，二十八周岁以下";
/// STD_AGE_OUT is a floor, DOMAIN-SOURCES §2).
pub const AGE_OUT_CEILING: u32 = 28;

// ------------------------------------------------------------------ policy reading (shared)

/// Reads a `[policy]` table key by key, collecting every problem as a [`LoadError`] on the key's line.
pub(crate) struct PolicyReader<'a> {
    pub(crate) def: &'a Definition,
    pub(crate) errors: Vec<LoadError>,
}

impl<'a> PolicyReader<'a> {
    /// A reader that first refuses every key not in `keys`.
    pub(crate) fn new(def: &'a Definition, keys: &[&str]) -> Self {
        let mut r = PolicyReader {
            def,
            errors: Vec::new(),
        };
        for key in def.policy.keys() {
            if !keys.contains(&key.as_str()) {
                let line = r.line(key);
                r.errors.push(LoadError::new(
                    def.file.clone(),
                    line,
                    format!("unknown [policy] key `{key}` for workflow `{}`", def.name),
                ));
            }
        }
        r
    }

    pub(crate) fn line(&self, key: &str) -> usize {
        self.def
            .policy_key_lines
            .get(key)
            .copied()
            .unwrap_or(self.def.policy_line)
    }

    pub(crate) fn error(&mut self, key: &str, message: String) {
        let line = self.line(key);
        self.errors
            .push(LoadError::new(self.def.file.clone(), line, message));
    }

    pub(crate) fn floor(&mut self, key: &str, rule: RuleCode, message: &str) {
        let line = self.line(key);
        self.errors
            .push(LoadError::floor(self.def.file.clone(), line, rule, message));
    }

    /// A whole number from `min` up; 0 (and an error) when missing, wrong-typed or below `min`.
    pub(crate) fn u32_at_least(&mut self, key: &str, min: u32) -> u32 {
        match self.def.policy_u32(key) {
            Ok(v) if v >= min => v,
            Ok(v) => {
                self.error(key, format!("[policy] {key} = {v} must be at least {min}"));
                0
            }
            Err(e) => {
                self.errors.push(e);
                0
            }
        }
    }

    pub(crate) fn u64_at_least(&mut self, key: &str, min: u64) -> u64 {
        match self.def.policy_u64(key) {
            Ok(v) if v >= min => v,
            Ok(v) => {
                self.error(key, format!("[policy] {key} = {v} must be at least {min}"));
                0
            }
            Err(e) => {
                self.errors.push(e);
                0
            }
        }
    }

    pub(crate) fn boolean(&mut self, key: &str) -> bool {
        match self.def.policy.get(key) {
            Some(toml::Value::Boolean(b)) => *b,
            None => {
                self.error(
                    key,
                    format!("[policy] lacks the key `{key}` (true or false)"),
                );
                false
            }
            Some(v) => {
                self.error(
                    key,
                    format!("[policy] `{key}` must be true or false, found `{key} = {v}`"),
                );
                false
            }
        }
    }

    pub(crate) fn majority(&mut self, key: &str) -> MajorityBasis {
        match self.def.policy_str(key) {
            Ok("entitled") => MajorityBasis::Entitled,
            Ok("present") => MajorityBasis::Present,
            Ok(other) => {
                self.error(
                    key,
                    format!("[policy] {key} must be \"entitled\" or \"present\", not \"{other}\""),
                );
                MajorityBasis::Entitled
            }
            Err(e) => {
                self.errors.push(e);
                MajorityBasis::Entitled
            }
        }
    }

    /// Whether `key` is present as an integer (so a relation between keys is worth checking).
    pub(crate) fn has_int(&self, key: &str) -> bool {
        matches!(self.def.policy.get(key), Some(toml::Value::Integer(_)))
    }

    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, Vec<LoadError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            self.errors.sort_by_key(|e| e.line);
            Err(self.errors)
        }
    }
}

/// The first error of a list (for the single-error `from_definition` constructors).
pub(crate) fn first_error(def: &Definition, errors: Vec<LoadError>) -> LoadError {
    errors
        .into_iter()
        .next()
        .unwrap_or_else(|| LoadError::new(def.file.clone(), def.policy_line, "invalid [policy]"))
}

// ------------------------------------------------------------------ meetings (shared)

/// A branch general meeting (支部大会) that decided by secret ballot (无记名投票).
///
/// `entitled` are the members with the right to vote on the meeting date (members on probation,
/// 留团察看, are not entitled: STD_PROBATION).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchMeeting {
    /// Meeting date.
    pub date: Date,
    /// Voting-entitled members of the branch (应到会有表决权的团员).
    pub entitled: u32,
    /// Entitled members present.
    pub present: u32,
    /// Yes votes.
    pub yes: u32,
    /// No votes.
    pub no: u32,
    /// Abstentions.
    pub abstain: u32,
}

/// Checks a branch general meeting: the ballot counts add up to those present
/// (`yes + no + abstain = present ≤ entitled`), more than half of the entitled are present
/// (`2 × present > entitled`), and yes votes are more than half of the basis (`2 × yes > entitled`
/// for [`MajorityBasis::Entitled`], `2 × yes > present` for [`MajorityBasis::Present`]).
///
/// `what` names the decision in messages ("the expulsion").
///
/// # Errors
/// `code` with a message giving the counts, e.g. "5 of 12 entitled members present; more than half
/// are required".
pub fn check_meeting(
    m: &BranchMeeting,
    basis: MajorityBasis,
    code: RuleCode,
    what: &str,
) -> Result<(), RuleViolation> {
    let cast = u64::from(m.yes) + u64::from(m.no) + u64::from(m.abstain);
    if m.entitled == 0 {
        return refuse(code, format!("{what}: the meeting has no entitled members"));
    }
    if m.present > m.entitled {
        return refuse(
            code,
            format!(
                "{what}: {} present, but only {} members are entitled to vote",
                m.present, m.entitled
            ),
        );
    }
    if cast != u64::from(m.present) {
        return refuse(
            code,
            format!(
                "{what}: the secret ballot counts {} yes + {} no + {} abstaining = {cast}, not the {} present",
                m.yes, m.no, m.abstain, m.present
            ),
        );
    }
    if u64::from(m.present) * 2 <= u64::from(m.entitled) {
        return refuse(
            code,
            format!(
                "{what}: {} of {} entitled members present; more than half are required",
                m.present, m.entitled
            ),
        );
    }
    let (denominator, label) = match basis {
        MajorityBasis::Entitled => (m.entitled, "entitled members"),
        MajorityBasis::Present => (m.present, "members present"),
    };
    if u64::from(m.yes) * 2 <= u64::from(denominator) {
        return refuse(
            code,
            format!(
                "{what}: {} yes votes of {denominator} {label}; more than half are required",
                m.yes
            ),
        );
    }
    Ok(())
}

pub(crate) fn refuse(code: RuleCode, msg: String) -> Result<(), RuleViolation> {
    Err(RuleViolation::new(code, msg))
}

// ------------------------------------------------------------------ policy

/// The numbers the standing guards read, from `[policy]` of `standing.v1.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandingPolicy {
    /// STD_AGE_OUT: full years at which a member without a League post leaves; 28, at most
    /// [`AGE_OUT_CEILING`] (a floor: it cannot be raised).
    pub age_out_age: u32,
    /// STD_PROBATION: the allowed lengths of probation in months; `[6, 12]`.
    pub probation_months: Vec<u32>,
    /// STD_LAPSE: consecutive months without dues (or organisational life) that make a lapse; 6.
    pub lapse_months: u32,
    /// STD_LAPSE: whether months without recorded organisational life count towards a lapse as well
    /// as months without dues; `true`.
    pub lapse_counts_life: bool,
    /// The denominator of the yes votes of a standing decision's branch meeting; entitled.
    pub meeting_majority: MajorityBasis,
    /// DUE_STUDENT: monthly dues of students, the unemployed and members on relief, in fen; 20.
    pub reduced_monthly_fen: u64,
    /// Monthly dues of salaried members, in fen: the least accepted; 300 (3 yuan, `[W]`/Zhejiang
    /// practice, DOMAIN-SOURCES §7).
    pub salaried_monthly_fen: u64,
    /// DUE_STUDENT plausibility: the most one month's dues may be, in fen; a payment above
    /// `months × max_monthly_fen` is refused. 10000 (100 yuan); at least both monthly rates.
    pub max_monthly_fen: u64,
}

/// Every key of a standing `[policy]`.
pub const STANDING_POLICY_KEYS: &[&str] = &[
    "age_out_age",
    "probation_months",
    "lapse_months",
    "lapse_counts_life",
    "meeting_majority",
    "reduced_monthly_fen",
    "salaried_monthly_fen",
    "max_monthly_fen",
];

impl StandingPolicy {
    /// The typed `[policy]` of a standing definition.
    ///
    /// # Errors
    /// The first (by line) [`LoadError`] of [`StandingPolicy::check`].
    pub fn from_definition(def: &Definition) -> Result<Self, LoadError> {
        StandingPolicy::check(def).map_err(|e| first_error(def, e))
    }

    /// The typed `[policy]`, or every problem with it, each on the line of its key: an unknown key;
    /// a missing or wrong-typed key; `age_out_age` above 28 (floor STD_AGE_OUT) or below 15;
    /// `probation_months` not a non-empty array of whole numbers from 1 to 120; `lapse_months` or a
    /// monthly fee of 0; `max_monthly_fen` below either monthly fee; `meeting_majority` other than
    /// `entitled`/`present`.
    ///
    /// # Errors
    /// Every [`LoadError`], sorted by line.
    pub fn check(def: &Definition) -> Result<Self, Vec<LoadError>> {
        let mut r = PolicyReader::new(def, STANDING_POLICY_KEYS);
        let age_out_age = r.u32_at_least("age_out_age", 15);
        if age_out_age > AGE_OUT_CEILING {
            r.floor(
                "age_out_age",
                RuleCode::StdAgeOut,
                &format!("age_out_age = {age_out_age} is above {AGE_OUT_CEILING}"),
            );
        }
        let probation_months = match def.policy.get("probation_months") {
            Some(toml::Value::Array(items)) if !items.is_empty() => {
                let months: Vec<u32> = items
                    .iter()
                    .filter_map(|v| v.as_integer())
                    .filter(|v| (1..=120).contains(v))
                    .filter_map(|v| u32::try_from(v).ok())
                    .collect();
                if months.len() != items.len() {
                    r.error(
                        "probation_months",
                        "[policy] probation_months must list whole numbers of months from 1 to 120"
                            .into(),
                    );
                }
                months
            }
            _ => {
                r.error(
                    "probation_months",
                    "[policy] probation_months must be a non-empty array of months, e.g. [6, 12]"
                        .into(),
                );
                Vec::new()
            }
        };
        let policy = StandingPolicy {
            age_out_age,
            probation_months,
            lapse_months: r.u32_at_least("lapse_months", 1),
            lapse_counts_life: r.boolean("lapse_counts_life"),
            meeting_majority: r.majority("meeting_majority"),
            reduced_monthly_fen: r.u64_at_least("reduced_monthly_fen", 1),
            salaried_monthly_fen: r.u64_at_least("salaried_monthly_fen", 1),
            max_monthly_fen: r.u64_at_least("max_monthly_fen", 1),
        };
        let rate = policy.reduced_monthly_fen.max(policy.salaried_monthly_fen);
        if r.has_int("max_monthly_fen") && policy.max_monthly_fen < rate {
            r.error(
                "max_monthly_fen",
                format!(
                    "[policy] max_monthly_fen = {} is below a monthly fee ({rate} fen); it caps one month's dues",
                    policy.max_monthly_fen
                ),
            );
        }
        r.finish(policy)
    }
}

// ------------------------------------------------------------------ data shapes

/// A member's membership as registered (legacy import or opened from an admission). Field names are
/// those the engine's roster import already writes (`{"membership_date", "number", "probation_until"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// 团籍 start: the branch meeting date of the admission (ADM_MEMBERSHIP_DATE).
    pub membership_date: Date,
    /// Development number, if admitted on or after 2017-01-01.
    #[serde(default)]
    pub number: Option<String>,
    /// End of a probation decided before registration, if any.
    #[serde(default)]
    pub probation_until: Option<Date>,
    /// The first month whose dues Tuanji tracks; the membership month when absent (DUE_STUDENT). A
    /// register brought in years after admission sets the month of import, so earlier months are
    /// neither owed nor counted towards a lapse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dues_from: Option<YearMonth>,
}

/// The decision behind a change of standing: the branch meeting and the organisation that approved
/// it or recorded it (备案).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// The branch general meeting.
    pub meeting: BranchMeeting,
    /// The approving (or recording) organisation, by code.
    pub approved_by: String,
    /// Date of the approval (or record), on or after the meeting.
    pub approved_on: Date,
}

/// Why a member is removed (除名).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// 自行脱团: 6 consecutive months without dues or organisational life (STD_LAPSE).
    Lapse,
    /// Still unqualified after re-evaluation, advised to withdraw and refused (EVL_UNQUALIFIED).
    Unqualified,
}

/// Why a recommendation ended while the member held it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationEnd {
    /// Two years passed (PTY_VALIDITY).
    Expired,
    /// The Party organisation declined.
    Declined,
    /// The recommendation was cancelled: the member was put on probation (or the branch cancelled it).
    Cancelled,
}

/// The dues category (DUE_STUDENT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DuesCategory {
    /// Students, the unemployed and members on relief or 低保: 0.2 yuan a month (default).
    #[default]
    Reduced,
    /// Members with a salary.
    Salaried,
}

/// A League post (团内职务) that keeps a member past 28 (STD_AGE_OUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    /// Branch secretary (团支部书记).
    Secretary,
    /// Deputy secretary (副书记).
    DeputySecretary,
    /// Committee member (委员) of a branch or committee.
    CommitteeMember,
}

/// A League post held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// Which post.
    pub post: PostKind,
    /// The organisation (code).
    pub org: String,
    /// First day held.
    pub from: Date,
    /// The day it ended (no longer held from this day), if ended.
    pub until: Option<Date>,
}

impl Post {
    /// Whether the post is held on `d`: `from ≤ d < until`.
    pub fn held_on(&self, d: Date) -> bool {
        self.from <= d && self.until.is_none_or(|u| d < u)
    }
}

/// What a lapse is counted on (STD_LAPSE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LapseGround {
    /// Months without dues.
    Dues,
    /// Months without organisational life.
    Life,
}

/// An appeal (申诉) lodged by the member against a disciplinary decision (STD_EXPEL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    /// Date lodged.
    pub lodged_on: Date,
    /// The organisation appealed to (code).
    pub to_org: String,
    /// What is appealed.
    pub summary: String,
    /// The decision: date, deciding organisation, whether the appeal was upheld.
    pub decided: Option<(Date, String, bool)>,
}

/// One recorded step of the standing machine: the payload of a log entry. Organisations by code.
/// Fields marked "computed" are filled by the engine (or [`StandingData::due_steps`]) and recorded so
/// replay needs nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum StandingStep {
    /// An existing member entered from a register (legacy import, IMP_LEGACY_AGE). The payload the
    /// roster import writes, `{"membership": {...}}`; effective on the membership date.
    ImportMember {
        /// The membership.
        membership: Membership,
    },
    /// A probation decided before registration (`membership.probation_until`).
    ImportProbation {
        /// The membership, with the probation end.
        membership: Membership,
    },
    /// The standing of a member admitted through Tuanji, opened on the membership date.
    Open {
        /// Effective date: the membership date.
        date: Date,
        /// The membership.
        membership: Membership,
    },
    /// Probation (留团察看) for `months` months (STD_PROBATION).
    PutOnProbation {
        /// Effective date: the first day of probation.
        date: Date,
        /// 6 or 12 (policy `probation_months`).
        months: u32,
        /// The branch meeting and the superior committee's approval.
        decision: Decision,
        /// Why.
        reason: String,
        /// Computed: the last day is the day before this (`date` + `months`).
        until: Date,
    },
    /// Probation ended: rights restored (恢复团员权利) at or after expiry.
    EndProbation {
        /// Effective date: on or after the probation end.
        date: Date,
        /// Computed: the state returned to ([`StandingData::back_to`]).
        back_to: String,
    },
    /// Expulsion (开除团籍, STD_EXPEL).
    Expel {
        /// Effective date (on or after the approval).
        date: Date,
        /// The branch meeting and the county-level approval.
        decision: Decision,
        /// Why.
        reason: String,
    },
    /// An appeal lodged (STD_EXPEL).
    RecordAppeal {
        /// Date lodged.
        date: Date,
        /// The organisation appealed to.
        to_org: String,
        /// What is appealed.
        summary: String,
    },
    /// The decision on the pending appeal.
    DecideAppeal {
        /// Decision date.
        date: Date,
        /// The deciding organisation.
        org: String,
        /// Whether the appeal was upheld.
        upheld: bool,
    },
    /// Membership restored after an upheld appeal against the expulsion (STD_EXPEL), on the decision date.
    Reinstate {
        /// Effective date: the date the appeal was upheld.
        date: Date,
        /// Computed: the state returned to ([`StandingData::reinstated_to`]).
        back_to: String,
    },
    /// Age-out (超龄离团, STD_AGE_OUT), recorded by the sweep.
    AgeOut {
        /// Computed effective date: the 28th birthday, or the day the last League post held on it
        /// ended ([`StandingData::age_out_on`]).
        date: Date,
    },
    /// Voluntary withdrawal (退团, STD_WITHDRAW).
    Withdraw {
        /// Effective date: on or after the meeting.
        date: Date,
        /// Date of the written request to the branch committee.
        request_date: Date,
        /// The branch meeting and the superior it is recorded with (备案).
        decision: Decision,
    },
    /// Removal (除名): a lapse (STD_LAPSE) or an unqualified member who refused to withdraw
    /// (EVL_UNQUALIFIED).
    Remove {
        /// Effective date: on or after the approval.
        date: Date,
        /// Grounds.
        reason: RemovalReason,
        /// The branch meeting and the superior committee's approval.
        decision: Decision,
    },
    /// Death.
    RecordDeath {
        /// Date of death.
        date: Date,
        /// The organisation recording it.
        recorded_by: String,
    },
    /// The member's Party recommendation reached `recommended` (推优).
    Recommend {
        /// Effective date: the recommendation date.
        date: Date,
        /// The party_recommendation instance id.
        recommendation: String,
        /// Computed: the last day of validity is the day before this (PTY_VALIDITY).
        valid_until: Date,
    },
    /// The recommendation expired or was declined: back to good standing.
    EndRecommendation {
        /// Effective date: the expiry date or the Party's decision.
        date: Date,
        /// Why.
        reason: RecommendationEnd,
    },
    /// Joined the Party (预备党员 from this date); keeps League membership until 28.
    JoinParty {
        /// Date of admission to the Party.
        date: Date,
        /// The Party organisation (free text: not in the League tree).
        party_org: String,
    },
    /// Dues paid (DUE_STUDENT).
    RecordDues {
        /// Payment date.
        date: Date,
        /// The months paid for.
        months: Vec<YearMonth>,
        /// Amount paid, in fen.
        amount_fen: u64,
        /// The member's dues category.
        category: DuesCategory,
    },
    /// Organisational life attended (组织生活: branch meeting, League class, assigned work) (STD_LAPSE).
    RecordLife {
        /// Date.
        date: Date,
        /// What.
        note: String,
    },
    /// A League post taken (STD_AGE_OUT: a post holder is not aged out).
    AssignPost {
        /// First day.
        date: Date,
        /// The post.
        post: PostKind,
        /// The organisation.
        org: String,
    },
    /// A League post ended.
    EndPost {
        /// The day it is no longer held.
        date: Date,
        /// The post.
        post: PostKind,
        /// The organisation.
        org: String,
    },
    /// The sweep flagged a lapse for the branch (STD_LAPSE).
    FlagLapse {
        /// Computed: the day the run reached the policy's months.
        date: Date,
        /// What ran out.
        ground: LapseGround,
        /// First month of the run.
        since: YearMonth,
    },
}

impl StandingStep {
    /// The effective date (the membership date for the import steps).
    pub fn date(&self) -> Date {
        match self {
            StandingStep::ImportMember { membership }
            | StandingStep::ImportProbation { membership } => membership.membership_date,
            StandingStep::Open { date, .. }
            | StandingStep::PutOnProbation { date, .. }
            | StandingStep::EndProbation { date, .. }
            | StandingStep::Expel { date, .. }
            | StandingStep::RecordAppeal { date, .. }
            | StandingStep::DecideAppeal { date, .. }
            | StandingStep::Reinstate { date, .. }
            | StandingStep::AgeOut { date }
            | StandingStep::Withdraw { date, .. }
            | StandingStep::Remove { date, .. }
            | StandingStep::RecordDeath { date, .. }
            | StandingStep::Recommend { date, .. }
            | StandingStep::EndRecommendation { date, .. }
            | StandingStep::JoinParty { date, .. }
            | StandingStep::RecordDues { date, .. }
            | StandingStep::RecordLife { date, .. }
            | StandingStep::AssignPost { date, .. }
            | StandingStep::EndPost { date, .. }
            | StandingStep::FlagLapse { date, .. } => *date,
        }
    }

    /// The workflow command name.
    pub fn command(&self) -> &'static str {
        match self {
            StandingStep::ImportMember { .. } => "import_member",
            StandingStep::ImportProbation { .. } => "import_probation",
            StandingStep::Open { .. } => "open",
            StandingStep::PutOnProbation { .. } => "put_on_probation",
            StandingStep::EndProbation { .. } => "end_probation",
            StandingStep::Expel { .. } => "expel",
            StandingStep::RecordAppeal { .. } => "record_appeal",
            StandingStep::DecideAppeal { .. } => "decide_appeal",
            StandingStep::Reinstate { .. } => "reinstate",
            StandingStep::AgeOut { .. } => "age_out",
            StandingStep::Withdraw { .. } => "withdraw",
            StandingStep::Remove { .. } => "remove",
            StandingStep::RecordDeath { .. } => "record_death",
            StandingStep::Recommend { .. } => "recommend",
            StandingStep::EndRecommendation { .. } => "end_recommendation",
            StandingStep::JoinParty { .. } => "join_party",
            StandingStep::RecordDues { .. } => "record_dues",
            StandingStep::RecordLife { .. } => "record_life",
            StandingStep::AssignPost { .. } => "assign_post",
            StandingStep::EndPost { .. } => "end_post",
            StandingStep::FlagLapse { .. } => "flag_lapse",
        }
    }

    /// Reads a logged step: `payload` is the step's JSON, with or without the `command` tag (the
    /// roster import's `{"membership": {...}}` has none); the log row's `command` supplies it.
    ///
    /// # Errors
    /// The JSON does not describe a step of `command`.
    pub fn from_log(command: &str, payload: &serde_json::Value) -> Result<Self, serde_json::Error> {
        let mut value = payload.clone();
        if let serde_json::Value::Object(map) = &mut value {
            map.entry("command")
                .or_insert_with(|| serde_json::Value::String(command.to_owned()));
        }
        serde_json::from_value(value)
    }
}

/// The data of one standing instance, rebuilt exactly by replaying the log. Deserialises from the
/// data the roster import stored before this version (`membership_date`, `number`,
/// `probation_until`): every other field has a default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StandingData {
    /// 团籍 start.
    pub membership_date: Option<Date>,
    /// Development number, if any.
    pub number: Option<String>,
    /// The day probation ends (the member's rights return on it), while on probation.
    pub probation_until: Option<Date>,
    /// First day of the current probation (unknown for one imported from a register).
    pub probation_since: Option<Date>,
    /// First month whose dues are tracked (the membership month when absent).
    pub dues_from: Option<YearMonth>,
    /// The state to return to when probation ends.
    pub return_to: Option<String>,
    /// League posts, held and ended.
    pub posts: Vec<Post>,
    /// Months paid (DUE_STUDENT).
    pub dues_paid: BTreeSet<YearMonth>,
    /// Total paid, in fen.
    pub dues_paid_fen: u64,
    /// The member's dues category (from the latest payment).
    pub dues_category: DuesCategory,
    /// Months with organisational life attended.
    pub life_months: BTreeSet<YearMonth>,
    /// The latest lapse flag: date, ground, first month of the run.
    pub lapse_flag: Option<(Date, LapseGround, YearMonth)>,
    /// Appeals, oldest first.
    pub appeals: Vec<Appeal>,
    /// The recommendation held: instance id, date, end of validity.
    pub recommendation: Option<(String, Date, Date)>,
    /// Party membership: date and Party organisation.
    pub party: Option<(Date, String)>,
    /// How membership ended: the command and its effective date.
    pub ended: Option<(String, Date)>,
}

impl StandingData {
    /// Applies a recorded step taken in state `from`.
    pub fn apply(&mut self, from: &str, step: &StandingStep) {
        match step {
            StandingStep::ImportMember { membership } | StandingStep::Open { membership, .. } => {
                self.membership_date = Some(membership.membership_date);
                self.number.clone_from(&membership.number);
                self.dues_from = membership.dues_from;
                if let Some(until) = membership.probation_until {
                    self.probation_until = Some(until);
                }
            }
            StandingStep::ImportProbation { membership } => {
                self.probation_until = membership.probation_until;
                self.return_to = Some(from.to_owned());
            }
            StandingStep::PutOnProbation { date, until, .. } => {
                self.probation_since = Some(*date);
                self.probation_until = Some(*until);
                self.return_to = Some(from.to_owned());
            }
            StandingStep::EndProbation { .. } => {
                self.probation_since = None;
                self.probation_until = None;
                self.return_to = None;
            }
            StandingStep::RecordAppeal {
                date,
                to_org,
                summary,
            } => self.appeals.push(Appeal {
                lodged_on: *date,
                to_org: to_org.clone(),
                summary: summary.clone(),
                decided: None,
            }),
            StandingStep::DecideAppeal { date, org, upheld } => {
                if let Some(a) = self.appeals.iter_mut().rev().find(|a| a.decided.is_none()) {
                    a.decided = Some((*date, org.clone(), *upheld));
                }
            }
            StandingStep::Reinstate { .. } => self.ended = None,
            StandingStep::Expel { date, .. }
            | StandingStep::AgeOut { date }
            | StandingStep::Withdraw { date, .. }
            | StandingStep::Remove { date, .. }
            | StandingStep::RecordDeath { date, .. } => {
                self.ended = Some((step.command().to_owned(), *date));
            }
            StandingStep::Recommend {
                date,
                recommendation,
                valid_until,
            } => self.recommendation = Some((recommendation.clone(), *date, *valid_until)),
            StandingStep::EndRecommendation { .. } => self.recommendation = None,
            StandingStep::JoinParty { date, party_org } => {
                self.party = Some((*date, party_org.clone()));
                self.recommendation = None;
            }
            StandingStep::RecordDues {
                months,
                amount_fen,
                category,
                ..
            } => {
                self.dues_paid.extend(months.iter().copied());
                self.dues_paid_fen = self.dues_paid_fen.saturating_add(*amount_fen);
                self.dues_category = *category;
            }
            StandingStep::RecordLife { date, .. } => {
                self.life_months.insert(YearMonth::of(*date));
            }
            StandingStep::AssignPost { date, post, org } => self.posts.push(Post {
                post: *post,
                org: org.clone(),
                from: *date,
                until: None,
            }),
            StandingStep::EndPost { date, post, org } => {
                if let Some(p) = self
                    .posts
                    .iter_mut()
                    .find(|p| p.post == *post && p.org == *org && p.until.is_none())
                {
                    p.until = Some(*date);
                }
            }
            StandingStep::FlagLapse {
                date,
                ground,
                since,
            } => self.lapse_flag = Some((*date, *ground, *since)),
        }
    }

    /// The state `end_probation` returns to on `on`: `party_member` for a Party member; the state
    /// probation started from if it was `recommended_for_party` and the recommendation is still valid
    /// on `on`; else `member`.
    pub fn back_to(&self, on: Date) -> String {
        if self.party.is_some() {
            return "party_member".into();
        }
        match (self.return_to.as_deref(), &self.recommendation) {
            (Some("recommended_for_party"), Some((_, _, until))) if on < *until => {
                "recommended_for_party".into()
            }
            _ => "member".into(),
        }
    }

    /// The state an upheld appeal against the expulsion returns to: `party_member` for a Party member, else
    /// `member` (a Party recommendation held before is not restored; it was cancelled with the expulsion).
    pub fn reinstated_to(&self) -> String {
        if self.party.is_some() {
            "party_member".into()
        } else {
            "member".into()
        }
    }

    /// Whether a League post is held on `d`.
    pub fn holds_post_on(&self, d: Date) -> bool {
        self.posts.iter().any(|p| p.held_on(d))
    }

    /// The effective date of the age-out of a member born on `birth` (STD_AGE_OUT): the birthday on
    /// which they reach `age` full years ([`birthday_at`]: 1 March in a common year for a 29 February
    /// birth), or, when a League post is held on that day, the day the last post held without
    /// interruption from then ends. `None` while a post with no end is held.
    pub fn age_out_on(&self, birth: Date, age: u32) -> Option<Date> {
        let mut d = birthday_at(birth, age);
        // Each pass moves past one post held on `d`; a post cannot be passed twice.
        for _ in 0..=self.posts.len() {
            match self.posts.iter().find(|p| p.held_on(d)) {
                None => return Some(d),
                Some(p) => d = p.until?,
            }
        }
        Some(d)
    }

    /// The first month whose dues are tracked.
    pub fn dues_start(&self) -> Option<YearMonth> {
        self.dues_from
            .or_else(|| self.membership_date.map(YearMonth::of))
    }

    /// The last month dues are owed for on `as_of`: the month before `as_of`'s month (dues for the
    /// current month are payable during it), and for a Party member no later than the month before
    /// joining the Party (Party members may stop paying League dues, DOMAIN-SOURCES §2).
    pub fn dues_through(&self, as_of: Date) -> YearMonth {
        let before = YearMonth::of(as_of).pred();
        match &self.party {
            Some((joined, _)) => before.min(YearMonth::of(*joined).pred()),
            None => before,
        }
    }

    /// The member's arrears on `as_of` (DUE_STUDENT): unpaid months from [`StandingData::dues_start`]
    /// through [`StandingData::dues_through`], at the monthly rate of the member's category. Nothing
    /// when the start is unknown.
    pub fn arrears(&self, policy: &StandingPolicy, as_of: Date) -> Arrears {
        let rate = match self.dues_category {
            DuesCategory::Reduced => policy.reduced_monthly_fen,
            DuesCategory::Salaried => policy.salaried_monthly_fen,
        };
        match self.dues_start() {
            Some(from) => dues::arrears(from, self.dues_through(as_of), &self.dues_paid, rate),
            None => Arrears {
                months: Vec::new(),
                amount_fen: 0,
            },
        }
    }

    /// The lapse of a member on `as_of` (STD_LAPSE): the first ground whose run of months without
    /// activity, ending with the month before `as_of`'s month, has reached `policy.lapse_months` by
    /// `as_of`; dues first, then organisational life when the policy counts it. A Party member's
    /// dues are not counted ([`StandingData::dues_through`]).
    pub fn lapse(&self, policy: &StandingPolicy, as_of: Date) -> Option<(LapseGround, Gap)> {
        let from = self.dues_start()?;
        let through = YearMonth::of(as_of).pred();
        let mut grounds = vec![(LapseGround::Dues, &self.dues_paid)];
        if policy.lapse_counts_life {
            grounds.push((LapseGround::Life, &self.life_months));
        }
        grounds.into_iter().find_map(|(ground, active)| {
            let through = if ground == LapseGround::Dues {
                self.dues_through(as_of)
            } else {
                through
            };
            dues::trailing_gap(from, through, active)
                .filter(|g| g.reached(policy.lapse_months).is_some_and(|d| d <= as_of))
                .map(|g| (ground, g))
        })
    }

    /// The steps the sweep records for this member on `as_of`, in order of effective date, each taken
    /// in the state the previous one leads to (starting from `state`): the end of an expired
    /// probation ([`StandingStep::EndProbation`], effective on the probation end), the expiry of a
    /// recommendation ([`StandingStep::EndRecommendation`], effective on its end of validity), the
    /// age-out ([`StandingStep::AgeOut`], effective on [`StandingData::age_out_on`]) and a lapse flag
    /// ([`StandingStep::FlagLapse`], once per run). Nothing in a terminal state. Running it twice on
    /// the replayed result gives nothing new.
    pub fn due_steps(
        &self,
        state: &str,
        birth: Date,
        policy: &StandingPolicy,
        as_of: Date,
    ) -> Vec<StandingStep> {
        let mut data = self.clone();
        let mut state = state.to_owned();
        let mut steps = Vec::new();
        loop {
            if !ACTIVE_STATES.contains(&state.as_str()) {
                break;
            }
            let mut next: Vec<StandingStep> = Vec::new();
            if state == "on_probation" {
                if let Some(until) = data.probation_until.filter(|u| *u <= as_of) {
                    next.push(StandingStep::EndProbation {
                        date: until,
                        back_to: data.back_to(until),
                    });
                }
            }
            if state == "recommended_for_party" {
                if let Some((_, _, until)) = data.recommendation.as_ref().filter(|r| r.2 <= as_of) {
                    next.push(StandingStep::EndRecommendation {
                        date: *until,
                        reason: RecommendationEnd::Expired,
                    });
                }
            }
            if let Some(d) = data
                .age_out_on(birth, policy.age_out_age)
                .filter(|d| *d <= as_of)
            {
                next.push(StandingStep::AgeOut { date: d });
            }
            // The earliest first; on the same day, restoring before ageing out.
            let Some(step) = next.into_iter().min_by_key(|s| s.date()) else {
                break;
            };
            let to = match &step {
                StandingStep::EndProbation { back_to, .. } => back_to.clone(),
                StandingStep::EndRecommendation { .. } => "member".to_owned(),
                _ => "aged_out".to_owned(),
            };
            data.apply(&state, &step);
            steps.push(step);
            state = to;
        }
        if ACTIVE_STATES.contains(&state.as_str()) && state != "party_member" {
            if let Some((ground, gap)) = data.lapse(policy, as_of) {
                let already = data
                    .lapse_flag
                    .is_some_and(|(_, g, since)| g == ground && since == gap.first);
                if let (false, Some(date)) = (already, gap.reached(policy.lapse_months)) {
                    steps.push(StandingStep::FlagLapse {
                        date,
                        ground,
                        since: gap.first,
                    });
                }
            }
        }
        steps
    }
}

/// The non-terminal states of the standing machine.
pub const ACTIVE_STATES: &[&str] = &[
    "member",
    "on_probation",
    "recommended_for_party",
    "party_member",
];

// ------------------------------------------------------------------ facts and guards

/// A Party recommendation as the standing guards see it (from the party_recommendation instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecommendationFact {
    /// Instance id.
    pub id: String,
    /// Its state (`recommended`, `declined`, `expired`, …).
    pub state: String,
    /// End of validity (the day it is no longer valid), once recommended.
    pub valid_until: Option<Date>,
}

/// Everything a standing guard may look at, gathered by the engine before the guards run.
#[derive(Debug, Clone)]
pub struct StandingFacts<'a> {
    /// Policy of the instance's workflow version.
    pub policy: &'a StandingPolicy,
    /// Instance data before the step.
    pub data: &'a StandingData,
    /// State before the step.
    pub state: &'a str,
    /// The step.
    pub step: &'a StandingStep,
    /// The role the command is issued in.
    pub role: &'a str,
    /// Today (the engine's date, or the sweep's `--as-of`): no effective date may be after it.
    pub today: Date,
    /// The member's birth date (from the resident ID).
    pub birth: Date,
    /// The approving (or recording) organisation of the step's decision, if any.
    pub approver: Option<OrgFact>,
    /// Whether `approver` is above the member's branch (covers it and is not the branch itself).
    pub approver_above_branch: bool,
    /// Whether `approver` is a basic-level committee authorised by a county-level (or higher)
    /// committee to approve expulsions (STD_EXPEL).
    pub expel_authorised: bool,
    /// The member's Party recommendation named by the step (recommend / end_recommendation).
    pub recommendation: Option<RecommendationFact>,
    /// The date the member was advised to withdraw after a second unqualified grade
    /// (EVL_UNQUALIFIED), from the evaluation instance.
    pub advised_to_withdraw_on: Option<Date>,
    /// The day the member's current state began (the effective date of the latest change of state, or
    /// the membership date); a decision may not take effect before it. `None`: not checked.
    pub state_since: Option<Date>,
}

impl<'a> StandingFacts<'a> {
    /// Facts with no approver, no recommendation and no evaluation advice: what the sweep's steps and
    /// the commands without a decision start from.
    pub fn new(
        policy: &'a StandingPolicy,
        data: &'a StandingData,
        state: &'a str,
        step: &'a StandingStep,
        role: &'a str,
        today: Date,
        birth: Date,
    ) -> Self {
        StandingFacts {
            policy,
            data,
            state,
            step,
            role,
            today,
            birth,
            approver: None,
            approver_above_branch: false,
            expel_authorised: false,
            recommendation: None,
            advised_to_withdraw_on: None,
            state_since: None,
        }
    }
}

/// Organisation kinds at county level or above (STD_EXPEL).
const COUNTY_OR_ABOVE: &[&str] = &["county", "city", "provincial", "central"];

/// The checks common to every decision: the meeting passed, the approval is by an organisation above
/// the branch, dated on or after the meeting, and the effective date is on or after the day the
/// member's current state began ([`StandingFacts::state_since`]), on or after the meeting and not after
/// today.
fn check_decision(
    f: &StandingFacts<'_>,
    d: &Decision,
    code: RuleCode,
    what: &str,
) -> Result<(), RuleViolation> {
    check_meeting(&d.meeting, f.policy.meeting_majority, code, what)?;
    let label = f
        .approver
        .as_ref()
        .map_or_else(|| d.approved_by.clone(), |o| o.label.clone());
    if f.approver.is_none() || !f.approver_above_branch {
        return refuse(
            code,
            format!("{what}: {label} is not a committee above the member's branch"),
        );
    }
    if d.approved_on < d.meeting.date {
        return refuse(
            code,
            format!(
                "{what}: approved on {} before the branch meeting of {}; the meeting decides first",
                d.approved_on, d.meeting.date
            ),
        );
    }
    let effective = f.step.date();
    if let Some(since) = f.state_since.filter(|s| effective < *s) {
        return refuse(
            code,
            format!(
                "{what}: effective on {effective}, before the member's standing `{}` began on {since}",
                f.state
            ),
        );
    }
    if effective < d.meeting.date {
        return refuse(
            code,
            format!(
                "{what}: effective on {effective}, before the branch meeting of {}",
                d.meeting.date
            ),
        );
    }
    if effective > f.today || d.approved_on > f.today {
        return refuse(
            code,
            format!(
                "{what}: dated {} after today ({})",
                effective.max(d.approved_on),
                f.today
            ),
        );
    }
    Ok(())
}

/// Runs the named standing guard. `Ok(())` when it passes (and for a guard that does not concern
/// the step). `legacy_age` and `person_unique` are checked by the engine's roster import (they need
/// the person register) and pass here.
///
/// # Errors
/// The guard's rule code with a message naming the facts that failed; `WF_NOT_ALLOWED` for a name
/// that is not a standing guard.
pub fn check_guard(name: &str, f: &StandingFacts<'_>) -> Result<(), RuleViolation> {
    let p = f.policy;
    match name {
        "legacy_age" | "person_unique" => Ok(()),
        "probation_decided" => {
            let StandingStep::PutOnProbation {
                date,
                months,
                decision,
                until,
                ..
            } = f.step
            else {
                return Ok(());
            };
            if !p.probation_months.contains(months) {
                return refuse(
                    RuleCode::StdProbation,
                    format!(
                        "probation lasts {} months, not {months}",
                        join_or(&p.probation_months)
                    ),
                );
            }
            if *until != add_months(*date, *months) {
                return refuse(
                    RuleCode::StdProbation,
                    format!(
                        "a probation of {months} months from {date} ends on {}, not {until}",
                        add_months(*date, *months)
                    ),
                );
            }
            check_decision(f, decision, RuleCode::StdProbation, "the probation")
        }
        "probation_elapsed" => {
            let Some(until) = f.data.probation_until else {
                return refuse(RuleCode::StdProbation, "no probation is recorded".into());
            };
            let date = f.step.date();
            if date < until {
                refuse(
                    RuleCode::StdProbation,
                    format!(
                        "probation runs until {until}; rights return on that day, not on {date}"
                    ),
                )
            } else if date > f.today {
                refuse(
                    RuleCode::StdProbation,
                    format!("dated {date}, after today ({})", f.today),
                )
            } else {
                Ok(())
            }
        }
        "expel_decided" => {
            let StandingStep::Expel { decision, .. } = f.step else {
                return Ok(());
            };
            let county = f
                .approver
                .as_ref()
                .is_some_and(|o| COUNTY_OR_ABOVE.contains(&o.kind.as_str()));
            if !county && !f.expel_authorised {
                let label = f
                    .approver
                    .as_ref()
                    .map_or_else(|| decision.approved_by.clone(), |o| o.label.clone());
                return refuse(
                    RuleCode::StdExpel,
                    format!(
                        "{label} is not a county-level committee (or a basic-level committee authorised by one); expulsion needs county-level approval"
                    ),
                );
            }
            check_decision(f, decision, RuleCode::StdExpel, "the expulsion")
        }
        "no_pending_appeal" => match f.data.appeals.iter().find(|a| a.decided.is_none()) {
            Some(a) => refuse(
                RuleCode::StdExpel,
                format!(
                    "the member's appeal of {} to {} is not decided; it may not be withheld",
                    a.lodged_on, a.to_org
                ),
            ),
            None => Ok(()),
        },
        "appeal_valid" => match f.step {
            StandingStep::RecordAppeal { date, .. } => {
                let expelled_on = match &f.data.ended {
                    Some((c, d)) if f.state == "expelled" && c == "expel" => Some(*d),
                    _ => None,
                };
                if let Some(e) = expelled_on.filter(|e| date < e) {
                    refuse(
                        RuleCode::StdExpel,
                        format!("an appeal against the expulsion of {e} is lodged after it, not on {date}"),
                    )
                } else if let Some(a) = f.data.appeals.iter().find(|a| a.decided.is_none()) {
                    refuse(
                        RuleCode::StdExpel,
                        format!("the appeal of {} is still pending", a.lodged_on),
                    )
                } else if *date > f.today {
                    refuse(
                        RuleCode::StdExpel,
                        format!("dated {date}, after today ({})", f.today),
                    )
                } else {
                    Ok(())
                }
            }
            StandingStep::DecideAppeal { date, .. } => {
                match f.data.appeals.iter().find(|a| a.decided.is_none()) {
                    None => refuse(RuleCode::StdExpel, "no appeal is pending".into()),
                    Some(a) if *date < a.lodged_on => refuse(
                        RuleCode::StdExpel,
                        format!(
                            "decided on {date}, before the appeal was lodged on {}",
                            a.lodged_on
                        ),
                    ),
                    Some(_) if *date > f.today => refuse(
                        RuleCode::StdExpel,
                        format!("dated {date}, after today ({})", f.today),
                    ),
                    Some(_) => Ok(()),
                }
            }
            StandingStep::Reinstate { date, back_to } => {
                let expelled_on = match &f.data.ended {
                    Some((c, d)) if c == "expel" => *d,
                    _ => return refuse(RuleCode::StdExpel, "the member was not expelled".into()),
                };
                match f.data.appeals.last() {
                    Some(Appeal {
                        lodged_on,
                        decided: Some((decided_on, _, true)),
                        ..
                    }) if *lodged_on >= expelled_on && decided_on == date => {
                        let want = f.data.reinstated_to();
                        if *back_to == want {
                            Ok(())
                        } else {
                            refuse(
                                RuleCode::StdExpel,
                                format!("an upheld appeal restores `{want}`, not `{back_to}`"),
                            )
                        }
                    }
                    _ => refuse(
                        RuleCode::StdExpel,
                        format!(
                            "membership is restored only by an appeal against the expulsion of {expelled_on} upheld on {date}"
                        ),
                    ),
                }
            }
            _ => Ok(()),
        },
        "age_out_due" => {
            let date = f.step.date();
            let birthday = birthday_at(f.birth, p.age_out_age);
            let due = f.data.age_out_on(f.birth, p.age_out_age);
            if date < birthday {
                let kept = match due {
                    None => "; a League post held then keeps them until the post ends".to_owned(),
                    Some(d) if d != birthday => {
                        format!("; a League post held then keeps them until {d}")
                    }
                    Some(_) => String::new(),
                };
                return refuse(
                    RuleCode::StdAgeOut,
                    format!(
                        "the member is {} on {date}; not due to age out until their {}th birthday, {birthday}{kept}",
                        age_on(f.birth, date),
                        p.age_out_age
                    ),
                );
            }
            match due {
                None => refuse(
                    RuleCode::StdAgeOut,
                    format!(
                        "the member reached {} on {birthday} but holds a League post with no end; a post holder is kept until the post ends",
                        p.age_out_age
                    ),
                ),
                Some(due) if due != date => refuse(
                    RuleCode::StdAgeOut,
                    if due == birthday {
                        format!("the age-out is effective on the {}th birthday, {due}, not {date}", p.age_out_age)
                    } else {
                        format!(
                            "the age-out is effective on {due}, when the League post held on the {}th birthday ({birthday}) ended, not {date}",
                            p.age_out_age
                        )
                    },
                ),
                Some(due) if due > f.today => refuse(
                    RuleCode::StdAgeOut,
                    format!("the age-out is effective on {due}, after today ({})", f.today),
                ),
                Some(_) => Ok(()),
            }
        }
        "withdraw_decided" => {
            let StandingStep::Withdraw {
                request_date,
                decision,
                ..
            } = f.step
            else {
                return Ok(());
            };
            if let Some(m) = f.data.membership_date.filter(|m| request_date < m) {
                return refuse(
                    RuleCode::StdWithdraw,
                    format!(
                        "the written request ({request_date}) is before the membership began ({m}); only a member can ask to withdraw"
                    ),
                );
            }
            if *request_date > decision.meeting.date {
                return refuse(
                    RuleCode::StdWithdraw,
                    format!(
                        "the written request ({request_date}) is after the branch meeting ({}); the request comes first",
                        decision.meeting.date
                    ),
                );
            }
            check_decision(f, decision, RuleCode::StdWithdraw, "the withdrawal")
        }
        "removal_decided" => {
            let StandingStep::Remove { decision, .. } = f.step else {
                return Ok(());
            };
            check_decision(f, decision, RuleCode::StdLapse, "the removal")
        }
        "lapse_grounds" => {
            let StandingStep::Remove {
                reason: RemovalReason::Lapse,
                decision,
                ..
            } = f.step
            else {
                return Ok(());
            };
            let on = decision.meeting.date;
            match f.data.lapse(p, on) {
                Some(_) => Ok(()),
                None => refuse(
                    RuleCode::StdLapse,
                    format!(
                        "on {on} the member has no run of {} consecutive months without dues{}",
                        p.lapse_months,
                        if p.lapse_counts_life {
                            " or organisational life"
                        } else {
                            ""
                        }
                    ),
                ),
            }
        }
        "unqualified_grounds" => {
            let StandingStep::Remove {
                reason: RemovalReason::Unqualified,
                decision,
                ..
            } = f.step
            else {
                return Ok(());
            };
            match f.advised_to_withdraw_on {
                None => refuse(
                    RuleCode::EvlUnqualified,
                    "the member was not advised to withdraw after a second unqualified grade; removal comes after that advice".into(),
                ),
                Some(advised) if advised > decision.meeting.date => refuse(
                    RuleCode::EvlUnqualified,
                    format!(
                        "the member was advised to withdraw on {advised}, after the branch meeting ({})",
                        decision.meeting.date
                    ),
                ),
                Some(_) => Ok(()),
            }
        }
        "lapse_elapsed" => {
            let StandingStep::FlagLapse { ground, since, .. } = f.step else {
                return Ok(());
            };
            match f.data.lapse(p, f.today) {
                Some((g, gap)) if g == *ground && gap.first == *since => {
                    if f.data
                        .lapse_flag
                        .is_some_and(|(_, g, s)| g == *ground && s == *since)
                    {
                        refuse(
                            RuleCode::StdLapse,
                            format!("the lapse since {since} is already flagged"),
                        )
                    } else {
                        Ok(())
                    }
                }
                _ => refuse(
                    RuleCode::StdLapse,
                    format!(
                        "no {}-month run without {} since {since} on {}",
                        p.lapse_months,
                        match ground {
                            LapseGround::Dues => "dues",
                            LapseGround::Life => "organisational life",
                        },
                        f.today
                    ),
                ),
            }
        }
        "recommendation_held" => {
            let StandingStep::Recommend {
                date,
                recommendation,
                valid_until,
            } = f.step
            else {
                return Ok(());
            };
            match &f.recommendation {
                Some(r) if r.id == *recommendation && r.state == "recommended" => {
                    if r.valid_until != Some(*valid_until) {
                        refuse(
                            RuleCode::PtyValidity,
                            format!(
                                "recommendation {} is valid until {}, not {valid_until}",
                                r.id,
                                r.valid_until.map_or("?".into(), |d| d.to_string())
                            ),
                        )
                    } else if *valid_until <= *date {
                        refuse(
                            RuleCode::PtyValidity,
                            format!("recommendation {} expired on {valid_until}", r.id),
                        )
                    } else {
                        Ok(())
                    }
                }
                Some(r) => refuse(
                    RuleCode::PtyValidity,
                    format!(
                        "recommendation {} is `{}`, not `recommended`",
                        r.id, r.state
                    ),
                ),
                None => refuse(
                    RuleCode::PtyValidity,
                    format!("no recommendation {recommendation} of this member"),
                ),
            }
        }
        "recommendation_over" => {
            let StandingStep::EndRecommendation { date, reason } = f.step else {
                return Ok(());
            };
            let Some((id, _, until)) = &f.data.recommendation else {
                return refuse(RuleCode::PtyValidity, "no recommendation is held".into());
            };
            match reason {
                RecommendationEnd::Expired if *date != *until => refuse(
                    RuleCode::PtyValidity,
                    format!("recommendation {id} is valid until {until}; it expires on that day, not on {date}"),
                ),
                RecommendationEnd::Declined
                    if f
                        .recommendation
                        .as_ref()
                        .is_none_or(|r| r.id != *id || r.state != "declined") =>
                {
                    refuse(
                        RuleCode::PtyValidity,
                        format!("recommendation {id} has not been declined by the Party"),
                    )
                }
                RecommendationEnd::Cancelled
                    if f
                        .recommendation
                        .as_ref()
                        .is_none_or(|r| r.id != *id || r.state != "cancelled") =>
                {
                    refuse(
                        RuleCode::PtyValidity,
                        format!("recommendation {id} has not been cancelled"),
                    )
                }
                _ if *date > f.today => refuse(
                    RuleCode::PtyValidity,
                    format!("dated {date}, after today ({})", f.today),
                ),
                _ => Ok(()),
            }
        }
        "dues_valid" => {
            let StandingStep::RecordDues {
                date,
                months,
                amount_fen,
                category,
            } = f.step
            else {
                return Ok(());
            };
            if months.is_empty() {
                return refuse(RuleCode::DueStudent, "no month is paid for".into());
            }
            let distinct: BTreeSet<YearMonth> = months.iter().copied().collect();
            if distinct.len() != months.len() {
                return refuse(RuleCode::DueStudent, "a month is listed twice".into());
            }
            if let Some(m) = months.iter().find(|m| f.data.dues_paid.contains(m)) {
                return refuse(RuleCode::DueStudent, format!("{m} is already paid"));
            }
            if let (Some(start), Some(first)) = (f.data.dues_start(), distinct.first()) {
                if *first < start {
                    return refuse(
                        RuleCode::DueStudent,
                        format!("dues are owed from {start} (the month of admission), not {first}"),
                    );
                }
            }
            let rate = match category {
                DuesCategory::Reduced => p.reduced_monthly_fen,
                DuesCategory::Salaried => p.salaried_monthly_fen,
            };
            let due = rate.saturating_mul(months.len() as u64);
            if *amount_fen < due {
                return refuse(
                    RuleCode::DueStudent,
                    format!(
                        "{} months at {} yuan are {} yuan; {} yuan paid",
                        months.len(),
                        dues::format_yuan(rate),
                        dues::format_yuan(due),
                        dues::format_yuan(*amount_fen)
                    ),
                );
            }
            let most = p.max_monthly_fen.saturating_mul(months.len() as u64);
            if *amount_fen > most {
                return refuse(
                    RuleCode::DueStudent,
                    format!(
                        "{} yuan for {} month(s) is more than {} yuan, the most accepted ({} yuan a month); check the amount",
                        dues::format_yuan(*amount_fen),
                        months.len(),
                        dues::format_yuan(most),
                        dues::format_yuan(p.max_monthly_fen)
                    ),
                );
            }
            if let (Some(out), Some(last)) =
                (f.data.age_out_on(f.birth, p.age_out_age), distinct.last())
            {
                let last_owed = YearMonth::of(out);
                if *last > last_owed {
                    return refuse(
                        RuleCode::DueStudent,
                        format!(
                            "dues are owed through {last_owed} (the member ages out on {out}), not {last}"
                        ),
                    );
                }
            }
            if *date > f.today {
                return refuse(
                    RuleCode::DueStudent,
                    format!("dated {date}, after today ({})", f.today),
                );
            }
            Ok(())
        }
        "post_valid" => match f.step {
            StandingStep::AssignPost { date, post, org } => {
                if f.data
                    .posts
                    .iter()
                    .any(|p| p.post == *post && p.org == *org && p.until.is_none())
                {
                    refuse(
                        RuleCode::StdAgeOut,
                        format!("the member already holds this post at {org}"),
                    )
                } else if *date > f.today {
                    refuse(
                        RuleCode::StdAgeOut,
                        format!("dated {date}, after today ({})", f.today),
                    )
                } else {
                    Ok(())
                }
            }
            StandingStep::EndPost { date, post, org } => {
                match f
                    .data
                    .posts
                    .iter()
                    .find(|p| p.post == *post && p.org == *org && p.until.is_none())
                {
                    None => refuse(
                        RuleCode::StdAgeOut,
                        format!("the member holds no such post at {org}"),
                    ),
                    Some(p) if *date <= p.from => refuse(
                        RuleCode::StdAgeOut,
                        format!(
                            "the post was taken on {}; it ends after that, not on {date}",
                            p.from
                        ),
                    ),
                    Some(_) if *date > f.today => refuse(
                        RuleCode::StdAgeOut,
                        format!("dated {date}, after today ({})", f.today),
                    ),
                    Some(_) => Ok(()),
                }
            }
            _ => Ok(()),
        },
        other => refuse(
            RuleCode::WfNotAllowed,
            format!("guard `{other}` is not a guard of the standing machine"),
        ),
    }
}

/// Runs the named standing flag: `Some(message)` when it is raised.
///
/// `over_age_post_holder`: on an assign/end post step, the member is at or past the age-out age on its
/// date (kept only by the post).
pub fn check_flag(name: &str, f: &StandingFacts<'_>) -> Option<String> {
    match name {
        "over_age_post_holder" => {
            let date = f.step.date();
            let age = age_on(f.birth, date);
            (age >= f.policy.age_out_age).then(|| {
                format!(
                    "the member is {age} on {date}: membership continues only while a League post is held"
                )
            })
        }
        _ => None,
    }
}

fn join_or(values: &[u32]) -> String {
    let v: Vec<String> = values.iter().map(ToString::to_string).collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        n => format!("{} or {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn ym(y: i32, m: u32) -> YearMonth {
        YearMonth::new(y, m).expect("valid test month")
    }

    fn policy() -> StandingPolicy {
        let def = crate::builtin()
            .latest("standing")
            .expect("shipped standing workflow");
        StandingPolicy::from_definition(def).expect("shipped policy")
    }

    fn county() -> OrgFact {
        OrgFact {
            label: "海淀区团委 (110108)".into(),
            code: "110108".into(),
            kind: "county".into(),
            school: false,
            mobile: false,
        }
    }

    fn school() -> OrgFact {
        OrgFact {
            label: "北京市第一中学团委 (S001)".into(),
            code: "S001".into(),
            kind: "basic_committee".into(),
            school: true,
            mobile: false,
        }
    }

    /// A member since 2024-09-10 (dues tracked from 2024-09).
    fn member() -> StandingData {
        let mut data = StandingData::default();
        data.apply(
            "new",
            &StandingStep::Open {
                date: d(2024, 9, 10),
                membership: Membership {
                    membership_date: d(2024, 9, 10),
                    number: Some("202411010001".into()),
                    probation_until: None,
                    dues_from: None,
                },
            },
        );
        data
    }

    /// 12 entitled, 9 present, 8 yes, 1 no.
    fn meeting(date: Date) -> BranchMeeting {
        BranchMeeting {
            date,
            entitled: 12,
            present: 9,
            yes: 8,
            no: 1,
            abstain: 0,
        }
    }

    fn decision(date: Date, by: &str) -> Decision {
        Decision {
            meeting: meeting(date),
            approved_by: by.into(),
            approved_on: date + chrono::Days::new(5),
        }
    }

    const BIRTH: (i32, u32, u32) = (2008, 3, 15);

    fn run(
        name: &str,
        data: &StandingData,
        state: &str,
        step: &StandingStep,
        approver: Option<OrgFact>,
    ) -> Result<(), RuleViolation> {
        let p = policy();
        let facts = StandingFacts {
            approver_above_branch: approver.is_some(),
            approver,
            ..StandingFacts::new(
                &p,
                data,
                state,
                step,
                "committee_admin",
                d(2026, 12, 31),
                d(BIRTH.0, BIRTH.1, BIRTH.2),
            )
        };
        check_guard(name, &facts)
    }

    #[test]
    fn standing_policy_from_shipped_file_gives_the_defaults() {
        assert_eq!(
            policy(),
            StandingPolicy {
                age_out_age: 28,
                probation_months: vec![6, 12],
                lapse_months: 6,
                lapse_counts_life: true,
                meeting_majority: MajorityBasis::Entitled,
                reduced_monthly_fen: 20,
                salaried_monthly_fen: 300,
                max_monthly_fen: 10000,
            }
        );
        let errors = with_policy("max_monthly_fen = 10000", "max_monthly_fen = 100")
            .expect_err("below the salaried rate");
        assert_eq!(
            errors[0].message,
            "[policy] max_monthly_fen = 100 is below a monthly fee (300 fen); it caps one month's dues"
        );
    }

    fn with_policy(replace: &str, by: &str) -> Result<Definition, Vec<LoadError>> {
        let text = include_str!("../../../workflows/standing.v1.toml");
        assert!(text.contains(replace), "{replace}");
        Definition::check("standing.v1.toml", &text.replacen(replace, by, 1))
    }

    #[test]
    fn std_age_out_is_a_floor_the_policy_cannot_raise() {
        let errors = with_policy("age_out_age = 28", "age_out_age = 30").expect_err("raised");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].rule, Some(RuleCode::StdAgeOut));
        assert_eq!(
            errors[0].to_string(),
            "standing.v1.toml:28: STD_AGE_OUT is a floor rule: age_out_age = 30 is above 28"
        );
    }

    #[test]
    fn standing_policy_errors_name_the_key_and_its_line() {
        let errors = with_policy("probation_months = [6, 12]", "probation_months = [6, 0]")
            .expect_err("bad months");
        assert_eq!(
            errors[0].to_string(),
            "standing.v1.toml:30: [policy] probation_months must list whole numbers of months from 1 to 120"
        );
        let errors = with_policy("lapse_months = 6", "lapse_months = 6\nlapse_weeks = 2")
            .expect_err("unknown key");
        assert_eq!(
            errors[0].message,
            "unknown [policy] key `lapse_weeks` for workflow `standing`"
        );
        let errors = with_policy(
            "meeting_majority = \"entitled\"",
            "meeting_majority = \"all\"",
        )
        .expect_err("bad basis");
        assert_eq!(
            errors[0].message,
            "[policy] meeting_majority must be \"entitled\" or \"present\", not \"all\""
        );
        let errors = with_policy("reduced_monthly_fen = 20", "reduced_monthly_fen = 0.2")
            .expect_err("a float");
        assert_eq!(
            errors[0].message,
            "[policy] `reduced_monthly_fen` must be a whole number, found `reduced_monthly_fen = 0.2`"
        );
    }

    #[test]
    fn meeting_accepts_a_quorum_and_a_majority_of_the_entitled() {
        let m = meeting(d(2026, 5, 4));
        assert_eq!(
            check_meeting(&m, MajorityBasis::Entitled, RuleCode::StdExpel, "x"),
            Ok(())
        );
    }

    #[test]
    fn meeting_refuses_without_quorum_majority_or_matching_ballot() {
        let base = meeting(d(2026, 5, 4));
        let check = |m: BranchMeeting, basis| {
            check_meeting(&m, basis, RuleCode::PtyMeeting, "the vote")
                .expect_err("refused")
                .message
        };
        assert_eq!(
            check(
                BranchMeeting {
                    present: 6,
                    yes: 6,
                    no: 0,
                    ..base
                },
                MajorityBasis::Entitled
            ),
            "the vote: 6 of 12 entitled members present; more than half are required"
        );
        // 7 present, 6 yes: > half of present, not > half of the 12 entitled.
        let m = BranchMeeting {
            present: 7,
            yes: 6,
            no: 1,
            ..base
        };
        assert_eq!(
            check(m, MajorityBasis::Entitled),
            "the vote: 6 yes votes of 12 entitled members; more than half are required"
        );
        assert_eq!(
            check_meeting(&m, MajorityBasis::Present, RuleCode::PtyMeeting, "the vote"),
            Ok(())
        );
        assert_eq!(
            check(BranchMeeting { abstain: 1, ..base }, MajorityBasis::Entitled),
            "the vote: the secret ballot counts 8 yes + 1 no + 1 abstaining = 10, not the 9 present"
        );
        assert_eq!(
            check(
                BranchMeeting {
                    present: 13,
                    yes: 13,
                    no: 0,
                    ..base
                },
                MajorityBasis::Entitled
            ),
            "the vote: 13 present, but only 12 members are entitled to vote"
        );
    }

    #[test]
    fn std_age_out_is_effective_on_the_28th_birthday() {
        let data = member();
        let birth = d(1998, 7, 1);
        assert_eq!(data.age_out_on(birth, 28), Some(d(2026, 7, 1)));
        let p = policy();
        let step = StandingStep::AgeOut {
            date: d(2026, 7, 1),
        };
        let f = StandingFacts::new(
            &p,
            &data,
            "member",
            &step,
            "system_admin",
            d(2026, 11, 2),
            birth,
        );
        assert_eq!(check_guard("age_out_due", &f), Ok(()));
    }

    #[test]
    fn std_age_out_refuses_a_27_year_old_and_a_wrong_date() {
        let data = member();
        let birth = d(1998, 7, 1);
        let p = policy();
        let early = StandingStep::AgeOut {
            date: d(2026, 6, 30),
        };
        let f = StandingFacts::new(
            &p,
            &data,
            "member",
            &early,
            "system_admin",
            d(2026, 7, 2),
            birth,
        );
        let err = check_guard("age_out_due", &f).expect_err("27");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::StdAgeOut,
                "the member is 27 on 2026-06-30; not due to age out until their 28th birthday, 2026-07-01"
            )
        );
        let late = StandingStep::AgeOut {
            date: d(2026, 11, 2),
        };
        let f = StandingFacts::new(
            &p,
            &data,
            "member",
            &late,
            "system_admin",
            d(2026, 11, 2),
            birth,
        );
        assert_eq!(
            check_guard("age_out_due", &f).expect_err("late").message,
            "the age-out is effective on the 28th birthday, 2026-07-01, not 2026-11-02"
        );
    }

    #[test]
    fn std_age_out_leap_day_birth_is_effective_on_29_february_or_1_march() {
        let data = member();
        // 2000-02-29 reaches 28 on 2028-02-29 (a leap year); 2072-02-29 on 2100-03-01.
        assert_eq!(data.age_out_on(d(2000, 2, 29), 28), Some(d(2028, 2, 29)));
        assert_eq!(data.age_out_on(d(2072, 2, 29), 28), Some(d(2100, 3, 1)));
        // With an age-out age of 27 (a lower policy), a 29 February birth leaves on 1 March 2027.
        assert_eq!(data.age_out_on(d(2000, 2, 29), 27), Some(d(2027, 3, 1)));
    }

    #[test]
    fn std_age_out_a_post_holder_stays_until_the_post_ends() {
        let mut data = member();
        let birth = d(1998, 7, 1);
        data.apply(
            "member",
            &StandingStep::AssignPost {
                date: d(2025, 9, 1),
                post: PostKind::Secretary,
                org: "S001-B1".into(),
            },
        );
        assert_eq!(data.age_out_on(birth, 28), None, "an open post");
        let p = policy();
        let step = StandingStep::AgeOut {
            date: d(2026, 7, 1),
        };
        let f = StandingFacts::new(
            &p,
            &data,
            "member",
            &step,
            "system_admin",
            d(2026, 8, 1),
            birth,
        );
        assert_eq!(
            check_guard("age_out_due", &f).expect_err("post").message,
            "the member reached 28 on 2026-07-01 but holds a League post with no end; a post holder is kept until the post ends"
        );
        // Before the birthday, the refusal names the birthday (not a date the member "reached 28").
        let early = StandingStep::AgeOut {
            date: d(2026, 6, 1),
        };
        let f = StandingFacts::new(
            &p,
            &data,
            "member",
            &early,
            "system_admin",
            d(2026, 8, 1),
            birth,
        );
        assert_eq!(
            check_guard("age_out_due", &f).expect_err("early").message,
            "the member is 27 on 2026-06-01; not due to age out until their 28th birthday, 2026-07-01; a League post held then keeps them until the post ends"
        );
        data.apply(
            "member",
            &StandingStep::EndPost {
                date: d(2026, 9, 1),
                post: PostKind::Secretary,
                org: "S001-B1".into(),
            },
        );
        assert_eq!(data.age_out_on(birth, 28), Some(d(2026, 9, 1)));
        // A post that ended before the birthday does not delay it.
        let mut earlier = member();
        earlier.posts.push(Post {
            post: PostKind::CommitteeMember,
            org: "S001-B1".into(),
            from: d(2025, 1, 1),
            until: Some(d(2026, 7, 1)),
        });
        assert_eq!(earlier.age_out_on(birth, 28), Some(d(2026, 7, 1)));
    }

    #[test]
    fn std_age_out_sweep_run_months_late_records_the_birthday() {
        let data = member();
        let birth = d(1998, 7, 1);
        let p = policy();
        let steps = data.due_steps("party_member", birth, &p, d(2027, 1, 15));
        assert_eq!(
            steps,
            vec![StandingStep::AgeOut {
                date: d(2026, 7, 1)
            }]
        );
        assert_eq!(
            data.due_steps("aged_out", birth, &p, d(2027, 1, 15)),
            vec![]
        );
        assert_eq!(
            data.due_steps("member", birth, &p, d(2026, 6, 30))
                .iter()
                .filter(|s| matches!(s, StandingStep::AgeOut { .. }))
                .count(),
            0
        );
    }

    #[test]
    fn std_probation_sweep_restores_then_ages_out_in_date_order() {
        let mut data = member();
        let birth = d(1998, 7, 1);
        let p = policy();
        data.apply(
            "member",
            &StandingStep::PutOnProbation {
                date: d(2025, 12, 1),
                months: 6,
                decision: decision(d(2025, 11, 20), "S001"),
                reason: "违纪".into(),
                until: d(2026, 6, 1),
            },
        );
        // Pay every month so no lapse is flagged.
        data.dues_paid = (0..30).map(|i| ym(2024, 9).plus(i)).collect();
        data.life_months = data.dues_paid.clone();
        let steps = data.due_steps("on_probation", birth, &p, d(2026, 8, 1));
        assert_eq!(
            steps,
            vec![
                StandingStep::EndProbation {
                    date: d(2026, 6, 1),
                    back_to: "member".into()
                },
                StandingStep::AgeOut {
                    date: d(2026, 7, 1)
                }
            ]
        );
    }

    #[test]
    fn std_probation_accepts_six_months_approved_above_the_branch() {
        let step = StandingStep::PutOnProbation {
            date: d(2026, 5, 10),
            months: 6,
            decision: decision(d(2026, 5, 4), "S001"),
            reason: "违纪".into(),
            until: d(2026, 11, 10),
        };
        assert_eq!(
            run(
                "probation_decided",
                &member(),
                "member",
                &step,
                Some(school())
            ),
            Ok(())
        );
    }

    #[test]
    fn std_probation_refuses_nine_months_and_an_approval_by_nobody_above() {
        let step = |months: u32| StandingStep::PutOnProbation {
            date: d(2026, 5, 10),
            months,
            decision: decision(d(2026, 5, 4), "S001"),
            reason: "违纪".into(),
            until: add_months(d(2026, 5, 10), months),
        };
        let err = run(
            "probation_decided",
            &member(),
            "member",
            &step(9),
            Some(school()),
        )
        .expect_err("9 months");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::StdProbation,
                "probation lasts 6 or 12 months, not 9"
            )
        );
        let err = run("probation_decided", &member(), "member", &step(12), None)
            .expect_err("no approver");
        assert_eq!(
            err.message,
            "the probation: S001 is not a committee above the member's branch"
        );
    }

    #[test]
    fn std_probation_end_refused_before_expiry_and_back_to_the_earlier_state() {
        let mut data = member();
        data.apply(
            "recommended_for_party",
            &StandingStep::PutOnProbation {
                date: d(2026, 1, 10),
                months: 6,
                decision: decision(d(2026, 1, 4), "S001"),
                reason: "违纪".into(),
                until: d(2026, 7, 10),
            },
        );
        let early = StandingStep::EndProbation {
            date: d(2026, 7, 9),
            back_to: "member".into(),
        };
        let err = run("probation_elapsed", &data, "on_probation", &early, None).expect_err("early");
        assert_eq!(
            err.message,
            "probation runs until 2026-07-10; rights return on that day, not on 2026-07-09"
        );
        let on_time = StandingStep::EndProbation {
            date: d(2026, 7, 10),
            back_to: "member".into(),
        };
        assert_eq!(
            run("probation_elapsed", &data, "on_probation", &on_time, None),
            Ok(())
        );
        // Probation began while recommended, but no recommendation is held: back to member.
        assert_eq!(data.back_to(d(2026, 7, 10)), "member");
        data.recommendation = Some(("r1".into(), d(2025, 12, 1), d(2027, 12, 1)));
        assert_eq!(data.back_to(d(2026, 7, 10)), "recommended_for_party");
        data.party = Some((d(2026, 3, 1), "某党支部".into()));
        assert_eq!(data.back_to(d(2026, 7, 10)), "party_member");
    }

    fn expel() -> StandingStep {
        StandingStep::Expel {
            date: d(2026, 6, 1),
            decision: decision(d(2026, 5, 20), "110108"),
            reason: "严重违纪".into(),
        }
    }

    #[test]
    fn std_expel_accepts_county_level_approval() {
        assert_eq!(
            run(
                "expel_decided",
                &member(),
                "on_probation",
                &expel(),
                Some(county())
            ),
            Ok(())
        );
    }

    #[test]
    fn std_expel_refuses_a_basic_level_committee_unless_authorised() {
        let err = run(
            "expel_decided",
            &member(),
            "on_probation",
            &expel(),
            Some(school()),
        )
        .expect_err("school committee");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::StdExpel,
                "北京市第一中学团委 (S001) is not a county-level committee (or a basic-level committee authorised by one); expulsion needs county-level approval"
            )
        );
        let p = policy();
        let data = member();
        let step = expel();
        let f = StandingFacts {
            approver: Some(school()),
            approver_above_branch: true,
            expel_authorised: true,
            ..StandingFacts::new(
                &p,
                &data,
                "member",
                &step,
                "committee_admin",
                d(2026, 12, 31),
                d(2008, 3, 15),
            )
        };
        assert_eq!(check_guard("expel_decided", &f), Ok(()));
    }

    #[test]
    fn std_expel_refuses_while_an_appeal_is_pending() {
        let mut data = member();
        data.apply(
            "member",
            &StandingStep::RecordAppeal {
                date: d(2026, 5, 25),
                to_org: "110108".into(),
                summary: "不服处分".into(),
            },
        );
        let err = run(
            "no_pending_appeal",
            &data,
            "member",
            &expel(),
            Some(county()),
        )
        .expect_err("pending");
        assert_eq!(
            err.message,
            "the member's appeal of 2026-05-25 to 110108 is not decided; it may not be withheld"
        );
        let decide = StandingStep::DecideAppeal {
            date: d(2026, 5, 30),
            org: "110108".into(),
            upheld: false,
        };
        assert_eq!(
            run("appeal_valid", &data, "member", &decide, Some(county())),
            Ok(())
        );
        data.apply("member", &decide);
        assert_eq!(
            run(
                "no_pending_appeal",
                &data,
                "member",
                &expel(),
                Some(county())
            ),
            Ok(())
        );
        assert_eq!(
            run("appeal_valid", &data, "member", &decide, Some(county()))
                .expect_err("none pending")
                .message,
            "no appeal is pending"
        );
    }

    #[test]
    fn std_withdraw_accepts_request_meeting_and_record_in_order() {
        let step = StandingStep::Withdraw {
            date: d(2026, 4, 20),
            request_date: d(2026, 4, 1),
            decision: decision(d(2026, 4, 20), "S001"),
        };
        assert_eq!(
            run(
                "withdraw_decided",
                &member(),
                "member",
                &step,
                Some(school())
            ),
            Ok(())
        );
    }

    #[test]
    fn std_withdraw_refuses_a_request_before_the_membership_and_a_decision_before_the_state() {
        // Member since 2024-09-10: a request of 2024-08-01 is not a member's.
        let step = StandingStep::Withdraw {
            date: d(2026, 4, 20),
            request_date: d(2024, 8, 1),
            decision: decision(d(2026, 4, 20), "S001"),
        };
        let err = run(
            "withdraw_decided",
            &member(),
            "member",
            &step,
            Some(school()),
        )
        .expect_err("request before the membership");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::StdWithdraw,
                "the written request (2024-08-01) is before the membership began (2024-09-10); only a member can ask to withdraw"
            )
        );
        // In `party_member` since 2026-05-01: a withdrawal effective on 2026-04-25 is before it.
        let step = StandingStep::Withdraw {
            date: d(2026, 4, 25),
            request_date: d(2026, 4, 1),
            decision: decision(d(2026, 4, 20), "S001"),
        };
        let p = policy();
        let data = member();
        let facts = StandingFacts {
            approver_above_branch: true,
            approver: Some(school()),
            state_since: Some(d(2026, 5, 1)),
            ..StandingFacts::new(
                &p,
                &data,
                "party_member",
                &step,
                "committee_admin",
                d(2026, 12, 31),
                d(BIRTH.0, BIRTH.1, BIRTH.2),
            )
        };
        let err = check_guard("withdraw_decided", &facts).expect_err("before the state");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::StdWithdraw,
                "the withdrawal: effective on 2026-04-25, before the member's standing `party_member` began on 2026-05-01"
            )
        );
    }

    #[test]
    fn std_withdraw_refuses_a_request_after_the_meeting_and_a_thin_meeting() {
        let step = StandingStep::Withdraw {
            date: d(2026, 4, 20),
            request_date: d(2026, 4, 21),
            decision: decision(d(2026, 4, 20), "S001"),
        };
        let err = run(
            "withdraw_decided",
            &member(),
            "member",
            &step,
            Some(school()),
        )
        .expect_err("order");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::StdWithdraw,
                "the written request (2026-04-21) is after the branch meeting (2026-04-20); the request comes first"
            )
        );
        let mut thin = decision(d(2026, 4, 20), "S001");
        thin.meeting.present = 5;
        thin.meeting.yes = 5;
        thin.meeting.no = 0;
        let step = StandingStep::Withdraw {
            date: d(2026, 4, 20),
            request_date: d(2026, 4, 1),
            decision: thin,
        };
        assert_eq!(
            run(
                "withdraw_decided",
                &member(),
                "member",
                &step,
                Some(school())
            )
            .expect_err("quorum")
            .message,
            "the withdrawal: 5 of 12 entitled members present; more than half are required"
        );
    }

    fn remove(reason: RemovalReason, meeting_on: Date) -> StandingStep {
        StandingStep::Remove {
            date: meeting_on + chrono::Days::new(5),
            reason,
            decision: decision(meeting_on, "S001"),
        }
    }

    #[test]
    fn std_lapse_accepts_removal_after_six_months_without_dues() {
        let mut data = member();
        data.dues_paid = (0..6).map(|i| ym(2024, 9).plus(i)).collect(); // 2024-09 .. 2025-02
        data.life_months = (0..20).map(|i| ym(2024, 9).plus(i)).collect();
        // Unpaid 2025-03 .. 2025-08: six months, reached on 2025-09-01.
        let step = remove(RemovalReason::Lapse, d(2025, 9, 1));
        assert_eq!(
            run("lapse_grounds", &data, "member", &step, Some(school())),
            Ok(())
        );
        assert_eq!(
            run("removal_decided", &data, "member", &step, Some(school())),
            Ok(())
        );
    }

    #[test]
    fn std_lapse_refuses_removal_after_five_months() {
        let mut data = member();
        data.dues_paid = (0..6).map(|i| ym(2024, 9).plus(i)).collect();
        data.life_months = (0..20).map(|i| ym(2024, 9).plus(i)).collect();
        let step = remove(RemovalReason::Lapse, d(2025, 8, 31));
        let err =
            run("lapse_grounds", &data, "member", &step, Some(school())).expect_err("5 months");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::StdLapse,
                "on 2025-08-31 the member has no run of 6 consecutive months without dues or organisational life"
            )
        );
    }

    #[test]
    fn std_lapse_months_without_organisational_life_count_too() {
        let mut data = member();
        data.dues_paid = (0..20).map(|i| ym(2024, 9).plus(i)).collect();
        data.life_months = [ym(2024, 10)].into_iter().collect();
        let p = policy();
        let (ground, gap) = data.lapse(&p, d(2025, 5, 1)).expect("lapse");
        assert_eq!(
            (ground, gap.first, gap.months),
            (LapseGround::Life, ym(2024, 11), 6)
        );
        let no_life = StandingPolicy {
            lapse_counts_life: false,
            ..p
        };
        assert_eq!(data.lapse(&no_life, d(2025, 5, 1)), None);
    }

    #[test]
    fn std_lapse_sweep_flags_once_per_run() {
        let mut data = member();
        data.life_months = (0..30).map(|i| ym(2024, 9).plus(i)).collect();
        let p = policy();
        let birth = d(2008, 3, 15);
        let steps = data.due_steps("member", birth, &p, d(2025, 4, 10));
        let flag = StandingStep::FlagLapse {
            date: d(2025, 3, 1),
            ground: LapseGround::Dues,
            since: ym(2024, 9),
        };
        assert_eq!(steps, vec![flag.clone()]);
        let f = StandingFacts::new(
            &p,
            &data,
            "member",
            &flag,
            "system_admin",
            d(2025, 4, 10),
            birth,
        );
        assert_eq!(check_guard("lapse_elapsed", &f), Ok(()));
        data.apply("member", &flag);
        assert_eq!(data.due_steps("member", birth, &p, d(2025, 6, 10)), vec![]);
        let f = StandingFacts::new(
            &p,
            &data,
            "member",
            &flag,
            "system_admin",
            d(2025, 4, 10),
            birth,
        );
        assert_eq!(
            check_guard("lapse_elapsed", &f).expect_err("again").message,
            "the lapse since 2024-09 is already flagged"
        );
        // Before six months: no flag.
        assert_eq!(
            member().due_steps("member", birth, &p, d(2025, 2, 28)),
            vec![]
        );
    }

    #[test]
    fn evl_unqualified_removal_needs_the_advice_to_withdraw() {
        let step = remove(RemovalReason::Unqualified, d(2026, 9, 1));
        let err = run(
            "unqualified_grounds",
            &member(),
            "member",
            &step,
            Some(school()),
        )
        .expect_err("no advice");
        assert_eq!(err.code, RuleCode::EvlUnqualified);
        let p = policy();
        let data = member();
        let f = StandingFacts {
            approver: Some(school()),
            approver_above_branch: true,
            advised_to_withdraw_on: Some(d(2026, 8, 1)),
            ..StandingFacts::new(
                &p,
                &data,
                "member",
                &step,
                "committee_admin",
                d(2026, 12, 31),
                d(2008, 3, 15),
            )
        };
        assert_eq!(check_guard("unqualified_grounds", &f), Ok(()));
        // The lapse guard ignores an unqualified removal and vice versa.
        assert_eq!(check_guard("lapse_grounds", &f), Ok(()));
    }

    fn dues(months: &[YearMonth], fen: u64) -> StandingStep {
        StandingStep::RecordDues {
            date: d(2025, 1, 5),
            months: months.to_vec(),
            amount_fen: fen,
            category: DuesCategory::Reduced,
        }
    }

    #[test]
    fn due_student_accepts_20_fen_a_month_from_the_month_of_admission() {
        let months: Vec<YearMonth> = (0..4).map(|i| ym(2024, 9).plus(i)).collect();
        assert_eq!(
            run("dues_valid", &member(), "member", &dues(&months, 80), None),
            Ok(())
        );
        let mut data = member();
        data.apply("member", &dues(&months, 80));
        assert_eq!((data.dues_paid.len(), data.dues_paid_fen), (4, 80));
    }

    #[test]
    fn due_student_refuses_short_payment_repeated_and_early_months() {
        let months: Vec<YearMonth> = (0..4).map(|i| ym(2024, 9).plus(i)).collect();
        let err =
            run("dues_valid", &member(), "member", &dues(&months, 79), None).expect_err("short");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::DueStudent,
                "4 months at 0.20 yuan are 0.80 yuan; 0.79 yuan paid"
            )
        );
        let err = run(
            "dues_valid",
            &member(),
            "member",
            &dues(&[ym(2024, 8)], 20),
            None,
        )
        .expect_err("before admission");
        assert_eq!(
            err.message,
            "dues are owed from 2024-09 (the month of admission), not 2024-08"
        );
        let mut data = member();
        data.apply("member", &dues(&months, 80));
        assert_eq!(
            run(
                "dues_valid",
                &data,
                "member",
                &dues(&[ym(2024, 10)], 20),
                None
            )
            .expect_err("paid")
            .message,
            "2024-10 is already paid"
        );
    }

    #[test]
    fn due_student_refuses_an_implausible_amount_and_months_after_the_age_out() {
        let err = run(
            "dues_valid",
            &member(),
            "member",
            &dues(&[ym(2024, 9)], 10_001),
            None,
        )
        .expect_err("implausible");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::DueStudent,
                "100.01 yuan for 1 month(s) is more than 100.00 yuan, the most accepted (100.00 yuan a month); check the amount"
            )
        );
        assert_eq!(
            run(
                "dues_valid",
                &member(),
                "member",
                &dues(&[ym(2024, 9)], 10_000),
                None
            ),
            Ok(())
        );
        // Born 2008-03-15: 28 on 2036-03-15; dues are owed through March 2036.
        let err = run(
            "dues_valid",
            &member(),
            "member",
            &dues(&[ym(2036, 3), ym(2036, 4)], 40),
            None,
        )
        .expect_err("after the age-out");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::DueStudent,
                "dues are owed through 2036-03 (the member ages out on 2036-03-15), not 2036-04"
            )
        );
        assert_eq!(
            run(
                "dues_valid",
                &member(),
                "member",
                &dues(&[ym(2036, 3)], 20),
                None
            ),
            Ok(())
        );
    }

    #[test]
    fn due_student_arrears_exact_fen() {
        let mut data = member();
        let p = policy();
        // Admitted 2024-09-10; paid 2024-09 .. 2024-12; on 2025-06-15 owes 2025-01 .. 2025-05.
        data.apply(
            "member",
            &dues(&(0..4).map(|i| ym(2024, 9).plus(i)).collect::<Vec<_>>(), 80),
        );
        let a = data.arrears(&p, d(2025, 6, 15));
        assert_eq!(
            a.months,
            vec![
                ym(2025, 1),
                ym(2025, 2),
                ym(2025, 3),
                ym(2025, 4),
                ym(2025, 5)
            ]
        );
        assert_eq!(a.amount_fen, 100);
        // A Party member from 2025-03-20 owes nothing from March on.
        data.apply(
            "member",
            &StandingStep::JoinParty {
                date: d(2025, 3, 20),
                party_org: "某党支部".into(),
            },
        );
        assert_eq!(data.arrears(&p, d(2025, 6, 15)).amount_fen, 40);
        // A salaried member at 3 yuan a month.
        let mut salaried = member();
        salaried.dues_category = DuesCategory::Salaried;
        assert_eq!(salaried.arrears(&p, d(2025, 1, 1)).amount_fen, 4 * 300);
    }

    #[test]
    fn import_payload_without_a_command_tag_reads_as_a_step() {
        let payload = serde_json::json!({
            "membership": {"membership_date": "2015-05-04", "number": null, "probation_until": "2026-11-01"}
        });
        let step = StandingStep::from_log("import_probation", &payload).expect("legacy payload");
        let mut data: StandingData = serde_json::from_value(serde_json::json!({
            "membership_date": "2015-05-04", "number": null, "probation_until": "2026-11-01"
        }))
        .expect("legacy instance data");
        data.apply("member", &step);
        assert_eq!(data.probation_until, Some(d(2026, 11, 1)));
        assert_eq!(data.return_to.as_deref(), Some("member"));
        assert_eq!(data.dues_start(), Some(ym(2015, 5)));
        let json = serde_json::to_value(&step).expect("serialise");
        assert_eq!(json["command"], "import_probation");
    }

    #[test]
    fn recommend_enters_only_with_a_recommended_instance() {
        let step = StandingStep::Recommend {
            date: d(2026, 6, 1),
            recommendation: "r1".into(),
            valid_until: d(2028, 6, 1),
        };
        let p = policy();
        let data = member();
        let mut f = StandingFacts::new(
            &p,
            &data,
            "member",
            &step,
            "system_admin",
            d(2026, 6, 1),
            d(2004, 1, 1),
        );
        assert_eq!(
            check_guard("recommendation_held", &f)
                .expect_err("none")
                .code,
            RuleCode::PtyValidity
        );
        f.recommendation = Some(RecommendationFact {
            id: "r1".into(),
            state: "recommended".into(),
            valid_until: Some(d(2028, 6, 1)),
        });
        assert_eq!(check_guard("recommendation_held", &f), Ok(()));
        let mut held = member();
        held.apply("member", &step);
        let expire = StandingStep::EndRecommendation {
            date: d(2028, 6, 1),
            reason: RecommendationEnd::Expired,
        };
        let f = StandingFacts::new(
            &p,
            &held,
            "recommended_for_party",
            &expire,
            "system_admin",
            d(2028, 6, 2),
            d(2004, 1, 1),
        );
        assert_eq!(check_guard("recommendation_over", &f), Ok(()));
        assert_eq!(
            held.due_steps("recommended_for_party", d(2004, 1, 1), &p, d(2028, 6, 2))
                .first()
                .cloned(),
            Some(expire)
        );
    }

    #[test]
    fn unknown_guard_is_not_allowed() {
        let step = StandingStep::AgeOut {
            date: d(2026, 1, 1),
        };
        assert_eq!(
            run("sponsors_valid", &member(), "member", &step, None)
                .expect_err("unknown")
                .code,
            RuleCode::WfNotAllowed
        );
    }
}
