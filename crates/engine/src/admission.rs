//! Admission (团员发展) use cases: applications and every step of `workflows/admission.v1.toml`, each one
//! transaction. Rules: DOMAIN.md §1, sources in DOMAIN-SOURCES.md §1.

use crate::{Actor, Engine, EngineError, EngineResult};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tuanji_domain::{Date, DevelopmentNumber, ResidentId, RuleCode, RuleViolation, SchoolLevel};
use tuanji_store::{
    InstanceRow, MemberRow, NewLogEntry, NumberRow, OrgRow, PersonRow, Store, StoreError, StoreTx,
};
use tuanji_workflow::admission::{
    admitted_member, AdmissionData, AdmissionStep, ArchiveRecord, ClassRecord, Meeting, Mentor,
};
use tuanji_workflow::guards::{
    check_flag, check_guard, publicity_end, AdmissionFacts, BranchFact, CommitteeFact, MemberFact,
};
use tuanji_workflow::{names, Definition, TransitionDef};
use uuid::Uuid;

/// An application (入团申请书) as received: the creating command of an admission instance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Code of the branch (团支部) that receives the application.
    pub branch: String,
    /// Resident ID (公民身份号码) as written; validated with ID_FORMAT, ID_CHECKSUM, ID_BIRTH_DATE.
    pub resident_id: String,
    /// Full name, 1–50 characters.
    pub name: String,
    /// 民族.
    pub ethnicity: Option<String>,
    /// Class (班级).
    pub class: Option<String>,
    /// Application date (an effective date, China Standard Time); ADM_AGE_MIN applies on it.
    pub date: Date,
}

/// One step of the procedure as a user gives it. Persons are named by resident ID or development number.
/// In JSON (HTTP API): an object whose `command` names the step (`record_talk`, `approve`, …) beside its fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdmissionCommand {
    /// Talk with the applicant (ADM_TALK_DEADLINE: within 1 month, else flagged).
    RecordTalk {
        /// Effective date (China Standard Time).
        date: Date,
        /// Who talked with the applicant.
        by: String,
    },
    /// Activist approval by the basic-level committee `committee` (ADM_ACTIVIST_APPROVAL).
    ApproveActivist {
        /// Effective date (China Standard Time).
        date: Date,
        /// Code of the committee.
        committee: String,
    },
    /// Mentors: members of the register (by ID or number) and Party members (by name) (ADM_MENTORS).
    AssignMentors {
        /// Effective date (China Standard Time).
        date: Date,
        /// Member mentors, by resident ID or development number.
        members: Vec<String>,
        /// Party-member mentors, by name.
        party_members: Vec<String>,
    },
    /// A League class of `minutes` minutes (ADM_CLASS_HOURS).
    RecordClass {
        /// Effective date (China Standard Time).
        date: Date,
        /// Length in minutes.
        minutes: u32,
        /// Topic.
        topic: String,
    },
    /// Determination as development target (ADM_OBSERVATION, ADM_CLASS_HOURS, ADM_MENTORS).
    DetermineTarget {
        /// Effective date (China Standard Time).
        date: Date,
    },
    /// Pre-review by `committee` (ADM_PREREVIEW).
    Prereview {
        /// Effective date (China Standard Time).
        date: Date,
        /// Code of the committee.
        committee: String,
    },
    /// Publicity starting on `date`; its end is computed on the working-day calendar (ADM_PUBLICITY).
    Publicise {
        /// Effective date (China Standard Time).
        date: Date,
    },
    /// An objection raised during publicity.
    RecordObjection {
        /// Effective date (China Standard Time).
        date: Date,
        /// The objection.
        text: String,
    },
    /// The oldest open objection resolved.
    ResolveObjection {
        /// Effective date (China Standard Time).
        date: Date,
        /// The resolution.
        resolution: String,
    },
    /// The application form with two sponsors (by ID or number) and their opinion date (ADM_SPONSORS, ADM_DATE_ORDER).
    SubmitForm {
        /// Effective date (China Standard Time).
        date: Date,
        /// The two sponsors, by resident ID or development number.
        sponsors: Vec<String>,
        /// Date of the sponsors' opinions.
        opinion_date: Date,
    },
    /// The branch general meeting: entitled members present and yes votes (ADM_MEETING_QUORUM, ADM_MEETING_MAJORITY).
    HoldMeeting {
        /// Effective date (China Standard Time).
        date: Date,
        /// Voting-entitled members present.
        present: u32,
        /// Yes votes.
        yes: u32,
    },
    /// Approval by `committee`; consumes a development number (ADM_APPROVAL, ADM_NUMBER_REQUIRED, ADM_CLASS_CAP).
    Approve {
        /// Effective date (China Standard Time).
        date: Date,
        /// Code of the committee.
        committee: String,
    },
    /// The oath (ADM_OATH).
    RecordOath {
        /// Effective date (China Standard Time).
        date: Date,
    },
    /// The application form PDF filed in the archive (ADM_ARCHIVE).
    FileArchive {
        /// Effective date (China Standard Time).
        date: Date,
        /// The PDF's bytes (JSON: standard base64).
        #[serde(with = "base64_bytes")]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
        pdf: Vec<u8>,
    },
    /// Annul an admission; its number is voided for good.
    Annul {
        /// Effective date (China Standard Time).
        date: Date,
        /// Reason.
        reason: String,
    },
    /// Reject the application.
    Reject {
        /// Effective date (China Standard Time).
        date: Date,
        /// Reason.
        reason: String,
    },
    /// The applicant withdraws.
    Withdraw {
        /// Effective date (China Standard Time).
        date: Date,
        /// Reason.
        reason: String,
    },
}

