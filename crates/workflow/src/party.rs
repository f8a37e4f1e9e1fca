//! The Party recommendation machine (推优入党, `workflows/party_recommendation.v1.toml`): one instance
//! per recommendation of one member. `nominated → branch_voted → publicised → recommended →
//! accepted_by_party | declined | expired`, and `cancelled` for a nomination that goes no further.
//!
//! Rules: DOMAIN.md "Party recommendation (§5)" (PTY_*), sources in DOMAIN-SOURCES.md §5
//! (《共青团推优入党工作实施办法（试行）》 中青发〔2019〕9号); the minimum evaluation grade follows
//! 三会两制一课 Art. 33 (the grade is "推优入党的重要依据", §5, §8). Dates are calendar dates in China
//! Standard Time; ages are full years (周岁).

use serde::{Deserialize, Serialize};
use tuanji_domain::{add_months, age_on, Date, RuleCode, RuleViolation, WorkingCalendar};

use crate::definition::Definition;
use crate::error::LoadError;
use crate::evaluation::Grade;
use crate::policy::MajorityBasis;
use crate::relation::OrgFact;
use crate::standing::{check_meeting, first_error, refuse, BranchMeeting, PolicyReader};

/// The least age a policy may set: 18 (PTY_AGE, a floor: it cannot be lowered).
pub const PARTY_MIN_AGE_FLOOR: u32 = 18;
/// The highest age bound a policy may set: under 28 (PTY_AGE, a floor: it cannot be raised).
pub const PARTY_MAX_AGE_CEILING: u32 = 28;
/// The least membership a policy may require: 12 months (PTY_TENURE, a floor).
pub const TENURE_FLOOR_MONTHS: u32 = 12;
/// The largest share a policy may allow: 20 % of the branch (PTY_SHARE, a floor).
pub const SHARE_CEILING_PERCENT: u32 = 20;
/// The longest validity a policy may set: 24 months (PTY_VALIDITY, a floor).
pub const VALIDITY_CEILING_MONTHS: u32 = 24;

/// The numbers the Party recommendation guards read, from `[policy]` of
/// `party_recommendation.v1.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyPolicy {
    /// PTY_AGE: least age on the meeting date; 18, at least [`PARTY_MIN_AGE_FLOOR`].
    pub min_age: u32,
    /// PTY_AGE: age on the meeting date must be below this; 28, at most [`PARTY_MAX_AGE_CEILING`].
    pub max_age: u32,
    /// PTY_TENURE: least months of membership on the meeting date; 12.
    pub tenure_months: u32,
    /// PTY_SHARE: most recommendations held in a branch, in percent of its members; 20. The limit is
    /// `floor(members × share_percent / 100)`.
    pub share_percent: u32,
    /// PTY_VALIDITY: months a recommendation is valid; 24.
    pub validity_months: u32,
    /// Working days of publicity (公示), holiday-aware; 5 `[U]` (no national number found; the
    /// admission default).
    pub publicity_working_days: u32,
    /// The least last annual evaluation grade (EVL_GRADES); `qualified`. `None` (policy value
    /// `"none"`) requires no grade.
    pub minimum_grade: Option<Grade>,
}

/// Every key of a Party recommendation `[policy]`.
pub const PARTY_POLICY_KEYS: &[&str] = &[
    "min_age",
    "max_age",
    "tenure_months",
    "share_percent",
    "validity_months",
    "publicity_working_days",
    "minimum_grade",
];

impl PartyPolicy {
    /// The typed `[policy]` of a party_recommendation definition.
    ///
    /// # Errors
    /// The first (by line) [`LoadError`] of [`PartyPolicy::check`].
    pub fn from_definition(def: &Definition) -> Result<Self, LoadError> {
        PartyPolicy::check(def).map_err(|e| first_error(def, e))
    }

