//! The annual evaluation machine (团员教育评议, `workflows/evaluation.v1.toml`): one instance per branch
//! and year. The branch records a round (attendance and every member's grade), the superior committee
//! approves it, and unqualified members are re-evaluated 3–6 months later; one still unqualified is
//! advised to withdraw (劝退), and removal follows in the standing machine if they refuse.
//!
//! Rules: DOMAIN.md "Evaluation and dues (§7, §8)" (EVL_GRADES, EVL_UNQUALIFIED), sources in
//! DOMAIN-SOURCES.md §8 and §2 (《中国共产主义青年团基层组织“三会两制一课”实施细则（试行）》
//! 中青发〔2017〕5号, Arts. 32–36). Dates are calendar dates in China Standard Time.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tuanji_domain::{add_months, Date, RuleCode, RuleViolation};
use uuid::Uuid;

use crate::definition::Definition;
use crate::error::LoadError;
use crate::relation::OrgFact;
use crate::standing::{first_error, refuse, PolicyReader};

/// The most a policy may allow to be graded excellent, in percent of those evaluated (EVL_GRADES, a
/// floor: it cannot be raised).
pub const EXCELLENT_CAP_CEILING: u32 = 30;

/// The least attendance a policy may require, as a fraction `(numerator, denominator)` of the
/// branch's members: more than 2/3 (EVL_GRADES, a floor: it cannot be lowered).
pub const ATTENDANCE_FLOOR: (u32, u32) = (2, 3);

/// An annual evaluation grade (评议等次). Ordered from best to worst: `Excellent < Qualified <
/// BasicallyQualified < Unqualified` in `Ord`; use [`Grade::at_least`] to compare by merit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 优秀: at most 30 % of those evaluated.
    Excellent,
    /// 合格.
    Qualified,
    /// 基本合格: a talk with the branch secretary follows.
    BasicallyQualified,
    /// 不合格: re-evaluated after 3–6 months (EVL_UNQUALIFIED).
    Unqualified,
}

impl Grade {
    /// Every grade, best first.
    pub const ALL: &'static [Grade] = &[
        Grade::Excellent,
        Grade::Qualified,
        Grade::BasicallyQualified,
        Grade::Unqualified,
    ];

    /// `excellent`, `qualified`, `basically_qualified` or `unqualified`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Excellent => "excellent",
            Grade::Qualified => "qualified",
            Grade::BasicallyQualified => "basically_qualified",
            Grade::Unqualified => "unqualified",
        }
    }

    /// The Chinese name: 优秀, 合格, 基本合格, 不合格.
    pub fn chinese(self) -> &'static str {
        match self {
            Grade::Excellent => "优秀",
            Grade::Qualified => "合格",
            Grade::BasicallyQualified => "基本合格",
            Grade::Unqualified => "不合格",
        }
    }

    /// Whether this grade is `minimum` or better.
    pub fn at_least(self, minimum: Grade) -> bool {
        self <= minimum
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Grade {
    type Err = tuanji_domain::UnknownName;

    /// Parses `excellent`, `qualified`, `basically_qualified` or `unqualified`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Grade::ALL
            .iter()
            .copied()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| tuanji_domain::UnknownName {
                what: "grade",
                value: s.chars().take(64).collect(),
            })
    }
}

/// The numbers the evaluation guards read, from `[policy]` of `evaluation.v1.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationPolicy {
    /// EVL_GRADES: most excellent grades in percent of those evaluated; 30, at most
    /// [`EXCELLENT_CAP_CEILING`].
    pub excellent_cap_percent: u32,
    /// EVL_GRADES: attendance must be above this fraction of the branch's members, `(2, 3)`; at least
    /// [`ATTENDANCE_FLOOR`]. Written `"2/3"` in the file.
    pub attendance_above: (u32, u32),
    /// EVL_UNQUALIFIED: least months from the approval of the round to a re-evaluation; 3.
    pub reevaluation_min_months: u32,
    /// EVL_UNQUALIFIED: months after which a re-evaluation is flagged overdue; 6.
    pub reevaluation_max_months: u32,
}

/// Every key of an evaluation `[policy]`.
pub const EVALUATION_POLICY_KEYS: &[&str] = &[
    "excellent_cap_percent",
    "attendance_above",
    "reevaluation_min_months",
    "reevaluation_max_months",
];

impl EvaluationPolicy {
    /// The typed `[policy]` of an evaluation definition.
    ///
    /// # Errors
    /// The first (by line) [`LoadError`] of [`EvaluationPolicy::check`].
    pub fn from_definition(def: &Definition) -> Result<Self, LoadError> {
        EvaluationPolicy::check(def).map_err(|e| first_error(def, e))
    }

