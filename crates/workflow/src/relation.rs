//! The relation machine (组织关系转接, `workflows/relation.v1.toml`): its typed `[policy]`
//! ([`RelationPolicy`]), the recorded steps ([`RelationStep`], the payload of each log entry), the
//! instance data they build ([`RelationData`]), and the guards named in the file ([`check_guard`]).
//!
//! Rules: DOMAIN.md "Organisation relation and transfer (§3, §4)" (TRF_*), sources in
//! DOMAIN-SOURCES.md §3 (transfers, graduates) and §4 (lost contact, report-in). Dates are calendar
//! dates in China Standard Time; periods are calendar months or days.

use serde::{Deserialize, Serialize};
use tuanji_domain::{add_months, Date, RuleCode, RuleViolation};

use crate::definition::Definition;
use crate::error::LoadError;

/// Who approves a transfer the member initiated (TRF_INITIATOR, `[U]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberInitiatedApprovals {
    /// Both the outgoing and the incoming organisation (default). Policy value `"both"`.
    Both,
    /// Only the incoming organisation. Policy value `"incoming"`.
    Incoming,
}

/// The numbers the relation guards read, from `[policy]` of `relation.v1.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelationPolicy {
    /// TRF_TIMEOUT: days without action before an open transfer is overdue; 30 `[U]`.
    pub transfer_timeout_days: u32,
    /// TRF_TIMEOUT: whether the sweep approves an overdue transfer for the silent side; `false`.
    pub timeout_auto_approve: bool,
    /// TRF_INITIATOR: approvals of a member-initiated transfer; both sides `[U]`.
    pub member_initiated_approvals: MemberInitiatedApprovals,
    /// TRF_RETENTION: months at the school's mobile-member branch before the first flag; 6.
    pub retention_months: u32,
    /// TRF_RETENTION: most months of retention; 12.
    pub retention_max_months: u32,
    /// TRF_LOST_CONTACT: months without contact before lost contact; 6.
    pub lost_contact_months: u32,
    /// TRF_LOST_CONTACT: months of verification (an attempt each month) before suspension; 6.
    pub verification_months: u32,
    /// TRF_LOST_CONTACT: months of suspension (停止团籍); 24.
    pub suspension_months: u32,
}

const KEYS: &[&str] = &[
    "transfer_timeout_days",
    "timeout_auto_approve",
    "member_initiated_approvals",
    "retention_months",
    "retention_max_months",
    "lost_contact_months",
    "verification_months",
    "suspension_months",
];

impl RelationPolicy {
    /// The typed `[policy]` of a relation definition.
    ///
    /// # Errors
    /// A [`LoadError`] for an unknown key, a missing or wrong-typed key, a value of 0 months or
    /// days, `retention_max_months` below `retention_months`, or `member_initiated_approvals`
    /// other than `both` / `incoming`.
    pub fn from_definition(def: &Definition) -> Result<Self, LoadError> {
        let err = |msg: String| LoadError::new(def.file.clone(), def.policy_line, msg);
        if let Some(k) = def.policy.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(err(format!(
                "unknown [policy] key `{k}` for workflow `relation`"
            )));
        }
        let positive = |key: &str| -> Result<u32, LoadError> {
            let v = def.policy_u32(key)?;
            if v == 0 {
                return Err(err(format!("[policy] {key} must be above 0")));
            }
            Ok(v)
        };
        let policy = RelationPolicy {
            transfer_timeout_days: positive("transfer_timeout_days")?,
            timeout_auto_approve: match def.policy.get("timeout_auto_approve") {
                Some(toml::Value::Boolean(b)) => *b,
                _ => return Err(err("[policy] timeout_auto_approve must be true or false".into())),
            },
            member_initiated_approvals: match def.policy_str("member_initiated_approvals")? {
                "both" => MemberInitiatedApprovals::Both,
                "incoming" => MemberInitiatedApprovals::Incoming,
                other => {
                    return Err(err(format!(
                        "[policy] member_initiated_approvals must be \"both\" or \"incoming\", not \"{other}\""
                    )))
                }
            },
            retention_months: positive("retention_months")?,
            retention_max_months: positive("retention_max_months")?,
            lost_contact_months: positive("lost_contact_months")?,
            verification_months: positive("verification_months")?,
            suspension_months: positive("suspension_months")?,
        };
        if policy.retention_max_months < policy.retention_months {
            return Err(err(
                "[policy] retention_max_months must be at least retention_months".into(),
            ));
        }
        Ok(policy)
    }
}