impl AdmissionCommand {
    /// The workflow command name.
    pub fn command(&self) -> &'static str {
        match self {
            AdmissionCommand::RecordTalk { .. } => "record_talk",
            AdmissionCommand::ApproveActivist { .. } => "approve_activist",
            AdmissionCommand::AssignMentors { .. } => "assign_mentors",
            AdmissionCommand::RecordClass { .. } => "record_class",
            AdmissionCommand::DetermineTarget { .. } => "determine_target",
            AdmissionCommand::Prereview { .. } => "prereview",
            AdmissionCommand::Publicise { .. } => "publicise",
            AdmissionCommand::RecordObjection { .. } => "record_objection",
            AdmissionCommand::ResolveObjection { .. } => "resolve_objection",
            AdmissionCommand::SubmitForm { .. } => "submit_form",
            AdmissionCommand::HoldMeeting { .. } => "hold_meeting",
            AdmissionCommand::Approve { .. } => "approve",
            AdmissionCommand::RecordOath { .. } => "record_oath",
            AdmissionCommand::FileArchive { .. } => "file_archive",
            AdmissionCommand::Annul { .. } => "annul",
            AdmissionCommand::Reject { .. } => "reject",
            AdmissionCommand::Withdraw { .. } => "withdraw",
        }
    }

    /// The effective date.
    pub fn date(&self) -> Date {
        match self {
            AdmissionCommand::RecordTalk { date, .. }
            | AdmissionCommand::ApproveActivist { date, .. }
            | AdmissionCommand::AssignMentors { date, .. }
            | AdmissionCommand::RecordClass { date, .. }
            | AdmissionCommand::DetermineTarget { date }
            | AdmissionCommand::Prereview { date, .. }
            | AdmissionCommand::Publicise { date }
            | AdmissionCommand::RecordObjection { date, .. }
            | AdmissionCommand::ResolveObjection { date, .. }
            | AdmissionCommand::SubmitForm { date, .. }
            | AdmissionCommand::HoldMeeting { date, .. }
            | AdmissionCommand::Approve { date, .. }
            | AdmissionCommand::RecordOath { date }
            | AdmissionCommand::FileArchive { date, .. }
            | AdmissionCommand::Annul { date, .. }
            | AdmissionCommand::Reject { date, .. }
            | AdmissionCommand::Withdraw { date, .. } => *date,
        }
    }
}

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepOutcome {
    /// The admission instance.
    pub instance_id: Uuid,
    /// State before.
    pub from: String,
    /// State after.
    pub to: String,
    /// Rule codes checked.
    pub rule_codes: Vec<String>,
    /// Overdue flags raised (rule code and message); they do not refuse.
    pub flags: Vec<(String, String)>,
    /// The development number consumed, for an approval.
    pub number: Option<String>,
    /// The last day of publicity, for `publicise`.
    pub publicity_end: Option<Date>,
    /// Sequence number of the log entry.
    pub seq: i64,
}

/// The rule code a guard, flag or action name of the admission machine enforces.
pub(crate) fn code_of(name: &str) -> Option<RuleCode> {
    let n = names::for_machine("admission");
    n.guard(name).or(n.flag(name)).or(n.action(name))
}

/// The rule codes a transition of `machine` checks, in order, without repeats.
pub(crate) fn codes_of(machine: &str, t: &TransitionDef) -> Vec<String> {
    let names = names::for_machine(machine);
    let mut codes: Vec<String> = Vec::new();
    for n in t.guards.iter().chain(&t.flags).chain(&t.actions) {
        if let Some(c) = names.guard(n).or(names.flag(n)).or(names.action(n)) {
            let c = c.as_str().to_owned();
            if !codes.contains(&c) {
                codes.push(c);
            }
        }
    }
    codes
}