    /// The typed `[policy]`, or every problem with it, each on the line of its key: an unknown key; a
    /// missing or wrong-typed key; `excellent_cap_percent` of 0 or above 30 (floor EVL_GRADES);
    /// `attendance_above` not a fraction `"n/d"` with `0 < n < d`, or below 2/3 (floor EVL_GRADES);
    /// `reevaluation_min_months` of 0 or above `reevaluation_max_months`.
    ///
    /// # Errors
    /// Every [`LoadError`], sorted by line.
    pub fn check(def: &Definition) -> Result<Self, Vec<LoadError>> {
        let mut r = PolicyReader::new(def, EVALUATION_POLICY_KEYS);
        let cap = r.u32_at_least("excellent_cap_percent", 1);
        if cap > EXCELLENT_CAP_CEILING {
            r.floor(
                "excellent_cap_percent",
                RuleCode::EvlGrades,
                &format!("excellent_cap_percent = {cap} is above {EXCELLENT_CAP_CEILING}"),
            );
        }
        let attendance_above = match def.policy_str("attendance_above") {
            Ok(text) => match parse_fraction(text) {
                Some((n, d)) => {
                    let (fn_, fd) = ATTENDANCE_FLOOR;
                    if u64::from(n) * u64::from(fd) < u64::from(fn_) * u64::from(d) {
                        r.floor(
                            "attendance_above",
                            RuleCode::EvlGrades,
                            &format!("attendance_above = \"{text}\" is below {fn_}/{fd}"),
                        );
                    }
                    (n, d)
                }
                None => {
                    r.error(
                        "attendance_above",
                        format!("[policy] attendance_above must be a fraction such as \"2/3\", not \"{text}\""),
                    );
                    ATTENDANCE_FLOOR
                }
            },
            Err(e) => {
                r.errors.push(e);
                ATTENDANCE_FLOOR
            }
        };
        let min = r.u32_at_least("reevaluation_min_months", 1);
        let max = r.u32_at_least("reevaluation_max_months", 1);
        if r.has_int("reevaluation_min_months") && r.has_int("reevaluation_max_months") && min > max
        {
            r.error(
                "reevaluation_max_months",
                format!("[policy] reevaluation_max_months = {max} is below reevaluation_min_months = {min}"),
            );
        }
        r.finish(EvaluationPolicy {
            excellent_cap_percent: cap,
            attendance_above,
            reevaluation_min_months: min,
            reevaluation_max_months: max,
        })
    }
}

/// `"n/d"` with `0 < n < d`.
fn parse_fraction(s: &str) -> Option<(u32, u32)> {
    let (n, d) = s.split_once('/')?;
    let n: u32 = n.trim().parse().ok()?;
    let d: u32 = d.trim().parse().ok()?;
    (n > 0 && n < d).then_some((n, d))
}

/// One member's grade in a round, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberGrade {
    /// The member's person id.
    pub person_id: Uuid,
    /// The grade the branch proposed and the superior approved.
    pub grade: Grade,
}

/// A round as the branch records it: the meeting's attendance and every member's grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// The evaluation year.
    pub year: i32,
    /// Members of the branch on the meeting date.
    pub members: u32,
    /// Members present.
    pub present: u32,
    /// Grades, one per evaluated member.
    pub grades: Vec<MemberGrade>,
}

/// One recorded step of the evaluation machine: the payload of a log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum EvaluationStep {
    /// The branch's round recorded (评议大会).
    Record {
        /// Meeting date.
        date: Date,
        /// The branch (code).
        branch: String,
        /// Attendance and grades.
        round: Round,
    },
    /// The round corrected before approval (replaces attendance and grades).
    Amend {
        /// Meeting date.
        date: Date,
        /// Attendance and grades.
        round: Round,
    },
    /// The superior committee approved the grades (上级团委审批).
    Approve {
        /// Approval date.
        date: Date,
        /// The approving committee (code).
        org: String,
    },
    /// An unqualified member re-evaluated (EVL_UNQUALIFIED).
    Reevaluate {
        /// Date.
        date: Date,
        /// The member.
        person_id: Uuid,
        /// The new grade.
        grade: Grade,
    },
    /// A member still unqualified advised to withdraw (劝退).
    AdviseWithdrawal {
        /// Date.
        date: Date,
        /// The member.
        person_id: Uuid,
    },
    /// Every unqualified member re-evaluated and, if still unqualified, advised.
    Close {
        /// Date.
        date: Date,
    },
}

impl EvaluationStep {
    /// The effective date.
    pub fn date(&self) -> Date {
        match self {
            EvaluationStep::Record { date, .. }
            | EvaluationStep::Amend { date, .. }
            | EvaluationStep::Approve { date, .. }
            | EvaluationStep::Reevaluate { date, .. }
            | EvaluationStep::AdviseWithdrawal { date, .. }
            | EvaluationStep::Close { date } => *date,
        }
    }

    /// The workflow command name.
    pub fn command(&self) -> &'static str {
        match self {
            EvaluationStep::Record { .. } => "record",
            EvaluationStep::Amend { .. } => "amend",
            EvaluationStep::Approve { .. } => "approve",
            EvaluationStep::Reevaluate { .. } => "reevaluate",
            EvaluationStep::AdviseWithdrawal { .. } => "advise_withdrawal",
            EvaluationStep::Close { .. } => "close",
        }
    }
}

/// One member's result in the instance data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graded {
    /// The member.
    pub person_id: Uuid,
    /// The round's grade.
    pub grade: Grade,
    /// The re-evaluation: date and grade.
    pub reevaluation: Option<(Date, Grade)>,
    /// The date the member was advised to withdraw.
    pub advised_on: Option<Date>,
}

impl Graded {
    /// The grade that stands: the re-evaluation's if any, else the round's.
    pub fn current(&self) -> Grade {
        self.reevaluation.map_or(self.grade, |(_, g)| g)
    }
}

