//! Organisation relation (组织关系) use cases: graduation, transfers, retention, contact, lost contact,
//! suspension, report-in, deletion and the sweep, each one transaction over `workflows/relation.v1.toml`.
//! Rules: DOMAIN.md "Organisation relation and transfer (§3, §4)" (TRF_*), sources in DOMAIN-SOURCES.md §3–§4.
//!
//! A relation instance is one stay of a member at one branch. A member admitted or imported before any
//! relation command has none: the first relation command opens it (`open`, logged, effective on the
//! membership date). A completed transfer or accepted report-in ends the stay (`transferred`, the old
//! branch's read-only record of where the member went and when) and starts the next one at the receiving
//! branch (`receive`).

use crate::admission::{check_text, codes_of, masked, role_for, to_json};
use crate::{Actor, Engine, EngineError, EngineResult};
use serde::Serialize;
use std::collections::HashMap;
use tuanji_domain::{add_months, Date, RuleCode, RuleViolation};
use tuanji_store::{
    InstanceRow, MemberRow, NewLogEntry, OrgRow, PersonRow, Store, StoreError, StoreTx,
    TransferFilter, TransferRow,
};
use tuanji_workflow::relation::{
    check_flag, check_guard, lock_message, Destination, Initiator, MemberInitiatedApprovals,
    OrgFact, RelationData, RelationFacts, RelationStep, RetentionReason, Suspension, Transfer,
    TransferOutcome,
};
use tuanji_workflow::{Definition, TransitionDef, HISTORY, NEW};
use uuid::Uuid;

/// The relation states that end a stay.
const ENDED: &[&str] = &["transferred", "deleted"];

/// A relation command as a user gives it. Organisations are named by code; dates are effective dates
/// (China Standard Time) and may not be after today. In JSON (HTTP API): an object whose `command` names the
/// workflow command (`request_transfer`, `approve`, …) beside its fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum RelationCommand {
    /// Keep a graduate at the school (TRF_RETENTION): `no_job` at the school's mobile-member branch
    /// (`branch`, or the one the school has), `abroad` at the current branch.
    Retain {
        /// Effective date.
        date: Date,
        /// Why.
        reason: RetentionReason,
        /// The mobile-member branch, when the school has several.
        branch: Option<String>,
    },
    /// Request a transfer (TRF_INITIATOR, TRF_ONE_OPEN, TRF_FURTHER_STUDY).
    RequestTransfer {
        /// Effective date.
        date: Date,
        /// The receiving organisation: a branch, or a committee that will assign one.
        to: String,
        /// Where the member goes.
        destination: Destination,
        /// Who initiates.
        initiator: Initiator,
        /// The initiating organisation (required for `outgoing` / `incoming`).
        org: Option<String>,
    },
    /// A counter-party approves (TRF_INITIATOR).
    Approve {
        /// Effective date.
        date: Date,
        /// The approving organisation.
        org: String,
    },
    /// The receiving committee names the branch (TRF_BRANCH_ONLY).
    AssignBranch {
        /// Effective date.
        date: Date,
        /// The committee assigning.
        org: String,
        /// The branch.
        branch: String,
    },
    /// A counter-party refuses.
    Reject {
        /// Effective date.
        date: Date,
        /// The refusing organisation.
        org: String,
        /// Why (1–500 characters).
        reason: String,
    },
    /// The initiator withdraws the transfer.
    Cancel {
        /// Effective date.
        date: Date,
        /// The initiating organisation (none when the member initiated and cancels).
        org: Option<String>,
        /// Why.
        reason: String,
    },
    /// A contact with the member, or an unanswered attempt (TRF_LOST_CONTACT).
    RecordContact {
        /// Date.
        date: Date,
        /// Whether the member was reached.
        reached: bool,
        /// How, by whom (1–500 characters).
        note: String,
    },
    /// Suspension (停止团籍) after verification: branch meeting on `meeting_date`, approved by `committee`.
    Suspend {
        /// Approval date.
        date: Date,
        /// Date of the branch meeting.
        meeting_date: Date,
        /// The approving basic-level committee.
        committee: String,
    },
    /// The member reports in to a branch (TRF_REPORT_IN).
    ReportIn {
        /// Date.
        date: Date,
        /// The branch.
        branch: String,
    },
    /// The branch accepts the report-in; the relation moves there.
    AcceptReportIn {
        /// Date.
        date: Date,
        /// The accepting organisation (the branch or above it).
        org: String,
    },
    /// The branch declines the report-in.
    DeclineReportIn {
        /// Date.
        date: Date,
        /// The declining organisation.
        org: String,
        /// Why.
        reason: String,
    },
    /// Delete the record: a logged tombstone (TRF_NO_DELETE).
    Delete {
        /// Date.
        date: Date,
        /// Why (1–500 characters).
        reason: String,
    },
}

impl RelationCommand {
    /// The effective date.
    pub fn date(&self) -> Date {
        match self {
            RelationCommand::Retain { date, .. }
            | RelationCommand::RequestTransfer { date, .. }
            | RelationCommand::Approve { date, .. }
            | RelationCommand::AssignBranch { date, .. }
            | RelationCommand::Reject { date, .. }
            | RelationCommand::Cancel { date, .. }
            | RelationCommand::RecordContact { date, .. }
            | RelationCommand::Suspend { date, .. }
            | RelationCommand::ReportIn { date, .. }
            | RelationCommand::AcceptReportIn { date, .. }
            | RelationCommand::DeclineReportIn { date, .. }
            | RelationCommand::Delete { date, .. } => *date,
        }
    }

    /// The organisation the command names as acting (approving, refusing, assigning, initiating, suspending,
    /// receiving a report-in), if any.
    pub fn acting_org(&self) -> Option<&str> {
        match self {
            RelationCommand::Approve { org, .. }
            | RelationCommand::AssignBranch { org, .. }
            | RelationCommand::Reject { org, .. }
            | RelationCommand::AcceptReportIn { org, .. }
            | RelationCommand::DeclineReportIn { org, .. } => Some(org),
            RelationCommand::RequestTransfer { org, .. } | RelationCommand::Cancel { org, .. } => {
                org.as_deref()
            }
            RelationCommand::Suspend { committee, .. } => Some(committee),
            RelationCommand::ReportIn { branch, .. } => Some(branch),
            RelationCommand::Retain { .. }
            | RelationCommand::RecordContact { .. }
            | RelationCommand::Delete { .. } => None,
        }
    }

    /// The workflow command name.
    pub fn command(&self) -> &'static str {
        match self {
            RelationCommand::Retain { .. } => "retain",
            RelationCommand::RequestTransfer { .. } => "request_transfer",
            RelationCommand::Approve { .. } => "approve",
            RelationCommand::AssignBranch { .. } => "assign_branch",
            RelationCommand::Reject { .. } => "reject",
            RelationCommand::Cancel { .. } => "cancel",
            RelationCommand::RecordContact { .. } => "record_contact",
            RelationCommand::Suspend { .. } => "suspend",
            RelationCommand::ReportIn { .. } => "report_in",
            RelationCommand::AcceptReportIn { .. } => "accept_report_in",
            RelationCommand::DeclineReportIn { .. } => "decline_report_in",
            RelationCommand::Delete { .. } => "delete",
        }
    }
}

