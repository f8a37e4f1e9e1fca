//! League standing (团籍) and dues (团费) use cases over `workflows/standing.v1.toml`: probation, expulsion
//! and appeals, withdrawal, removal, death, Party entry, dues, organisational life, League posts, and the
//! standing sweep (age-out on the 28th birthday, end of probation, expiry of a Party recommendation, lapse
//! flags). Each command is one store transaction: load the member's standing instance, check the role and the
//! transition's guards, apply the step, write the instance, the `members.standing` projection (and the
//! posts and dues projections) and one log entry.
//!
//! Rules: DOMAIN.md "Standing (§2)" (STD_*), "Evaluation and dues" (EVL_UNQUALIFIED, DUE_STUDENT); sources in
//! DOMAIN-SOURCES.md §2, §7 and §8. Dates are calendar dates in China Standard Time; money is in fen (分),
//! printed as yuan ("0.20").
//!
//! One instance per member. A legacy member gets it from the roster import (`import_member`), a member
//! admitted through Tuanji when the admission reaches `admitted` (`open`); a member admitted before this
//! version gets it (`open`, effective on the membership date) from the first standing command.

use crate::admission::{check_text, codes_of, masked, role_for, to_json};
use crate::relation::SweepReport;
use crate::{Actor, Engine, EngineError, EngineResult};
use serde::Serialize;
use std::collections::HashMap;
use tuanji_domain::dues::{format_yuan, YearMonth};
use tuanji_domain::{add_months, Date, RuleCode, RuleViolation};
use tuanji_store::{
    DuesRow, InstanceRow, LogFilter, MemberRow, NewLogEntry, OrgRow, PersonRow, Store, StoreError,
    StoreTx,
};
use tuanji_workflow::relation::OrgFact;
use tuanji_workflow::standing::{
    check_flag, check_guard, Appeal, Decision, DuesCategory, LapseGround, Membership, Post,
    PostKind, RecommendationEnd, RecommendationFact, RemovalReason, StandingData, StandingFacts,
    StandingPolicy, StandingStep, ACTIVE_STATES,
};
use tuanji_workflow::{Definition, TransitionDef, HISTORY, NEW};
use uuid::Uuid;

/// The machine's name.
const STANDING: &str = "standing";

/// Live standing instances read per page by the sweep.
const PAGE: i64 = 5000;

/// A standing command as a user gives it. Organisations are named by code; the effective date is a calendar
/// date (China Standard Time), not after today and not before the membership date.
///
/// A decision's `meeting.entitled` must be the branch's members in good standing (not on probation) on the
/// meeting date, as the Party vote counts them; 0 means "not given" and takes that count (a refusal under the
/// decision's rule code names both numbers otherwise).
/// In JSON (HTTP API): an object whose `command` names the workflow command beside its fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum StandingCommand {
    /// Probation (留团察看) of `months` months from `date` (STD_PROBATION): a branch meeting and the approval of
    /// a committee above the branch.
    PutOnProbation {
        /// First day of probation.
        date: Date,
        /// 6 or 12 (policy `probation_months`).
        months: u32,
        /// The branch general meeting and the approving committee.
        decision: Decision,
        /// Why (1–500 characters).
        reason: String,
    },
    /// Rights restored at the end of probation (恢复团员权利, STD_PROBATION); the sweep records it too.
    EndProbation {
        /// On or after the probation end.
        date: Date,
    },
    /// Expulsion (开除团籍, STD_EXPEL): branch meeting, county-level approval, no undecided appeal.
    Expel {
        /// Effective date.
        date: Date,
        /// The branch meeting and the approving committee.
        decision: Decision,
        /// Why (1–500 characters).
        reason: String,
    },
    /// The member's appeal (申诉, STD_EXPEL), never withheld.
    RecordAppeal {
        /// Date lodged.
        date: Date,
        /// The organisation appealed to (code): above the member's branch (向上级组织申诉); refused under STD_EXPEL
        /// otherwise.
        to_org: String,
        /// What is appealed (1–500 characters).
        summary: String,
    },
    /// The decision on the pending appeal.
    DecideAppeal {
        /// Decision date.
        date: Date,
        /// The deciding organisation (code): the organisation appealed to or one above it; refused under
        /// STD_EXPEL otherwise.
        org: String,
        /// Whether the appeal was upheld.
        upheld: bool,
    },
    /// Voluntary withdrawal (退团, STD_WITHDRAW): written request, branch meeting, recorded with the superior.
    Withdraw {
        /// Effective date.
        date: Date,
        /// Date of the written request.
        request_date: Date,
        /// The branch meeting and the superior it is recorded with.
        decision: Decision,
    },
    /// Removal (除名): a 6-month lapse (STD_LAPSE) or an unqualified member who refused to withdraw
    /// (EVL_UNQUALIFIED).
    Remove {
        /// Effective date.
        date: Date,
        /// Grounds.
        reason: RemovalReason,
        /// The branch meeting and the approving committee.
        decision: Decision,
    },
    /// Death, recorded by an organisation (code).
    RecordDeath {
        /// Date of death.
        date: Date,
        /// The recording organisation (code).
        recorded_by: String,
    },
    /// Admitted to the Party (预备党员); League membership continues until 28 (STD_AGE_OUT). Refused (input) for a
    /// member with an open Party recommendation, in any of its states (`party accept` records it), and for a date
    /// before the member's current standing began.
    JoinParty {
        /// Date of admission to the Party.
        date: Date,
        /// The Party organisation (free text, 1–100 characters).
        party_org: String,
    },
    /// Dues paid for `months` consecutive months from `first` (DUE_STUDENT).
    RecordDues {
        /// Payment date.
        date: Date,
        /// The first month paid for.
        #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-09"))]
        first: YearMonth,
        /// How many months (1–120).
        months: u32,
        /// Amount paid, in fen.
        amount_fen: u64,
        /// The member's dues category.
        category: DuesCategory,
    },
    /// Organisational life attended (组织生活) in the month of `date` (STD_LAPSE).
    RecordLife {
        /// Date.
        date: Date,
        /// What (1–500 characters).
        note: String,
    },
    /// A League post taken (团内职务): the holder is not aged out at 28 (STD_AGE_OUT). An organisation has one
    /// secretary at a time: assigning a second is refused (input) until the first post ends.
    AssignPost {
        /// First day.
        date: Date,
        /// The post.
        post: PostKind,
        /// The organisation (code).
        org: String,
    },
    /// A League post ended (no longer held from `date`).
    EndPost {
        /// The day it is no longer held.
        date: Date,
        /// The post.
        post: PostKind,
        /// The organisation (code).
        org: String,
    },
    /// Age-out (超龄离团, STD_AGE_OUT), when due; the sweep records it on the due day.
    AgeOut {
        /// The 28th birthday, or the day the last post held on it ended.
        date: Date,
    },
}