    /// The typed `[policy]`, or every problem with it, each on the line of its key: an unknown key; a
    /// missing or wrong-typed key; the floors `min_age` ≥ 18 (PTY_AGE), `max_age` ≤ 28 (PTY_AGE),
    /// `tenure_months` ≥ 12 (PTY_TENURE), `share_percent` ≤ 20 (PTY_SHARE), `validity_months` ≤ 24
    /// (PTY_VALIDITY); `min_age` ≥ `max_age`; a share, validity or publicity of 0; `minimum_grade` not
    /// a grade or `none`.
    ///
    /// # Errors
    /// Every [`LoadError`], sorted by line.
    pub fn check(def: &Definition) -> Result<Self, Vec<LoadError>> {
        let mut r = PolicyReader::new(def, PARTY_POLICY_KEYS);
        let min_age = r.u32_at_least("min_age", 0);
        let max_age = r.u32_at_least("max_age", 0);
        let tenure_months = r.u32_at_least("tenure_months", 0);
        let share_percent = r.u32_at_least("share_percent", 1);
        let validity_months = r.u32_at_least("validity_months", 1);
        let publicity_working_days = r.u32_at_least("publicity_working_days", 1);
        if r.has_int("min_age") && min_age < PARTY_MIN_AGE_FLOOR {
            r.floor(
                "min_age",
                RuleCode::PtyAge,
                &format!("min_age = {min_age} is below {PARTY_MIN_AGE_FLOOR}"),
            );
        }
        if max_age > PARTY_MAX_AGE_CEILING {
            r.floor(
                "max_age",
                RuleCode::PtyAge,
                &format!("max_age = {max_age} is above {PARTY_MAX_AGE_CEILING}"),
            );
        }
        if r.has_int("min_age") && r.has_int("max_age") && min_age >= max_age {
            r.error(
                "max_age",
                format!("[policy] max_age = {max_age} must be above min_age = {min_age}"),
            );
        }
        if r.has_int("tenure_months") && tenure_months < TENURE_FLOOR_MONTHS {
            r.floor(
                "tenure_months",
                RuleCode::PtyTenure,
                &format!("tenure_months = {tenure_months} is below {TENURE_FLOOR_MONTHS}"),
            );
        }
        if share_percent > SHARE_CEILING_PERCENT {
            r.floor(
                "share_percent",
                RuleCode::PtyShare,
                &format!("share_percent = {share_percent} is above {SHARE_CEILING_PERCENT}"),
            );
        }
        if validity_months > VALIDITY_CEILING_MONTHS {
            r.floor(
                "validity_months",
                RuleCode::PtyValidity,
                &format!("validity_months = {validity_months} is above {VALIDITY_CEILING_MONTHS}"),
            );
        }
        let minimum_grade = match def.policy_str("minimum_grade") {
            Ok("none") => None,
            Ok(text) => match text.parse::<Grade>() {
                Ok(g) => Some(g),
                Err(_) => {
                    r.error(
                        "minimum_grade",
                        format!("[policy] minimum_grade must be excellent, qualified, basically_qualified, unqualified or none, not \"{text}\""),
                    );
                    None
                }
            },
            Err(e) => {
                r.errors.push(e);
                None
            }
        };
        r.finish(PartyPolicy {
            min_age,
            max_age,
            tenure_months,
            share_percent,
            validity_months,
            publicity_working_days,
            minimum_grade,
        })
    }

    /// The most recommendations a branch of `members` members may hold at once (PTY_SHARE):
    /// `floor(members × share_percent / 100)`. 20 % of 10 is 2, of 14 is 2, of 15 is 3, of 4 is 0.
    pub fn share_limit(&self, members: u32) -> u32 {
        u32::try_from(u64::from(members) * u64::from(self.share_percent) / 100).unwrap_or(u32::MAX)
    }
}

/// One recorded step of the Party recommendation machine: the payload of a log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum PartyStep {
    /// The branch committee proposes the member (推荐人选).
    Nominate {
        /// Date.
        date: Date,
        /// The member's branch (code).
        branch: String,
    },
    /// The branch general meeting voted by secret ballot and passed (PTY_MEETING).
    Vote {
        /// Meeting date.
        date: Date,
        /// The meeting and its ballot counts.
        meeting: BranchMeeting,
    },
    /// Publicity (公示) starts.
    Publicise {
        /// First day.
        date: Date,
        /// Computed: the last working day (`publicity_working_days`, holiday-aware).
        ends_on: Date,
    },
    /// The basic-level committee recommends the member to the Party organisation.
    Recommend {
        /// Date: validity starts.
        date: Date,
        /// The recommending committee (code).
        org: String,
        /// Computed: the day the recommendation is no longer valid (`date` + `validity_months`).
        valid_until: Date,
    },
    /// The Party organisation took the member on (as activist or development target).
    Accept {
        /// Date.
        date: Date,
        /// The Party organisation (free text).
        party_org: String,
    },
    /// The Party organisation declined.
    Decline {
        /// Date.
        date: Date,
        /// The Party organisation (free text).
        party_org: String,
        /// Why.
        reason: String,
    },
    /// Validity ended without an outcome (PTY_VALIDITY), recorded by the sweep.
    Expire {
        /// Computed: the end of validity.
        date: Date,
    },
    /// The nomination goes no further (vote failed, objection upheld, member no longer eligible).
    Cancel {
        /// Date.
        date: Date,
        /// Why.
        reason: String,
    },
}