/// What a relation command did. A command can log several entries: `open` before the first command on a
/// member, `complete` and `receive` after the approval that completes a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelationOutcome {
    /// Masked resident ID.
    pub member: String,
    /// State before.
    pub from: String,
    /// State after (of the stay the member is in now: `at_branch` after a completed transfer).
    pub to: String,
    /// Commands logged, in order, with their log seq.
    pub logged: Vec<(String, i64)>,
    /// Rule codes checked by the command.
    pub rule_codes: Vec<String>,
    /// Flags raised (rule code, message); they do not refuse.
    pub flags: Vec<(String, String)>,
    /// The branch (code) the relation sits in now.
    pub branch: String,
    /// The transfer, if the command concerned one.
    pub transfer: Option<TransferView>,
}

/// A transfer as shown by `transfer show` / `transfer list`. The resident ID is masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferView {
    /// Transfer id.
    pub id: Uuid,
    /// Masked resident ID.
    pub member: String,
    /// `open`, `completed`, `rejected`, `cancelled`.
    pub state: String,
    /// `member`, `outgoing`, `incoming`.
    pub initiator: String,
    /// `employment`, `further_study`, `move`.
    pub destination: String,
    /// Outgoing branch code.
    pub from_branch: String,
    /// Receiving organisation code.
    pub to_org: String,
    /// Receiving branch code, once known.
    pub to_branch: Option<String>,
    /// Who acts next.
    pub waiting_on: Option<String>,
    /// Request date.
    pub requested_on: Date,
    /// Last action.
    pub last_action_on: Date,
    /// Overdue from this day (TRF_TIMEOUT).
    pub due_on: Date,
    /// Marked overdue on.
    pub overdue_on: Option<Date>,
    /// Escalated to (code).
    pub escalated_to: Option<String>,
    /// Closed on.
    pub closed_on: Option<Date>,
}

/// What `tuanji graduate` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraduationReport {
    /// Branch code.
    pub branch: String,
    /// Graduation date.
    pub date: Date,
    /// Members moved to `graduated_pending_transfer`.
    pub graduated: usize,
    /// Members left as they were, by relation state (already graduated, in a transfer, …).
    pub skipped: Vec<(String, usize)>,
    /// Log size after the graduation.
    pub last_seq: i64,
}

/// What `tuanji sweep` did on one date. Running it again for the same date changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SweepReport {
    /// The date swept.
    pub as_of: Option<Date>,
    /// Transfers marked overdue and escalated (TRF_TIMEOUT).
    pub overdue: usize,
    /// Overdue transfers approved by the sweep (policy `timeout_auto_approve`).
    pub auto_approved: usize,
    /// Retentions flagged past the first limit (6 months, TRF_RETENTION).
    pub retention_flagged: usize,
    /// Retentions flagged past the most allowed (12 months).
    pub retention_exceeded: usize,
    /// Members marked lost contact (TRF_LOST_CONTACT).
    pub lost_contact: usize,
    /// Lost-contact members whose verification is complete: a suspension can be decided.
    pub suspension_due: usize,
    /// Party recommendations expired on their end of validity (PTY_VALIDITY).
    pub recommendations_expired: usize,
    /// Log entries written.
    pub entries: usize,
}

/// One member's relation as loaded for a command.
struct Live {
    person: PersonRow,
    member: MemberRow,
    branch: OrgRow,
    inst: Option<InstanceRow>,
    state: String,
    data: RelationData,
}

fn fact(o: &OrgRow) -> OrgFact {
    OrgFact {
        label: format!("{} ({})", o.name, o.code),
        code: o.code.clone(),
        kind: o.kind.clone(),
        school: o.school_level.is_some(),
        mobile: o.mobile_members,
    }
}

/// The latest effective date recorded in a stay's data (start, graduation, retention, lost contact, suspension,
/// the end of the last transfer).
fn last_change(d: &RelationData) -> Option<Date> {
    [
        d.since,
        d.graduated_on,
        d.retention.as_ref().map(|r| r.since),
        d.lost_contact_on,
        d.suspension.as_ref().map(|s| s.from),
        // An open transfer or report-in is answered by decisions checked against its own date.
        d.transfer
            .as_ref()
            .and_then(|t| t.outcome.map(|(_, on)| on)),
    ]
    .into_iter()
    .flatten()
    .max()
}

fn corrupt(e: impl std::fmt::Display) -> EngineError {
    EngineError::Store(StoreError::Corrupt(e.to_string()))
}