/// The data of one evaluation instance (a branch's round for a year), rebuilt by replaying the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvaluationData {
    /// The branch (code).
    pub branch: String,
    /// The evaluation year.
    pub year: i32,
    /// Meeting date.
    pub meeting_date: Option<Date>,
    /// Members of the branch on the meeting date.
    pub members: u32,
    /// Members present.
    pub present: u32,
    /// Every evaluated member.
    pub grades: Vec<Graded>,
    /// Approval: date and committee.
    pub approved: Option<(Date, String)>,
    /// Date closed.
    pub closed_on: Option<Date>,
}

impl EvaluationData {
    /// Applies a recorded step (taken in state `_from`; the evaluation steps do not depend on it).
    pub fn apply(&mut self, _from: &str, step: &EvaluationStep) {
        match step {
            EvaluationStep::Record {
                date,
                branch,
                round,
            } => {
                self.branch.clone_from(branch);
                self.set_round(*date, round);
            }
            EvaluationStep::Amend { date, round } => self.set_round(*date, round),
            EvaluationStep::Approve { date, org } => self.approved = Some((*date, org.clone())),
            EvaluationStep::Reevaluate {
                date,
                person_id,
                grade,
            } => {
                if let Some(g) = self.grades.iter_mut().find(|g| g.person_id == *person_id) {
                    g.reevaluation = Some((*date, *grade));
                }
            }
            EvaluationStep::AdviseWithdrawal { date, person_id } => {
                if let Some(g) = self.grades.iter_mut().find(|g| g.person_id == *person_id) {
                    g.advised_on = Some(*date);
                }
            }
            EvaluationStep::Close { date } => self.closed_on = Some(*date),
        }
    }

    fn set_round(&mut self, date: Date, round: &Round) {
        self.meeting_date = Some(date);
        self.year = round.year;
        self.members = round.members;
        self.present = round.present;
        self.grades = round
            .grades
            .iter()
            .map(|g| Graded {
                person_id: g.person_id,
                grade: g.grade,
                reevaluation: None,
                advised_on: None,
            })
            .collect();
    }

    /// A member's result.
    pub fn of(&self, person_id: Uuid) -> Option<&Graded> {
        self.grades.iter().find(|g| g.person_id == person_id)
    }

    /// The grade that stands for a member once the round is approved (the re-evaluation's if any);
    /// `None` before approval or for a member not evaluated. This is the "last grade" the Party
    /// recommendation guard reads.
    pub fn grade_of(&self, person_id: Uuid) -> Option<Grade> {
        self.approved.as_ref()?;
        self.of(person_id).map(Graded::current)
    }

    /// The date a member was advised to withdraw (EVL_UNQUALIFIED), for the standing machine's removal.
    pub fn advised_on(&self, person_id: Uuid) -> Option<Date> {
        self.of(person_id).and_then(|g| g.advised_on)
    }

    /// Members still waiting: graded unqualified and not re-evaluated, or re-evaluated unqualified and
    /// not advised.
    pub fn pending(&self) -> Vec<Uuid> {
        self.grades
            .iter()
            .filter(|g| {
                g.grade == Grade::Unqualified
                    && (g.reevaluation.is_none()
                        || (g.current() == Grade::Unqualified && g.advised_on.is_none()))
            })
            .map(|g| g.person_id)
            .collect()
    }
}

/// Everything an evaluation guard may look at, gathered by the engine before the guards run.
#[derive(Debug, Clone)]
pub struct EvaluationFacts<'a> {
    /// Policy of the instance's workflow version.
    pub policy: &'a EvaluationPolicy,
    /// Instance data before the step.
    pub data: &'a EvaluationData,
    /// State before the step.
    pub state: &'a str,
    /// The step.
    pub step: &'a EvaluationStep,
    /// The role the command is issued in.
    pub role: &'a str,
    /// Today: no date may be after it.
    pub today: Date,
    /// The members of the branch in good standing on the meeting date, each with their membership date
    /// (团籍 start), for `record`, `amend` and `approve`: membership started on or before the date, the
    /// organisation relation (组织关系) held by the branch, and no end of membership (超龄离团 `aged_out`,
    /// `withdrawn`, `removed`, `expelled`, `deceased`) effective on or before the date. Members on probation
    /// (留团察看) are members: they attend and are evaluated (三会两制一课 Art. 32 names probation as a ground
    /// for an unqualified grade).
    pub branch_members: BTreeMap<Uuid, Date>,
    /// The approving organisation, for `approve`.
    pub approver: Option<OrgFact>,
    /// Whether `approver` is above the branch (covers it and is not the branch itself).
    pub approver_above_branch: bool,
}

impl<'a> EvaluationFacts<'a> {
    /// Facts with no branch members and no approver.
    pub fn new(
        policy: &'a EvaluationPolicy,
        data: &'a EvaluationData,
        state: &'a str,
        step: &'a EvaluationStep,
        role: &'a str,
        today: Date,
    ) -> Self {
        EvaluationFacts {
            policy,
            data,
            state,
            step,
            role,
            today,
            branch_members: BTreeMap::new(),
            approver: None,
            approver_above_branch: false,
        }
    }
}