impl PartyStep {
    /// The effective date.
    pub fn date(&self) -> Date {
        match self {
            PartyStep::Nominate { date, .. }
            | PartyStep::Vote { date, .. }
            | PartyStep::Publicise { date, .. }
            | PartyStep::Recommend { date, .. }
            | PartyStep::Accept { date, .. }
            | PartyStep::Decline { date, .. }
            | PartyStep::Expire { date }
            | PartyStep::Cancel { date, .. } => *date,
        }
    }

    /// The workflow command name.
    pub fn command(&self) -> &'static str {
        match self {
            PartyStep::Nominate { .. } => "nominate",
            PartyStep::Vote { .. } => "vote",
            PartyStep::Publicise { .. } => "publicise",
            PartyStep::Recommend { .. } => "recommend",
            PartyStep::Accept { .. } => "accept",
            PartyStep::Decline { .. } => "decline",
            PartyStep::Expire { .. } => "expire",
            PartyStep::Cancel { .. } => "cancel",
        }
    }
}

/// The data of one recommendation, rebuilt by replaying the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartyData {
    /// The member's branch (code).
    pub branch: String,
    /// Nomination date.
    pub nominated_on: Option<Date>,
    /// The branch meeting that passed it.
    pub meeting: Option<BranchMeeting>,
    /// Publicity: first and last day.
    pub publicity: Option<(Date, Date)>,
    /// Recommendation: date and recommending committee.
    pub recommended: Option<(Date, String)>,
    /// The day it is no longer valid.
    pub valid_until: Option<Date>,
    /// The Party side's outcome: date, Party organisation, accepted (`true`) or declined.
    pub party_outcome: Option<(Date, String, bool)>,
    /// How it ended: command and date (`accept`, `decline`, `expire`, `cancel`).
    pub ended: Option<(String, Date)>,
}

impl PartyData {
    /// The date of the latest step recorded (nomination, vote, start of publicity, recommendation, the Party's
    /// outcome): no later step may be dated before it.
    pub fn last_step_on(&self) -> Option<Date> {
        [
            self.nominated_on,
            self.meeting.as_ref().map(|m| m.date),
            self.publicity.map(|p| p.0),
            self.recommended.as_ref().map(|r| r.0),
            self.party_outcome.as_ref().map(|o| o.0),
        ]
        .into_iter()
        .flatten()
        .max()
    }

    /// Applies a recorded step (taken in state `_from`).
    pub fn apply(&mut self, _from: &str, step: &PartyStep) {
        match step {
            PartyStep::Nominate { date, branch } => {
                self.branch.clone_from(branch);
                self.nominated_on = Some(*date);
            }
            PartyStep::Vote { meeting, .. } => self.meeting = Some(*meeting),
            PartyStep::Publicise { date, ends_on } => self.publicity = Some((*date, *ends_on)),
            PartyStep::Recommend {
                date,
                org,
                valid_until,
            } => {
                self.recommended = Some((*date, org.clone()));
                self.valid_until = Some(*valid_until);
            }
            PartyStep::Accept { date, party_org } => {
                self.party_outcome = Some((*date, party_org.clone(), true));
                self.ended = Some(("accept".into(), *date));
            }
            PartyStep::Decline {
                date, party_org, ..
            } => {
                self.party_outcome = Some((*date, party_org.clone(), false));
                self.ended = Some(("decline".into(), *date));
            }
            PartyStep::Expire { date } | PartyStep::Cancel { date, .. } => {
                self.ended = Some((step.command().into(), *date));
            }
        }
    }

    /// Whether the recommendation counts against the branch's share on `on` (PTY_SHARE): voted and
    /// not ended, or recommended and still valid on `on`.
    pub fn counts_on(&self, state: &str, on: Date) -> bool {
        match state {
            "branch_voted" | "publicised" => true,
            "recommended" => self.valid_until.is_some_and(|u| on < u),
            _ => false,
        }
    }

    /// The step the sweep records on `as_of`: [`PartyStep::Expire`] (effective on the end of validity)
    /// for a recommendation in `recommended` whose validity has ended.
    pub fn due_step(&self, state: &str, as_of: Date) -> Option<PartyStep> {
        match (state, self.valid_until) {
            ("recommended", Some(until)) if until <= as_of => {
                Some(PartyStep::Expire { date: until })
            }
            _ => None,
        }
    }
}