/// The role the actor acts in, for a command not yet authorised over the organisation tree: the claimed one if the
/// transition allows it, else the transition's first role. An API caller (with grants) is refused: such a command
/// must go through [`Engine::role_on`], which knows the organisation acted on.
pub(crate) fn role_for(actor: &Actor, t: &TransitionDef, def: &Definition) -> EngineResult<String> {
    if actor.grants.is_some() {
        return Err(EngineError::Forbidden(format!(
            "`{}` is not available to API callers",
            t.command
        )));
    }
    role_claimed(actor, t, def)
}

/// The claimed role if the transition allows it, else the transition's first role.
pub(crate) fn role_claimed(
    actor: &Actor,
    t: &TransitionDef,
    def: &Definition,
) -> EngineResult<String> {
    check_text("actor", &actor.name, 100)?;
    if actor.name.trim().is_empty() {
        return Err(EngineError::Input(
            "the actor (who issues the command) must be named".into(),
        ));
    }
    match &actor.role {
        Some(r) if t.roles.contains(r) => Ok(r.clone()),
        Some(r) => Err(EngineError::Rule(RuleViolation::new(
            RuleCode::WfNotAllowed,
            format!(
                "role `{r}` may not issue `{}` in {} v{}; allowed: {}",
                t.command,
                def.name,
                def.version,
                t.roles.join(", ")
            ),
        ))),
        None => t
            .roles
            .first()
            .cloned()
            .ok_or_else(|| EngineError::Input(format!("`{}` names no role", t.command))),
    }
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> EngineResult<String> {
    serde_json::to_string(v).map_err(|e| EngineError::Store(StoreError::Corrupt(e.to_string())))
}

/// `name` trimmed, 1–50 characters.
pub(crate) fn check_name(name: &str) -> EngineResult<String> {
    let n = name.trim();
    let chars = n.chars().count();
    if chars == 0 || chars > 50 {
        return Err(EngineError::Input(format!(
            "a name must have 1–50 characters; got {chars}"
        )));
    }
    if n.chars().any(char::is_control) {
        return Err(EngineError::Input(
            "a name may not contain control characters (line breaks, tabs)".into(),
        ));
    }
    Ok(n.to_owned())
}

/// Free text recorded in the log: at most `max` characters, no control characters.
pub(crate) fn check_text(field: &str, text: &str, max: usize) -> EngineResult<String> {
    let t = text.trim();
    let n = t.chars().count();
    if n == 0 {
        return Err(EngineError::Input(format!("{field} is empty")));
    }
    if n > max {
        return Err(EngineError::Input(format!(
            "{field} has {n} characters; at most {max} are allowed"
        )));
    }
    if t.chars().any(char::is_control) {
        return Err(EngineError::Input(format!(
            "{field} contains a control character (line break, tab, …)"
        )));
    }
    Ok(t.to_owned())
}

/// Where a person is held, for ID_UNIQUE messages: "共青团…委员会 (code)".
pub(crate) async fn holder<T: StoreTx>(tx: &mut T, branch_id: Uuid) -> EngineResult<String> {
    Ok(match tx.org_by_id(branch_id).await? {
        Some(o) => format!("{} ({})", o.name, o.code),
        None => format!("organisation {branch_id}"),
    })
}

/// Where a person is already registered, as `actor` may learn it (ID_UNIQUE): the organisation and `detail`
/// for the trusted CLI or a caller whose grants cover that organisation; otherwise only "another organisation",
/// so that an API caller learns that the ID is taken but not where, in what state or since when.
pub(crate) async fn held_by_for<T: StoreTx>(
    tx: &mut T,
    actor: &Actor,
    org_id: Uuid,
    detail: &str,
) -> EngineResult<String> {
    let disclosed = match (&actor.grants, tx.org_by_id(org_id).await?) {
        (None, _) => true,
        (Some(_), Some(o)) => crate::access::may_read(
            actor,
            crate::access::Scope {
                org_path: &o.path,
                person: None,
            },
        ),
        (Some(_), None) => false,
    };
    Ok(if disclosed {
        format!("{}{detail}", holder(tx, org_id).await?)
    } else {
        "another organisation (outside the caller's organisations)".to_owned()
    })
}

impl<S: Store> Engine<S> {
    /// Receives an application: creates (or reuses, after an earlier rejected or withdrawn application) the
    /// person and a new admission instance in state `applicant`.
    ///
    /// Errors: ID_FORMAT / ID_CHECKSUM / ID_BIRTH_DATE for a bad ID, ID_UNIQUE when the person is already a
    /// member or has a live application anywhere (naming the organisation), ADM_AGE_MIN / ADM_AGE_MAX on the
    /// application date, [`EngineError::Input`] for an unknown or non-branch organisation or a future date.
    pub async fn apply(&self, actor: &Actor, app: &Application) -> EngineResult<StepOutcome> {
        self.retrying(|| async {
            let mut tx = self.store().begin().await?;
            let branch = self.branch_by_code(&mut tx, &app.branch).await?;
            let out = self.apply_in(&mut tx, actor, &branch, app).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    pub(crate) async fn branch_by_code(&self, tx: &mut S::Tx, code: &str) -> EngineResult<OrgRow> {
        let org = tx
            .org_by_code(code)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no organisation has code `{code}`")))?;
        if org.kind != "branch" {
            return Err(RuleViolation::new(
                RuleCode::TrfBranchOnly,
                format!("{} ({}) is a {}, not a branch: applications and members sit only in a branch (团支部)", org.name, org.code, org.kind),
            )
            .into());
        }
        Ok(org)
    }

    /// The apply command inside an open transaction (used by roster import too).
    pub(crate) async fn apply_in(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        branch: &OrgRow,
        app: &Application,
    ) -> EngineResult<StepOutcome> {
        let today = self.today();
        if app.date > today {
            return Err(EngineError::Input(format!(
                "the application date {} is after today ({today})",
                app.date
            )));
        }
        let rid = ResidentId::parse(&app.resident_id, today)?;
        let name = check_name(&app.name)?;
        let def = self.admission;
        let t = def.transition(tuanji_workflow::NEW, "apply")?;
        let role = self.role_on(tx, actor, t, def, branch.id, None).await?;

        let existing = tx.person_by_resident_id(rid.as_str()).await?;
        let mut held_elsewhere = None;
        if let Some(p) = &existing {
            if let Some(m) = tx.member(p.id).await? {
                if m.standing != "annulled" {
                    let detail = format!(" as a member since {}", m.membership_date);
                    held_elsewhere = Some(held_by_for(tx, actor, m.branch_id, &detail).await?);
                }
            }
            if held_elsewhere.is_none() {
                if let Some(i) = tx.latest_instance(p.id, "admission").await? {
                    if !matches!(i.state.as_str(), "rejected" | "withdrawn" | "annulled") {
                        let detail = format!(" as an applicant in state `{}`", i.state);
                        held_elsewhere = Some(held_by_for(tx, actor, i.branch_id, &detail).await?);
                    }
                }
            }
        }
        let class = match &app.class {
            Some(c) if !c.trim().is_empty() => Some(check_text("class", c, 50)?),
            _ => None,
        };
        let step = AdmissionStep::Apply {
            date: app.date,
            class,
        };
        let data = AdmissionData::default();
        let facts = AdmissionFacts {
            policy: &self.policy,
            calendar: self.calendar,
            birth_date: rid.birth_date(),
            data: &data,
            step: &step,
            held_elsewhere,
            committee: None,
            mentors: Vec::new(),
            sponsors: Vec::new(),
            branch: BranchFact::default(),
            archive_is_pdf: false,
        };
        for g in &t.guards {
            check_guard(g, &facts)?;
        }

        let person_id = match existing {
            Some(p) => p.id,
            None => {
                let p = PersonRow {
                    id: Uuid::now_v7(),
                    resident_id: rid.as_str().to_owned(),
                    name,
                    sex: rid.sex().as_str().to_owned(),
                    ethnicity: match &app.ethnicity {
                        Some(e) if !e.trim().is_empty() => Some(check_text("ethnicity", e, 20)?),
                        _ => None,
                    },
                    birth_date: rid.birth_date(),
                };
                tx.insert_person(&p)
                    .await
                    .map_err(|e| unique_person(e, &rid))?;
                p.id
            }
        };
        let mut data = data;
        data.apply(&step);
        let inst = InstanceRow {
            id: Uuid::now_v7(),
            workflow: def.name.clone(),
            workflow_version: def.version as i32,
            definition_sha256: def.sha256.clone(),
            person_id,
            branch_id: branch.id,
            state: t.to.clone(),
            version: 1,
            data: to_json(&data)?,
            opened_on: app.date,
        };
        tx.insert_instance(&inst)
            .await
            .map_err(|e| unique_person(e, &rid))?;
        let rule_codes = codes_of(&def.name, t);
        let log = tx
            .append_log(&NewLogEntry {
                instance_id: inst.id,
                person_id: Some(person_id),
                org_id: Some(branch.id),
                workflow: def.name.clone(),
                workflow_version: def.version as i32,
                definition_sha256: def.sha256.clone(),
                from_state: t.from.clone(),
                to_state: t.to.clone(),
                command: t.command.clone(),
                actor: actor.name.clone(),
                role,
                rule_codes: rule_codes.clone(),
                payload: serde_json::json!({ "step": step, "flags": [] }),
                effective_date: app.date,
                idempotency_key: actor.idempotency_key.clone(),
            })
            .await?;
        Ok(StepOutcome {
            instance_id: inst.id,
            from: t.from.clone(),
            to: t.to.clone(),
            rule_codes,
            flags: Vec::new(),
            number: None,
            publicity_end: None,
            seq: log.seq,
        })
    }

    /// Runs one step of the procedure for the applicant named by resident ID, development number or instance id.
    ///
    /// Errors: WF_NOT_ALLOWED when the step is not allowed in the current state (or the role may not issue it),
    /// the rule code of the first guard that fails (see `workflows/admission.v1.toml`), ADM_QUOTA_EXHAUSTED when
    /// no number is left, [`EngineError::Input`] for unknown persons or organisations and future dates.
    pub async fn step(
        &self,
        actor: &Actor,
        applicant: &str,
        cmd: &AdmissionCommand,
    ) -> EngineResult<StepOutcome> {
        self.retrying(|| async {
            let mut tx = self.store().begin().await?;
            let out = self.step_in(&mut tx, actor, applicant, cmd).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    /// The person and their latest admission instance.
    pub(crate) async fn find_admission(
        &self,
        tx: &mut S::Tx,
        applicant: &str,
    ) -> EngineResult<(PersonRow, InstanceRow)> {
        let key = applicant.trim();
        if key.chars().count() == 18 {
            let rid = ResidentId::parse(key, self.today())?;
            if let Some(found) = tx
                .person_with_latest_instance(rid.as_str(), "admission")
                .await?
            {
                return Ok(found);
            }
        }
        let person = self.find_person(tx, applicant).await?;
        let inst = tx
            .latest_instance(person.id, "admission")
            .await?
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "{} has no admission on record",
                    masked(&person.resident_id)
                ))
            })?;
        Ok((person, inst))
    }

    /// A person by resident ID (18 characters), development number (12 digits) or admission instance id.
    pub(crate) async fn find_person(&self, tx: &mut S::Tx, r: &str) -> EngineResult<PersonRow> {
        let r = r.trim();
        let found = if r.chars().count() == 18 {
            let rid = ResidentId::parse(r, self.today())?;
            tx.person_by_resident_id(rid.as_str()).await?
        } else if r.len() == 12 && r.bytes().all(|b| b.is_ascii_digit()) {
            match tx.number(r).await? {
                Some(n) => tx.person(n.person_id).await?,
                None => None,
            }
        } else if let Ok(id) = Uuid::parse_str(r) {
            match tx.instance(id).await? {
                Some(i) => tx.person(i.person_id).await?,
                None => None,
            }
        } else {
            return Err(EngineError::Input(format!(
                "`{}` is neither an 18-character resident ID, a 12-digit development number nor an instance id",
                tuanji_domain::mask_id_like(r)
            )));
        };
        found.ok_or_else(|| {
            EngineError::NotFound(format!(
                "no person on record for {}",
                tuanji_domain::mask_id_like(r)
            ))
        })
    }

    async fn committee_fact(
        &self,
        tx: &mut S::Tx,
        code: &str,
        branch: Option<&OrgRow>,
    ) -> EngineResult<CommitteeFact> {
        let branch =
            branch.ok_or_else(|| StoreError::Corrupt("the branch was not loaded".into()))?;
        let org = tx
            .org_by_code(code)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no organisation has code `{code}`")))?;
        Ok(CommitteeFact {
            code: format!("{} ({})", org.name, org.code),
            approves_admissions: org.approves_admissions && org.kind != "branch",
            covers_branch: org.id != branch.id && org.covers(branch),
        })
    }

    async fn member_fact(
        &self,
        tx: &mut S::Tx,
        r: &str,
        applicant: Uuid,
    ) -> EngineResult<(Uuid, MemberFact)> {
        let p = self.find_person(tx, r).await?;
        Ok((p.id, fact_of(tx, &p, applicant).await?))
    }

    pub(crate) async fn step_in(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        applicant: &str,
        cmd: &AdmissionCommand,
    ) -> EngineResult<StepOutcome> {
        let today = self.today();
        if cmd.date() > today {
            return Err(EngineError::Input(format!(
                "`{}` is dated {}, after today ({today})",
                cmd.command(),
                cmd.date()
            )));
        }
        let (person, inst) = self.find_admission(tx, applicant).await?;
        self.gate(tx, actor, &[inst.branch_id], Some(person.id), applicant)
            .await?;
        let def = self
            .registry
            .get(&inst.workflow, inst.workflow_version as u32)
            .ok_or_else(|| {
                EngineError::Input(format!(
                    "workflow {} v{} is not installed",
                    inst.workflow, inst.workflow_version
                ))
            })?;
        // TRF_NO_DELETE is a floor: an annulment removes a member, refused while the member is graduated pending
        // transfer or in a transfer, whatever the role (checked before the table and the role).
        if let AdmissionCommand::Annul { .. } = cmd {
            self.check_not_locked(tx, person.id).await?;
        }
        let t = def.transition(&inst.state, cmd.command())?;
        let role = self
            .role_on(tx, actor, t, def, inst.branch_id, Some(person.id))
            .await?;
        crate::access::check_version(actor, inst.version)?;
        // Only an admitted person has a member row that can carry a tombstone.
        let tombstone = match inst.state.as_str() {
            tuanji_workflow::ADMITTED => tx.member(person.id).await?.and_then(|m| m.deleted_on),
            _ => None,
        };
        if let Some(d) = tombstone {
            return Err(EngineError::Input(format!(
                "{} was deleted on {d}; the record is kept as a tombstone and takes no further steps",
                masked(&person.resident_id)
            )));
        }
        let mut data: AdmissionData = serde_json::from_str(&inst.data)
            .map_err(|e| StoreError::Corrupt(format!("instance {}: {e}", inst.id)))?;
        // Only the steps that check committees, counts or class caps need the branch's row.
        let counts_members = matches!(
            cmd,
            AdmissionCommand::HoldMeeting { .. } | AdmissionCommand::Approve { .. }
        );
        let branch = if counts_members
            || matches!(
                cmd,
                AdmissionCommand::ApproveActivist { .. } | AdmissionCommand::Prereview { .. }
            ) {
            let b = tx.org_by_id(inst.branch_id).await?.ok_or_else(|| {
                StoreError::Corrupt(format!("instance {} has no branch", inst.id))
            })?;
            Some(b)
        } else {
            None
        };
        let mut committee = None;
        let mut mentors = Vec::new();
        let mut sponsors = Vec::new();
        let mut bfact = BranchFact::default();
        if let Some(b) = &branch {
            bfact.school_level = b
                .school_level
                .as_deref()
                .and_then(|s| s.parse::<SchoolLevel>().ok());
            bfact.graduating = b.graduating;
            bfact.class_size = b.class_size.map(|n| n.max(0) as u32);
        }
        if counts_members {
            // Meetings and approvals count the branch's members: serialise them per branch.
            tx.lock_org(inst.branch_id).await?;
            let c = tx.branch_counts(inst.branch_id).await?;
            bfact.members = c.members as u32;
            bfact.entitled = c.entitled as u32;
        }
        let mut archive_is_pdf = false;
        let step = match cmd {
            AdmissionCommand::RecordTalk { date, by } => AdmissionStep::RecordTalk {
                date: *date,
                by: check_name(by)?,
            },
            AdmissionCommand::ApproveActivist { date, committee: c } => {
                committee = Some(self.committee_fact(tx, c, branch.as_ref()).await?);
                AdmissionStep::ApproveActivist {
                    date: *date,
                    committee: c.clone(),
                }
            }
            AdmissionCommand::AssignMentors {
                date,
                members,
                party_members,
            } => {
                let mut list = Vec::new();
                for m in members {
                    let (id, fact) = self.member_fact(tx, m, person.id).await?;
                    mentors.push(fact);
                    list.push(Mentor::Member { person_id: id });
                }
                for n in party_members {
                    list.push(Mentor::PartyMember {
                        name: check_name(n)?,
                    });
                }
                AdmissionStep::AssignMentors {
                    date: *date,
                    mentors: list,
                }
            }
            AdmissionCommand::RecordClass {
                date,
                minutes,
                topic,
            } => AdmissionStep::RecordClass(ClassRecord {
                date: *date,
                minutes: *minutes,
                topic: if topic.trim().is_empty() {
                    String::new()
                } else {
                    check_text("topic", topic, 500)?
                },
            }),
            AdmissionCommand::DetermineTarget { date } => {
                AdmissionStep::DetermineTarget { date: *date }
            }
            AdmissionCommand::Prereview { date, committee: c } => {
                committee = Some(self.committee_fact(tx, c, branch.as_ref()).await?);
                AdmissionStep::Prereview {
                    date: *date,
                    committee: c.clone(),
                }
            }
            AdmissionCommand::Publicise { date } => {
                let end = publicity_end(self.calendar, *date, self.policy.publicity_working_days)?;
                AdmissionStep::Publicise { date: *date, end }
            }
            AdmissionCommand::RecordObjection { date, text } => AdmissionStep::RecordObjection {
                date: *date,
                text: check_text("text", text, 500)?,
            },
            AdmissionCommand::ResolveObjection { date, resolution } => {
                AdmissionStep::ResolveObjection {
                    date: *date,
                    resolution: check_text("resolution", resolution, 500)?,
                }
            }
            AdmissionCommand::SubmitForm {
                date,
                sponsors: refs,
                opinion_date,
            } => {
                let mut ids = Vec::new();
                for r in refs {
                    let (id, fact) = self.member_fact(tx, r, person.id).await?;
                    sponsors.push(fact);
                    ids.push(id);
                }
                AdmissionStep::SubmitForm {
                    date: *date,
                    sponsors: ids,
                    opinion_date: *opinion_date,
                }
            }
            AdmissionCommand::HoldMeeting { date, present, yes } => {
                AdmissionStep::HoldMeeting(Meeting {
                    date: *date,
                    entitled: bfact.entitled,
                    present: *present,
                    yes: *yes,
                })
            }
            AdmissionCommand::Approve { date, committee: c } => {
                committee = Some(self.committee_fact(tx, c, branch.as_ref()).await?);
                AdmissionStep::Approve {
                    date: *date,
                    committee: c.clone(),
                    number: String::new(),
                }
            }
            AdmissionCommand::RecordOath { date } => AdmissionStep::RecordOath { date: *date },
            AdmissionCommand::FileArchive { date, pdf } => {
                archive_is_pdf = pdf.starts_with(b"%PDF-");
                AdmissionStep::FileArchive(ArchiveRecord {
                    date: *date,
                    bytes: pdf.len() as u64,
                    sha256: hex::encode(Sha256::digest(pdf)),
                })
            }
            AdmissionCommand::Annul { date, reason } => AdmissionStep::Annul {
                date: *date,
                reason: check_text("reason", reason, 500)?,
            },
            AdmissionCommand::Reject { date, reason } => AdmissionStep::Reject {
                date: *date,
                reason: check_text("reason", reason, 500)?,
            },
            AdmissionCommand::Withdraw { date, reason } => AdmissionStep::Withdraw {
                date: *date,
                reason: check_text("reason", reason, 500)?,
            },
        };
        // The sponsors on the form must still be in good standing on the meeting date.
        if let AdmissionStep::HoldMeeting(_) = step {
            sponsors = self.sponsor_facts(tx, &data.sponsors, person.id).await?;
        }

        let facts = AdmissionFacts {
            policy: &self.policy,
            calendar: self.calendar,
            birth_date: person.birth_date,
            data: &data,
            step: &step,
            held_elsewhere: None,
            committee,
            mentors,
            sponsors,
            branch: bfact,
            archive_is_pdf,
        };
        for g in &t.guards {
            check_guard(g, &facts)?;
        }
        let mut flags = Vec::new();
        for f in &t.flags {
            if let Some(msg) = check_flag(f, &facts) {
                let code = code_of(f)
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_else(|| f.clone());
                flags.push((code, msg));
            }
        }
        drop(facts);

        let mut step = step;
        let mut number_out = None;
        for a in &t.actions {
            match a.as_str() {
                names::ASSIGN_DEVELOPMENT_NUMBER => {
                    let number = self.take_number(tx, &person, &inst, &data, &step).await?;
                    if let AdmissionStep::Approve { number: n, .. } = &mut step {
                        *n = number.clone();
                    }
                    number_out = Some(number);
                }
                "void_development_number" => {
                    if let Some(n) = &data.number {
                        tx.void_number(n, step.date()).await?;
                    }
                }
                // The step itself records these: publicity end computed above, membership from the meeting date,
                // the oath date.
                _ => {}
            }
        }
        data.apply(&step);
        tx.update_instance(inst.id, inst.version, &t.to, &to_json(&data)?)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => EngineError::Conflict(format!(
                    "the admission of {} changed while this command ran; run it again",
                    masked(&person.resident_id)
                )),
                other => other.into(),
            })?;
        if let Some(m) = admitted_member(&t.to, &data) {
            // A member whose relation has moved since admission keeps the branch the relation sits in, and the
            // standing the standing machine gave them (an oath or archive after admission changes neither).
            let existing = tx
                .member(person.id)
                .await?
                .filter(|e| e.admission_instance_id == Some(inst.id));
            let branch_id = existing.as_ref().map_or(inst.branch_id, |e| e.branch_id);
            let (standing, probation_until) = match &existing {
                Some(e) if m.standing == "member" => (e.standing.clone(), e.probation_until),
                _ => (m.standing.to_owned(), None),
            };
            tx.upsert_member(&MemberRow {
                person_id: person.id,
                branch_id,
                membership_date: m.membership_date,
                development_number: Some(m.number),
                standing,
                probation_until,
                source: "admission".into(),
                admission_instance_id: Some(inst.id),
                oath_date: m.oath_date,
                deleted_on: None,
                deletion_reason: None,
            })
            .await?;
        }
        // Every member has a standing instance: opened on admission (standing v1 `open`, after this entry).
        let opens_standing = t.to == "admitted" && inst.state != "admitted";
        let rule_codes = codes_of(&def.name, t);
        let flag_json: Vec<_> = flags
            .iter()
            .map(|(c, m)| serde_json::json!({ "code": c, "message": m }))
            .collect();
        let log = tx
            .append_log(&NewLogEntry {
                instance_id: inst.id,
                person_id: Some(person.id),
                org_id: Some(inst.branch_id),
                workflow: def.name.clone(),
                workflow_version: def.version as i32,
                definition_sha256: def.sha256.clone(),
                from_state: inst.state.clone(),
                to_state: t.to.clone(),
                command: t.command.clone(),
                actor: actor.name.clone(),
                role,
                rule_codes: rule_codes.clone(),
                payload: serde_json::json!({ "step": step, "flags": flag_json }),
                effective_date: step.date(),
                idempotency_key: actor.idempotency_key.clone(),
            })
            .await?;
        if opens_standing {
            self.standing_open_admitted(tx, actor, person.id).await?;
        }
        Ok(StepOutcome {
            instance_id: inst.id,
            from: inst.state,
            to: t.to.clone(),
            rule_codes,
            flags,
            number: number_out,
            publicity_end: match step {
                AdmissionStep::Publicise { end, .. } => Some(end),
                _ => None,
            },
            seq: log.seq,
        })
    }

    async fn sponsor_facts(
        &self,
        tx: &mut S::Tx,
        ids: &[Uuid],
        applicant: Uuid,
    ) -> EngineResult<Vec<MemberFact>> {
        let mut out = Vec::new();
        for id in ids {
            let p = tx
                .person(*id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("sponsor {id} missing")))?;
            out.push(fact_of(tx, &p, applicant).await?);
        }
        Ok(out)
    }

    /// ADM_NUMBER_REQUIRED / ADM_QUOTA_EXHAUSTED: takes the next free number of the approving committee's
    /// allocation for the admission year (the year of the branch meeting, when membership starts).
    async fn take_number(
        &self,
        tx: &mut S::Tx,
        person: &PersonRow,
        inst: &InstanceRow,
        data: &AdmissionData,
        step: &AdmissionStep,
    ) -> EngineResult<String> {
        let AdmissionStep::Approve {
            committee, date, ..
        } = step
        else {
            return Err(EngineError::Input(
                "a development number is assigned only on approval".into(),
            ));
        };
        let meeting = data.meeting.ok_or_else(|| {
            RuleViolation::new(RuleCode::AdmNumberRequired, "no branch meeting is recorded")
        })?;
        let year = chrono::Datelike::year(&meeting.date);
        let org = tx.org_by_code(committee).await?.ok_or_else(|| {
            EngineError::NotFound(format!("no organisation has code `{committee}`"))
        })?;
        let Some((allocation_id, serial)) = tx.take_serial(org.id, year, *date).await? else {
            return Err(RuleViolation::new(
                RuleCode::AdmQuotaExhausted,
                format!("{} ({}) has no free development number for {year} allocated on or before {date}; ask the superior committee for an allocation", org.name, org.code),
            )
            .into());
        };
        let number = DevelopmentNumber::from_parts(year, serial as u64)?;
        tx.insert_number(&NumberRow {
            number: number.as_str().to_owned(),
            year,
            allocation_id: Some(allocation_id),
            person_id: person.id,
            instance_id: Some(inst.id),
            status: "issued".into(),
            issued_on: *date,
            voided_on: None,
        })
        .await
        .map_err(|e| match e {
            StoreError::Unique { .. } => EngineError::Rule(RuleViolation::new(
                RuleCode::AdmNumberRequired,
                format!(
                    "development number {} is already issued; it is never issued twice",
                    number.as_str()
                ),
            )),
            other => other.into(),
        })?;
        Ok(number.as_str().to_owned())
    }
}