impl StandingCommand {
    /// The effective date.
    pub fn date(&self) -> Date {
        match self {
            StandingCommand::PutOnProbation { date, .. }
            | StandingCommand::EndProbation { date }
            | StandingCommand::Expel { date, .. }
            | StandingCommand::RecordAppeal { date, .. }
            | StandingCommand::DecideAppeal { date, .. }
            | StandingCommand::Withdraw { date, .. }
            | StandingCommand::Remove { date, .. }
            | StandingCommand::RecordDeath { date, .. }
            | StandingCommand::JoinParty { date, .. }
            | StandingCommand::RecordDues { date, .. }
            | StandingCommand::RecordLife { date, .. }
            | StandingCommand::AssignPost { date, .. }
            | StandingCommand::EndPost { date, .. }
            | StandingCommand::AgeOut { date } => *date,
        }
    }

    /// The workflow command name.
    pub fn command(&self) -> &'static str {
        match self {
            StandingCommand::PutOnProbation { .. } => "put_on_probation",
            StandingCommand::EndProbation { .. } => "end_probation",
            StandingCommand::Expel { .. } => "expel",
            StandingCommand::RecordAppeal { .. } => "record_appeal",
            StandingCommand::DecideAppeal { .. } => "decide_appeal",
            StandingCommand::Withdraw { .. } => "withdraw",
            StandingCommand::Remove { .. } => "remove",
            StandingCommand::RecordDeath { .. } => "record_death",
            StandingCommand::JoinParty { .. } => "join_party",
            StandingCommand::RecordDues { .. } => "record_dues",
            StandingCommand::RecordLife { .. } => "record_life",
            StandingCommand::AssignPost { .. } => "assign_post",
            StandingCommand::EndPost { .. } => "end_post",
            StandingCommand::AgeOut { .. } => "age_out",
        }
    }
}

/// What a standing command did. A command on a member without a standing instance logs `open` first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandingOutcome {
    /// Masked resident ID.
    pub member: String,
    /// State before.
    pub from: String,
    /// State after (also `members.standing`).
    pub to: String,
    /// Commands logged, in order, with their log seq.
    pub logged: Vec<(String, i64)>,
    /// Rule codes checked by the command.
    pub rule_codes: Vec<String>,
    /// Flags raised (rule code, message); they do not refuse.
    pub flags: Vec<(String, String)>,
}

/// A member's dues (团费) as `tuanji dues show` prints them (DUE_STUDENT). Amounts in fen, and in yuan as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuesView {
    /// Masked resident ID.
    pub member: String,
    /// The date the arrears are computed on (today).
    pub as_of: Date,
    /// `reduced` (students, 0.20 yuan a month) or `salaried`.
    pub category: DuesCategory,
    /// Monthly rate in fen.
    pub monthly_fen: u64,
    /// The first month owed (the membership month, or the import month for a legacy member).
    pub from: Option<YearMonth>,
    /// The last month owed on `as_of` (the month before; for a Party member, before joining the Party).
    pub through: YearMonth,
    /// Months paid, oldest first.
    pub months_paid: Vec<YearMonth>,
    /// Total paid, in fen.
    pub paid_fen: u64,
    /// Total paid, in yuan (`"1.20"`).
    pub paid_yuan: String,
    /// Unpaid months owed, oldest first.
    pub arrears_months: Vec<YearMonth>,
    /// Arrears in fen.
    pub arrears_fen: u64,
    /// Arrears in yuan.
    pub arrears_yuan: String,
    /// A lapse (STD_LAPSE) on `as_of`: what ran out and since which month.
    pub lapse: Option<(LapseGround, YearMonth)>,
}

/// A member's standing as `tuanji standing show` prints it. The resident ID is masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandingView {
    /// Masked resident ID.
    pub member: String,
    /// The state (`member`, `on_probation`, …, `aged_out`); `member` with `instance: None` for a member
    /// admitted before standing was recorded.
    pub state: String,
    /// The standing instance, once opened.
    pub instance: Option<Uuid>,
    /// The standing instance's version (the value `If-Match` names), once opened.
    pub version: Option<i64>,
    /// Birth month (`"2009-03"`): the day is not shown, as the masked resident ID's hidden digits are the
    /// birth date.
    pub birth_month: YearMonth,
    /// 团籍 start.
    pub membership_date: Date,
    /// Probation end (rights return on it), while on probation.
    pub probation_until: Option<Date>,
    /// League posts held and ended.
    pub posts: Vec<Post>,
    /// The month the member ages out (STD_AGE_OUT): that of the 28th birthday, or of the end of the last post
    /// held on it; `None` while a post without an end is held. A month, not the day: the day would give back
    /// the birth date hidden by the masked resident ID.
    pub age_out_month: Option<YearMonth>,
    /// Appeals.
    pub appeals: Vec<Appeal>,
    /// Party membership: date and organisation.
    pub party: Option<(Date, String)>,
    /// The Party recommendation held: instance id, date, end of validity.
    pub recommendation: Option<(String, Date, Date)>,
    /// The latest lapse flag: date, ground, first month of the run.
    pub lapse_flag: Option<(Date, LapseGround, YearMonth)>,
    /// How membership ended: command and effective date.
    pub ended: Option<(String, Date)>,
    /// Dues.
    pub dues: DuesView,
}

/// What the standing sweep did on one date. Running it again for the same date writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct StandingSweepReport {
    /// The date swept.
    pub as_of: Option<Date>,
    /// Live standing instances examined.
    pub examined: usize,
    /// Members aged out (STD_AGE_OUT), effective on their 28th birthday (or the end of their last post).
    pub aged_out: usize,
    /// Probations ended on their end date (STD_PROBATION).
    pub probation_ended: usize,
    /// Party recommendations expired on their end of validity (PTY_VALIDITY).
    pub recommendation_expired: usize,
    /// Six-month lapses flagged for the branch (STD_LAPSE): dues.
    pub lapse_dues: usize,
    /// Six-month lapses flagged for the branch (STD_LAPSE): organisational life.
    pub lapse_life: usize,
    /// Log entries written.
    pub entries: usize,
}

/// The whole sweep of `tuanji sweep`: the relation deadlines, then standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FullSweepReport {
    /// Relation deadlines (TRF_TIMEOUT, TRF_RETENTION, TRF_LOST_CONTACT).
    #[serde(flatten)]
    pub relation: SweepReport,
    /// Standing (STD_AGE_OUT, STD_PROBATION, STD_LAPSE).
    pub standing: StandingSweepReport,
}

/// Parses an amount in yuan (`"0.20"`, `"3"`, `"1.2"`) into fen.
///
/// # Errors
/// [`EngineError::Input`] for anything but a non-negative decimal with at most 2 decimals.
pub fn parse_yuan(text: &str) -> EngineResult<u64> {
    let t = text.trim().trim_start_matches('¥');
    let bad = || EngineError::Input(format!("`{text}` is not an amount in yuan (e.g. 0.20)"));
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 12
    {
        return Err(bad());
    }
    let w: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let f: u64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    Ok(w * 100 + f)
}