/// Runs the named evaluation guard. `Ok(())` when it passes (and for a guard that does not concern
/// the step).
///
/// # Errors
/// The guard's rule code with a message naming the facts that failed; `WF_NOT_ALLOWED` for a name
/// that is not an evaluation guard.
pub fn check_guard(name: &str, f: &EvaluationFacts<'_>) -> Result<(), RuleViolation> {
    let p = f.policy;
    let round = match f.step {
        EvaluationStep::Record { round, .. } | EvaluationStep::Amend { round, .. } => Some(round),
        _ => None,
    };
    match name {
        "attendance" => {
            let Some(r) = round else { return Ok(()) };
            let (n, d) = p.attendance_above;
            if r.present > r.members {
                refuse(
                    RuleCode::EvlGrades,
                    format!(
                        "{} present, but the branch has {} members",
                        r.present, r.members
                    ),
                )
            } else if u64::from(r.present) * u64::from(d) <= u64::from(r.members) * u64::from(n) {
                refuse(
                    RuleCode::EvlGrades,
                    format!(
                        "{} of {} members present; more than {n}/{d} are required",
                        r.present, r.members
                    ),
                )
            } else {
                Ok(())
            }
        }
        "excellent_cap" => {
            let Some(r) = round else { return Ok(()) };
            let evaluated = r.grades.len() as u64;
            let excellent = r
                .grades
                .iter()
                .filter(|g| g.grade == Grade::Excellent)
                .count() as u64;
            let cap = u64::from(p.excellent_cap_percent);
            if excellent * 100 > evaluated * cap {
                refuse(
                    RuleCode::EvlGrades,
                    format!(
                        "{excellent} of {evaluated} evaluated graded excellent; at most {cap} % ({}) may be",
                        evaluated * cap / 100
                    ),
                )
            } else {
                Ok(())
            }
        }
        "graded_members" => match f.step {
            EvaluationStep::Record { date, round, .. } | EvaluationStep::Amend { date, round } => {
                check_round(f, *date, round)
            }
            EvaluationStep::Approve { .. } => {
                let Some(date) = f.data.meeting_date else {
                    return refuse(RuleCode::EvlGrades, "the round has no meeting".into());
                };
                let graded: Vec<Uuid> = f.data.grades.iter().map(|g| g.person_id).collect();
                check_roll(f, f.data.year, date, &graded)
            }
            _ => Ok(()),
        },
        "approval_authority" => {
            let EvaluationStep::Approve { date, org } = f.step else {
                return Ok(());
            };
            let label = f
                .approver
                .as_ref()
                .map_or(org.as_str(), |o| o.label.as_str());
            if f.approver.is_none() || !f.approver_above_branch {
                return refuse(
                    RuleCode::EvlGrades,
                    format!(
                        "{label} is not a committee above the branch {}",
                        f.data.branch
                    ),
                );
            }
            match f.data.meeting_date {
                Some(m) if *date < m => refuse(
                    RuleCode::EvlGrades,
                    format!("approved on {date}, before the meeting of {m}"),
                ),
                _ if *date > f.today => refuse(
                    RuleCode::EvlGrades,
                    format!("dated {date}, after today ({})", f.today),
                ),
                _ => Ok(()),
            }
        }
        "reevaluation_due" => {
            let EvaluationStep::Reevaluate {
                date, person_id, ..
            } = f.step
            else {
                return Ok(());
            };
            let Some((approved, _)) = &f.data.approved else {
                return refuse(RuleCode::EvlUnqualified, "the round is not approved".into());
            };
            match f.data.of(*person_id) {
                Some(g) if g.grade != Grade::Unqualified => refuse(
                    RuleCode::EvlUnqualified,
                    format!("{person_id} was graded {}, not unqualified", g.grade),
                ),
                Some(g) if g.reevaluation.is_some() => refuse(
                    RuleCode::EvlUnqualified,
                    format!("{person_id} is already re-evaluated"),
                ),
                Some(_) => {
                    let earliest = add_months(*approved, p.reevaluation_min_months);
                    if *date < earliest {
                        refuse(
                            RuleCode::EvlUnqualified,
                            format!(
                                "re-evaluation comes at least {} months after the approval of {approved}: from {earliest}, not {date}",
                                p.reevaluation_min_months
                            ),
                        )
                    } else if *date > f.today {
                        refuse(
                            RuleCode::EvlUnqualified,
                            format!("dated {date}, after today ({})", f.today),
                        )
                    } else {
                        Ok(())
                    }
                }
                None => refuse(
                    RuleCode::EvlUnqualified,
                    format!("{person_id} was not evaluated in this round"),
                ),
            }
        }
        "advice_due" => {
            let EvaluationStep::AdviseWithdrawal { date, person_id } = f.step else {
                return Ok(());
            };
            match f.data.of(*person_id) {
                Some(g) => match (g.reevaluation, g.advised_on) {
                    (_, Some(on)) => refuse(
                        RuleCode::EvlUnqualified,
                        format!("{person_id} was already advised to withdraw on {on}"),
                    ),
                    (Some((on, Grade::Unqualified)), None) if *date >= on && *date <= f.today => {
                        Ok(())
                    }
                    (Some((on, Grade::Unqualified)), None) => refuse(
                        RuleCode::EvlUnqualified,
                        format!("advice dated {date} must be after the re-evaluation of {on} and not after today ({})", f.today),
                    ),
                    (Some((_, grade)), None) => refuse(
                        RuleCode::EvlUnqualified,
                        format!("{person_id} was re-evaluated {grade}; only a member still unqualified is advised to withdraw"),
                    ),
                    (None, None) => refuse(
                        RuleCode::EvlUnqualified,
                        format!("{person_id} has not been re-evaluated; advice follows a second unqualified grade"),
                    ),
                },
                None => refuse(
                    RuleCode::EvlUnqualified,
                    format!("{person_id} was not evaluated in this round"),
                ),
            }
        }
        "all_resolved" => {
            let pending = f.data.pending();
            if pending.is_empty() {
                Ok(())
            } else {
                let ids: Vec<String> = pending.iter().map(ToString::to_string).collect();
                refuse(
                    RuleCode::EvlUnqualified,
                    format!(
                        "{} unqualified member(s) still to be re-evaluated or advised: {}",
                        ids.len(),
                        ids.join(", ")
                    ),
                )
            }
        }
        other => refuse(
            RuleCode::WfNotAllowed,
            format!("guard `{other}` is not a guard of the evaluation machine"),
        ),
    }
}