/// Who started a transfer (TRF_INITIATOR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initiator {
    /// The member (本人申请).
    Member,
    /// The outgoing organisation (转出).
    Outgoing,
    /// The incoming organisation (转入).
    Incoming,
}

impl Initiator {
    /// `member`, `outgoing` or `incoming`.
    pub fn as_str(self) -> &'static str {
        match self {
            Initiator::Member => "member",
            Initiator::Outgoing => "outgoing",
            Initiator::Incoming => "incoming",
        }
    }
}

/// Where a member goes (DOMAIN-SOURCES.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// A job: the employer's branch, else the township or street committee where they work.
    Employment,
    /// Further study: only a school organisation (TRF_FURTHER_STUDY).
    FurtherStudy,
    /// Any other move (a member who changes school, job or residence).
    Move,
}

impl Destination {
    /// `employment`, `further_study` or `move`.
    pub fn as_str(self) -> &'static str {
        match self {
            Destination::Employment => "employment",
            Destination::FurtherStudy => "further_study",
            Destination::Move => "move",
        }
    }
}

/// Why a graduate stays at the school (TRF_RETENTION).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionReason {
    /// No job yet: kept at the school's mobile-member branch 6 months, at most 12.
    NoJob,
    /// Study abroad: kept at the school's branch (no time limit).
    Abroad,
}

/// How a transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOutcome {
    /// The relation moved.
    Completed,
    /// A counter-party refused.
    Rejected,
    /// The initiator withdrew it.
    Cancelled,
}

/// One transfer (转接) as recorded in the instance data. Organisations are named by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Transfer id (UUID v7 text), the key of the `transfers` projection.
    pub id: String,
    /// Who started it.
    pub initiator: Initiator,
    /// Where the member goes.
    pub destination: Destination,
    /// The branch the relation leaves.
    pub from_branch: String,
    /// The receiving organisation: a branch, or a committee that must assign one (TRF_BRANCH_ONLY).
    pub to_org: String,
    /// The receiving branch: `to_org` when it is a branch, else the branch the committee assigned.
    pub to_branch: Option<String>,
    /// Request date.
    pub requested_on: Date,
    /// Whether the outgoing side must approve.
    pub needs_outgoing: bool,
    /// Whether the incoming side must approve.
    pub needs_incoming: bool,
    /// Outgoing approval: date and approving organisation.
    pub outgoing_approved: Option<(Date, String)>,
    /// Incoming approval: date and approving organisation.
    pub incoming_approved: Option<(Date, String)>,
    /// Date of the last action (request, approval, assignment); the timeout runs from it.
    pub last_action_on: Date,
    /// Date the sweep marked it overdue (TRF_TIMEOUT).
    pub overdue_on: Option<Date>,
    /// The organisation it was escalated to: the superior of the silent side.
    pub escalated_to: Option<String>,
    /// How and when it ended.
    pub outcome: Option<(TransferOutcome, Date)>,
}

impl Transfer {
    /// The sides that still have to approve: `outgoing`, `incoming`.
    pub fn pending_sides(&self) -> Vec<Initiator> {
        let mut v = Vec::new();
        if self.needs_outgoing && self.outgoing_approved.is_none() {
            v.push(Initiator::Outgoing);
        }
        if self.needs_incoming && self.incoming_approved.is_none() {
            v.push(Initiator::Incoming);
        }
        v
    }
}

/// A retention at the school (TRF_RETENTION).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Why.
    pub reason: RetentionReason,
    /// From when.
    pub since: Date,
    /// The highest threshold flagged so far, in months (0, 6 or 12).
    pub flagged_months: u32,
}

/// A suspension (停止团籍, TRF_LOST_CONTACT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    /// Date of the branch meeting that decided it.
    pub meeting_date: Date,
    /// The basic-level committee that approved it.
    pub approved_by: String,
    /// First day.
    pub from: Date,
    /// Last day (`from` + suspension months).
    pub until: Date,
}