/// `post` as stored (`secretary`, `deputy_secretary`, `committee_member`).
pub fn post_name(post: PostKind) -> &'static str {
    match post {
        PostKind::Secretary => "secretary",
        PostKind::DeputySecretary => "deputy_secretary",
        PostKind::CommitteeMember => "committee_member",
    }
}

/// One member's standing as loaded for a command.
struct Live {
    person: PersonRow,
    member: MemberRow,
    branch: OrgRow,
    def: &'static Definition,
    inst: Option<InstanceRow>,
    state: String,
    data: StandingData,
}

fn corrupt(e: impl std::fmt::Display) -> EngineError {
    EngineError::Store(StoreError::Corrupt(e.to_string()))
}

fn org_fact(o: &OrgRow) -> OrgFact {
    OrgFact {
        label: format!("{} ({})", o.name, o.code),
        code: o.code.clone(),
        kind: o.kind.clone(),
        school: o.school_level.is_some(),
        mobile: o.mobile_members,
    }
}

/// The state a step leads to from `t`: a `history` transition returns to the step's recorded state.
fn target(t: &TransitionDef, step: &StandingStep) -> EngineResult<String> {
    if t.to == HISTORY {
        match step {
            StandingStep::EndProbation { back_to, .. }
            | StandingStep::Reinstate { back_to, .. } => Ok(back_to.clone()),
            other => Err(corrupt(format!(
                "`{}` has no state to return to",
                other.command()
            ))),
        }
    } else {
        Ok(t.to.clone())
    }
}

impl<S: Store> Engine<S> {
    /// The standing workflow (latest version) and its policy.
    ///
    /// Errors: [`EngineError::Input`] when no standing workflow is installed; [`EngineError::Workflow`] for an
    /// invalid policy.
    pub fn standing_workflow(&self) -> EngineResult<(&'static Definition, StandingPolicy)> {
        let def = self
            .registry()
            .latest(STANDING)
            .ok_or_else(|| EngineError::Input("no standing workflow is installed".into()))?;
        Ok((def, StandingPolicy::from_definition(def)?))
    }