/// Most members a refusal names; the rest are counted.
const NAMED_AT_MOST: usize = 5;

/// `graded_members` for `record` and `amend` (EVL_GRADES), in this order: a year after the current year or
/// after the meeting's year; an empty round; each grade in turn (a member graded twice, named with both
/// entries, 1-based; a person who is not a member of the branch in good standing on the meeting date); then
/// the roll as a whole ([`check_roll`]); the member count; a date after today.
fn check_round(f: &EvaluationFacts<'_>, date: Date, r: &Round) -> Result<(), RuleViolation> {
    let this_year = chrono::Datelike::year(&f.today);
    if r.year > this_year {
        return refuse(
            RuleCode::EvlGrades,
            format!(
                "the round for {} is after the current year ({this_year})",
                r.year
            ),
        );
    }
    if r.year > chrono::Datelike::year(&date) {
        return refuse(
            RuleCode::EvlGrades,
            format!("the round for {} cannot meet on {date}", r.year),
        );
    }
    if r.grades.is_empty() {
        return refuse(RuleCode::EvlGrades, "no member is graded".into());
    }
    let mut seen: BTreeMap<Uuid, usize> = BTreeMap::new();
    for (i, g) in r.grades.iter().enumerate() {
        if let Some(first) = seen.insert(g.person_id, i + 1) {
            return refuse(
                RuleCode::EvlGrades,
                format!(
                    "{} is graded twice (entries {first} and {})",
                    g.person_id,
                    i + 1
                ),
            );
        }
        if !f.branch_members.contains_key(&g.person_id) {
            return refuse(
                RuleCode::EvlGrades,
                format!("{} is not a member of the branch on {date}", g.person_id),
            );
        }
    }
    let graded: Vec<Uuid> = r.grades.iter().map(|g| g.person_id).collect();
    check_roll(f, r.year, date, &graded)?;
    if r.members as usize != f.branch_members.len() {
        return refuse(
            RuleCode::EvlGrades,
            format!(
                "the round counts {} members; the branch has {} on {date}",
                r.members,
                f.branch_members.len()
            ),
        );
    }
    if date > f.today {
        return refuse(
            RuleCode::EvlGrades,
            format!("dated {date}, after today ({})", f.today),
        );
    }
    Ok(())
}