/// One recorded step of the relation machine: the payload of a log entry. Organisations by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum RelationStep {
    /// The relation of an existing member at their branch, first handled.
    Open {
        /// Effective date: the member's membership date.
        date: Date,
        /// The branch.
        branch: String,
    },
    /// The member arrives through a transfer or a report-in.
    Receive {
        /// Effective date.
        date: Date,
        /// The receiving branch.
        branch: String,
        /// The branch the member comes from.
        from_branch: String,
    },
    /// Graduation of the member's branch.
    Graduate {
        /// Graduation date.
        date: Date,
    },
    /// Kept at the school.
    Retain {
        /// Effective date.
        date: Date,
        /// Why.
        reason: RetentionReason,
        /// The branch the relation is kept at (the mobile-member branch for `no_job`).
        branch: String,
    },
    /// The sweep flagged a retention past `months`.
    FlagRetention {
        /// The sweep's date.
        date: Date,
        /// 6 or 12 (the policy's thresholds).
        months: u32,
    },
    /// A transfer requested.
    RequestTransfer {
        /// Effective date.
        date: Date,
        /// The transfer (computed: id, approvals needed, implicit approval of the initiating side).
        transfer: Transfer,
    },
    /// One side approved.
    Approve {
        /// Effective date.
        date: Date,
        /// The approving organisation.
        org: String,
        /// The sides this approval covers (computed).
        sides: Vec<Initiator>,
        /// Whether the sweep approved on the silent side's behalf (policy `timeout_auto_approve`).
        automatic: bool,
    },
    /// The receiving committee named the branch.
    AssignBranch {
        /// Effective date.
        date: Date,
        /// The branch.
        branch: String,
    },
    /// The relation moved.
    Complete {
        /// Effective date.
        date: Date,
        /// The receiving branch.
        to_branch: String,
    },
    /// A counter-party refused.
    Reject {
        /// Effective date.
        date: Date,
        /// The refusing organisation.
        org: String,
        /// Why.
        reason: String,
        /// The state the member returns to (computed).
        back_to: String,
    },
    /// The initiator withdrew the transfer.
    Cancel {
        /// Effective date.
        date: Date,
        /// Why.
        reason: String,
        /// The state the member returns to (computed).
        back_to: String,
    },
    /// The sweep marked the transfer overdue and escalated it.
    MarkOverdue {
        /// The sweep's date.
        date: Date,
        /// The superior of the silent side.
        escalated_to: String,
    },
    /// A contact or an attempt.
    RecordContact {
        /// Date.
        date: Date,
        /// Whether the member was reached.
        reached: bool,
        /// Note (how, by whom).
        note: String,
    },
    /// The sweep: no contact for the policy's months.
    MarkLostContact {
        /// The sweep's date.
        date: Date,
        /// The last contact (or the date the count started from).
        last_contact: Date,
    },
    /// Suspension decided by a branch meeting and approved by a basic-level committee.
    Suspend {
        /// Approval date.
        date: Date,
        /// The suspension (computed `until`).
        suspension: Suspension,
    },
    /// The member reported in to a branch.
    ReportIn {
        /// Date.
        date: Date,
        /// The branch reported to.
        branch: String,
    },
    /// The branch accepted the report-in.
    AcceptReportIn {
        /// Date.
        date: Date,
        /// The accepting organisation.
        org: String,
    },
    /// The branch declined the report-in.
    DeclineReportIn {
        /// Date.
        date: Date,
        /// The declining organisation.
        org: String,
        /// Why.
        reason: String,
        /// The state the member returns to (computed).
        back_to: String,
    },
    /// The record tombstoned.
    Delete {
        /// Date.
        date: Date,
        /// Why.
        reason: String,
    },
}

impl RelationStep {
    /// The effective date.
    pub fn date(&self) -> Date {
        match self {
            RelationStep::Open { date, .. }
            | RelationStep::Receive { date, .. }
            | RelationStep::Graduate { date }
            | RelationStep::Retain { date, .. }
            | RelationStep::FlagRetention { date, .. }
            | RelationStep::RequestTransfer { date, .. }
            | RelationStep::Approve { date, .. }
            | RelationStep::AssignBranch { date, .. }
            | RelationStep::Complete { date, .. }
            | RelationStep::Reject { date, .. }
            | RelationStep::Cancel { date, .. }
            | RelationStep::MarkOverdue { date, .. }
            | RelationStep::RecordContact { date, .. }
            | RelationStep::MarkLostContact { date, .. }
            | RelationStep::Suspend { date, .. }
            | RelationStep::ReportIn { date, .. }
            | RelationStep::AcceptReportIn { date, .. }
            | RelationStep::DeclineReportIn { date, .. }
            | RelationStep::Delete { date, .. } => *date,
        }
    }