/// Everything a Party recommendation guard may look at, gathered by the engine before the guards run.
#[derive(Debug, Clone)]
pub struct PartyFacts<'a> {
    /// Policy of the instance's workflow version.
    pub policy: &'a PartyPolicy,
    /// The working-day calendar, for the publicity end.
    pub calendar: &'a WorkingCalendar,
    /// Instance data before the step.
    pub data: &'a PartyData,
    /// State before the step.
    pub state: &'a str,
    /// The step.
    pub step: &'a PartyStep,
    /// The role the command is issued in.
    pub role: &'a str,
    /// Today: no date may be after it.
    pub today: Date,
    /// The member's birth date (from the resident ID).
    pub birth: Date,
    /// The member's membership date (团籍 start).
    pub membership_date: Option<Date>,
    /// The member's standing state (`member`, `on_probation`, …).
    pub standing: &'a str,
    /// The member's last approved annual evaluation: year and the grade that stands.
    pub last_grade: Option<(i32, Grade)>,
    /// Members of the branch on the step's date.
    pub branch_members: u32,
    /// The branch's other recommendations that count on the step's date ([`PartyData::counts_on`]).
    pub branch_holding: u32,
    /// Another open or valid recommendation of the same member (instance id), if any.
    pub other_open: Option<String>,
    /// The recommending committee, for `recommend`.
    pub approver: Option<OrgFact>,
    /// Whether `approver` is above the member's branch.
    pub approver_above_branch: bool,
}

/// The last day of a publicity starting on `start`: the `days`-th working day counting `start` if it is
/// one (holiday-aware).
///
/// # Errors
/// `PTY_MEETING` when the calendar does not cover the dates.
pub fn publicity_end(
    calendar: &WorkingCalendar,
    start: Date,
    days: u32,
) -> Result<Date, RuleViolation> {
    calendar
        .nth_working_day(start, days)
        .map_err(|e| RuleViolation::new(RuleCode::PtyMeeting, e.to_string()))
}