/// A mentor or sponsor as the guards see them: their standing in the register, masked ID.
async fn fact_of<T: StoreTx>(
    tx: &mut T,
    p: &PersonRow,
    applicant: Uuid,
) -> EngineResult<MemberFact> {
    Ok(MemberFact {
        person_id: p.id,
        label: masked(&p.resident_id),
        // A member recommended to the Party or in the Party is in good standing (STD_PROBATION: only probation
        // and the ended standings take the rights away).
        standing: tx.member(p.id).await?.map(|m| match m.standing.as_str() {
            "recommended_for_party" | "party_member" => "member".to_owned(),
            _ => m.standing,
        }),
        is_applicant: p.id == applicant,
    })
}

/// ID masked for messages: `110105********1234`.
pub(crate) fn masked(rid: &str) -> String {
    tuanji_domain::mask_id_like(rid)
}

fn unique_person(e: StoreError, rid: &ResidentId) -> EngineError {
    match e {
        StoreError::Unique { .. } => EngineError::Rule(RuleViolation::new(
            RuleCode::IdUnique,
            format!(
                "{} is already registered (a concurrent command created the record)",
                rid.masked()
            ),
        )),
        other => other.into(),
    }
}

/// `Vec<u8>` as standard base64 text in JSON.
mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| serde::de::Error::custom(format!("not base64: {e}")))
    }
}