    /// The workflow command name.
    pub fn command(&self) -> &'static str {
        match self {
            RelationStep::Open { .. } => "open",
            RelationStep::Receive { .. } => "receive",
            RelationStep::Graduate { .. } => "graduate",
            RelationStep::Retain { .. } => "retain",
            RelationStep::FlagRetention { .. } => "flag_retention",
            RelationStep::RequestTransfer { .. } => "request_transfer",
            RelationStep::Approve { .. } => "approve",
            RelationStep::AssignBranch { .. } => "assign_branch",
            RelationStep::Complete { .. } => "complete",
            RelationStep::Reject { .. } => "reject",
            RelationStep::Cancel { .. } => "cancel",
            RelationStep::MarkOverdue { .. } => "mark_overdue",
            RelationStep::RecordContact { .. } => "record_contact",
            RelationStep::MarkLostContact { .. } => "mark_lost_contact",
            RelationStep::Suspend { .. } => "suspend",
            RelationStep::ReportIn { .. } => "report_in",
            RelationStep::AcceptReportIn { .. } => "accept_report_in",
            RelationStep::DeclineReportIn { .. } => "decline_report_in",
            RelationStep::Delete { .. } => "delete",
        }
    }
}

/// The data of one relation instance (one stay at one branch), rebuilt exactly by replaying the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationData {
    /// The branch (code) the relation sits in now.
    pub branch: String,
    /// Start of this stay.
    pub since: Option<Date>,
    /// Where the member came from, for a stay that began with `receive`.
    pub from_branch: Option<String>,
    /// Graduation date: from then until the relation moves, the record is locked (TRF_NO_DELETE).
    pub graduated_on: Option<Date>,
    /// Retention at the school.
    pub retention: Option<Retention>,
    /// Last successful contact.
    pub last_contact_on: Option<Date>,
    /// Unanswered contact attempts since lost contact (TRF_LOST_CONTACT verification).
    pub attempts: Vec<Date>,
    /// Date of lost contact.
    pub lost_contact_on: Option<Date>,
    /// The suspension, if suspended.
    pub suspension: Option<Suspension>,
    /// The open (or the last) transfer.
    pub transfer: Option<Transfer>,
    /// The branch reported in to.
    pub report_in: Option<(Date, String)>,
    /// The state to return to from `transfer_requested` / `reported_in`.
    pub return_to: Option<String>,
    /// Where and when the member left this branch.
    pub left: Option<(Date, String)>,
    /// Tombstone: date and reason.
    pub deleted: Option<(Date, String)>,
}