/// Runs the named Party recommendation guard. `Ok(())` when it passes (and for a guard that does not
/// concern the step).
///
/// # Errors
/// The guard's rule code with a message naming the facts that failed; `WF_NOT_ALLOWED` for a name
/// that is not a Party recommendation guard.
pub fn check_guard(name: &str, f: &PartyFacts<'_>) -> Result<(), RuleViolation> {
    let p = f.policy;
    let date = f.step.date();
    match name {
        "not_dated_ahead" => {
            if date > f.today {
                refuse(
                    RuleCode::WfNotAllowed,
                    format!("dated {date}, after today ({})", f.today),
                )
            } else if let Some(last) = f
                .data
                .last_step_on()
                .filter(|l| date < *l && !matches!(f.step, PartyStep::Nominate { .. }))
            {
                refuse(
                    RuleCode::WfNotAllowed,
                    format!("dated {date}, before the recommendation's last step on {last}"),
                )
            } else {
                Ok(())
            }
        }
        "age_range" => {
            let age = age_on(f.birth, date);
            if age < p.min_age || age >= p.max_age {
                refuse(
                    RuleCode::PtyAge,
                    format!(
                        "the member is {age} on {date}; a recommendation needs at least {} and under {}",
                        p.min_age, p.max_age
                    ),
                )
            } else {
                Ok(())
            }
        }
        "tenure" => match f.membership_date {
            Some(since) if add_months(since, p.tenure_months) <= date => Ok(()),
            Some(since) => refuse(
                RuleCode::PtyTenure,
                format!(
                    "a member since {since} has {} months of membership on {date} only from {}",
                    p.tenure_months,
                    add_months(since, p.tenure_months)
                ),
            ),
            None => refuse(RuleCode::PtyTenure, "no membership date is recorded".into()),
        },
        "share" => {
            let limit = p.share_limit(f.branch_members);
            let after = u64::from(f.branch_holding) + 1;
            if after > u64::from(limit) {
                refuse(
                    RuleCode::PtyShare,
                    format!(
                        "{} of the branch's {} members already hold or are going through a recommendation; with this one {after} would exceed {} % (at most {limit})",
                        f.branch_holding, f.branch_members, p.share_percent
                    ),
                )
            } else {
                Ok(())
            }
        }
        "meeting_passed" => {
            let PartyStep::Vote { date, meeting } = f.step else {
                return Ok(());
            };
            if meeting.date != *date {
                return refuse(
                    RuleCode::PtyMeeting,
                    format!("the vote is dated {date} but the meeting was held on {}", meeting.date),
                );
            }
            check_meeting(
                meeting,
                MajorityBasis::Entitled,
                RuleCode::PtyMeeting,
                "the recommendation",
            )
        }
        "grade_at_least" => match (p.minimum_grade, f.last_grade) {
            (None, _) => Ok(()),
            (Some(min), Some((_, g))) if g.at_least(min) => Ok(()),
            (Some(min), Some((year, g))) => refuse(
                RuleCode::EvlGrades,
                format!(
                    "the member's last annual evaluation ({year}) is {g} ({}); at least {min} is required",
                    g.chinese()
                ),
            ),
            (Some(min), None) => refuse(
                RuleCode::EvlGrades,
                format!("no approved annual evaluation of the member is on record; at least {min} is required"),
            ),
        },
        "not_on_probation" => match f.standing {
            "member" => Ok(()),
            "on_probation" => refuse(
                RuleCode::StdProbation,
                "the member is on probation (留团察看) and cannot be recommended".into(),
            ),
            other => refuse(
                RuleCode::StdProbation,
                format!("the member's standing is `{other}`; only a member in good standing is recommended"),
            ),
        },
        "one_open" => match &f.other_open {
            Some(id) => refuse(
                RuleCode::PtyValidity,
                format!("the member already has an open or valid recommendation ({id})"),
            ),
            None => Ok(()),
        },
        "publicity_elapsed" => match f.data.publicity {
            Some((_, end)) if date > end => Ok(()),
            Some((start, end)) => refuse(
                RuleCode::PtyMeeting,
                format!(
                    "publicity from {start} runs {} working days, to {end} inclusive; the recommendation comes after it",
                    p.publicity_working_days
                ),
            ),
            None => refuse(RuleCode::PtyMeeting, "no publicity is recorded".into()),
        },
        "publicity_end_valid" => {
            let PartyStep::Publicise { date, ends_on } = f.step else {
                return Ok(());
            };
            let end = publicity_end(f.calendar, *date, p.publicity_working_days)?;
            if *ends_on != end {
                return refuse(
                    RuleCode::PtyMeeting,
                    format!(
                        "publicity from {date} for {} working days ends on {end}, not {ends_on}",
                        p.publicity_working_days
                    ),
                );
            }
            match f.data.meeting {
                Some(m) if *date < m.date => refuse(
                    RuleCode::PtyMeeting,
                    format!("publicity starts on {date}, before the meeting of {}", m.date),
                ),
                _ => Ok(()),
            }
        }
        "recommend_authority" => {
            let PartyStep::Recommend {
                date,
                org,
                valid_until,
            } = f.step
            else {
                return Ok(());
            };
            let label = f.approver.as_ref().map_or(org.as_str(), |o| o.label.as_str());
            if f.approver.is_none() || !f.approver_above_branch {
                return refuse(
                    RuleCode::PtyMeeting,
                    format!("{label} is not a committee above the branch {}", f.data.branch),
                );
            }
            let until = add_months(*date, p.validity_months);
            if *valid_until != until {
                return refuse(
                    RuleCode::PtyValidity,
                    format!(
                        "a recommendation of {date} is valid for {} months, until {until}, not {valid_until}",
                        p.validity_months
                    ),
                );
            }
            Ok(())
        }
        "within_validity" => match f.data.valid_until {
            Some(until) if date < until => Ok(()),
            Some(until) => refuse(
                RuleCode::PtyValidity,
                format!("the recommendation was valid until {until} (exclusive); {date} is after it"),
            ),
            None => refuse(RuleCode::PtyValidity, "the member is not recommended".into()),
        },
        "validity_elapsed" => match f.data.valid_until {
            Some(until) if date == until && until <= f.today => Ok(()),
            Some(until) => refuse(
                RuleCode::PtyValidity,
                format!("the recommendation expires on {until}; not on {date} (today {})", f.today),
            ),
            None => refuse(RuleCode::PtyValidity, "the member is not recommended".into()),
        },
        other => refuse(
            RuleCode::WfNotAllowed,
            format!("guard `{other}` is not a guard of the party_recommendation machine"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn policy() -> PartyPolicy {
        let def = crate::builtin()
            .latest("party_recommendation")
            .expect("shipped party_recommendation workflow");
        PartyPolicy::from_definition(def).expect("shipped policy")
    }

    /// 20 entitled, 15 present, 12 yes, 2 no, 1 abstaining, on 2026-05-08.
    fn vote() -> PartyStep {
        PartyStep::Vote {
            date: d(2026, 5, 8),
            meeting: BranchMeeting {
                date: d(2026, 5, 8),
                entitled: 20,
                present: 15,
                yes: 12,
                no: 2,
                abstain: 1,
            },
        }
    }

    fn nominated() -> PartyData {
        let mut data = PartyData::default();
        data.apply(
            "new",
            &PartyStep::Nominate {
                date: d(2026, 4, 20),
                branch: "S001-B1".into(),
            },
        );
        data
    }

    /// A member born 2007-05-08, since 2024-05-08, graded qualified in 2025, in a branch of 20 members
    /// of whom 3 hold or are going through a recommendation.
    fn facts<'a>(p: &'a PartyPolicy, data: &'a PartyData, step: &'a PartyStep) -> PartyFacts<'a> {
        PartyFacts {
            policy: p,
            calendar: WorkingCalendar::china(),
            data,
            state: "nominated",
            step,
            role: "branch_secretary",
            today: d(2026, 12, 31),
            birth: d(2007, 5, 8),
            membership_date: Some(d(2024, 5, 8)),
            standing: "member",
            last_grade: Some((2025, Grade::Qualified)),
            branch_members: 20,
            branch_holding: 3,
            other_open: None,
            approver: None,
            approver_above_branch: false,
        }
    }

    #[test]
    fn the_three_issue_4_files_load_with_their_tables() {
        let registry = crate::builtin();
        let table = |name: &str| -> Vec<(String, String, String)> {
            registry
                .latest(name)
                .expect("shipped")
                .transitions
                .iter()
                .map(|t| (t.from.clone(), t.command.clone(), t.to.clone()))
                .collect()
        };
        let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
        assert_eq!(
            table("party_recommendation"),
            vec![
                s("new", "nominate", "nominated"),
                s("nominated", "vote", "branch_voted"),
                s("branch_voted", "publicise", "publicised"),
                s("publicised", "recommend", "recommended"),
                s("recommended", "accept", "accepted_by_party"),
                s("recommended", "decline", "declined"),
                s("recommended", "expire", "expired"),
                s("nominated", "cancel", "cancelled"),
                s("branch_voted", "cancel", "cancelled"),
                s("publicised", "cancel", "cancelled"),
                s("recommended", "cancel", "cancelled"),
            ]
        );
        assert_eq!(
            table("evaluation"),
            vec![
                s("new", "record", "recorded"),
                s("recorded", "amend", "recorded"),
                s("recorded", "approve", "approved"),
                s("approved", "reevaluate", "approved"),
                s("approved", "advise_withdrawal", "approved"),
                s("approved", "close", "closed"),
            ]
        );
        let standing = registry.latest("standing").expect("standing");
        assert_eq!((standing.states.len(), standing.transitions.len()), (9, 61));
        let legacy = table("standing");
        assert_eq!(legacy[0], s("new", "import_member", "member"));
        assert!(legacy.contains(&s("member", "import_probation", "on_probation")));
        assert!(legacy.contains(&s("on_probation", "end_probation", "history")));
        assert!(legacy.contains(&s("party_member", "age_out", "aged_out")));
        assert!(legacy.contains(&s("expelled", "reinstate", "history")));
    }

    #[test]
    fn party_policy_from_shipped_file_gives_the_defaults() {
        assert_eq!(
            policy(),
            PartyPolicy {
                min_age: 18,
                max_age: 28,
                tenure_months: 12,
                share_percent: 20,
                validity_months: 24,
                publicity_working_days: 5,
                minimum_grade: Some(Grade::Qualified),
            }
        );
    }

    fn with_policy(replace: &str, by: &str) -> Vec<LoadError> {
        let text = include_str!("../../../workflows/party_recommendation.v1.toml");
        assert!(text.contains(replace), "{replace}");
        Definition::check(
            "party_recommendation.v1.toml",
            &text.replacen(replace, by, 1),
        )
        .expect_err("refused")
    }

    #[test]
    fn pty_floors_refuse_a_looser_policy() {
        let cases = [
            (
                "min_age = 18",
                "min_age = 16",
                RuleCode::PtyAge,
                "PTY_AGE is a floor rule: min_age = 16 is below 18",
            ),
            (
                "max_age = 28",
                "max_age = 30",
                RuleCode::PtyAge,
                "PTY_AGE is a floor rule: max_age = 30 is above 28",
            ),
            (
                "tenure_months = 12",
                "tenure_months = 6",
                RuleCode::PtyTenure,
                "PTY_TENURE is a floor rule: tenure_months = 6 is below 12",
            ),
            (
                "share_percent = 20",
                "share_percent = 25",
                RuleCode::PtyShare,
                "PTY_SHARE is a floor rule: share_percent = 25 is above 20",
            ),
            (
                "validity_months = 24",
                "validity_months = 36",
                RuleCode::PtyValidity,
                "PTY_VALIDITY is a floor rule: validity_months = 36 is above 24",
            ),
        ];
        for (from, to, code, message) in cases {
            let errors = with_policy(from, to);
            assert_eq!(errors.len(), 1, "{to}");
            assert_eq!(
                (errors[0].rule, errors[0].message.as_str()),
                (Some(code), message)
            );
        }
        let errors = with_policy("minimum_grade = \"qualified\"", "minimum_grade = \"good\"");
        assert_eq!(
            errors[0].message,
            "[policy] minimum_grade must be excellent, qualified, basically_qualified, unqualified or none, not \"good\""
        );
        // A stricter policy loads: 13 % (local practice) and no grade requirement.
        let text = include_str!("../../../workflows/party_recommendation.v1.toml")
            .replacen("share_percent = 20", "share_percent = 13", 1)
            .replacen(
                "minimum_grade = \"qualified\"",
                "minimum_grade = \"none\"",
                1,
            );
        let def = Definition::check("party_recommendation.v1.toml", &text).expect("stricter loads");
        let p = PartyPolicy::from_definition(&def).expect("policy");
        assert_eq!((p.share_percent, p.minimum_grade), (13, None));
    }

    #[test]
    fn pty_share_limit_rounds_down() {
        let p = policy();
        assert_eq!(
            [4, 5, 10, 14, 15, 20, 99].map(|m| p.share_limit(m)),
            [0, 1, 2, 2, 3, 4, 19]
        );
    }

    #[test]
    fn pty_share_accepts_the_recommendation_up_to_20_percent() {
        let p = policy();
        let data = nominated();
        let step = vote();
        let f = facts(&p, &data, &step);
        // 3 held + this one = 4 = 20 % of 20.
        assert_eq!(check_guard("share", &f), Ok(()));
    }

    #[test]
    fn pty_share_refuses_the_recommendation_above_20_percent() {
        let p = policy();
        let data = nominated();
        let step = vote();
        let f = PartyFacts {
            branch_holding: 4,
            ..facts(&p, &data, &step)
        };
        let err = check_guard("share", &f).expect_err("above 20 %");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::PtyShare,
                "4 of the branch's 20 members already hold or are going through a recommendation; with this one 5 would exceed 20 % (at most 4)"
            )
        );
        // A branch of 14: 20 % is 2.8, so at most 2.
        let f = PartyFacts {
            branch_members: 14,
            branch_holding: 2,
            ..facts(&p, &data, &step)
        };
        assert_eq!(
            check_guard("share", &f).expect_err("14").code,
            RuleCode::PtyShare
        );
    }

    #[test]
    fn pty_age_accepts_18_on_the_meeting_date() {
        let p = policy();
        let data = nominated();
        let step = vote();
        assert_eq!(check_guard("age_range", &facts(&p, &data, &step)), Ok(()));
    }

    #[test]
    fn pty_age_refuses_17_and_28() {
        let p = policy();
        let data = nominated();
        let step = vote();
        let young = PartyFacts {
            birth: d(2008, 5, 9),
            ..facts(&p, &data, &step)
        };
        let err = check_guard("age_range", &young).expect_err("17");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::PtyAge,
                "the member is 17 on 2026-05-08; a recommendation needs at least 18 and under 28"
            )
        );
        let old = PartyFacts {
            birth: d(1998, 5, 8),
            ..facts(&p, &data, &step)
        };
        assert_eq!(
            check_guard("age_range", &old).expect_err("28").message,
            "the member is 28 on 2026-05-08; a recommendation needs at least 18 and under 28"
        );
    }

    #[test]
    fn pty_tenure_accepts_one_year_and_refuses_a_day_less() {
        let p = policy();
        let data = nominated();
        let step = vote();
        assert_eq!(check_guard("tenure", &facts(&p, &data, &step)), Ok(()));
        let f = PartyFacts {
            membership_date: Some(d(2025, 5, 9)),
            ..facts(&p, &data, &step)
        };
        let err = check_guard("tenure", &f).expect_err("short");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::PtyTenure,
                "a member since 2025-05-09 has 12 months of membership on 2026-05-08 only from 2026-05-09"
            )
        );
    }

    #[test]
    fn pty_meeting_accepts_a_secret_ballot_majority_of_the_entitled() {
        let p = policy();
        let data = nominated();
        let step = vote();
        assert_eq!(
            check_guard("meeting_passed", &facts(&p, &data, &step)),
            Ok(())
        );
    }

    #[test]
    fn pty_meeting_refuses_ten_yes_of_twenty_entitled() {
        let p = policy();
        let data = nominated();
        let step = PartyStep::Vote {
            date: d(2026, 5, 8),
            meeting: BranchMeeting {
                date: d(2026, 5, 8),
                entitled: 20,
                present: 15,
                yes: 10,
                no: 4,
                abstain: 1,
            },
        };
        let err = check_guard("meeting_passed", &facts(&p, &data, &step)).expect_err("10 of 20");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::PtyMeeting,
                "the recommendation: 10 yes votes of 20 entitled members; more than half are required"
            )
        );
    }

    #[test]
    fn pty_grade_and_probation_guard_the_nomination() {
        let p = policy();
        let data = PartyData::default();
        let step = PartyStep::Nominate {
            date: d(2026, 4, 20),
            branch: "S001-B1".into(),
        };
        let f = facts(&p, &data, &step);
        assert_eq!(check_guard("grade_at_least", &f), Ok(()));
        assert_eq!(check_guard("not_on_probation", &f), Ok(()));
        let basic = PartyFacts {
            last_grade: Some((2025, Grade::BasicallyQualified)),
            ..facts(&p, &data, &step)
        };
        let err = check_guard("grade_at_least", &basic).expect_err("basically qualified");
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                RuleCode::EvlGrades,
                "the member's last annual evaluation (2025) is basically_qualified (基本合格); at least qualified is required"
            )
        );
        let none = PartyFacts {
            last_grade: None,
            ..facts(&p, &data, &step)
        };
        assert_eq!(
            check_guard("grade_at_least", &none).expect_err("none").code,
            RuleCode::EvlGrades
        );
        let probation = PartyFacts {
            standing: "on_probation",
            ..facts(&p, &data, &step)
        };
        assert_eq!(
            check_guard("not_on_probation", &probation).expect_err("probation"),
            RuleViolation::new(
                RuleCode::StdProbation,
                "the member is on probation (留团察看) and cannot be recommended"
            )
        );
        let open = PartyFacts {
            other_open: Some("r0".into()),
            ..facts(&p, &data, &step)
        };
        assert_eq!(
            check_guard("one_open", &open).expect_err("open").code,
            RuleCode::PtyValidity
        );
    }

    #[test]
    fn pty_publicity_five_working_days_across_national_day() {
        let p = policy();
        let mut data = nominated();
        data.apply("nominated", &vote());
        let step = PartyStep::Publicise {
            date: d(2026, 9, 28),
            ends_on: d(2026, 10, 9),
        };
        assert_eq!(
            check_guard("publicity_end_valid", &facts(&p, &data, &step)),
            Ok(())
        );
        let wrong = PartyStep::Publicise {
            date: d(2026, 9, 28),
            ends_on: d(2026, 10, 2),
        };
        assert_eq!(
            check_guard("publicity_end_valid", &facts(&p, &data, &wrong))
                .expect_err("wrong end")
                .message,
            "publicity from 2026-09-28 for 5 working days ends on 2026-10-09, not 2026-10-02"
        );
        data.apply("branch_voted", &step);
        let school = OrgFact {
            label: "北京市第一中学团委 (S001)".into(),
            code: "S001".into(),
            kind: "basic_committee".into(),
            school: true,
            mobile: false,
        };
        let early = PartyStep::Recommend {
            date: d(2026, 10, 9),
            org: "S001".into(),
            valid_until: d(2028, 10, 9),
        };
        assert_eq!(
            check_guard("publicity_elapsed", &facts(&p, &data, &early))
                .expect_err("during publicity")
                .message,
            "publicity from 2026-09-28 runs 5 working days, to 2026-10-09 inclusive; the recommendation comes after it"
        );
        let rec = PartyStep::Recommend {
            date: d(2026, 10, 12),
            org: "S001".into(),
            valid_until: d(2028, 10, 12),
        };
        let f = PartyFacts {
            approver: Some(school),
            approver_above_branch: true,
            ..facts(&p, &data, &rec)
        };
        assert_eq!(check_guard("publicity_elapsed", &f), Ok(()));
        assert_eq!(check_guard("recommend_authority", &f), Ok(()));
    }

    #[test]
    fn pty_validity_two_years_then_expired_by_the_sweep() {
        let p = policy();
        let mut data = nominated();
        data.apply(
            "publicised",
            &PartyStep::Recommend {
                date: d(2026, 10, 12),
                org: "S001".into(),
                valid_until: d(2028, 10, 12),
            },
        );
        assert!(data.counts_on("recommended", d(2028, 10, 11)));
        assert!(!data.counts_on("recommended", d(2028, 10, 12)));
        assert_eq!(data.due_step("recommended", d(2028, 10, 11)), None);
        let expire = data.due_step("recommended", d(2029, 3, 1)).expect("due");
        assert_eq!(
            expire,
            PartyStep::Expire {
                date: d(2028, 10, 12)
            }
        );
        let f = PartyFacts {
            today: d(2029, 3, 1),
            ..facts(&p, &data, &expire)
        };
        assert_eq!(check_guard("validity_elapsed", &f), Ok(()));
        let accept = PartyStep::Accept {
            date: d(2028, 10, 12),
            party_org: "中共某党支部".into(),
        };
        let f = PartyFacts {
            today: d(2029, 3, 1),
            ..facts(&p, &data, &accept)
        };
        assert_eq!(
            check_guard("within_validity", &f).expect_err("too late"),
            RuleViolation::new(
                RuleCode::PtyValidity,
                "the recommendation was valid until 2028-10-12 (exclusive); 2028-10-12 is after it"
            )
        );
        let in_time = PartyStep::Accept {
            date: d(2028, 10, 11),
            party_org: "中共某党支部".into(),
        };
        assert_eq!(
            check_guard("within_validity", &facts(&p, &data, &in_time)),
            Ok(())
        );
    }
}
