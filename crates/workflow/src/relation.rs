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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A signed checkpoint of the transition log as a relation step records it (docs/audit-format.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRef {
    /// Checkpoint number.
    pub id: i64,
    /// Log size it covers.
    pub size: i64,
    /// Its RFC 6962 Merkle root (hex).
    pub root: String,
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
        /// The latest signed checkpoint of the log when the relation moved (issue 5: each side of a transfer
        /// records the log's checkpoint), if any was taken.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkpoint: Option<CheckpointRef>,
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
        /// The latest signed checkpoint of the log when the relation moved, if any was taken.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkpoint: Option<CheckpointRef>,
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
                ..
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
                    // Acted on: the timeout runs again from today, and a later silence escalates afresh.
                    t.last_action_on = *date;
                    t.overdue_on = None;
                    t.escalated_to = None;
                }
            }
            RelationStep::AssignBranch { date, branch } => {
                if let Some(t) = &mut self.transfer {
                    t.to_branch = Some(branch.clone());
                    t.last_action_on = *date;
                    t.overdue_on = None;
                    t.escalated_to = None;
                }
            }
            RelationStep::Complete {
                date, to_branch, ..
            } => {
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

impl<'a> RelationFacts<'a> {
    /// Facts with no acting organisation, no target and no other open transfer: what the sweep's steps and the
    /// engine's follow-up steps (`complete`, `receive`) start from.
    pub fn new(
        policy: &'a RelationPolicy,
        data: &'a RelationData,
        state: &'a str,
        step: &'a RelationStep,
        role: &'a str,
    ) -> Self {
        RelationFacts {
            policy,
            data,
            state,
            step,
            role,
            acting: None,
            acting_covers_branch: false,
            acting_covers_target: false,
            target: None,
            target_inside: false,
            open_elsewhere: None,
        }
    }
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
                    format!("the branch meeting ({}) is after the approval ({date}); the meeting decides first", s.meeting_date),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn policy() -> RelationPolicy {
        let def = crate::builtin()
            .latest("relation")
            .expect("shipped relation workflow");
        RelationPolicy::from_definition(def).expect("shipped policy")
    }

    fn facts<'a>(
        policy: &'a RelationPolicy,
        data: &'a RelationData,
        state: &'a str,
        step: &'a RelationStep,
    ) -> RelationFacts<'a> {
        RelationFacts {
            policy,
            data,
            state,
            step,
            role: "committee_admin",
            acting: None,
            acting_covers_branch: false,
            acting_covers_target: false,
            target: None,
            target_inside: false,
            open_elsewhere: None,
        }
    }

    /// A member-initiated transfer from the senior class to a university branch, requested 2026-08-01.
    fn transfer() -> Transfer {
        Transfer {
            id: "0190c0de-0000-7000-8000-000000000001".into(),
            initiator: Initiator::Member,
            destination: Destination::FurtherStudy,
            from_branch: "S001-G3".into(),
            to_org: "U001-B1".into(),
            to_branch: Some("U001-B1".into()),
            requested_on: d(2026, 8, 1),
            needs_outgoing: true,
            needs_incoming: true,
            outgoing_approved: None,
            incoming_approved: None,
            last_action_on: d(2026, 8, 1),
            overdue_on: None,
            escalated_to: None,
            outcome: None,
        }
    }

    /// A graduate of S001-G3 (member since 2025-05-04, graduated 2026-07-01).
    fn graduate() -> RelationData {
        let mut data = RelationData::default();
        data.apply(
            "new",
            &RelationStep::Open {
                date: d(2025, 5, 4),
                branch: "S001-G3".into(),
            },
        );
        data.apply(
            "at_branch",
            &RelationStep::Graduate {
                date: d(2026, 7, 1),
            },
        );
        data
    }

    #[test]
    fn apply_open_and_graduate_start_the_stay_and_the_lock() {
        let data = graduate();
        assert_eq!(
            data,
            RelationData {
                branch: "S001-G3".into(),
                since: Some(d(2025, 5, 4)),
                graduated_on: Some(d(2026, 7, 1)),
                ..RelationData::default()
            }
        );
    }

    #[test]
    fn apply_request_then_reject_returns_to_the_requesting_state() {
        let mut data = graduate();
        data.apply(
            "graduated_pending_transfer",
            &RelationStep::RequestTransfer {
                date: d(2026, 8, 1),
                transfer: transfer(),
            },
        );
        assert_eq!(
            data.return_to.as_deref(),
            Some("graduated_pending_transfer")
        );
        data.apply(
            "transfer_requested",
            &RelationStep::Approve {
                date: d(2026, 8, 3),
                org: "S001".into(),
                sides: vec![Initiator::Outgoing],
                automatic: false,
            },
        );
        let t = data.transfer.clone().expect("transfer");
        assert_eq!(
            (
                t.outgoing_approved.clone(),
                t.last_action_on,
                t.pending_sides()
            ),
            (
                Some((d(2026, 8, 3), "S001".to_owned())),
                d(2026, 8, 3),
                vec![Initiator::Incoming]
            )
        );
        data.apply(
            "transfer_requested",
            &RelationStep::Reject {
                date: d(2026, 8, 5),
                org: "U001-B1".into(),
                reason: "未被录取".into(),
                back_to: "graduated_pending_transfer".into(),
            },
        );
        assert_eq!(data.return_to, None);
        assert_eq!(
            data.transfer.as_ref().and_then(|t| t.outcome),
            Some((TransferOutcome::Rejected, d(2026, 8, 5)))
        );
        assert_eq!(
            data.left, None,
            "a rejected transfer does not move the relation"
        );
    }

    #[test]
    fn apply_complete_records_where_the_member_went() {
        let mut data = graduate();
        data.apply(
            "graduated_pending_transfer",
            &RelationStep::RequestTransfer {
                date: d(2026, 8, 1),
                transfer: transfer(),
            },
        );
        data.apply(
            "transfer_requested",
            &RelationStep::Complete {
                date: d(2026, 8, 5),
                to_branch: "U001-B1".into(),
                checkpoint: None,
            },
        );
        assert_eq!(data.left, Some((d(2026, 8, 5), "U001-B1".to_owned())));
        assert_eq!(
            data.transfer.as_ref().and_then(|t| t.outcome),
            Some((TransferOutcome::Completed, d(2026, 8, 5)))
        );
        assert_eq!(data.return_to, None);
    }

    #[test]
    fn apply_contacts_keep_the_latest_contact_and_every_attempt() {
        let mut data = graduate();
        for (date, reached) in [
            (d(2026, 8, 10), true),
            (d(2026, 8, 1), true),
            (d(2026, 9, 1), false),
        ] {
            data.apply(
                "graduated_pending_transfer",
                &RelationStep::RecordContact {
                    date,
                    reached,
                    note: "电话".into(),
                },
            );
        }
        assert_eq!(
            data.last_contact_on,
            Some(d(2026, 8, 10)),
            "an older contact does not win"
        );
        assert_eq!(data.attempts, vec![d(2026, 9, 1)]);
        data.apply(
            "graduated_pending_transfer",
            &RelationStep::MarkLostContact {
                date: d(2027, 2, 10),
                last_contact: d(2026, 8, 10),
            },
        );
        assert_eq!(
            (data.lost_contact_on, data.attempts.len()),
            (Some(d(2027, 2, 10)), 0),
            "verification counts attempts from lost contact on"
        );
    }

    #[test]
    fn apply_retain_and_flag_retention() {
        let mut data = graduate();
        data.apply(
            "graduated_pending_transfer",
            &RelationStep::Retain {
                date: d(2026, 7, 10),
                reason: RetentionReason::NoJob,
                branch: "S001-M".into(),
            },
        );
        data.apply(
            "retained",
            &RelationStep::FlagRetention {
                date: d(2027, 1, 10),
                months: 6,
            },
        );
        assert_eq!(data.branch, "S001-M");
        assert_eq!(
            data.retention,
            Some(Retention {
                reason: RetentionReason::NoJob,
                since: d(2026, 7, 10),
                flagged_months: 6,
            })
        );
    }

    #[test]
    fn apply_report_in_and_decline_return_and_forget_the_branch() {
        let mut data = graduate();
        data.apply(
            "lost_contact",
            &RelationStep::ReportIn {
                date: d(2026, 9, 1),
                branch: "T001-B1".into(),
            },
        );
        assert_eq!(
            (data.report_in.clone(), data.return_to.as_deref()),
            (
                Some((d(2026, 9, 1), "T001-B1".to_owned())),
                Some("lost_contact")
            )
        );
        let mut declined = data.clone();
        declined.apply(
            "reported_in",
            &RelationStep::DeclineReportIn {
                date: d(2026, 9, 5),
                org: "T001-B1".into(),
                reason: "不在本社区".into(),
                back_to: "lost_contact".into(),
            },
        );
        assert_eq!((declined.report_in, declined.return_to), (None, None));
        data.apply(
            "reported_in",
            &RelationStep::AcceptReportIn {
                date: d(2026, 9, 5),
                org: "T001-B1".into(),
            },
        );
        assert_eq!(data.left, Some((d(2026, 9, 5), "T001-B1".to_owned())));
    }

    #[test]
    fn trf_no_delete_locked_while_graduated_or_in_a_locked_state() {
        let plain = RelationData {
            branch: "S001-G1".into(),
            since: Some(d(2025, 5, 4)),
            ..RelationData::default()
        };
        assert!(!plain.locked("at_branch"));
        for state in crate::LOCKED_STATES {
            assert!(plain.locked(state), "{state} is locked");
        }
        let mut grad = graduate();
        assert!(grad.locked("graduated_pending_transfer"));
        // Even in a state outside the list, a graduate not yet moved stays locked.
        assert!(grad.locked("at_branch"));
        grad.left = Some((d(2026, 8, 5), "U001-B1".into()));
        assert!(
            !grad.locked("transferred"),
            "the old stay of a moved graduate"
        );
        let message = lock_message("graduated_pending_transfer", &graduate());
        assert_eq!(
            message,
            "the member's relation is `graduated_pending_transfer` (graduated 2026-07-01, not yet transferred): a member graduated pending transfer or with an open transfer cannot be deleted or archived by anyone"
        );
    }

    #[test]
    fn trf_lost_contact_baseline_is_the_latest_of_contact_graduation_retention_and_stay() {
        assert_eq!(RelationData::default().contact_baseline(), None);
        let mut data = graduate();
        assert_eq!(data.contact_baseline(), Some(d(2026, 7, 1)));
        data.retention = Some(Retention {
            reason: RetentionReason::Abroad,
            since: d(2026, 7, 20),
            flagged_months: 0,
        });
        assert_eq!(data.contact_baseline(), Some(d(2026, 7, 20)));
        data.last_contact_on = Some(d(2026, 7, 15));
        assert_eq!(
            data.contact_baseline(),
            Some(d(2026, 7, 20)),
            "an older contact"
        );
        data.last_contact_on = Some(d(2026, 9, 1));
        assert_eq!(data.contact_baseline(), Some(d(2026, 9, 1)));
    }

    /// Lost contact on `start` with unanswered attempts on `attempts`.
    fn lost(start: Date, attempts: &[Date]) -> RelationData {
        RelationData {
            lost_contact_on: Some(start),
            attempts: attempts.to_vec(),
            ..graduate()
        }
    }

    fn suspend_on(date: Date) -> RelationStep {
        RelationStep::Suspend {
            date,
            suspension: Suspension {
                meeting_date: date,
                approved_by: "S001".into(),
                from: date,
                until: add_months(date, 24),
            },
        }
    }

    fn verification(data: &RelationData, on: Date) -> Result<(), RuleViolation> {
        let p = policy();
        let step = suspend_on(on);
        check_guard(
            "verification_complete",
            &facts(&p, data, "lost_contact", &step),
        )
    }

    #[test]
    fn trf_lost_contact_verification_complete_with_an_attempt_each_month() {
        let monthly: Vec<Date> = (1..=6).map(|m| d(2026, m, 15)).collect();
        assert_eq!(
            verification(&lost(d(2026, 1, 1), &monthly), d(2026, 7, 1)),
            Ok(())
        );
        // The first and last day of a month window count; the window is [start + m, start + m + 1).
        let edges: Vec<Date> = (1..=6).map(|m| d(2026, m, 1)).collect();
        assert_eq!(
            verification(&lost(d(2026, 1, 1), &edges), d(2026, 7, 1)),
            Ok(())
        );
    }

    #[test]
    fn trf_lost_contact_verification_refuses_before_six_months() {
        let monthly: Vec<Date> = (1..=6).map(|m| d(2026, m, 15)).collect();
        let err = verification(&lost(d(2026, 1, 1), &monthly), d(2026, 6, 30)).expect_err("early");
        assert_eq!(err.code, RuleCode::TrfLostContact);
        assert_eq!(
            err.message,
            "verification runs from 2026-01-01 for 6 months, until 2026-07-01"
        );
    }

    #[test]
    fn trf_lost_contact_verification_refuses_a_month_without_attempt() {
        // Two attempts in March, none in April.
        let attempts = [
            d(2026, 1, 15),
            d(2026, 2, 15),
            d(2026, 3, 2),
            d(2026, 3, 31),
            d(2026, 5, 15),
            d(2026, 6, 15),
        ];
        let err = verification(&lost(d(2026, 1, 1), &attempts), d(2026, 7, 1)).expect_err("gap");
        assert_eq!(err.code, RuleCode::TrfLostContact);
        assert_eq!(
            err.message,
            "no contact attempt is recorded from 2026-04-01 to 2026-05-01 (one a month is required)"
        );
        // An attempt on the day a window ends belongs to the next window.
        let attempts: Vec<Date> = (2..=7).map(|m| d(2026, m, 1)).collect();
        let err =
            verification(&lost(d(2026, 1, 1), &attempts), d(2026, 7, 1)).expect_err("shifted");
        assert_eq!(
            err.message,
            "no contact attempt is recorded from 2026-01-01 to 2026-02-01 (one a month is required)"
        );
    }

    #[test]
    fn trf_lost_contact_verification_windows_follow_month_ends() {
        // Lost contact on 31 January: the windows end on 28 February, 31 March, 30 April, …
        let start = d(2026, 1, 31);
        let ok = [
            d(2026, 2, 27),
            d(2026, 2, 28),
            d(2026, 3, 31),
            d(2026, 4, 30),
            d(2026, 5, 31),
            d(2026, 6, 30),
        ];
        assert_eq!(verification(&lost(start, &ok), d(2026, 7, 31)), Ok(()));
        let err = verification(&lost(start, &ok[1..]), d(2026, 7, 31)).expect_err("first window");
        assert_eq!(
            err.message,
            "no contact attempt is recorded from 2026-01-31 to 2026-02-28 (one a month is required)"
        );
    }

    #[test]
    fn trf_lost_contact_verification_refuses_without_lost_contact() {
        let err = verification(&graduate(), d(2026, 12, 1)).expect_err("not lost");
        assert_eq!(
            (err.code, err.message.as_str()),
            (RuleCode::TrfLostContact, "no lost contact recorded")
        );
    }
}