impl RelationData {
    /// Applies a recorded step taken in state `from`.
    pub fn apply(&mut self, from: &str, step: &RelationStep) {
        match step {
            RelationStep::Open { date, branch } => {
                self.branch = branch.clone();
                self.since = Some(*date);
            }
            RelationStep::Receive {
                date,
                branch,
                from_branch,
            } => {
                self.branch = branch.clone();
                self.since = Some(*date);
                self.from_branch = Some(from_branch.clone());
            }
            RelationStep::Graduate { date } => self.graduated_on = Some(*date),
            RelationStep::Retain {
                date,
                reason,
                branch,
            } => {
                self.branch = branch.clone();
                self.retention = Some(Retention {
                    reason: *reason,
                    since: *date,
                    flagged_months: 0,
                });
            }
            RelationStep::FlagRetention { months, .. } => {
                if let Some(r) = &mut self.retention {
                    r.flagged_months = *months;
                }
            }
            RelationStep::RequestTransfer { transfer, .. } => {
                self.transfer = Some(transfer.clone());
                self.return_to = Some(from.to_owned());
            }
            RelationStep::Approve {
                date, org, sides, ..
            } => {
                if let Some(t) = &mut self.transfer {
                    for s in sides {
                        match s {
                            Initiator::Outgoing => t.outgoing_approved = Some((*date, org.clone())),
                            Initiator::Incoming => t.incoming_approved = Some((*date, org.clone())),
                            Initiator::Member => {}
                        }
                    }
                    t.last_action_on = *date;
                }
            }
            RelationStep::AssignBranch { date, branch } => {
                if let Some(t) = &mut self.transfer {
                    t.to_branch = Some(branch.clone());
                    t.last_action_on = *date;
                }
            }
            RelationStep::Complete { date, to_branch } => {
                if let Some(t) = &mut self.transfer {
                    t.outcome = Some((TransferOutcome::Completed, *date));
                }
                self.left = Some((*date, to_branch.clone()));
                self.return_to = None;
            }
            RelationStep::Reject { date, .. } | RelationStep::Cancel { date, .. } => {
                if let Some(t) = &mut self.transfer {
                    let o = if matches!(step, RelationStep::Reject { .. }) {
                        TransferOutcome::Rejected
                    } else {
                        TransferOutcome::Cancelled
                    };
                    t.outcome = Some((o, *date));
                }
                self.return_to = None;
            }
            RelationStep::MarkOverdue { date, escalated_to } => {
                if let Some(t) = &mut self.transfer {
                    t.overdue_on = Some(*date);
                    t.escalated_to = Some(escalated_to.clone());
                }
            }
            RelationStep::RecordContact { date, reached, .. } => {
                if *reached {
                    if self.last_contact_on.is_none_or(|d| d < *date) {
                        self.last_contact_on = Some(*date);
                    }
                } else {
                    self.attempts.push(*date);
                }
            }
            RelationStep::MarkLostContact { date, .. } => {
                self.lost_contact_on = Some(*date);
                self.attempts.clear();
            }
            RelationStep::Suspend { suspension, .. } => self.suspension = Some(suspension.clone()),
            RelationStep::ReportIn { date, branch } => {
                self.report_in = Some((*date, branch.clone()));
                self.return_to = Some(from.to_owned());
            }
            RelationStep::AcceptReportIn { date, .. } => {
                let to = self
                    .report_in
                    .as_ref()
                    .map(|(_, b)| b.clone())
                    .unwrap_or_default();
                self.left = Some((*date, to));
                self.return_to = None;
            }
            RelationStep::DeclineReportIn { .. } => {
                self.report_in = None;
                self.return_to = None;
            }
            RelationStep::Delete { date, reason } => self.deleted = Some((*date, reason.clone())),
        }
    }

    /// Whether the record is locked against deletion (TRF_NO_DELETE): graduated and not yet moved,
    /// or a transfer open.
    pub fn locked(&self, state: &str) -> bool {
        crate::LOCKED_STATES.contains(&state)
            || (self.graduated_on.is_some() && self.left.is_none())
    }