/// The roll of a round for `year` that met on `date` (EVL_GRADES, 三会两制一课 Arts. 32–33: every member
/// is evaluated): each graded person is a member of the branch in good standing on `date`; at least one
/// was a member by 31 December of `year` (a round for a year before anyone joined is refused); and every
/// member in good standing on `date` whose membership started by 31 December of `year` is graded
/// (members who joined after the year may be graded, and need not be). Missing members are named, oldest
/// membership first, at most five.
fn check_roll(
    f: &EvaluationFacts<'_>,
    year: i32,
    date: Date,
    graded: &[Uuid],
) -> Result<(), RuleViolation> {
    if let Some(p) = graded.iter().find(|p| !f.branch_members.contains_key(p)) {
        return refuse(
            RuleCode::EvlGrades,
            format!("{p} is not a member of the branch on {date}"),
        );
    }
    let Some(year_end) = Date::from_ymd_opt(year, 12, 31) else {
        return refuse(RuleCode::EvlGrades, format!("{year} is not a year"));
    };
    if !graded.is_empty()
        && graded.iter().all(|p| {
            f.branch_members
                .get(p)
                .is_some_and(|since| *since > year_end)
        })
    {
        let earliest = graded
            .iter()
            .filter_map(|p| f.branch_members.get(p))
            .min()
            .copied()
            .unwrap_or(year_end);
        return refuse(
            RuleCode::EvlGrades,
            format!(
                "no graded member was a member in {year}: the earliest membership starts on {earliest}, after {year_end}"
            ),
        );
    }
    let graded: BTreeSet<&Uuid> = graded.iter().collect();
    let mut missing: Vec<(Date, Uuid)> = f
        .branch_members
        .iter()
        .filter(|(p, since)| **since <= year_end && !graded.contains(p))
        .map(|(p, since)| (*since, *p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort();
    let required = f
        .branch_members
        .values()
        .filter(|since| **since <= year_end)
        .count();
    let mut named: Vec<String> = missing
        .iter()
        .take(NAMED_AT_MOST)
        .map(|(_, p)| p.to_string())
        .collect();
    if missing.len() > NAMED_AT_MOST {
        named.push(format!("{} more", missing.len() - NAMED_AT_MOST));
    }
    refuse(
        RuleCode::EvlGrades,
        format!(
            "{} of the {required} members of the branch in good standing on {date} (members by {year_end}) {} not graded: {}",
            missing.len(),
            if missing.len() == 1 { "is" } else { "are" },
            named.join(", ")
        ),
    )
}

/// Runs the named evaluation flag: `Some(message)` when it is raised.
///
/// `reevaluation_overdue`: a re-evaluation later than `reevaluation_max_months` after the approval.
pub fn check_flag(name: &str, f: &EvaluationFacts<'_>) -> Option<String> {
    match (name, f.step, &f.data.approved) {
        ("reevaluation_overdue", EvaluationStep::Reevaluate { date, .. }, Some((approved, _))) => {
            let latest = add_months(*approved, f.policy.reevaluation_max_months);
            (*date > latest).then(|| {
                format!(
                    "re-evaluated on {date}, after {latest} ({} months from the approval)",
                    f.policy.reevaluation_max_months
                )
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn policy() -> EvaluationPolicy {
        let def = crate::builtin()
            .latest("evaluation")
            .expect("shipped evaluation workflow");
        EvaluationPolicy::from_definition(def).expect("shipped policy")
    }

    /// A branch of 10 members: `excellent` graded excellent, member 10 unqualified, the rest qualified.
    fn round(present: u32, excellent: u128) -> Round {
        Round {
            year: 2025,
            members: 10,
            present,
            grades: (1..=10)
                .map(|n| MemberGrade {
                    person_id: id(n),
                    grade: if n <= excellent {
                        Grade::Excellent
                    } else if n == 10 {
                        Grade::Unqualified
                    } else {
                        Grade::Qualified
                    },
                })
                .collect(),
        }
    }

    fn record(r: Round) -> EvaluationStep {
        EvaluationStep::Record {
            date: d(2025, 12, 20),
            branch: "S001-B1".into(),
            round: r,
        }
    }

    fn check(
        name: &str,
        data: &EvaluationData,
        step: &EvaluationStep,
    ) -> Result<(), RuleViolation> {
        let p = policy();
        let f = EvaluationFacts {
            branch_members: (1..=10).map(|n| (id(n), d(2022, 5, 4))).collect(),
            ..EvaluationFacts::new(
                &p,
                data,
                "recorded",
                step,
                "branch_secretary",
                d(2026, 12, 31),
            )
        };
        check_guard(name, &f)
    }

    /// The 2025 round, approved on 2026-01-10.
    fn approved() -> EvaluationData {
        let mut data = EvaluationData::default();
        data.apply("new", &record(round(8, 3)));
        data.apply(
            "recorded",
            &EvaluationStep::Approve {
                date: d(2026, 1, 10),
                org: "S001".into(),
            },
        );
        data
    }

    #[test]
    fn evaluation_policy_from_shipped_file_gives_the_defaults() {
        assert_eq!(
            policy(),
            EvaluationPolicy {
                excellent_cap_percent: 30,
                attendance_above: (2, 3),
                reevaluation_min_months: 3,
                reevaluation_max_months: 6,
            }
        );
    }

    #[test]
    fn evl_grades_floors_refuse_a_looser_policy() {
        let text = include_str!("../../../workflows/evaluation.v1.toml");
        let errors = Definition::check(
            "evaluation.v1.toml",
            &text.replacen(
                "excellent_cap_percent = 30",
                "excellent_cap_percent = 40",
                1,
            ),
        )
        .expect_err("cap raised");
        assert_eq!(
            (errors[0].rule, errors[0].message.as_str()),
            (
                Some(RuleCode::EvlGrades),
                "EVL_GRADES is a floor rule: excellent_cap_percent = 40 is above 30"
            )
        );
        let errors = Definition::check(
            "evaluation.v1.toml",
            &text.replacen(
                "attendance_above = \"2/3\"",
                "attendance_above = \"1/2\"",
                1,
            ),
        )
        .expect_err("attendance lowered");
        assert_eq!(
            errors[0].message,
            "EVL_GRADES is a floor rule: attendance_above = \"1/2\" is below 2/3"
        );
        let errors = Definition::check(
            "evaluation.v1.toml",
            &text.replacen(
                "attendance_above = \"2/3\"",
                "attendance_above = \"two thirds\"",
                1,
            ),
        )
        .expect_err("not a fraction");
        assert_eq!(
            errors[0].message,
            "[policy] attendance_above must be a fraction such as \"2/3\", not \"two thirds\""
        );
        let errors = Definition::check(
            "evaluation.v1.toml",
            &text.replacen(
                "reevaluation_min_months = 3",
                "reevaluation_min_months = 7",
                1,
            ),
        )
        .expect_err("min above max");
        assert_eq!(
            errors[0].message,
            "[policy] reevaluation_max_months = 6 is below reevaluation_min_months = 7"
        );
        // Stricter: 3/4 attendance, 20 % excellent.
        let stricter = text
            .replacen(
                "attendance_above = \"2/3\"",
                "attendance_above = \"3/4\"",
                1,
            )
            .replacen(
                "excellent_cap_percent = 30",
                "excellent_cap_percent = 20",
                1,
            );
        assert!(Definition::check("evaluation.v1.toml", &stricter).is_ok());
    }

    #[test]
    fn evl_grades_accepts_seven_of_ten_present_and_three_excellent() {
        let step = record(round(7, 3));
        for g in ["attendance", "excellent_cap", "graded_members"] {
            assert_eq!(check(g, &EvaluationData::default(), &step), Ok(()), "{g}");
        }
    }

    #[test]
    fn evl_grades_refuses_two_thirds_attendance_exactly() {
        // 6 of 9 is exactly 2/3: not more than 2/3.
        let mut r = round(6, 2);
        r.members = 9;
        r.grades.truncate(9);
        let err = check("attendance", &EvaluationData::default(), &record(r)).expect_err("2/3");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::EvlGrades,
                "6 of 9 members present; more than 2/3 are required"
            )
        );
    }

    #[test]
    fn evl_grades_refuses_four_excellent_of_ten() {
        let err = check(
            "excellent_cap",
            &EvaluationData::default(),
            &record(round(8, 4)),
        )
        .expect_err("40 %");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::EvlGrades,
                "4 of 10 evaluated graded excellent; at most 30 % (3) may be"
            )
        );
    }

    #[test]
    fn evl_grades_refuses_a_stranger_and_a_double_grade() {
        let mut r = round(8, 1);
        r.grades[0].person_id = id(99);
        assert_eq!(
            check("graded_members", &EvaluationData::default(), &record(r))
                .expect_err("stranger")
                .message,
            format!("{} is not a member of the branch on 2025-12-20", id(99))
        );
        let mut r = round(8, 1);
        r.grades[1].person_id = id(1);
        assert_eq!(
            check("graded_members", &EvaluationData::default(), &record(r))
                .expect_err("twice")
                .message,
            format!("{} is graded twice (entries 1 and 2)", id(1))
        );
    }

    #[test]
    fn evl_grades_refuses_a_round_that_leaves_members_out() {
        let mut r = round(8, 1);
        r.grades.retain(|g| g.person_id != id(4));
        assert_eq!(
            check("graded_members", &EvaluationData::default(), &record(r))
                .expect_err("member 4 left out")
                .message,
            format!(
                "1 of the 10 members of the branch in good standing on 2025-12-20 (members by 2025-12-31) is not graded: {}",
                id(4)
            )
        );
        let mut r = round(8, 1);
        r.grades.truncate(2);
        assert_eq!(
            check("graded_members", &EvaluationData::default(), &record(r))
                .expect_err("8 left out")
                .message,
            format!(
                "8 of the 10 members of the branch in good standing on 2025-12-20 (members by 2025-12-31) are not graded: {}, {}, {}, {}, {}, 3 more",
                id(3),
                id(4),
                id(5),
                id(6),
                id(7)
            )
        );
        // Approval checks the roll again.
        let mut data = EvaluationData::default();
        let mut r = round(8, 1);
        r.grades.pop();
        data.apply("new", &record(r));
        let approve = EvaluationStep::Approve {
            date: d(2026, 1, 10),
            org: "S001".into(),
        };
        assert_eq!(
            check("graded_members", &data, &approve)
                .expect_err("member 10 left out")
                .message,
            format!(
                "1 of the 10 members of the branch in good standing on 2025-12-20 (members by 2025-12-31) is not graded: {}",
                id(10)
            )
        );
    }

    #[test]
    fn evl_grades_members_who_joined_after_the_year_are_not_required() {
        let p = policy();
        let mut r = round(8, 1);
        r.grades.truncate(9);
        let step = record(r);
        let data = EvaluationData::default();
        let mut f = EvaluationFacts {
            branch_members: (1..=10).map(|n| (id(n), d(2022, 5, 4))).collect(),
            ..EvaluationFacts::new(&p, &data, "new", &step, "branch_secretary", d(2026, 11, 30))
        };
        f.branch_members.insert(id(10), d(2026, 1, 5));
        assert_eq!(check_guard("graded_members", &f), Ok(()));
        // A year before anyone joined.
        let mut r = round(8, 1);
        r.year = 2020;
        let step = record(r);
        let f = EvaluationFacts {
            branch_members: (1..=10).map(|n| (id(n), d(2022, 5, 4))).collect(),
            ..EvaluationFacts::new(&p, &data, "new", &step, "branch_secretary", d(2026, 11, 30))
        };
        assert_eq!(
            check_guard("graded_members", &f)
                .expect_err("2020")
                .message,
            "no graded member was a member in 2020: the earliest membership starts on 2022-05-04, after 2020-12-31"
        );
        // A year after the current year.
        let mut r = round(8, 1);
        r.year = 2027;
        let step = record(r);
        let f = EvaluationFacts::new(&p, &data, "new", &step, "branch_secretary", d(2026, 11, 30));
        let err = check_guard("graded_members", &f).expect_err("2027");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::EvlGrades,
                "the round for 2027 is after the current year (2026)"
            )
        );
    }

    #[test]
    fn evl_grades_approval_by_a_committee_above_the_branch() {
        let mut data = EvaluationData::default();
        data.apply("new", &record(round(8, 3)));
        let step = EvaluationStep::Approve {
            date: d(2026, 1, 10),
            org: "S001".into(),
        };
        assert_eq!(
            check("approval_authority", &data, &step)
                .expect_err("no approver")
                .message,
            "S001 is not a committee above the branch S001-B1"
        );
        let p = policy();
        let f = EvaluationFacts {
            approver: Some(OrgFact {
                label: "北京市第一中学团委 (S001)".into(),
                code: "S001".into(),
                kind: "basic_committee".into(),
                school: true,
                mobile: false,
            }),
            approver_above_branch: true,
            ..EvaluationFacts::new(
                &p,
                &data,
                "recorded",
                &step,
                "committee_admin",
                d(2026, 1, 10),
            )
        };
        assert_eq!(check_guard("approval_authority", &f), Ok(()));
        assert_eq!(data.grade_of(id(1)), None, "not approved yet");
        data.apply("recorded", &step);
        assert_eq!(data.grade_of(id(1)), Some(Grade::Excellent));
        assert_eq!(data.grade_of(id(5)), Some(Grade::Qualified));
    }

    #[test]
    fn evl_unqualified_reevaluation_from_three_months_after_approval() {
        let data = approved();
        let early = EvaluationStep::Reevaluate {
            date: d(2026, 4, 9),
            person_id: id(10),
            grade: Grade::Qualified,
        };
        let err = check("reevaluation_due", &data, &early).expect_err("early");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::EvlUnqualified,
                "re-evaluation comes at least 3 months after the approval of 2026-01-10: from 2026-04-10, not 2026-04-09"
            )
        );
        let on_time = EvaluationStep::Reevaluate {
            date: d(2026, 4, 10),
            person_id: id(10),
            grade: Grade::Qualified,
        };
        assert_eq!(check("reevaluation_due", &data, &on_time), Ok(()));
        let qualified = EvaluationStep::Reevaluate {
            date: d(2026, 4, 10),
            person_id: id(5),
            grade: Grade::Qualified,
        };
        assert_eq!(
            check("reevaluation_due", &data, &qualified)
                .expect_err("qualified")
                .message,
            format!("{} was graded qualified, not unqualified", id(5))
        );
        // Late is flagged, not refused.
        let p = policy();
        let late = EvaluationStep::Reevaluate {
            date: d(2026, 7, 11),
            person_id: id(10),
            grade: Grade::Unqualified,
        };
        let f = EvaluationFacts::new(
            &p,
            &data,
            "approved",
            &late,
            "branch_secretary",
            d(2026, 8, 1),
        );
        assert_eq!(check_guard("reevaluation_due", &f), Ok(()));
        assert_eq!(
            check_flag("reevaluation_overdue", &f).as_deref(),
            Some("re-evaluated on 2026-07-11, after 2026-07-10 (6 months from the approval)")
        );
        let f = EvaluationFacts::new(
            &p,
            &data,
            "approved",
            &on_time,
            "branch_secretary",
            d(2026, 8, 1),
        );
        assert_eq!(check_flag("reevaluation_overdue", &f), None);
    }

    #[test]
    fn evl_unqualified_still_unqualified_is_advised_then_the_round_closes() {
        let mut data = approved();
        let close = EvaluationStep::Close {
            date: d(2026, 8, 1),
        };
        assert_eq!(
            check("all_resolved", &data, &close)
                .expect_err("pending")
                .message,
            format!(
                "1 unqualified member(s) still to be re-evaluated or advised: {}",
                id(10)
            )
        );
        let advise = EvaluationStep::AdviseWithdrawal {
            date: d(2026, 5, 1),
            person_id: id(10),
        };
        assert_eq!(
            check("advice_due", &data, &advise)
                .expect_err("not re-evaluated")
                .code,
            RuleCode::EvlUnqualified
        );
        data.apply(
            "approved",
            &EvaluationStep::Reevaluate {
                date: d(2026, 4, 20),
                person_id: id(10),
                grade: Grade::Unqualified,
            },
        );
        assert_eq!(check("advice_due", &data, &advise), Ok(()));
        data.apply("approved", &advise);
        assert_eq!(data.advised_on(id(10)), Some(d(2026, 5, 1)));
        assert_eq!(data.grade_of(id(10)), Some(Grade::Unqualified));
        assert_eq!(check("all_resolved", &data, &close), Ok(()));
        // Improved on re-evaluation: no advice.
        let mut improved = approved();
        improved.apply(
            "approved",
            &EvaluationStep::Reevaluate {
                date: d(2026, 4, 20),
                person_id: id(10),
                grade: Grade::BasicallyQualified,
            },
        );
        assert_eq!(
            check("advice_due", &improved, &advise).expect_err("improved").message,
            format!("{} was re-evaluated basically_qualified; only a member still unqualified is advised to withdraw", id(10))
        );
        assert_eq!(improved.pending(), Vec::<Uuid>::new());
        assert_eq!(improved.grade_of(id(10)), Some(Grade::BasicallyQualified));
    }

    #[test]
    fn grades_order_by_merit_and_parse() {
        assert!(Grade::Excellent.at_least(Grade::Qualified));
        assert!(Grade::Qualified.at_least(Grade::Qualified));
        assert!(!Grade::BasicallyQualified.at_least(Grade::Qualified));
        for g in Grade::ALL {
            assert_eq!(g.as_str().parse::<Grade>(), Ok(*g));
        }
        assert!("good".parse::<Grade>().is_err());
    }
}