    fn standing_def_of(&self, inst: &InstanceRow) -> EngineResult<&'static Definition> {
        self.registry()
            .get(STANDING, inst.workflow_version as u32)
            .ok_or_else(|| {
                corrupt(format!(
                    "standing v{} of instance {} is not installed",
                    inst.workflow_version, inst.id
                ))
            })
    }

    async fn standing_load(&self, tx: &mut S::Tx, person: PersonRow) -> EngineResult<Live> {
        let who = masked(&person.resident_id);
        let member = tx.member(person.id).await?.ok_or_else(|| {
            EngineError::Input(format!("{who} is not a member (no membership on record)"))
        })?;
        tx.lock_org(member.branch_id).await?;
        if let Some(d) = member.deleted_on {
            return Err(EngineError::Input(format!(
                "{who} was deleted on {d}; the record is kept as a tombstone"
            )));
        }
        if member.standing == "annulled" {
            return Err(EngineError::Input(format!(
                "{who}'s admission was annulled; not a member"
            )));
        }
        let branch = tx
            .org_by_id(member.branch_id)
            .await?
            .ok_or_else(|| corrupt(format!("organisation {} is missing", member.branch_id)))?;
        let inst = tx.latest_instance(person.id, STANDING).await?;
        let (def, state, data) = match &inst {
            Some(i) => (
                self.standing_def_of(i)?,
                i.state.clone(),
                serde_json::from_str(&i.data)
                    .map_err(|e| corrupt(format!("instance {}: {e}", i.id)))?,
            ),
            None => (
                self.standing_workflow()?.0,
                NEW.to_owned(),
                StandingData::default(),
            ),
        };
        Ok(Live {
            person,
            member,
            branch,
            def,
            inst,
            state,
            data,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn standing_entry(
        &self,
        live: &Live,
        inst: &InstanceRow,
        actor: &Actor,
        role: &str,
        t: &TransitionDef,
        from: &str,
        to: &str,
        step: &StandingStep,
        flags: &[(String, String)],
    ) -> NewLogEntry {
        let flag_json: Vec<_> = flags
            .iter()
            .map(|(c, m)| serde_json::json!({ "code": c, "message": m }))
            .collect();
        NewLogEntry {
            instance_id: inst.id,
            person_id: Some(live.person.id),
            org_id: Some(live.member.branch_id),
            workflow: live.def.name.clone(),
            workflow_version: live.def.version as i32,
            definition_sha256: live.def.sha256.clone(),
            from_state: from.to_owned(),
            to_state: to.to_owned(),
            command: t.command.clone(),
            actor: actor.name.clone(),
            role: role.to_owned(),
            rule_codes: codes_of(&live.def.name, t),
            payload: serde_json::json!({ "step": step, "flags": flag_json }),
            effective_date: step.date(),
            idempotency_key: actor.idempotency_key.clone(),
        }
    }

    /// Opens the standing instance of a member who has none (`open`, effective on the membership date).
    async fn standing_open(
        &self,
        tx: &mut S::Tx,
        live: &mut Live,
        actor: &Actor,
        logged: &mut Vec<(String, i64)>,
    ) -> EngineResult<()> {
        if live.inst.is_some() {
            return Ok(());
        }
        let t = live.def.transition(NEW, "open")?;
        let role = match &actor.role {
            Some(r) if t.roles.contains(r) => r.clone(),
            _ => "system_admin".to_owned(),
        };
        let step = StandingStep::Open {
            date: live.member.membership_date,
            membership: Membership {
                membership_date: live.member.membership_date,
                number: live.member.development_number.clone(),
                probation_until: None,
                dues_from: None,
            },
        };
        let mut data = StandingData::default();
        data.apply(NEW, &step);
        let inst = InstanceRow {
            id: Uuid::now_v7(),
            workflow: live.def.name.clone(),
            workflow_version: live.def.version as i32,
            definition_sha256: live.def.sha256.clone(),
            person_id: live.person.id,
            branch_id: live.member.branch_id,
            state: t.to.clone(),
            version: 1,
            data: to_json(&data)?,
            opened_on: live.member.membership_date,
        };
        tx.insert_instance(&inst).await.map_err(|e| match e {
            StoreError::Unique { .. } => EngineError::Conflict(format!(
                "the standing of {} changed while this command ran; run it again",
                masked(&live.person.resident_id)
            )),
            other => other.into(),
        })?;
        let entry = self.standing_entry(live, &inst, actor, &role, t, NEW, &t.to, &step, &[]);
        let row = tx.append_log(&entry).await?;
        logged.push((t.command.clone(), row.seq));
        tx.set_member_standing(
            live.person.id,
            &t.to,
            live.member.probation_until,
            live.member.membership_date,
        )
        .await?;
        live.inst = Some(inst);
        live.state = t.to.clone();
        live.data = data;
        Ok(())
    }

    /// Opens the standing instance of a member just admitted through Tuanji (`open` on the membership date),
    /// in the admission's transaction. Nothing when the member already has one.
    pub(crate) async fn standing_open_admitted(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        person_id: Uuid,
    ) -> EngineResult<()> {
        let person = tx
            .person(person_id)
            .await?
            .ok_or_else(|| corrupt(format!("person {person_id} is missing")))?;
        let mut live = self.standing_load(tx, person).await?;
        self.standing_open(tx, &mut live, actor, &mut Vec::new())
            .await
    }

    /// Checks and records one step of `live` (its instance open): role, guards, flags, then the instance, the
    /// member projection and the log entry.
    #[allow(clippy::too_many_arguments)]
    async fn standing_record(
        &self,
        tx: &mut S::Tx,
        live: &mut Live,
        actor: &Actor,
        step: &StandingStep,
        facts_extra: FactsExtra,
        logged: &mut Vec<(String, i64)>,
    ) -> EngineResult<(Vec<String>, Vec<(String, String)>)> {
        let (_, policy) = self.standing_workflow()?;
        let def = live.def;
        let t = def.transition(&live.state, step.command())?;
        let role = self
            .role_on(tx, actor, t, def, live.branch.id, Some(live.person.id))
            .await?;
        crate::access::check_version(actor, live.inst.as_ref().map_or(0, |i| i.version))?;
        let mut facts = StandingFacts::new(
            &policy,
            &live.data,
            &live.state,
            step,
            &role,
            self.today(),
            live.person.birth_date,
        );
        facts.approver = facts_extra.approver.as_ref().map(org_fact);
        facts.approver_above_branch = facts_extra
            .approver
            .as_ref()
            .is_some_and(|a| a.covers(&live.branch) && a.id != live.branch.id);
        facts.recommendation = facts_extra.recommendation;
        facts.advised_to_withdraw_on = facts_extra.advised_to_withdraw_on;
        facts.state_since = facts_extra.state_since;
        for g in &t.guards {
            check_guard(g, &facts)?;
        }
        let names = tuanji_workflow::names::for_machine(STANDING);
        let flags: Vec<(String, String)> = t
            .flags
            .iter()
            .filter_map(|f| {
                check_flag(f, &facts).map(|m| {
                    (
                        names
                            .flag(f)
                            .map_or_else(|| f.clone(), |c| c.as_str().to_owned()),
                        m,
                    )
                })
            })
            .collect();
        let to = target(t, step)?;
        let from = live.state.clone();
        live.data.apply(&from, step);
        let Some(inst) = live.inst.as_mut() else {
            return Err(corrupt("standing instance missing"));
        };
        tx.update_instance(inst.id, inst.version, &to, &to_json(&live.data)?)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => EngineError::Conflict(format!(
                    "the standing of {} changed while this command ran; run it again",
                    masked(&live.person.resident_id)
                )),
                other => other.into(),
            })?;
        inst.version += 1;
        inst.state = to.clone();
        let inst = inst.clone();
        let entry = self.standing_entry(live, &inst, actor, &role, t, &from, &to, step, &flags);
        let row = tx.append_log(&entry).await?;
        logged.push((t.command.clone(), row.seq));
        if to != from
            || matches!(
                step,
                StandingStep::PutOnProbation { .. } | StandingStep::EndProbation { .. }
            )
        {
            tx.set_member_standing(live.person.id, &to, live.data.probation_until, step.date())
                .await?;
        }
        live.state = to;
        Ok((codes_of(&def.name, t), flags))
    }

    /// Runs a standing command for the member named by resident ID, development number or instance id.
    ///
    /// Errors: WF_NOT_ALLOWED when the command is not allowed in the member's state or role; the rule code of
    /// the first guard that fails (STD_PROBATION, STD_EXPEL, STD_AGE_OUT, STD_WITHDRAW, STD_LAPSE,
    /// EVL_UNQUALIFIED, DUE_STUDENT; see `workflows/standing.v1.toml`); [`EngineError::Input`] for unknown
    /// persons or organisations, non-members, tombstoned or annulled members, empty texts and dates after today
    /// or before the membership date; [`EngineError::Conflict`] when a concurrent command changed the standing.
    pub async fn standing(
        &self,
        actor: &Actor,
        member: &str,
        cmd: &StandingCommand,
    ) -> EngineResult<StandingOutcome> {
        self.retrying(|| async {
            let mut tx = self.store().begin().await?;
            let out = self.standing_in(&mut tx, actor, member, cmd).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    async fn org_code(&self, tx: &mut S::Tx, code: &str) -> EngineResult<OrgRow> {
        tx.org_by_code(code.trim()).await?.ok_or_else(|| {
            EngineError::NotFound(format!("no organisation has code `{}`", code.trim()))
        })
    }

    /// The decision's branch meeting with its entitled members checked against the branch (shared with the
    /// Party vote, [`Engine::branch_size_on`]): the members in good standing (not on probation) on the meeting
    /// date. An `entitled` of 0 (not given) takes the branch's count.
    ///
    /// Errors: `code` (the decision's rule) when a number given differs from the branch's.
    async fn decision_checked(
        &self,
        tx: &mut S::Tx,
        live: &Live,
        decision: &Decision,
        code: RuleCode,
        what: &str,
    ) -> EngineResult<Decision> {
        let on = decision.meeting.date;
        let (_, branch_entitled) = self.branch_size_on(tx, &live.branch, on).await?;
        let mut d = decision.clone();
        if d.meeting.entitled == 0 {
            d.meeting.entitled = branch_entitled;
        } else if d.meeting.entitled != branch_entitled {
            return Err(RuleViolation::new(
                code,
                format!(
                    "{what}: the meeting names {} entitled members, but {} ({}) has {branch_entitled} on {on} (members on probation are not entitled to vote)",
                    d.meeting.entitled, live.branch.name, live.branch.code
                ),
            )
            .into());
        }
        Ok(d)
    }

    /// The day the member's current standing state began: the effective date of the latest logged standing
    /// change (`from_state` ≠ `to_state`), or the membership date.
    ///
    /// Errors: [`EngineError::Store`].
    async fn state_since(&self, tx: &mut S::Tx, live: &Live) -> EngineResult<Date> {
        let log = tx
            .log(&LogFilter {
                person_id: Some(live.person.id),
                workflow: Some(STANDING.to_owned()),
                ..LogFilter::default()
            })
            .await?;
        Ok(log
            .iter()
            .rev()
            .find(|e| e.from_state != e.to_state && e.from_state != NEW)
            .map_or(live.member.membership_date, |e| e.effective_date))
    }

    /// The organisation `code` when it is the member's branch or above it (its subtree holds the branch).
    ///
    /// Errors: [`EngineError::NotFound`] for an unknown code; `refusal(message)` otherwise.
    async fn org_over_branch(
        &self,
        tx: &mut S::Tx,
        live: &Live,
        code: &str,
        what: &str,
        refusal: impl FnOnce(String) -> EngineError,
    ) -> EngineResult<OrgRow> {
        let o = self.org_code(tx, code).await?;
        if !o.covers(&live.branch) {
            return Err(refusal(format!(
                "{what}: {} ({}) is neither the member's branch {} ({}) nor an organisation above it",
                o.name, o.code, live.branch.name, live.branch.code
            )));
        }
        Ok(o)
    }

    async fn standing_in(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        member: &str,
        cmd: &StandingCommand,
    ) -> EngineResult<StandingOutcome> {
        let today = self.today();
        if cmd.date() > today {
            return Err(EngineError::Input(format!(
                "`{}` is dated {}, after today ({today})",
                cmd.command(),
                cmd.date()
            )));
        }
        let person = self.find_person(tx, member).await?;
        let mut live = self.standing_load(tx, person).await?;
        self.gate(tx, actor, &[live.branch.id], Some(live.person.id), member)
            .await?;
        if cmd.date() < live.member.membership_date {
            return Err(EngineError::Input(format!(
                "`{}` is dated {}, before the membership date {}",
                cmd.command(),
                cmd.date(),
                live.member.membership_date
            )));
        }
        let mut logged = Vec::new();
        self.standing_open(tx, &mut live, actor, &mut logged)
            .await?;
        let mut extra = FactsExtra::default();
        if matches!(
            cmd,
            StandingCommand::PutOnProbation { .. }
                | StandingCommand::Expel { .. }
                | StandingCommand::Withdraw { .. }
                | StandingCommand::Remove { .. }
        ) {
            extra.state_since = Some(self.state_since(tx, &live).await?);
        }
        let mut post_org = None;
        let step = match cmd {
            StandingCommand::PutOnProbation {
                date,
                months,
                decision,
                reason,
            } => {
                extra.approver = Some(self.org_code(tx, &decision.approved_by).await?);
                let decision = self
                    .decision_checked(tx, &live, decision, RuleCode::StdProbation, "the probation")
                    .await?;
                StandingStep::PutOnProbation {
                    date: *date,
                    months: *months,
                    decision,
                    reason: check_text("reason", reason, 500)?,
                    until: add_months(*date, *months),
                }
            }
            StandingCommand::EndProbation { date } => StandingStep::EndProbation {
                date: *date,
                back_to: live.data.back_to(*date),
            },
            StandingCommand::Expel {
                date,
                decision,
                reason,
            } => {
                extra.approver = Some(self.org_code(tx, &decision.approved_by).await?);
                let decision = self
                    .decision_checked(tx, &live, decision, RuleCode::StdExpel, "the expulsion")
                    .await?;
                StandingStep::Expel {
                    date: *date,
                    decision,
                    reason: check_text("reason", reason, 500)?,
                }
            }
            StandingCommand::RecordAppeal {
                date,
                to_org,
                summary,
            } => {
                // An appeal goes to a higher organisation (向上级组织申诉): above the member's branch.
                let o = self
                    .org_over_branch(tx, &live, to_org, "the organisation appealed to", |m| {
                        RuleViolation::new(RuleCode::StdExpel, m).into()
                    })
                    .await?;
                if o.id == live.branch.id {
                    return Err(RuleViolation::new(
                        RuleCode::StdExpel,
                        format!(
                            "an appeal goes to an organisation above the member's branch {} ({}), not to the branch itself",
                            o.name, o.code
                        ),
                    )
                    .into());
                }
                StandingStep::RecordAppeal {
                    date: *date,
                    to_org: o.code,
                    summary: check_text("summary", summary, 500)?,
                }
            }
            StandingCommand::DecideAppeal { date, org, upheld } => {
                // Decided by the organisation appealed to, or one above it.
                let o = self.org_code(tx, org).await?;
                if let Some(a) = live.data.appeals.iter().find(|a| a.decided.is_none()) {
                    let to = self.org_code(tx, &a.to_org).await?;
                    if !o.covers(&to) {
                        return Err(RuleViolation::new(
                            RuleCode::StdExpel,
                            format!(
                                "the appeal of {} went to {} ({}); {} ({}) is neither that organisation nor one above it",
                                a.lodged_on, to.name, to.code, o.name, o.code
                            ),
                        )
                        .into());
                    }
                }
                StandingStep::DecideAppeal {
                    date: *date,
                    org: o.code,
                    upheld: *upheld,
                }
            }
            StandingCommand::Withdraw {
                date,
                request_date,
                decision,
            } => {
                extra.approver = Some(self.org_code(tx, &decision.approved_by).await?);
                let decision = self
                    .decision_checked(tx, &live, decision, RuleCode::StdWithdraw, "the withdrawal")
                    .await?;
                StandingStep::Withdraw {
                    date: *date,
                    request_date: *request_date,
                    decision,
                }
            }
            StandingCommand::Remove {
                date,
                reason,
                decision,
            } => {
                extra.approver = Some(self.org_code(tx, &decision.approved_by).await?);
                if *reason == RemovalReason::Unqualified {
                    extra.advised_to_withdraw_on = self.advised_on(tx, &live).await?;
                }
                let decision = self
                    .decision_checked(tx, &live, decision, RuleCode::StdLapse, "the removal")
                    .await?;
                StandingStep::Remove {
                    date: *date,
                    reason: *reason,
                    decision,
                }
            }
            StandingCommand::RecordDeath { date, recorded_by } => {
                let since = self.state_since(tx, &live).await?;
                if *date < since {
                    return Err(EngineError::Input(format!(
                        "the death is dated {date}, before the member's standing `{}` began on {since}",
                        live.state
                    )));
                }
                let o = self
                    .org_over_branch(tx, &live, recorded_by, "--recorded-by", EngineError::Input)
                    .await?;
                StandingStep::RecordDeath {
                    date: *date,
                    recorded_by: o.code,
                }
            }
            StandingCommand::JoinParty { date, party_org } => {
                let open_recommendation = match tx
                    .latest_instance(live.person.id, "party_recommendation")
                    .await?
                {
                    Some(i) => matches!(
                        i.state.as_str(),
                        "nominated" | "branch_voted" | "publicised" | "recommended"
                    ),
                    None => false,
                };
                if live.state == "recommended_for_party" || open_recommendation {
                    return Err(EngineError::Input(
                        "the member holds a Party recommendation: record the Party's acceptance with `party accept`, \
                         which also records the Party membership and closes the recommendation"
                            .into(),
                    ));
                }
                let since = self.state_since(tx, &live).await?;
                if *date < since {
                    return Err(EngineError::Input(format!(
                        "admission to the Party is dated {date}, before the member's standing `{}` began on {since}",
                        live.state
                    )));
                }
                StandingStep::JoinParty {
                    date: *date,
                    party_org: check_text("party organisation", party_org, 100)?,
                }
            }
            StandingCommand::RecordDues {
                date,
                first,
                months,
                amount_fen,
                category,
            } => {
                if !(1..=120).contains(months) {
                    return Err(EngineError::Input(format!(
                        "a payment covers 1 to 120 months, not {months}"
                    )));
                }
                StandingStep::RecordDues {
                    date: *date,
                    months: (0..*months).map(|i| first.plus(i)).collect(),
                    amount_fen: *amount_fen,
                    category: *category,
                }
            }
            StandingCommand::RecordLife { date, note } => StandingStep::RecordLife {
                date: *date,
                note: check_text("note", note, 500)?,
            },
            StandingCommand::AssignPost { date, post, org } => {
                let o = self
                    .org_over_branch(tx, &live, org, "the post's organisation", |m| {
                        RuleViolation::new(RuleCode::StdAgeOut, m).into()
                    })
                    .await?;
                // One secretary per organisation: the post is handed over, not doubled.
                if *post == PostKind::Secretary {
                    let holders = tx.post_holders(post_name(*post), o.id).await?;
                    if let Some(h) = holders.iter().find(|h| **h != live.person.id) {
                        let who = match tx.person(*h).await? {
                            Some(p) => masked(&p.resident_id),
                            None => h.to_string(),
                        };
                        return Err(EngineError::Input(format!(
                            "{} ({}) already has a secretary ({who}); end that post first",
                            o.name, o.code
                        )));
                    }
                }
                let step = StandingStep::AssignPost {
                    date: *date,
                    post: *post,
                    org: o.code.clone(),
                };
                post_org = Some(o);
                step
            }
            StandingCommand::EndPost { date, post, org } => {
                let o = self
                    .org_over_branch(tx, &live, org, "the post's organisation", |m| {
                        RuleViolation::new(RuleCode::StdAgeOut, m).into()
                    })
                    .await?;
                let step = StandingStep::EndPost {
                    date: *date,
                    post: *post,
                    org: o.code.clone(),
                };
                post_org = Some(o);
                step
            }
            StandingCommand::AgeOut { date } => StandingStep::AgeOut { date: *date },
        };
        let from = live.state.clone();
        let (mut rule_codes, flags) = self
            .standing_record(tx, &mut live, actor, &step, extra, &mut logged)
            .await?;
        // An upheld appeal against the expulsion restores membership on the decision date (STD_EXPEL).
        if let (
            StandingStep::DecideAppeal {
                date, upheld: true, ..
            },
            "expelled",
        ) = (&step, from.as_str())
        {
            let reinstate = StandingStep::Reinstate {
                date: *date,
                back_to: live.data.reinstated_to(),
            };
            let (codes, _) = self
                .standing_record(
                    tx,
                    &mut live,
                    actor,
                    &reinstate,
                    FactsExtra::default(),
                    &mut logged,
                )
                .await?;
            for c in codes {
                if !rule_codes.contains(&c) {
                    rule_codes.push(c);
                }
            }
        }
        // Probation or leaving ends an open Party recommendation in the same transaction (PTY_SHARE no longer
        // counts it); on probation the standing lets go of the recommendation too.
        if let Some(what) = leaving_reason(&step) {
            let cancelled = self
                .party_end_for_standing(tx, actor, live.person.id, step.date(), &what)
                .await?;
            if let Some((id, seq)) = cancelled {
                logged.push(("party_recommendation cancel".to_owned(), seq));
                if live.state == "on_probation" && live.data.recommendation.is_some() {
                    let end = StandingStep::EndRecommendation {
                        date: step.date(),
                        reason: RecommendationEnd::Cancelled,
                    };
                    let extra = FactsExtra {
                        recommendation: Some(RecommendationFact {
                            id: id.to_string(),
                            state: "cancelled".to_owned(),
                            valid_until: live.data.recommendation.as_ref().map(|r| r.2),
                        }),
                        ..FactsExtra::default()
                    };
                    self.standing_record(tx, &mut live, actor, &end, extra, &mut logged)
                        .await?;
                }
            }
        }
        match (&step, post_org) {
            (StandingStep::AssignPost { date, post, .. }, Some(o)) => {
                tx.insert_post(live.person.id, post_name(*post), o.id, *date)
                    .await?;
            }
            (StandingStep::EndPost { date, post, .. }, Some(o)) => {
                tx.end_post(live.person.id, post_name(*post), o.id, *date)
                    .await?;
            }
            (
                StandingStep::RecordDues {
                    date,
                    months,
                    amount_fen,
                    category,
                },
                _,
            ) => {
                let n = months.len() as u64;
                let each = amount_fen / n.max(1);
                let rest = amount_fen - each * n;
                let category = match category {
                    DuesCategory::Reduced => "reduced",
                    DuesCategory::Salaried => "salaried",
                };
                let rows: Vec<DuesRow> = months
                    .iter()
                    .enumerate()
                    .map(|(i, m)| DuesRow {
                        person_id: live.person.id,
                        month: m.to_string(),
                        amount_fen: i64::try_from(if i == 0 { each + rest } else { each })
                            .unwrap_or(i64::MAX),
                        paid_on: *date,
                        category: category.to_owned(),
                    })
                    .collect();
                tx.insert_dues(&rows).await?;
            }
            _ => {}
        }
        Ok(StandingOutcome {
            member: masked(&live.person.resident_id),
            from,
            to: live.state.clone(),
            logged,
            rule_codes,
            flags,
        })
    }

    /// The date the member was advised to withdraw (EVL_UNQUALIFIED): the latest advice in the approved
    /// evaluation rounds that grade the member (`evaluation_rounds`, where the evaluation machine keeps its
    /// rounds; advice is given only after approval).
    ///
    /// Errors: [`EngineError::Store`], a corrupt round included.
    async fn advised_on(&self, tx: &mut S::Tx, live: &Live) -> EngineResult<Option<Date>> {
        let mut advised = None;
        for id in tx.graded_rounds(live.person.id).await? {
            let Some(r) = tx.evaluation_by_id(id).await? else {
                return Err(corrupt(format!("evaluation round {id} is missing")));
            };
            let d: tuanji_workflow::evaluation::EvaluationData = serde_json::from_str(&r.data)
                .map_err(|e| corrupt(format!("evaluation round {id}: {e}")))?;
            advised = advised.max(d.advised_on(live.person.id));
        }
        Ok(advised)
    }

    /// Applies one standing step for a person inside the caller's transaction (used by the Party
    /// recommendation: `recommend` when it reaches `recommended`, `end_recommendation` when the Party declines).
    /// Opens the member's standing first if needed; checks the transition table (WF_NOT_ALLOWED), the actor's
    /// role and the guards with `recommendation` as the recommendation fact; writes the instance, the
    /// `members.standing` projection and the log entry. Does not commit.
    ///
    /// Errors: as [`Engine::standing`].
    #[allow(dead_code)] // called by the Party recommendation (crate::party)
    pub(crate) async fn standing_step_in(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        person_id: Uuid,
        step: StandingStep,
        recommendation: Option<RecommendationFact>,
    ) -> EngineResult<StandingOutcome> {
        // A follow-up of another instance's command: the caller's If-Match named that instance, not this one.
        let actor = &Actor {
            if_version: None,
            ..actor.clone()
        };
        let person = tx
            .person(person_id)
            .await?
            .ok_or_else(|| EngineError::Input(format!("no person {person_id}")))?;
        let mut live = self.standing_load(tx, person).await?;
        let mut logged = Vec::new();
        self.standing_open(tx, &mut live, actor, &mut logged)
            .await?;
        let from = live.state.clone();
        let extra = FactsExtra {
            recommendation,
            ..FactsExtra::default()
        };
        let (rule_codes, flags) = self
            .standing_record(tx, &mut live, actor, &step, extra, &mut logged)
            .await?;
        Ok(StandingOutcome {
            member: masked(&live.person.resident_id),
            from,
            to: live.state.clone(),
            logged,
            rule_codes,
            flags,
        })
    }

    /// A member's standing: state, probation, posts, age-out date, appeals, Party, lapse and dues (on today).
    ///
    /// Errors: [`EngineError::Input`] for an unknown person or a non-member.
    pub async fn standing_show(&self, member: &str) -> EngineResult<StandingView> {
        let mut tx = self.store().begin_read().await?;
        let person = self.find_person(&mut tx, member).await?;
        let who = masked(&person.resident_id);
        let m = tx.member(person.id).await?.ok_or_else(|| {
            EngineError::Input(format!("{who} is not a member (no membership on record)"))
        })?;
        let inst = tx.latest_instance(person.id, STANDING).await?;
        let (_, policy) = self.standing_workflow()?;
        let (state, data) = match &inst {
            Some(i) => (
                i.state.clone(),
                serde_json::from_str::<StandingData>(&i.data)
                    .map_err(|e| corrupt(format!("instance {}: {e}", i.id)))?,
            ),
            None => {
                let mut d = StandingData::default();
                d.apply(
                    NEW,
                    &StandingStep::Open {
                        date: m.membership_date,
                        membership: Membership {
                            membership_date: m.membership_date,
                            number: m.development_number.clone(),
                            probation_until: m.probation_until,
                            dues_from: None,
                        },
                    },
                );
                (m.standing.clone(), d)
            }
        };
        let state = if m.standing == "annulled" {
            "annulled".to_owned()
        } else {
            state
        };
        let dues = dues_view(&who, &data, &policy, self.today());
        Ok(StandingView {
            member: who,
            state,
            instance: inst.as_ref().map(|i| i.id),
            version: inst.as_ref().map(|i| i.version),
            birth_month: YearMonth::of(person.birth_date),
            membership_date: m.membership_date,
            probation_until: data.probation_until,
            age_out_month: data
                .age_out_on(person.birth_date, policy.age_out_age)
                .map(YearMonth::of),
            posts: data.posts.clone(),
            appeals: data.appeals.clone(),
            party: data.party.clone(),
            recommendation: data.recommendation.clone(),
            lapse_flag: data.lapse_flag,
            ended: data.ended.clone(),
            dues,
        })
    }

    /// A member's dues on today: months paid, arrears (months and amount) at the member's rate (DUE_STUDENT).
    ///
    /// Errors: as [`Engine::standing_show`].
    pub async fn dues_show(&self, member: &str) -> EngineResult<DuesView> {
        Ok(self.standing_show(member).await?.dues)
    }

    /// Members per standing state (the `members.standing` projection is the same; members admitted before
    /// standing was recorded have no instance and are not counted).
    ///
    /// Errors: [`EngineError::Store`].
    pub async fn standing_counts(&self) -> EngineResult<Vec<(String, i64)>> {
        let mut tx = self.store().begin_read().await?;
        Ok(tx.instance_state_counts(STANDING).await?)
    }

    /// The standing sweep for `as_of` (on or before today), in one transaction: for every live standing
    /// instance, the steps [`StandingData::due_steps`] gives, each effective on the day it fell due whenever the
    /// sweep runs — the end of an expired probation (STD_PROBATION), the expiry of a Party recommendation
    /// (PTY_VALIDITY), the age-out on the 28th birthday or at the end of the last post held on it (STD_AGE_OUT)
    /// — and a flag for a six-month lapse of dues or organisational life (STD_LAPSE; removal is the branch's
    /// decision). Idempotent: a second run for the same date writes nothing. Reads the instances in pages of
    /// 5,000 and writes the log in multi-row statements. `progress(stage, done, total)` reports members.
    ///
    /// Errors: [`EngineError::Input`] for a date after today.
    pub async fn standing_sweep(
        &self,
        actor: &Actor,
        as_of: Date,
        progress: &(dyn Fn(&str, u64, u64) + Sync),
    ) -> EngineResult<StandingSweepReport> {
        let today = self.today();
        if as_of > today {
            return Err(EngineError::Input(format!(
                "--as-of {as_of} is after today ({today})"
            )));
        }
        let (def, policy) = self.standing_workflow()?;
        let mut report = StandingSweepReport {
            as_of: Some(as_of),
            ..StandingSweepReport::default()
        };
        let mut tx = self.store().begin().await?;
        let total: u64 = tx
            .instance_state_counts(STANDING)
            .await?
            .into_iter()
            .filter(|(s, _)| ACTIVE_STATES.contains(&s.as_str()))
            .map(|(_, n)| n.max(0) as u64)
            .sum();
        progress("standing", 0, total);
        let mut roles: HashMap<(String, &'static str), (&TransitionDef, String, Vec<String>)> =
            HashMap::new();
        let mut after = None;
        let mut entries: Vec<NewLogEntry> = Vec::new();
        loop {
            let page = tx.standing_live_page(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for row in &page {
                report.examined += 1;
                let data: StandingData = serde_json::from_str(&row.data)
                    .map_err(|e| corrupt(format!("instance {}: {e}", row.id)))?;
                let steps = data.due_steps(&row.state, row.birth_date, &policy, as_of);
                if steps.is_empty() {
                    continue;
                }
                let mut data = data;
                let mut state = row.state.clone();
                let mut version = row.version;
                for step in steps {
                    let key = (state.clone(), step.command());
                    if !roles.contains_key(&key) {
                        let t = def.transition(&state, step.command())?;
                        let role = role_for(actor, t, def)?;
                        roles.insert(key.clone(), (t, role, codes_of(&def.name, t)));
                    }
                    let Some((t, role, codes)) = roles.get(&key) else {
                        continue;
                    };
                    let facts = StandingFacts::new(
                        &policy,
                        &data,
                        &state,
                        &step,
                        role,
                        as_of,
                        row.birth_date,
                    );
                    if let Some(e) = t.guards.iter().find_map(|g| check_guard(g, &facts).err()) {
                        tracing::debug!(instance = %row.id, error = %e, "standing step not due");
                        break;
                    }
                    let to = target(t, &step)?;
                    data.apply(&state, &step);
                    match &step {
                        StandingStep::AgeOut { .. } => report.aged_out += 1,
                        StandingStep::EndProbation { .. } => report.probation_ended += 1,
                        StandingStep::EndRecommendation { .. } => {
                            report.recommendation_expired += 1;
                        }
                        StandingStep::FlagLapse {
                            ground: LapseGround::Dues,
                            ..
                        } => report.lapse_dues += 1,
                        StandingStep::FlagLapse { .. } => report.lapse_life += 1,
                        _ => {}
                    }
                    entries.push(NewLogEntry {
                        instance_id: row.id,
                        person_id: Some(row.person_id),
                        org_id: Some(row.branch_id),
                        workflow: def.name.clone(),
                        workflow_version: def.version as i32,
                        definition_sha256: def.sha256.clone(),
                        from_state: state.clone(),
                        to_state: to.clone(),
                        command: t.command.clone(),
                        actor: actor.name.clone(),
                        role: role.clone(),
                        rule_codes: codes.clone(),
                        payload: serde_json::json!({ "step": &step, "flags": [] }),
                        effective_date: step.date(),
                        idempotency_key: actor.idempotency_key.clone(),
                    });
                    if to != state || matches!(step, StandingStep::EndProbation { .. }) {
                        tx.set_member_standing(
                            row.person_id,
                            &to,
                            data.probation_until,
                            step.date(),
                        )
                        .await?;
                    }
                    state = to;
                    version += 1;
                }
                if version != row.version {
                    tx.update_instance(row.id, row.version, &state, &to_json(&data)?)
                        .await?;
                    // The instance moved by more than one step: bring its version in line with the log.
                    for v in row.version + 1..version {
                        tx.update_instance(row.id, v, &state, &to_json(&data)?)
                            .await?;
                    }
                }
                // An age-out ends an open Party recommendation, logged after the age-out.
                if state == "aged_out" {
                    if let Some(what) = data
                        .ended
                        .as_ref()
                        .map(|(_, on)| StandingStep::AgeOut { date: *on })
                        .as_ref()
                        .and_then(leaving_reason)
                    {
                        report.entries += entries.len();
                        tx.append_logs(&entries).await?;
                        entries.clear();
                        let on = data.ended.as_ref().map_or(as_of, |(_, on)| *on);
                        if self
                            .party_end_for_standing(&mut tx, actor, row.person_id, on, &what)
                            .await?
                            .is_some()
                        {
                            report.entries += 1;
                        }
                    }
                }
            }
            report.entries += entries.len();
            tx.append_logs(&entries).await?;
            entries.clear();
            progress("standing", report.examined as u64, total);
        }
        tx.commit().await?;
        self.checkpoint_after_commit().await;
        Ok(report)
    }

    /// `tuanji sweep`: the relation sweep ([`Engine::sweep`]), then the standing sweep
    /// ([`Engine::standing_sweep`]), each in its own transaction. Idempotent.
    ///
    /// Errors: [`EngineError::Input`] for a date after today.
    pub async fn sweep_all(
        &self,
        actor: &Actor,
        as_of: Date,
        progress: &(dyn Fn(&str, u64, u64) + Sync),
    ) -> EngineResult<FullSweepReport> {
        let actor = &crate::access::whole_register(actor, crate::access::Role::SystemAdmin)?;
        let relation = self.sweep(actor, as_of, progress).await?;
        let standing = self.standing_sweep(actor, as_of, progress).await?;
        Ok(FullSweepReport { relation, standing })
    }
}

/// Why a standing step ends the member's open Party recommendation (the cancellation's reason), if it does:
/// probation, expulsion, removal, withdrawal, death and age-out.
pub(crate) fn leaving_reason(step: &StandingStep) -> Option<String> {
    let (what, code) = match step {
        StandingStep::PutOnProbation { .. } => ("was put on probation", "STD_PROBATION"),
        StandingStep::Expel { .. } => ("was expelled", "STD_EXPEL"),
        StandingStep::Remove { .. } => ("was removed", "STD_LAPSE"),
        StandingStep::Withdraw { .. } => ("withdrew from the League", "STD_WITHDRAW"),
        StandingStep::RecordDeath { .. } => ("died", "standing record_death"),
        StandingStep::AgeOut { .. } => ("aged out", "STD_AGE_OUT"),
        _ => return None,
    };
    Some(format!(
        "the member {what} on {} ({code}); the recommendation ends with it",
        step.date()
    ))
}

/// Facts a standing guard needs beyond the instance: the approving organisation, the Party recommendation and
/// the evaluation advice.
#[derive(Default)]
struct FactsExtra {
    approver: Option<OrgRow>,
    recommendation: Option<RecommendationFact>,
    advised_to_withdraw_on: Option<Date>,
    state_since: Option<Date>,
}

fn dues_view(who: &str, data: &StandingData, policy: &StandingPolicy, as_of: Date) -> DuesView {
    let monthly_fen = match data.dues_category {
        DuesCategory::Reduced => policy.reduced_monthly_fen,
        DuesCategory::Salaried => policy.salaried_monthly_fen,
    };
    let arrears = data.arrears(policy, as_of);
    DuesView {
        member: who.to_owned(),
        as_of,
        category: data.dues_category,
        monthly_fen,
        from: data.dues_start(),
        through: data.dues_through(as_of),
        months_paid: data.dues_paid.iter().copied().collect(),
        paid_fen: data.dues_paid_fen,
        paid_yuan: format_yuan(data.dues_paid_fen),
        arrears_fen: arrears.amount_fen,
        arrears_yuan: format_yuan(arrears.amount_fen),
        arrears_months: arrears.months,
        lapse: data.lapse(policy, as_of).map(|(g, gap)| (g, gap.first)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_yuan_reads_yuan_into_fen() {
        assert_eq!(parse_yuan("0.20").expect("0.20"), 20);
        assert_eq!(parse_yuan("1.2").expect("1.2"), 120);
        assert_eq!(parse_yuan("3").expect("3"), 300);
        assert_eq!(parse_yuan(".5").expect(".5"), 50);
        for bad in ["", ".", "0.201", "-1", "1,00", "abc"] {
            assert!(parse_yuan(bad).is_err(), "{bad}");
        }
    }
}