    /// The date the lost-contact period counts from: the last contact, else the later of graduation,
    /// retention and the start of this stay.
    pub fn contact_baseline(&self) -> Option<Date> {
        [
            self.last_contact_on,
            self.graduated_on,
            self.retention.as_ref().map(|r| r.since),
            self.since,
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

/// An organisation as a relation guard sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrgFact {
    /// `名称 (code)`, for messages.
    pub label: String,
    /// Code.
    pub code: String,
    /// `tuanji_domain::OrgKind` in snake_case.
    pub kind: String,
    /// A school organisation (has a school level).
    pub school: bool,
    /// A mobile-member branch (流动团员团支部).
    pub mobile: bool,
}

impl OrgFact {
    /// Whether it is a branch (团支部).
    pub fn is_branch(&self) -> bool {
        self.kind == "branch"
    }
}

/// Everything a relation guard may look at, gathered by the engine before the guards run.
#[derive(Debug, Clone)]
pub struct RelationFacts<'a> {
    /// Policy of the instance's workflow version.
    pub policy: &'a RelationPolicy,
    /// Instance data before the step.
    pub data: &'a RelationData,
    /// State before the step.
    pub state: &'a str,
    /// The step.
    pub step: &'a RelationStep,
    /// The role the command is issued in.
    pub role: &'a str,
    /// The organisation acting (approving, assigning, requesting as a side), if any.
    pub acting: Option<OrgFact>,
    /// Whether `acting` is or is above the member's current branch.
    pub acting_covers_branch: bool,
    /// Whether `acting` is or is above the transfer's receiving organisation.
    pub acting_covers_target: bool,
    /// The organisation the step points to (receiving organisation, assigned branch, report-in
    /// branch, retention branch).
    pub target: Option<OrgFact>,
    /// Whether `target` lies in the receiving committee's subtree (for `assign_branch`), or in the
    /// same school as the member's branch (for `retain`).
    pub target_inside: bool,
    /// Another open transfer of the member, from the `transfers` projection (TRF_ONE_OPEN).
    pub open_elsewhere: Option<String>,
}

fn refuse(code: RuleCode, msg: String) -> Result<(), RuleViolation> {
    Err(RuleViolation::new(code, msg))
}

/// Runs the named relation guard. `Ok(())` when it passes.
///
/// # Errors
/// The guard's rule code with a message naming the facts that failed; `WF_NOT_ALLOWED` for a name
/// that is not a relation guard.
pub fn check_guard(name: &str, f: &RelationFacts<'_>) -> Result<(), RuleViolation> {
    let acting = f.acting.as_ref();
    let acting_label = acting.map_or("no organisation".to_owned(), |o| o.label.clone());
    let transfer = f.data.transfer.as_ref();
    match name {
        "target_is_branch" => match f.step {
            RelationStep::Complete { .. } => match transfer.and_then(|t| t.to_branch.as_ref()) {
                Some(_) => Ok(()),
                None => refuse(
                    RuleCode::TrfBranchOnly,
                    format!(
                        "the transfer goes to committee {}; it completes only when that committee assigns a branch (团支部)",
                        transfer.map_or("?", |t| t.to_org.as_str())
                    ),
                ),
            },
            _ => match &f.target {
                Some(t) if t.is_branch() => Ok(()),
                Some(t) => refuse(
                    RuleCode::TrfBranchOnly,
                    format!("{} is a {}: a relation sits only in a branch (团支部)", t.label, t.kind),
                ),
                None => refuse(RuleCode::TrfBranchOnly, "no receiving branch is named".into()),
            },
        },
        "assigned_branch_valid" => {
            let Some(t) = transfer else {
                return refuse(RuleCode::TrfBranchOnly, "no open transfer".into());
            };
            match &f.target {
                Some(b) if !b.is_branch() => refuse(
                    RuleCode::TrfBranchOnly,
                    format!("{} is a {}, not a branch (团支部)", b.label, b.kind),
                ),
                Some(b) if !f.target_inside => refuse(
                    RuleCode::TrfBranchOnly,
                    format!("{} is not under the receiving committee {}", b.label, t.to_org),
                ),
                None => refuse(RuleCode::TrfBranchOnly, "no branch is named".into()),
                Some(_) if t.to_branch.is_some() && t.to_branch.as_deref() == Some(&t.to_org) => {
                    refuse(
                        RuleCode::TrfBranchOnly,
                        format!("the transfer already goes to branch {}", t.to_org),
                    )
                }
                Some(_) if !f.acting_covers_target => refuse(
                    RuleCode::TrfBranchOnly,
                    format!(
                        "{acting_label} is not the receiving committee {} or above it; only it assigns the branch",
                        t.to_org
                    ),
                ),
                Some(_) => Ok(()),
            }
        }
        "one_open" => match &f.open_elsewhere {
            Some(o) => refuse(
                RuleCode::TrfOneOpen,
                format!("the member already has an open transfer ({o}); a member has at most one"),
            ),
            None => Ok(()),
        },
        "initiator_valid" => {
            let RelationStep::RequestTransfer { transfer: t, .. } = f.step else {
                return Ok(());
            };
            match t.initiator {
                Initiator::Member if f.role != "member" => refuse(
                    RuleCode::TrfInitiator,
                    format!("a transfer initiated by the member is requested in the role `member`, not `{}`", f.role),
                ),
                Initiator::Member => Ok(()),
                Initiator::Outgoing if !f.acting_covers_branch => refuse(
                    RuleCode::TrfInitiator,
                    format!("{acting_label} is not the outgoing organisation (the branch {} or above it)", t.from_branch),
                ),
                Initiator::Incoming if !f.acting_covers_target => refuse(
                    RuleCode::TrfInitiator,
                    format!("{acting_label} is not the incoming organisation ({} or above it)", t.to_org),
                ),
                _ if f.role == "member" => refuse(
                    RuleCode::TrfInitiator,
                    "a member initiates only in their own name (initiator `member`)".into(),
                ),
                _ => Ok(()),
            }
        }
        "approver_is_party" => {
            let Some(t) = transfer else {
                return refuse(RuleCode::TrfInitiator, "no open transfer".into());
            };
            let pending = t.pending_sides();
            let covers = |s: &Initiator| match s {
                Initiator::Outgoing => f.acting_covers_branch,
                Initiator::Incoming => f.acting_covers_target,
                Initiator::Member => false,
            };
            if pending.iter().any(covers) {
                Ok(())
            } else if pending.is_empty() {
                refuse(RuleCode::TrfInitiator, "every side has already approved".into())
            } else {
                let names: Vec<String> = pending
                    .iter()
                    .map(|s| match s {
                        Initiator::Outgoing => format!("outgoing ({} or above)", t.from_branch),
                        _ => format!("incoming ({} or above)", t.to_org),
                    })
                    .collect();
                refuse(
                    RuleCode::TrfInitiator,
                    format!(
                        "{acting_label} is not a counter-party of this transfer; waiting on: {}",
                        names.join(", ")
                    ),
                )
            }
        }
        "approvals_complete" => match transfer {
            Some(t) if t.pending_sides().is_empty() => Ok(()),
            Some(t) => refuse(
                RuleCode::TrfInitiator,
                format!(
                    "still waiting on the {} side",
                    t.pending_sides().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" and ")
                ),
            ),
            None => refuse(RuleCode::TrfInitiator, "no open transfer".into()),
        },
        "canceller_is_initiator" => {
            let Some(t) = transfer else {
                return refuse(RuleCode::TrfInitiator, "no open transfer".into());
            };
            let ok = match t.initiator {
                Initiator::Member => f.role == "member" || f.acting_covers_branch,
                Initiator::Outgoing => f.role != "member" && f.acting_covers_branch,
                Initiator::Incoming => f.role != "member" && f.acting_covers_target,
            };
            if ok {
                Ok(())
            } else {
                refuse(
                    RuleCode::TrfInitiator,
                    format!(
                        "only the initiator ({}) cancels a transfer; {acting_label} in the role `{}` may not",
                        t.initiator.as_str(),
                        f.role
                    ),
                )
            }
        }
        "destination_valid" => {
            let RelationStep::RequestTransfer { transfer: t, .. } = f.step else {
                return Ok(());
            };
            match (&f.target, t.destination) {
                (Some(o), Destination::FurtherStudy) if !o.school => refuse(
                    RuleCode::TrfFurtherStudy,
                    format!(
                        "further study goes to a school organisation; {} is a {} without a school level (never a township or residence organisation)",
                        o.label, o.kind
                    ),
                ),
                (None, _) => refuse(RuleCode::TrfFurtherStudy, "no receiving organisation".into()),
                _ => Ok(()),
            }
        }
        "timeout_elapsed" => {
            let Some(t) = transfer else {
                return refuse(RuleCode::TrfTimeout, "no open transfer".into());
            };
            let due = t.last_action_on + chrono::Days::new(u64::from(f.policy.transfer_timeout_days));
            if t.overdue_on.is_some() {
                refuse(RuleCode::TrfTimeout, format!("already overdue since {}", t.overdue_on.map_or(String::new(), |d| d.to_string())))
            } else if f.step.date() < due {
                refuse(
                    RuleCode::TrfTimeout,
                    format!("last acted on {}; overdue only from {due} ({} days)", t.last_action_on, f.policy.transfer_timeout_days),
                )
            } else {
                Ok(())
            }
        }
        "retention_branch" => {
            let RelationStep::Retain { reason, .. } = f.step else {
                return Ok(());
            };
            match (reason, &f.target) {
                (RetentionReason::NoJob, Some(b)) if !(b.mobile && b.is_branch()) => refuse(
                    RuleCode::TrfRetention,
                    format!("{} is not a mobile-member branch (流动团员团支部)", b.label),
                ),
                (RetentionReason::NoJob, Some(b)) if !f.target_inside => refuse(
                    RuleCode::TrfRetention,
                    format!("{} is not a branch of the member's school", b.label),
                ),
                (RetentionReason::NoJob, None) => refuse(
                    RuleCode::TrfRetention,
                    "the school has no mobile-member branch (流动团员团支部); create one (org import, column mobile_members)".into(),
                ),
                _ => Ok(()),
            }
        }
        "retention_elapsed" => {
            let RelationStep::FlagRetention { date, months } = f.step else {
                return Ok(());
            };
            match &f.data.retention {
                Some(r) if r.reason == RetentionReason::NoJob
                    && *months > r.flagged_months
                    && add_months(r.since, *months) <= *date =>
                {
                    Ok(())
                }
                Some(r) => refuse(
                    RuleCode::TrfRetention,
                    format!("retention since {} ({:?}) is not past {months} months unflagged on {date}", r.since, r.reason),
                ),
                None => refuse(RuleCode::TrfRetention, "no retention recorded".into()),
            }
        }
        "contact_lapsed" => {
            let base = f.data.contact_baseline();
            match base {
                Some(b) if add_months(b, f.policy.lost_contact_months) <= f.step.date() => Ok(()),
                _ => refuse(
                    RuleCode::TrfLostContact,
                    format!(
                        "last contact {}; lost contact only after {} months without contact",
                        base.map_or("unknown".into(), |d| d.to_string()),
                        f.policy.lost_contact_months
                    ),
                ),
            }
        }
        "verification_complete" => {
            let Some(start) = f.data.lost_contact_on else {
                return refuse(RuleCode::TrfLostContact, "no lost contact recorded".into());
            };
            let months = f.policy.verification_months;
            let end = add_months(start, months);
            if f.step.date() < end {
                return refuse(
                    RuleCode::TrfLostContact,
                    format!("verification runs from {start} for {months} months, until {end}"),
                );
            }
            for m in 0..months {
                let (from, to) = (add_months(start, m), add_months(start, m + 1));
                if !f.data.attempts.iter().any(|d| *d >= from && *d < to) {
                    return refuse(
                        RuleCode::TrfLostContact,
                        format!("no contact attempt is recorded from {from} to {to} (one a month is required)"),
                    );
                }
            }
            Ok(())
        }
        "suspension_approval" => {
            let RelationStep::Suspend { suspension: s, date } = f.step else {
                return Ok(());
            };
            let basic = acting.is_some_and(|o| {
                matches!(o.kind.as_str(), "basic_committee" | "working_committee" | "township" | "county")
            });
            if !basic || !f.acting_covers_branch {
                refuse(
                    RuleCode::TrfLostContact,
                    format!("{acting_label} is not a basic-level committee above the member's branch"),
                )
            } else if s.meeting_date > *date {
                refuse(
                    RuleCode::TrfLostContact,
                    format!("the branch meeting ({}) comes before the approval ({date})", s.meeting_date),
                )
            } else if f
                .data
                .lost_contact_on
                .is_some_and(|l| s.meeting_date < add_months(l, f.policy.verification_months))
            {
                refuse(
                    RuleCode::TrfLostContact,
                    format!("the branch meeting ({}) is before the end of verification", s.meeting_date),
                )
            } else {
                Ok(())
            }
        }
        "report_in_branch" => match &f.target {
            Some(b) if b.is_branch() => Ok(()),
            Some(b) => refuse(
                RuleCode::TrfReportIn,
                format!("{} is a {}: a member reports in to a branch (团支部)", b.label, b.kind),
            ),
            None => refuse(RuleCode::TrfReportIn, "no branch is named".into()),
        },
        "report_in_approver" => {
            let to = f.data.report_in.as_ref().map_or("?", |(_, b)| b.as_str());
            if f.acting_covers_target {
                Ok(())
            } else {
                refuse(
                    RuleCode::TrfReportIn,
                    format!("{acting_label} is not the branch reported to ({to}) or above it"),
                )
            }
        }
        "not_locked" => {
            if f.data.locked(f.state) {
                refuse(RuleCode::TrfNoDelete, lock_message(f.state, f.data))
            } else {
                Ok(())
            }
        }
        other => refuse(
            RuleCode::WfNotAllowed,
            format!("guard `{other}` is not a guard of the relation machine"),
        ),
    }
}

/// The TRF_NO_DELETE refusal: why the record is locked.
pub fn lock_message(state: &str, data: &RelationData) -> String {
    let transfer = data
        .transfer
        .as_ref()
        .filter(|t| t.outcome.is_none())
        .map(|t| {
            format!(
                "; open transfer to {} requested {}",
                t.to_org, t.requested_on
            )
        })
        .unwrap_or_default();
    format!(
        "the member's relation is `{state}`{}{transfer}: a member graduated pending transfer or with an open transfer cannot be deleted or archived by anyone",
        data.graduated_on
            .map(|d| format!(" (graduated {d}, not yet transferred)"))
            .unwrap_or_default()
    )
}

/// Runs the named relation flag: `Some(message)` when it is raised.
pub fn check_flag(name: &str, f: &RelationFacts<'_>) -> Option<String> {
    match name {
        "transfer_overdue" => f.data.transfer.as_ref().and_then(|t| {
            t.overdue_on
                .map(|d| format!("approved after the transfer became overdue on {d}"))
        }),
        _ => None,
    }
}