impl<S: Store> Engine<S> {
    /// The relation workflow in use.
    fn relation_def(&self) -> &'static Definition {
        self.relation
    }

    async fn org(&self, tx: &mut S::Tx, code: &str) -> EngineResult<OrgRow> {
        tx.org_by_code(code.trim()).await?.ok_or_else(|| {
            EngineError::NotFound(format!("no organisation has code `{}`", code.trim()))
        })
    }

    async fn org_id(&self, tx: &mut S::Tx, id: Uuid) -> EngineResult<OrgRow> {
        tx.org_by_id(id)
            .await?
            .ok_or_else(|| corrupt(format!("organisation {id} is missing")))
    }

    /// Loads a member's relation, serialising on their branch (PostgreSQL row lock).
    async fn load_live(&self, tx: &mut S::Tx, person: PersonRow) -> EngineResult<Live> {
        let who = masked(&person.resident_id);
        let mut member = tx.member(person.id).await?.ok_or_else(|| {
            EngineError::Input(format!("{who} is not a member (no membership on record)"))
        })?;
        // Lock the branch, then re-read: a concurrent transfer may have moved the member meanwhile.
        loop {
            tx.lock_org(member.branch_id).await?;
            let again = tx
                .member(person.id)
                .await?
                .ok_or_else(|| corrupt(format!("member {who} vanished")))?;
            if again.branch_id == member.branch_id {
                member = again;
                break;
            }
            member = again;
        }
        if let Some(d) = member.deleted_on {
            return Err(EngineError::Input(format!(
                "{who} was deleted on {d} ({}); the record is kept as a tombstone",
                member.deletion_reason.clone().unwrap_or_default()
            )));
        }
        if member.standing == "annulled" {
            return Err(EngineError::Input(format!(
                "{who}'s admission was annulled; not a member"
            )));
        }
        let branch = self.org_id(tx, member.branch_id).await?;
        let inst = tx
            .latest_instance(person.id, "relation")
            .await?
            .filter(|i| !ENDED.contains(&i.state.as_str()));
        let (state, data) = match &inst {
            Some(i) => (
                i.state.clone(),
                serde_json::from_str(&i.data)
                    .map_err(|e| corrupt(format!("instance {}: {e}", i.id)))?,
            ),
            None => (
                "at_branch".to_owned(),
                RelationData {
                    branch: branch.code.clone(),
                    since: Some(member.membership_date),
                    ..RelationData::default()
                },
            ),
        };
        Ok(Live {
            person,
            member,
            branch,
            inst,
            state,
            data,
        })
    }

    /// Appends one transition of `live`'s instance (opening the instance first if needed) and updates the
    /// projection. `to` of a `history` transition resolves to the state the instance came from.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        tx: &mut S::Tx,
        live: &mut Live,
        actor: &Actor,
        role: &str,
        t: &TransitionDef,
        step: &RelationStep,
        flags: &[(String, String)],
        logged: &mut Vec<(String, i64)>,
    ) -> EngineResult<()> {
        let def = self.relation_def();
        if live.inst.is_none() {
            let open = def.transition(NEW, "open")?;
            let step = RelationStep::Open {
                date: live.member.membership_date,
                branch: live.branch.code.clone(),
            };
            let mut data = RelationData::default();
            data.apply(NEW, &step);
            let inst = InstanceRow {
                id: Uuid::now_v7(),
                workflow: def.name.clone(),
                workflow_version: def.version as i32,
                definition_sha256: def.sha256.clone(),
                person_id: live.person.id,
                branch_id: live.branch.id,
                state: open.to.clone(),
                version: 1,
                data: to_json(&data)?,
                opened_on: live.member.membership_date,
            };
            tx.insert_instance(&inst).await.map_err(|e| match e {
                StoreError::Unique { .. } => EngineError::Conflict(format!(
                    "the relation of {} changed while this command ran; run it again",
                    masked(&live.person.resident_id)
                )),
                other => other.into(),
            })?;
            let entry = self.entry(&inst, live, actor, role, open, &open.to, &step, &[]);
            let row = tx.append_log(&entry).await?;
            logged.push((open.command.clone(), row.seq));
            live.inst = Some(inst);
            live.data = data;
            live.state = open.to.clone();
        }
        let Some(inst) = live.inst.as_mut() else {
            return Err(corrupt("relation instance missing"));
        };
        let to = if t.to == HISTORY {
            live.data
                .return_to
                .clone()
                .ok_or_else(|| corrupt(format!("instance {} has no state to return to", inst.id)))?
        } else {
            t.to.clone()
        };
        let from = live.state.clone();
        live.data.apply(&from, step);
        tx.update_instance(inst.id, inst.version, &to, &to_json(&live.data)?)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => EngineError::Conflict(format!(
                    "the relation of {} changed while this command ran; run it again",
                    masked(&live.person.resident_id)
                )),
                other => other.into(),
            })?;
        inst.version += 1;
        inst.state = to.clone();
        let inst = inst.clone();
        let entry = self.entry(&inst, live, actor, role, t, &to, step, flags);
        let entry = NewLogEntry {
            from_state: from,
            ..entry
        };
        let row = tx.append_log(&entry).await?;
        logged.push((t.command.clone(), row.seq));
        live.state = to;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        inst: &InstanceRow,
        live: &Live,
        actor: &Actor,
        role: &str,
        t: &TransitionDef,
        to: &str,
        step: &RelationStep,
        flags: &[(String, String)],
    ) -> NewLogEntry {
        let def = self.relation_def();
        let flag_json: Vec<_> = flags
            .iter()
            .map(|(c, m)| serde_json::json!({ "code": c, "message": m }))
            .collect();
        NewLogEntry {
            instance_id: inst.id,
            person_id: Some(live.person.id),
            org_id: Some(inst.branch_id),
            workflow: def.name.clone(),
            workflow_version: def.version as i32,
            definition_sha256: def.sha256.clone(),
            from_state: t.from.clone(),
            to_state: to.to_owned(),
            command: t.command.clone(),
            actor: actor.name.clone(),
            role: role.to_owned(),
            rule_codes: codes_of(&def.name, t),
            payload: serde_json::json!({ "step": step, "flags": flag_json }),
            effective_date: step.date(),
            idempotency_key: actor.idempotency_key.clone(),
        }
    }

    /// Runs a relation command for the member named by resident ID, development number or instance id.
    ///
    /// Errors: WF_NOT_ALLOWED when the command is not allowed in the member's relation state or role;
    /// TRF_NO_DELETE for a deletion of a member graduated pending transfer or with an open transfer (whatever
    /// the role); the rule code of the first guard that fails (see `workflows/relation.v1.toml`);
    /// [`EngineError::Input`] for unknown persons or organisations, non-members, tombstoned members and dates
    /// after today; [`EngineError::Conflict`] when a concurrent command changed the relation.
    pub async fn relation(
        &self,
        actor: &Actor,
        member: &str,
        cmd: &RelationCommand,
    ) -> EngineResult<RelationOutcome> {
        self.retrying(|| async {
            let mut tx = self.store().begin().await?;
            let out = self.relation_in(&mut tx, actor, member, cmd).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    async fn relation_in(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        member: &str,
        cmd: &RelationCommand,
    ) -> EngineResult<RelationOutcome> {
        let today = self.today();
        if cmd.date() > today {
            return Err(EngineError::Input(format!(
                "`{}` is dated {}, after today ({today})",
                cmd.command(),
                cmd.date()
            )));
        }
        let person = self.find_person(tx, member).await?;
        let mut live = self.load_live(tx, person).await?;
        let def = self.relation_def();
        let from = live.state.clone();
        // Access: the caller must cover the member's branch, the member, or the receiving organisation of an open
        // transfer (an organisation the command names does not open the record: the caller would learn that the
        // member exists, and where); then a role the transition allows over the acting organisation. A receiving
        // organisation outside the member's subtree therefore asks the member's branch (or the member) to request
        // the transfer over the API; the trusted CLI may request it for any side.
        let named = match cmd.acting_org() {
            Some(code) => Some(self.org(tx, code).await?),
            None => None,
        };
        if actor.grants.is_some() {
            let mut orgs = vec![live.branch.id];
            if let Some(tr) = &live.data.transfer {
                orgs.push(self.org(tx, &tr.to_org).await?.id);
            }
            self.gate(tx, actor, &orgs, Some(live.person.id), member)
                .await?;
        }
        let acting_id = named.as_ref().map_or(live.branch.id, |o| o.id);
        // TRF_NO_DELETE is a floor: checked before the table, whatever the role.
        if matches!(cmd, RelationCommand::Delete { .. }) && live.data.locked(&live.state) {
            return Err(RuleViolation::new(
                RuleCode::TrfNoDelete,
                lock_message(&live.state, &live.data),
            )
            .into());
        }
        // TRF_ONE_OPEN: a second request while one is open names the open one.
        if let (RelationCommand::RequestTransfer { .. }, Some(tr)) = (cmd, &live.data.transfer) {
            if live.state == "transfer_requested" {
                return Err(RuleViolation::new(
                    RuleCode::TrfOneOpen,
                    format!(
                        "the member already has an open transfer to {} (requested {}); a member has at most one",
                        tr.to_org, tr.requested_on
                    ),
                )
                .into());
            }
        }
        // Effective dates follow the relation's history: nothing is dated before its last change.
        if let Some(last) = last_change(&live.data).filter(|d| cmd.date() < *d) {
            return Err(EngineError::Input(format!(
                "`{}` is dated {}, before the relation's last change on {last}",
                cmd.command(),
                cmd.date()
            )));
        }
        let t = def.transition(&live.state, cmd.command())?;
        let role = self
            .role_on(tx, actor, t, def, acting_id, Some(live.person.id))
            .await?;
        crate::access::check_version(actor, live.inst.as_ref().map_or(0, |i| i.version))?;
        let mut acting = None;
        let mut target: Option<OrgRow> = None;
        let mut target_inside = false;
        let mut open_elsewhere = None;
        let transfer_to = match &live.data.transfer {
            Some(tr) if live.state == "transfer_requested" => Some(self.org(tx, &tr.to_org).await?),
            _ => None,
        };
        // A decision on an open transfer or a report-in cannot predate the request it answers.
        let answered = match cmd {
            RelationCommand::Approve { .. }
            | RelationCommand::AssignBranch { .. }
            | RelationCommand::Reject { .. }
            | RelationCommand::Cancel { .. } => live
                .data
                .transfer
                .as_ref()
                .map(|tr| ("transfer request", tr.requested_on)),
            RelationCommand::AcceptReportIn { .. } | RelationCommand::DeclineReportIn { .. } => {
                live.data.report_in.as_ref().map(|(d, _)| ("report-in", *d))
            }
            _ => None,
        };
        if let Some((what, on)) = answered.filter(|(_, on)| cmd.date() < *on) {
            return Err(EngineError::Input(format!(
                "`{}` is dated {}, before the {what} it answers ({on})",
                cmd.command(),
                cmd.date()
            )));
        }
        let step = match cmd {
            RelationCommand::Retain {
                date,
                reason,
                branch,
            } => {
                let b = match (reason, branch) {
                    (RetentionReason::Abroad, _) => Some(live.branch.clone()),
                    (RetentionReason::NoJob, Some(code)) => Some(self.org(tx, code).await?),
                    (RetentionReason::NoJob, None) => self.mobile_branch(tx, &live.branch).await?,
                };
                if let Some(b) = &b {
                    let school = self.school_of(tx, &live.branch).await?;
                    target_inside = school.covers(b);
                }
                target = b;
                RelationStep::Retain {
                    date: *date,
                    reason: *reason,
                    branch: target.as_ref().map_or(String::new(), |b| b.code.clone()),
                }
            }
            RelationCommand::RequestTransfer {
                date,
                to,
                destination,
                initiator,
                org,
            } => {
                let to = self.org(tx, to).await?;
                if to.id == live.branch.id {
                    return Err(EngineError::Input(format!(
                        "the relation already sits in {} ({})",
                        to.name, to.code
                    )));
                }
                if let Some(code) = org {
                    acting = Some(self.org(tx, code).await?);
                } else if *initiator != Initiator::Member {
                    return Err(EngineError::Input(format!(
                        "a transfer initiated by the {} organisation names it (--org CODE)",
                        initiator.as_str()
                    )));
                }
                if let Some(o) = tx.open_transfer(live.person.id).await? {
                    open_elsewhere = Some(format!("requested {}", o.requested_on));
                }
                let by = acting.as_ref().map_or(String::new(), |o| o.code.clone());
                let (needs_outgoing, needs_incoming) = match initiator {
                    Initiator::Outgoing => (false, true),
                    Initiator::Incoming => (true, false),
                    Initiator::Member => match self.relation_policy.member_initiated_approvals {
                        MemberInitiatedApprovals::Both => (true, true),
                        MemberInitiatedApprovals::Incoming => (false, true),
                    },
                };
                let transfer = Transfer {
                    id: Uuid::now_v7().to_string(),
                    initiator: *initiator,
                    destination: *destination,
                    from_branch: live.branch.code.clone(),
                    to_org: to.code.clone(),
                    to_branch: (to.kind == "branch").then(|| to.code.clone()),
                    requested_on: *date,
                    needs_outgoing,
                    needs_incoming,
                    outgoing_approved: (*initiator == Initiator::Outgoing)
                        .then(|| (*date, by.clone())),
                    incoming_approved: (*initiator == Initiator::Incoming)
                        .then(|| (*date, by.clone())),
                    last_action_on: *date,
                    overdue_on: None,
                    escalated_to: None,
                    outcome: None,
                };
                target = Some(to);
                RelationStep::RequestTransfer {
                    date: *date,
                    transfer,
                }
            }
            RelationCommand::Approve { date, org } => {
                let o = self.org(tx, org).await?;
                let tr = live
                    .data
                    .transfer
                    .as_ref()
                    .ok_or_else(|| corrupt("no transfer data"))?;
                let covers_to = transfer_to.as_ref().is_some_and(|t| o.covers(t));
                let sides = tr
                    .pending_sides()
                    .into_iter()
                    .filter(|s| match s {
                        Initiator::Outgoing => o.covers(&live.branch),
                        Initiator::Incoming => covers_to,
                        Initiator::Member => false,
                    })
                    .collect();
                acting = Some(o.clone());
                RelationStep::Approve {
                    date: *date,
                    org: o.code,
                    sides,
                    automatic: false,
                }
            }
            RelationCommand::AssignBranch { date, org, branch } => {
                let o = self.org(tx, org).await?;
                let b = self.org(tx, branch).await?;
                target_inside = transfer_to.as_ref().is_some_and(|t| t.covers(&b));
                acting = Some(o);
                let code = b.code.clone();
                target = Some(b);
                RelationStep::AssignBranch {
                    date: *date,
                    branch: code,
                }
            }
            RelationCommand::Reject { date, org, reason } => {
                let o = self.org(tx, org).await?;
                acting = Some(o.clone());
                RelationStep::Reject {
                    date: *date,
                    org: o.code,
                    reason: check_text("reason", reason, 500)?,
                    back_to: live.data.return_to.clone().unwrap_or_default(),
                }
            }
            RelationCommand::Cancel { date, org, reason } => {
                if let Some(code) = org {
                    acting = Some(self.org(tx, code).await?);
                }
                RelationStep::Cancel {
                    date: *date,
                    reason: check_text("reason", reason, 500)?,
                    back_to: live.data.return_to.clone().unwrap_or_default(),
                }
            }
            RelationCommand::RecordContact {
                date,
                reached,
                note,
            } => RelationStep::RecordContact {
                date: *date,
                reached: *reached,
                note: check_text("note", note, 500)?,
            },
            RelationCommand::Suspend {
                date,
                meeting_date,
                committee,
            } => {
                let o = self.org(tx, committee).await?;
                acting = Some(o.clone());
                RelationStep::Suspend {
                    date: *date,
                    suspension: Suspension {
                        meeting_date: *meeting_date,
                        approved_by: o.code,
                        from: *date,
                        until: add_months(*date, self.relation_policy.suspension_months),
                    },
                }
            }
            RelationCommand::ReportIn { date, branch } => {
                let b = self.org(tx, branch).await?;
                let code = b.code.clone();
                target = Some(b);
                RelationStep::ReportIn {
                    date: *date,
                    branch: code,
                }
            }
            RelationCommand::AcceptReportIn { date, org }
            | RelationCommand::DeclineReportIn { date, org, .. } => {
                let o = self.org(tx, org).await?;
                let to = live
                    .data
                    .report_in
                    .as_ref()
                    .map(|(_, b)| b.clone())
                    .unwrap_or_default();
                let b = self.org(tx, &to).await?;
                acting = Some(o.clone());
                let covers = o.covers(&b);
                target = Some(b);
                target_inside = covers;
                match cmd {
                    RelationCommand::DeclineReportIn { reason, .. } => {
                        RelationStep::DeclineReportIn {
                            date: *date,
                            org: o.code,
                            reason: check_text("reason", reason, 500)?,
                            back_to: live.data.return_to.clone().unwrap_or_default(),
                        }
                    }
                    _ => RelationStep::AcceptReportIn {
                        date: *date,
                        org: o.code,
                    },
                }
            }
            RelationCommand::Delete { date, reason } => RelationStep::Delete {
                date: *date,
                reason: check_text("reason", reason, 500)?,
            },
        };
        let acting_covers_target = match (&acting, cmd) {
            (Some(a), RelationCommand::RequestTransfer { .. }) => {
                target.as_ref().is_some_and(|t| a.covers(t))
            }
            (
                Some(_),
                RelationCommand::AcceptReportIn { .. } | RelationCommand::DeclineReportIn { .. },
            ) => target_inside,
            (Some(a), _) => transfer_to.as_ref().is_some_and(|t| a.covers(t)),
            (None, _) => false,
        };
        let facts = RelationFacts {
            policy: &self.relation_policy,
            data: &live.data,
            state: &live.state,
            step: &step,
            role: &role,
            acting: acting.as_ref().map(fact),
            acting_covers_branch: acting.as_ref().is_some_and(|a| a.covers(&live.branch)),
            acting_covers_target,
            target: target.as_ref().map(fact),
            target_inside,
            open_elsewhere,
        };
        for g in &t.guards {
            check_guard(g, &facts)?;
        }
        let flags = self.flags_of(t, &facts);
        let mut logged = Vec::new();
        self.record(tx, &mut live, actor, &role, t, &step, &flags, &mut logged)
            .await?;
        let touches_transfer = matches!(
            step,
            RelationStep::RequestTransfer { .. }
                | RelationStep::Approve { .. }
                | RelationStep::AssignBranch { .. }
                | RelationStep::Reject { .. }
                | RelationStep::Cancel { .. }
        );
        let transfer_id = match &live.data.transfer {
            Some(tr) if touches_transfer => Some(Uuid::parse_str(&tr.id).map_err(corrupt)?),
            _ => None,
        };
        if touches_transfer {
            self.project_transfer(tx, &live).await.map_err(|e| match e {
                EngineError::Store(StoreError::Unique { .. }) => RuleViolation::new(
                    RuleCode::TrfOneOpen,
                    "a concurrent command opened another transfer for this member; a member has at most one",
                )
                .into(),
                other => other,
            })?;
        }
        // Actions.
        match &step {
            RelationStep::Retain { .. } => {
                if let Some(b) = &target {
                    if b.id != live.branch.id {
                        self.move_within_stay(tx, &mut live, b.clone()).await?;
                    }
                }
            }
            RelationStep::Delete { date, reason } => {
                tx.tombstone_member(live.person.id, *date, reason).await?;
            }
            RelationStep::Approve { date, .. } | RelationStep::AssignBranch { date, .. } => {
                self.try_complete(tx, &mut live, actor, &role, *date, &mut logged)
                    .await?;
            }
            RelationStep::AcceptReportIn { date, .. } => {
                let b = target
                    .clone()
                    .ok_or_else(|| corrupt("no report-in branch"))?;
                self.receive(tx, &mut live, actor, &role, *date, b, None, &mut logged)
                    .await?;
            }
            _ => {}
        }
        let transfer = match transfer_id {
            Some(id) => self.transfer_view_in(tx, id).await?,
            None => None,
        };
        Ok(RelationOutcome {
            member: masked(&live.person.resident_id),
            from,
            to: live.state.clone(),
            logged,
            rule_codes: codes_of(&def.name, t),
            flags,
            branch: live.branch.code.clone(),
            transfer,
        })
    }

    fn flags_of(&self, t: &TransitionDef, facts: &RelationFacts<'_>) -> Vec<(String, String)> {
        let names = tuanji_workflow::names::for_machine("relation");
        t.flags
            .iter()
            .filter_map(|f| {
                check_flag(f, facts).map(|m| {
                    (
                        names
                            .flag(f)
                            .map_or_else(|| f.clone(), |c| c.as_str().to_owned()),
                        m,
                    )
                })
            })
            .collect()
    }

    /// The school (the nearest committee above a branch, skipping general branches) of a branch.
    async fn school_of(&self, tx: &mut S::Tx, branch: &OrgRow) -> EngineResult<OrgRow> {
        let mut at = branch.clone();
        while let Some(pid) = at.parent_id {
            at = self.org_id(tx, pid).await?;
            if at.kind != "general_branch" {
                return Ok(at);
            }
        }
        Ok(at)
    }

    /// The school's mobile-member branch (流动团员团支部), if it has exactly one; several must be named.
    async fn mobile_branch(&self, tx: &mut S::Tx, branch: &OrgRow) -> EngineResult<Option<OrgRow>> {
        let school = self.school_of(tx, branch).await?;
        let mobile: Vec<OrgRow> = tx
            .orgs_under(&school.path)
            .await?
            .into_iter()
            .filter(|o| o.mobile_members && o.kind == "branch")
            .collect();
        match mobile.len() {
            0 | 1 => Ok(mobile.into_iter().next()),
            n => Err(EngineError::Input(format!(
                "{} ({}) has {n} mobile-member branches; name one with --branch",
                school.name, school.code
            ))),
        }
    }

    /// Moves the relation to another branch without ending the stay (retention at the mobile-member branch).
    async fn move_within_stay(
        &self,
        tx: &mut S::Tx,
        live: &mut Live,
        to: OrgRow,
    ) -> EngineResult<()> {
        let inst = live
            .inst
            .as_mut()
            .ok_or_else(|| corrupt("relation instance missing"))?;
        tx.set_instance_branch(inst.id, to.id).await?;
        tx.move_member(live.person.id, to.id).await?;
        inst.branch_id = to.id;
        live.member.branch_id = to.id;
        live.branch = to;
        Ok(())
    }

    /// Completes the open transfer when every required side has approved and a branch is known.
    async fn try_complete(
        &self,
        tx: &mut S::Tx,
        live: &mut Live,
        actor: &Actor,
        role: &str,
        date: Date,
        logged: &mut Vec<(String, i64)>,
    ) -> EngineResult<()> {
        let def = self.relation_def();
        let Some(tr) = live.data.transfer.clone() else {
            return Ok(());
        };
        let (Some(to_branch), true) = (tr.to_branch.clone(), tr.pending_sides().is_empty()) else {
            return Ok(());
        };
        let t = def.transition(&live.state, "complete")?;
        let role = if t.roles.iter().any(|r| r == role) {
            role.to_owned()
        } else {
            t.roles.first().cloned().unwrap_or_default()
        };
        let checkpoint = self.transfer_checkpoint(tx).await?;
        let step = RelationStep::Complete {
            date,
            to_branch: to_branch.clone(),
            checkpoint: checkpoint.clone(),
        };
        let b = self.org(tx, &to_branch).await?;
        let facts = RelationFacts {
            target: Some(fact(&b)),
            target_inside: true,
            ..RelationFacts::new(&self.relation_policy, &live.data, &live.state, &step, &role)
        };
        for g in &t.guards {
            check_guard(g, &facts)?;
        }
        self.record(tx, live, actor, &role, t, &step, &[], logged)
            .await?;
        self.project_transfer(tx, live).await?;
        self.receive(tx, live, actor, &role, date, b, checkpoint, logged)
            .await
    }

    /// Ends nothing itself: starts the member's next stay at `to` (`receive`) and moves the member row.
    #[allow(clippy::too_many_arguments)]
    async fn receive(
        &self,
        tx: &mut S::Tx,
        live: &mut Live,
        actor: &Actor,
        role: &str,
        date: Date,
        to: OrgRow,
        checkpoint: Option<tuanji_workflow::relation::CheckpointRef>,
        logged: &mut Vec<(String, i64)>,
    ) -> EngineResult<()> {
        let def = self.relation_def();
        let t = def.transition(NEW, "receive")?;
        let step = RelationStep::Receive {
            date,
            branch: to.code.clone(),
            from_branch: live.branch.code.clone(),
            checkpoint,
        };
        let facts = RelationFacts {
            target: Some(fact(&to)),
            target_inside: true,
            ..RelationFacts::new(&self.relation_policy, &live.data, NEW, &step, role)
        };
        for g in &t.guards {
            check_guard(g, &facts)?;
        }
        let mut data = RelationData::default();
        data.apply(NEW, &step);
        let inst = InstanceRow {
            id: Uuid::now_v7(),
            workflow: def.name.clone(),
            workflow_version: def.version as i32,
            definition_sha256: def.sha256.clone(),
            person_id: live.person.id,
            branch_id: to.id,
            state: t.to.clone(),
            version: 1,
            data: to_json(&data)?,
            opened_on: date,
        };
        tx.insert_instance(&inst).await?;
        tx.move_member(live.person.id, to.id).await?;
        live.member.branch_id = to.id;
        live.branch = to;
        live.inst = Some(inst.clone());
        live.data = data;
        live.state = t.to.clone();
        let entry = self.entry(&inst, live, actor, role, t, &t.to, &step, &[]);
        let row = tx.append_log(&entry).await?;
        logged.push((t.command.clone(), row.seq));
        Ok(())
    }

    /// Writes the `transfers` projection of the member's current (or just closed) transfer.
    async fn project_transfer(&self, tx: &mut S::Tx, live: &Live) -> EngineResult<()> {
        let Some(tr) = &live.data.transfer else {
            return Ok(());
        };
        let from = self.org(tx, &tr.from_branch).await?;
        let to = self.org(tx, &tr.to_org).await?;
        let to_branch = match &tr.to_branch {
            Some(c) => Some(self.org(tx, c).await?.id),
            None => None,
        };
        let escalated = match &tr.escalated_to {
            Some(c) => Some(self.org(tx, c).await?.id),
            None => None,
        };
        let (state, closed_on) = match tr.outcome {
            None => ("open", None),
            Some((TransferOutcome::Completed, d)) => ("completed", Some(d)),
            Some((TransferOutcome::Rejected, d)) => ("rejected", Some(d)),
            Some((TransferOutcome::Cancelled, d)) => ("cancelled", Some(d)),
        };
        let waiting_on = if tr.outcome.is_some() {
            None
        } else {
            let pending: Vec<String> = tr
                .pending_sides()
                .iter()
                .map(|s| match s {
                    Initiator::Outgoing => format!("outgoing {}", tr.from_branch),
                    _ => format!("incoming {}", tr.to_org),
                })
                .collect();
            let mut w = if pending.is_empty() {
                format!("branch assignment by {}", tr.to_org)
            } else {
                pending.join(", ")
            };
            if let Some(e) = &tr.escalated_to {
                w.push_str(&format!(" (escalated to {e})"));
            }
            Some(w)
        };
        // The stay the transfer leaves from (an update never changes it).
        let instance_id = live
            .inst
            .as_ref()
            .map(|i| i.id)
            .ok_or_else(|| corrupt("relation instance missing"))?;
        tx.upsert_transfer(&TransferRow {
            id: Uuid::parse_str(&tr.id).map_err(corrupt)?,
            person_id: live.person.id,
            instance_id,
            initiator: tr.initiator.as_str().to_owned(),
            destination: tr.destination.as_str().to_owned(),
            from_branch_id: from.id,
            to_org_id: to.id,
            to_branch_id: to_branch,
            state: state.to_owned(),
            waiting_on,
            requested_on: tr.requested_on,
            last_action_on: tr.last_action_on,
            due_on: tr.last_action_on
                + chrono::Days::new(u64::from(self.relation_policy.transfer_timeout_days)),
            overdue_on: tr.overdue_on,
            escalated_to_id: escalated,
            closed_on,
        })
        .await?;
        Ok(())
    }

    async fn transfer_view_in(
        &self,
        tx: &mut S::Tx,
        id: Uuid,
    ) -> EngineResult<Option<TransferView>> {
        match tx.transfer(id).await? {
            Some(r) => Ok(Some(self.view_of(tx, r).await?)),
            None => Ok(None),
        }
    }

    async fn view_of(&self, tx: &mut S::Tx, r: TransferRow) -> EngineResult<TransferView> {
        let code = |o: Option<OrgRow>| o.map(|o| o.code).unwrap_or_default();
        let person = tx.person(r.person_id).await?;
        let from_branch = code(tx.org_by_id(r.from_branch_id).await?);
        let to_org = code(tx.org_by_id(r.to_org_id).await?);
        let to_branch = match r.to_branch_id {
            Some(id) => Some(code(tx.org_by_id(id).await?)),
            None => None,
        };
        let escalated_to = match r.escalated_to_id {
            Some(id) => Some(code(tx.org_by_id(id).await?)),
            None => None,
        };
        Ok(TransferView {
            id: r.id,
            member: person.map(|p| masked(&p.resident_id)).unwrap_or_default(),
            state: r.state,
            initiator: r.initiator,
            destination: r.destination,
            from_branch,
            to_org,
            to_branch,
            waiting_on: r.waiting_on,
            requested_on: r.requested_on,
            last_action_on: r.last_action_on,
            due_on: r.due_on,
            overdue_on: r.overdue_on,
            escalated_to,
            closed_on: r.closed_on,
        })
    }

    /// The transfers touching the subtree of `org` (outgoing from it, incoming to it, or both), oldest request
    /// first. `overdue` keeps open overdue ones; `open` keeps open ones.
    ///
    /// Errors: [`EngineError::Input`] for an unknown organisation.
    pub async fn transfer_list(
        &self,
        org: &str,
        outgoing: bool,
        incoming: bool,
        overdue: bool,
        open: bool,
    ) -> EngineResult<Vec<TransferView>> {
        let mut tx = self.store().begin_read().await?;
        let o = self.org(&mut tx, org).await?;
        let rows = tx
            .transfers(&TransferFilter {
                path_prefix: o.path.clone(),
                outgoing,
                incoming,
                overdue,
                open,
                person_id: None,
            })
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.view_of(&mut tx, r).await?);
        }
        Ok(out)
    }

    /// A member's transfers, oldest first (the open one last), and their relation state.
    ///
    /// Errors: [`EngineError::Input`] for an unknown person.
    pub async fn transfer_show(&self, member: &str) -> EngineResult<(String, Vec<TransferView>)> {
        let mut tx = self.store().begin_read().await?;
        let p = self.find_person(&mut tx, member).await?;
        let state = tx
            .latest_instance(p.id, "relation")
            .await?
            .map_or_else(|| "at_branch".to_owned(), |i| i.state);
        let rows = tx
            .transfers(&TransferFilter {
                path_prefix: "/".into(),
                person_id: Some(p.id),
                ..TransferFilter::default()
            })
            .await?;
        let mut out = Vec::new();
        for r in rows {
            out.push(self.view_of(&mut tx, r).await?);
        }
        Ok((state, out))
    }

    /// Marks a branch graduating with its graduation date (毕业班, graduation date marking).
    ///
    /// Errors: [`EngineError::Input`] for an unknown organisation or a non-branch.
    pub async fn mark_graduating(&self, branch: &str, on: Date) -> EngineResult<OrgRow> {
        let mut tx = self.store().begin().await?;
        let b = self.branch_by_code(&mut tx, branch).await?;
        tx.set_graduation(b.id, on).await?;
        let b = self.org_id(&mut tx, b.id).await?;
        tx.commit().await?;
        Ok(b)
    }

    /// Graduates every member of a graduating branch on `on`, in one transaction: each member at the branch
    /// moves to `graduated_pending_transfer` (TRF_NO_DELETE from then on). Members already graduated or in a
    /// transfer are left as they are and counted in `skipped`. `progress(done, total)` reports members.
    ///
    /// Errors: [`EngineError::Input`] for an unknown branch, a branch not marked graduating, a date before its
    /// graduation date or after today; WF_NOT_ALLOWED when the role may not graduate.
    pub async fn graduate(
        &self,
        actor: &Actor,
        branch: &str,
        on: Date,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> EngineResult<GraduationReport> {
        let def = self.relation_def();
        let t_open = def.transition(NEW, "open")?;
        let t_grad = def.transition("at_branch", "graduate")?;
        let mut tx = self.store().begin().await?;
        let b = self.branch_by_code(&mut tx, branch).await?;
        // Who may graduate the branch is checked before anything about the request is disclosed.
        let role = self
            .role_on(&mut tx, actor, t_grad, def, b.id, None)
            .await?;
        let today = self.today();
        if on > today {
            return Err(EngineError::Input(format!(
                "the graduation date {on} is after today ({today})"
            )));
        }
        if !b.graduating {
            return Err(EngineError::Input(format!(
                "{} ({}) is not marked as graduating; mark it first: tuanji org mark-graduating --branch {} --on DATE",
                b.name, b.code, b.code
            )));
        }
        if let Some(g) = b.graduation_date {
            if on < g {
                return Err(EngineError::Input(format!(
                    "{} ({}) graduates on {g}; {on} is before that",
                    b.name, b.code
                )));
            }
        }
        tx.lock_org(b.id).await?;
        let members = tx.members_of_branch(b.id).await?;
        let live: HashMap<Uuid, InstanceRow> = tx
            .live_instances_at("relation", b.id, ENDED)
            .await?
            .into_iter()
            .map(|i| (i.person_id, i))
            .collect();
        let total = members.len() as u64;
        progress(0, total);
        let mut skipped: HashMap<String, usize> = HashMap::new();
        let mut graduated = 0;
        let mut new_instances = Vec::new();
        let mut entries = Vec::new();
        let codes_open = codes_of(&def.name, t_open);
        let codes_grad = codes_of(&def.name, t_grad);
        let grad_step = RelationStep::Graduate { date: on };
        let log = |inst: &InstanceRow,
                   m: &MemberRow,
                   t: &TransitionDef,
                   codes: &[String],
                   step: &RelationStep| NewLogEntry {
            instance_id: inst.id,
            person_id: Some(m.person_id),
            org_id: Some(b.id),
            workflow: def.name.clone(),
            workflow_version: def.version as i32,
            definition_sha256: def.sha256.clone(),
            from_state: t.from.clone(),
            to_state: t.to.clone(),
            command: t.command.clone(),
            actor: actor.name.clone(),
            role: role.clone(),
            rule_codes: codes.to_vec(),
            payload: serde_json::json!({ "step": step, "flags": [] }),
            effective_date: step.date(),
            idempotency_key: actor.idempotency_key.clone(),
        };
        let chunk = 2000;
        for (i, m) in members.iter().enumerate() {
            if m.membership_date > on {
                // Admitted after the graduation date: not a graduate of this class.
                *skipped.entry("joined_after_graduation".into()).or_default() += 1;
            } else if m.standing == "annulled" {
                *skipped.entry("annulled".into()).or_default() += 1;
            } else if let Some(inst) = live.get(&m.person_id) {
                if inst.state != "at_branch" {
                    *skipped.entry(inst.state.clone()).or_default() += 1;
                } else {
                    let mut data: RelationData =
                        serde_json::from_str(&inst.data).map_err(corrupt)?;
                    data.apply("at_branch", &grad_step);
                    tx.update_instance(inst.id, inst.version, &t_grad.to, &to_json(&data)?)
                        .await?;
                    entries.push(log(inst, m, t_grad, &codes_grad, &grad_step));
                    graduated += 1;
                }
            } else {
                let open = RelationStep::Open {
                    date: m.membership_date,
                    branch: b.code.clone(),
                };
                let mut data = RelationData::default();
                data.apply(NEW, &open);
                data.apply("at_branch", &grad_step);
                let inst = InstanceRow {
                    id: Uuid::now_v7(),
                    workflow: def.name.clone(),
                    workflow_version: def.version as i32,
                    definition_sha256: def.sha256.clone(),
                    person_id: m.person_id,
                    branch_id: b.id,
                    state: t_grad.to.clone(),
                    version: 2,
                    data: to_json(&data)?,
                    opened_on: m.membership_date,
                };
                entries.push(log(&inst, m, t_open, &codes_open, &open));
                entries.push(log(&inst, m, t_grad, &codes_grad, &grad_step));
                new_instances.push(inst);
                graduated += 1;
            }
            if new_instances.len() >= chunk || entries.len() >= 2 * chunk {
                tx.insert_instances(&new_instances).await?;
                tx.append_logs(&entries).await?;
                new_instances.clear();
                entries.clear();
                progress(i as u64 + 1, total);
            }
        }
        tx.insert_instances(&new_instances).await?;
        let last_seq = tx.append_logs(&entries).await?;
        if b.graduation_date.is_none() {
            tx.set_graduation(b.id, on).await?;
        }
        tx.commit().await?;
        progress(total, total);
        self.checkpoint_after_commit().await;
        let mut skipped: Vec<(String, usize)> = skipped.into_iter().collect();
        skipped.sort();
        Ok(GraduationReport {
            branch: b.code,
            date: on,
            graduated,
            skipped,
            last_seq,
        })
    }

    /// The sweep for `as_of` (on or before today), in one transaction: open transfers not acted on for the
    /// policy's days are marked overdue and escalated to the superior of the side that has not answered
    /// (TRF_TIMEOUT; approved for it only when the policy says so); retentions past 6 and 12 months are
    /// flagged (TRF_RETENTION); graduates and retained members without contact for 6 months are marked lost
    /// contact (TRF_LOST_CONTACT). Idempotent: a second run for the same date writes nothing.
    /// `progress(stage, done, total)` reports each stage.
    ///
    /// Errors: [`EngineError::Input`] for a date after today.
    pub async fn sweep(
        &self,
        actor: &Actor,
        as_of: Date,
        progress: &(dyn Fn(&str, u64, u64) + Sync),
    ) -> EngineResult<SweepReport> {
        let today = self.today();
        if as_of > today {
            return Err(EngineError::Input(format!(
                "--as-of {as_of} is after today ({today})"
            )));
        }
        let def = self.relation_def();
        let policy = self.relation_policy.clone();
        let mut report = SweepReport {
            as_of: Some(as_of),
            ..SweepReport::default()
        };
        let mut tx = self.store().begin().await?;
        let mut logged = Vec::new();

        // TRF_TIMEOUT
        let due = tx.transfers_due(as_of).await?;
        let total = due.len() as u64;
        for (i, row) in due.into_iter().enumerate() {
            let Some(person) = tx.person(row.person_id).await? else {
                continue;
            };
            let mut live = self.load_live(&mut tx, person).await?;
            let Some(tr) = live.data.transfer.clone() else {
                continue;
            };
            if live.state != "transfer_requested" {
                continue;
            }
            let pending = tr.pending_sides();
            let silent = if pending.contains(&Initiator::Incoming) || pending.is_empty() {
                self.org(&mut tx, &tr.to_org).await?
            } else {
                self.org(&mut tx, &tr.from_branch).await?
            };
            let superior = match silent.parent_id {
                Some(p) => self.org_id(&mut tx, p).await?,
                None => silent.clone(),
            };
            let t = def.transition(&live.state, "mark_overdue")?;
            let role = role_for(actor, t, def)?;
            let step = RelationStep::MarkOverdue {
                date: as_of,
                escalated_to: superior.code.clone(),
            };
            if self.guards_pass(t, &live, &step, &role)? {
                self.record(&mut tx, &mut live, actor, &role, t, &step, &[], &mut logged)
                    .await?;
                self.project_transfer(&mut tx, &live).await?;
                report.overdue += 1;
                if policy.timeout_auto_approve && !pending.is_empty() {
                    let t = def.transition(&live.state, "approve")?;
                    let step = RelationStep::Approve {
                        date: as_of,
                        org: superior.code.clone(),
                        sides: pending,
                        automatic: true,
                    };
                    self.record(&mut tx, &mut live, actor, &role, t, &step, &[], &mut logged)
                        .await?;
                    self.project_transfer(&mut tx, &live).await?;
                    self.try_complete(&mut tx, &mut live, actor, &role, as_of, &mut logged)
                        .await?;
                    report.auto_approved += 1;
                }
            }
            progress("transfers", i as u64 + 1, total);
        }

        // TRF_RETENTION and TRF_LOST_CONTACT
        for state in ["retained", "graduated_pending_transfer", "lost_contact"] {
            let rows = tx.instances_in_state(&def.name, state).await?;
            let total = rows.len() as u64;
            for (i, inst) in rows.into_iter().enumerate() {
                let data: RelationData = serde_json::from_str(&inst.data).map_err(corrupt)?;
                if state == "lost_contact" {
                    if data
                        .lost_contact_on
                        .is_some_and(|d| add_months(d, policy.verification_months) <= as_of)
                    {
                        report.suspension_due += 1;
                    }
                    continue;
                }
                let retention_due = data.retention.as_ref().and_then(|r| {
                    (r.reason == RetentionReason::NoJob)
                        .then(|| {
                            [policy.retention_max_months, policy.retention_months]
                                .into_iter()
                                .find(|m| *m > r.flagged_months && add_months(r.since, *m) <= as_of)
                        })
                        .flatten()
                });
                let lapsed = data
                    .contact_baseline()
                    .is_some_and(|b| add_months(b, policy.lost_contact_months) <= as_of);
                if retention_due.is_none() && !lapsed {
                    continue;
                }
                let Some(person) = tx.person(inst.person_id).await? else {
                    continue;
                };
                let mut live = self.load_live(&mut tx, person).await?;
                if let Some(months) = retention_due {
                    let t = def.transition(&live.state, "flag_retention")?;
                    let role = role_for(actor, t, def)?;
                    let step = RelationStep::FlagRetention {
                        date: as_of,
                        months,
                    };
                    if self.guards_pass(t, &live, &step, &role)? {
                        self.record(&mut tx, &mut live, actor, &role, t, &step, &[], &mut logged)
                            .await?;
                        if months >= policy.retention_max_months {
                            report.retention_exceeded += 1;
                        } else {
                            report.retention_flagged += 1;
                        }
                    }
                }
                if lapsed {
                    let t = def.transition(&live.state, "mark_lost_contact")?;
                    let role = role_for(actor, t, def)?;
                    let step = RelationStep::MarkLostContact {
                        date: as_of,
                        last_contact: live.data.contact_baseline().unwrap_or(as_of),
                    };
                    if self.guards_pass(t, &live, &step, &role)? {
                        self.record(&mut tx, &mut live, actor, &role, t, &step, &[], &mut logged)
                            .await?;
                        report.lost_contact += 1;
                    }
                }
                progress(state, i as u64 + 1, total);
            }
        }
        report.entries = logged.len();
        self.party_sweep_in(&mut tx, actor, as_of, progress, &mut report)
            .await?;
        tx.commit().await?;
        self.checkpoint_after_commit().await;
        Ok(report)
    }

    /// Whether every guard of `t` passes for a sweep step (a failing guard just means "not due").
    fn guards_pass(
        &self,
        t: &TransitionDef,
        live: &Live,
        step: &RelationStep,
        role: &str,
    ) -> EngineResult<bool> {
        let facts = RelationFacts::new(&self.relation_policy, &live.data, &live.state, step, role);
        Ok(t.guards.iter().all(|g| check_guard(g, &facts).is_ok()))
    }

    /// TRF_NO_DELETE for other paths that remove a member (annulment): refuses while the member is graduated
    /// pending transfer or has an open transfer.
    pub(crate) async fn check_not_locked(
        &self,
        tx: &mut S::Tx,
        person_id: Uuid,
    ) -> EngineResult<()> {
        if let Some(i) = tx.latest_instance(person_id, "relation").await? {
            if ENDED.contains(&i.state.as_str()) {
                return Ok(());
            }
            let data: RelationData = serde_json::from_str(&i.data).map_err(corrupt)?;
            if data.locked(&i.state) {
                return Err(RuleViolation::new(
                    RuleCode::TrfNoDelete,
                    lock_message(&i.state, &data),
                )
                .into());
            }
        }
        Ok(())
    }
}
