//! Annual evaluation (团员教育评议) use cases over `workflows/evaluation.v1.toml`: one round per branch and
//! year, each command one transaction. The branch records the round (attendance and every member's grade),
//! may amend it before approval, the superior committee approves it, unqualified members are re-evaluated
//! 3–6 months later and, if still unqualified, advised to withdraw (劝退); the round closes when none is
//! pending. Once approved, a member's grade is the "last grade" the Party recommendation guard reads.
//!
//! Rules: DOMAIN.md "Evaluation and dues (§7, §8)" (EVL_GRADES, EVL_UNQUALIFIED), sources in DOMAIN-SOURCES.md
//! §8 and §2 (《中国共产主义青年团基层组织“三会两制一课”实施细则（试行）》 中青发〔2017〕5号, Arts. 32–36).
//! Dates are calendar dates in China Standard Time.

use crate::admission::{codes_of, masked, to_json};
use crate::{Actor, Engine, EngineError, EngineResult};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use tuanji_domain::Date;
use tuanji_store::{EvaluationRow, NewLogEntry, OrgRow, Store, StoreError, StoreTx};
use tuanji_workflow::evaluation::{
    check_flag, check_guard, EvaluationData, EvaluationFacts, EvaluationPolicy, EvaluationStep,
    Grade, MemberGrade, Round,
};
use tuanji_workflow::relation::OrgFact;
use tuanji_workflow::standing::StandingData;
use tuanji_workflow::{Definition, NEW};
use uuid::Uuid;

/// An evaluation command as a branch secretary or committee gives it. Members are named by resident ID,
/// development number or instance id; dates are effective dates and may not be after today.
/// In JSON (HTTP API): an object whose `command` names the workflow command beside its fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum EvaluationCommand {
    /// The branch records its round (评议大会): members present and each member's grade (EVL_GRADES).
    Record {
        /// Meeting date.
        date: Date,
        /// Members present at the meeting (more than 2/3 of the branch's members).
        present: u32,
        /// Each member's grade (at most 30 % excellent).
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<String>>))]
        grades: Vec<(String, Grade)>,
    },
    /// The round corrected before approval: attendance and grades replaced (EVL_GRADES).
    Amend {
        /// Meeting date.
        date: Date,
        /// Members present.
        present: u32,
        /// Each member's grade.
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<String>>))]
        grades: Vec<(String, Grade)>,
    },
    /// The superior committee approves the grades (上级团委审批, EVL_GRADES).
    Approve {
        /// Approval date.
        date: Date,
        /// The approving committee (code), above the branch.
        org: String,
    },
    /// An unqualified member re-evaluated 3–6 months after the approval (EVL_UNQUALIFIED).
    Reevaluate {
        /// Date.
        date: Date,
        /// The member.
        member: String,
        /// The new grade.
        grade: Grade,
    },
    /// A member still unqualified after re-evaluation is advised to withdraw (劝退, EVL_UNQUALIFIED).
    AdviseWithdrawal {
        /// Date.
        date: Date,
        /// The member.
        member: String,
    },
    /// Closes the round once every unqualified member is re-evaluated (and advised if still unqualified).
    Close {
        /// Date.
        date: Date,
    },
}

impl EvaluationCommand {
    /// The effective date.
    pub fn date(&self) -> Date {
        match self {
            EvaluationCommand::Record { date, .. }
            | EvaluationCommand::Amend { date, .. }
            | EvaluationCommand::Approve { date, .. }
            | EvaluationCommand::Reevaluate { date, .. }
            | EvaluationCommand::AdviseWithdrawal { date, .. }
            | EvaluationCommand::Close { date } => *date,
        }
    }

    /// The workflow command name.
    pub fn command(&self) -> &'static str {
        match self {
            EvaluationCommand::Record { .. } => "record",
            EvaluationCommand::Amend { .. } => "amend",
            EvaluationCommand::Approve { .. } => "approve",
            EvaluationCommand::Reevaluate { .. } => "reevaluate",
            EvaluationCommand::AdviseWithdrawal { .. } => "advise_withdrawal",
            EvaluationCommand::Close { .. } => "close",
        }
    }
}

/// One member's line of a round, as `evaluation show` prints it. The resident ID is masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradeView {
    /// Masked resident ID.
    pub member: String,
    /// The round's grade.
    pub grade: Grade,
    /// The re-evaluation: date and grade.
    pub reevaluation: Option<(Date, Grade)>,
    /// The date the member was advised to withdraw.
    pub advised_on: Option<Date>,
    /// The grade that stands (the re-evaluation's if any).
    pub current: Grade,
}

/// A branch's round for a year, as `evaluation show` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationView {
    /// Round (instance) id.
    pub id: Uuid,
    /// The round's version (the value `If-Match` names).
    pub version: i64,
    /// Branch code.
    pub branch: String,
    /// Evaluation year.
    pub year: i32,
    /// `recorded`, `approved` or `closed`.
    pub state: String,
    /// Meeting date.
    pub meeting_date: Option<Date>,
    /// Members of the branch on the meeting date.
    pub members: u32,
    /// Members present.
    pub present: u32,
    /// Approval: date and committee code.
    pub approved: Option<(Date, String)>,
    /// Date closed.
    pub closed_on: Option<Date>,
    /// Members per grade that stands, best first: `[("excellent", 2), ("qualified", 7), …]` (every grade listed).
    pub counts: Vec<(String, usize)>,
    /// Every evaluated member, in the order recorded.
    pub grades: Vec<GradeView>,
    /// Masked IDs of unqualified members still to be re-evaluated or advised (EVL_UNQUALIFIED).
    pub pending: Vec<String>,
}

/// What an evaluation command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationOutcome {
    /// State before (`new` for `record`).
    pub from: String,
    /// State after.
    pub to: String,
    /// Sequence number of the log entry.
    pub seq: i64,
    /// Rule codes checked.
    pub rule_codes: Vec<String>,
    /// Flags raised (rule code, message); they do not refuse.
    pub flags: Vec<(String, String)>,
    /// The round after the command.
    pub round: EvaluationView,
}

fn corrupt(e: impl std::fmt::Display) -> EngineError {
    EngineError::Store(StoreError::Corrupt(e.to_string()))
}

pub(crate) fn org_fact(o: &OrgRow) -> OrgFact {
    OrgFact {
        label: format!("{} ({})", o.name, o.code),
        code: o.code.clone(),
        kind: o.kind.clone(),
        school: o.school_level.is_some(),
        mobile: o.mobile_members,
    }
}

impl<S: Store> Engine<S> {
    fn evaluation_def(&self) -> EngineResult<(&'static Definition, EvaluationPolicy)> {
        let def = self
            .registry()
            .latest("evaluation")
            .ok_or_else(|| EngineError::Input("no evaluation workflow is installed".into()))?;
        Ok((def, EvaluationPolicy::from_definition(def)?))
    }

    /// Runs an evaluation command on the round of `branch` (code) for `year`.
    ///
    /// Errors: WF_NOT_ALLOWED when the command is not allowed in the round's state (e.g. `amend` after approval)
    /// or the role may not issue it; EVL_GRADES (checked in this order: the roll first) for a year after the
    /// current year or after the meeting's, a member graded twice (both entries named, 1-based), a grade of a
    /// person who is not a member of the branch in good standing on the meeting date, a round for a year in
    /// which no graded member was yet a member (membership after 31 December), a member in good standing on the
    /// meeting date and a member by 31 December of the year who is not graded (on `record`, `amend` and again on
    /// `approve`; up to five named by masked resident ID), attendance not above 2/3 of the branch's members in
    /// good standing on the meeting date (aged-out, withdrawn, removed, expelled and deceased members do not
    /// count; members on probation do), more than 30 % excellent, an approval by a committee not above the
    /// branch or dated before the meeting; EVL_UNQUALIFIED for a re-evaluation of a member not graded
    /// unqualified, earlier than 3 months after the approval, advice to a member not re-evaluated unqualified,
    /// or closing with members pending; [`EngineError::Input`] for unknown branches, persons or organisations,
    /// a round that does not exist (or already exists, for `record`), and dates after today.
    pub async fn evaluation(
        &self,
        actor: &Actor,
        branch: &str,
        year: i32,
        cmd: &EvaluationCommand,
    ) -> EngineResult<EvaluationOutcome> {
        self.retrying(|| async {
            let mut tx = self.store().begin().await?;
            let out = self
                .evaluation_in(&mut tx, actor, branch, year, cmd)
                .await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    async fn evaluation_in(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        branch: &str,
        year: i32,
        cmd: &EvaluationCommand,
    ) -> EngineResult<EvaluationOutcome> {
        let today = self.today();
        if cmd.date() > today {
            return Err(EngineError::Input(format!(
                "`{}` is dated {}, after today ({today})",
                cmd.command(),
                cmd.date()
            )));
        }
        let (def, policy) = self.evaluation_def()?;
        let b = self.branch_by_code(tx, branch.trim()).await?;
        let acting = match cmd {
            EvaluationCommand::Approve { org, .. } => self.branch_or_org(tx, org).await?,
            _ => b.id,
        };
        // An API caller without any role the command allows over the acting organisation learns nothing about
        // the round (whether it exists, its state): refused before they are read.
        if actor.grants.is_some() {
            // The caller must reach the branch itself, whatever organisation the command names.
            if !crate::access::may_read(
                actor,
                crate::access::Scope {
                    org_path: &b.path,
                    person: None,
                },
            ) {
                return Err(EngineError::Forbidden(format!(
                    "`{}` on the rounds of {} ({}) needs a binding over that branch",
                    cmd.command(),
                    b.name,
                    b.code
                )));
            }
            let mut roles: Vec<String> = def
                .transitions
                .iter()
                .filter(|t| t.command == cmd.command())
                .flat_map(|t| t.roles.iter().cloned())
                .collect();
            roles.sort();
            roles.dedup();
            let path = self.org_path(tx, acting).await?;
            crate::access::authorise(
                actor,
                cmd.command(),
                &roles,
                crate::access::Scope {
                    org_path: &path,
                    person: None,
                },
            )?;
        }
        tx.lock_org(b.id).await?;
        let existing = tx.evaluation(b.id, year).await?;
        let (state, data) = match &existing {
            Some(r) => (
                r.state.clone(),
                serde_json::from_str::<EvaluationData>(&r.data)
                    .map_err(|e| corrupt(format!("evaluation round {}: {e}", r.id)))?,
            ),
            None => (NEW.to_owned(), EvaluationData::default()),
        };
        match (&existing, cmd) {
            (Some(r), EvaluationCommand::Record { .. }) => {
                return Err(EngineError::Input(format!(
                    "{} ({}) already has a {year} evaluation round ({}, state `{}`); correct it with `amend` before approval",
                    b.name, b.code, r.id, r.state
                )))
            }
            (None, c) if !matches!(c, EvaluationCommand::Record { .. }) => {
                return Err(EngineError::Input(format!(
                    "{} ({}) has no {year} evaluation round; record it first",
                    b.name, b.code
                )))
            }
            _ => {}
        }
        let t = def.transition(&state, cmd.command())?;
        let role = self.role_on(tx, actor, t, def, acting, None).await?;
        crate::access::check_version(actor, existing.as_ref().map_or(0, |r| r.version))?;
        let mut branch_members = BTreeMap::new();
        let mut approver = None;
        let mut approver_above_branch = false;
        let mut ids: HashMap<Uuid, String> = HashMap::new();
        let step = match cmd {
            EvaluationCommand::Record {
                date,
                present,
                grades,
            }
            | EvaluationCommand::Amend {
                date,
                present,
                grades,
            } => {
                branch_members = self.roll_on(tx, &b, *date).await?;
                let mut list = Vec::with_capacity(grades.len());
                for (who, grade) in grades {
                    let p = self.find_person(tx, who).await?;
                    ids.insert(p.id, masked(&p.resident_id));
                    list.push(MemberGrade {
                        person_id: p.id,
                        grade: *grade,
                    });
                }
                let round = Round {
                    year,
                    members: u32::try_from(branch_members.len()).unwrap_or(u32::MAX),
                    present: *present,
                    grades: list,
                };
                match cmd {
                    EvaluationCommand::Record { .. } => EvaluationStep::Record {
                        date: *date,
                        branch: b.code.clone(),
                        round,
                    },
                    _ => EvaluationStep::Amend { date: *date, round },
                }
            }
            EvaluationCommand::Approve { date, org } => {
                let o = tx.org_by_code(org.trim()).await?.ok_or_else(|| {
                    EngineError::NotFound(format!("no organisation has code `{}`", org.trim()))
                })?;
                approver_above_branch = o.id != b.id && o.covers(&b) && o.kind != "branch";
                approver = Some(org_fact(&o));
                if let Some(meeting) = data.meeting_date {
                    branch_members = self.roll_on(tx, &b, meeting).await?;
                }
                EvaluationStep::Approve {
                    date: *date,
                    org: o.code,
                }
            }
            EvaluationCommand::Reevaluate {
                date,
                member,
                grade,
            } => {
                let p = self.find_person(tx, member).await?;
                EvaluationStep::Reevaluate {
                    date: *date,
                    person_id: p.id,
                    grade: *grade,
                }
            }
            EvaluationCommand::AdviseWithdrawal { date, member } => {
                let p = self.find_person(tx, member).await?;
                EvaluationStep::AdviseWithdrawal {
                    date: *date,
                    person_id: p.id,
                }
            }
            EvaluationCommand::Close { date } => {
                if let Some((approved, _)) = &data.approved {
                    if date < approved {
                        return Err(EngineError::Input(format!(
                            "`close` is dated {date}, before the approval of {approved}"
                        )));
                    }
                }
                EvaluationStep::Close { date: *date }
            }
        };
        let facts = EvaluationFacts {
            branch_members,
            approver,
            approver_above_branch,
            ..EvaluationFacts::new(&policy, &data, &state, &step, &role, today)
        };
        for g in &t.guards {
            if let Err(mut v) = check_guard(g, &facts) {
                // Messages name members by masked ID, never by person id.
                for (id, m) in &ids {
                    v.message = v.message.replace(&id.to_string(), m);
                }
                let graded = data.grades.iter().map(|g| &g.person_id);
                for id in facts.branch_members.keys().chain(graded) {
                    let text = id.to_string();
                    if v.message.contains(&text) {
                        let m = match tx.person(*id).await? {
                            Some(p) => masked(&p.resident_id),
                            None => text.clone(),
                        };
                        v.message = v.message.replace(&text, &m);
                    }
                }
                return Err(v.into());
            }
        }
        let names = tuanji_workflow::names::for_machine("evaluation");
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
        let mut data = data;
        data.apply(&state, &step);
        let to = t.to.clone();
        let json = to_json(&data)?;
        let row = match existing {
            None => {
                let r = EvaluationRow {
                    id: Uuid::now_v7(),
                    branch_id: b.id,
                    year,
                    workflow_version: def.version as i32,
                    definition_sha256: def.sha256.clone(),
                    state: to.clone(),
                    version: 1,
                    data: json,
                    opened_on: step.date(),
                };
                tx.insert_evaluation(&r).await.map_err(|e| match e {
                    StoreError::Unique { .. } => EngineError::Conflict(format!(
                        "a concurrent command recorded the {year} round of {}; run it again",
                        b.code
                    )),
                    other => other.into(),
                })?;
                r
            }
            Some(mut r) => {
                tx.update_evaluation(r.id, r.version, &to, &json)
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict { .. } => EngineError::Conflict(format!(
                            "the {year} round of {} changed while this command ran; run it again",
                            b.code
                        )),
                        other => other.into(),
                    })?;
                r.version += 1;
                r.state = to.clone();
                r.data = json;
                r
            }
        };
        if let EvaluationStep::Approve { .. } = step {
            let people: Vec<Uuid> = data.grades.iter().map(|g| g.person_id).collect();
            tx.insert_graded(row.id, year, &people).await?;
        }
        let person_id = match &step {
            EvaluationStep::Reevaluate { person_id, .. }
            | EvaluationStep::AdviseWithdrawal { person_id, .. } => Some(*person_id),
            _ => None,
        };
        let flag_json: Vec<_> = flags
            .iter()
            .map(|(c, m)| serde_json::json!({ "code": c, "message": m }))
            .collect();
        let rule_codes = codes_of(&def.name, t);
        let entry = NewLogEntry {
            instance_id: row.id,
            person_id,
            org_id: Some(b.id),
            workflow: def.name.clone(),
            workflow_version: row.workflow_version,
            definition_sha256: row.definition_sha256.clone(),
            from_state: state.clone(),
            to_state: to.clone(),
            command: t.command.clone(),
            actor: actor.name.clone(),
            role,
            rule_codes: rule_codes.clone(),
            payload: serde_json::json!({ "step": step, "flags": flag_json }),
            effective_date: step.date(),
            idempotency_key: actor.idempotency_key.clone(),
        };
        let logged = tx.append_log(&entry).await?;
        let round = self.evaluation_view_of(tx, &row, &b).await?;
        Ok(EvaluationOutcome {
            from: state,
            to,
            seq: logged.seq,
            rule_codes,
            flags,
            round,
        })
    }

    /// The members of branch `b` in good standing on `on`, each with their membership date (团籍 start): the
    /// roll an evaluation round grades and counts for attendance (EVL_GRADES). A member is on it when their
    /// membership started on or before `on`, the branch holds their organisation relation (组织关系) and is not
    /// tombstoned, their standing is not `annulled`, and no end of membership (`aged_out`, `withdrawn`,
    /// `removed`, `expelled`, `deceased`: the effective date in the standing instance) falls on or before `on`.
    /// Members on probation (留团察看), recommended to the Party or Party members are on it.
    async fn roll_on(
        &self,
        tx: &mut S::Tx,
        b: &OrgRow,
        on: Date,
    ) -> EngineResult<BTreeMap<Uuid, Date>> {
        const LIVE: &[&str] = &[
            "member",
            "on_probation",
            "recommended_for_party",
            "party_member",
        ];
        let mut roll = BTreeMap::new();
        for m in tx.members_of_branch(b.id).await? {
            if m.membership_date > on || m.standing == "annulled" {
                continue;
            }
            if !LIVE.contains(&m.standing.as_str()) {
                // Ended since? The standing instance has the effective date.
                let ended = match tx.latest_instance(m.person_id, "standing").await? {
                    Some(inst) => serde_json::from_str::<StandingData>(&inst.data)
                        .map_err(|e| corrupt(format!("standing instance {}: {e}", inst.id)))?
                        .ended
                        .map(|(_, date)| date),
                    None => None,
                };
                if ended.is_none_or(|end| end <= on) {
                    continue;
                }
            }
            roll.insert(m.person_id, m.membership_date);
        }
        Ok(roll)
    }

    async fn evaluation_view_of(
        &self,
        tx: &mut S::Tx,
        row: &EvaluationRow,
        b: &OrgRow,
    ) -> EngineResult<EvaluationView> {
        let data: EvaluationData = serde_json::from_str(&row.data)
            .map_err(|e| corrupt(format!("evaluation round {}: {e}", row.id)))?;
        let mut grades = Vec::with_capacity(data.grades.len());
        let mut masks: HashMap<Uuid, String> = HashMap::new();
        for g in &data.grades {
            let m = tx
                .person(g.person_id)
                .await?
                .map(|p| masked(&p.resident_id))
                .unwrap_or_else(|| g.person_id.to_string());
            masks.insert(g.person_id, m.clone());
            grades.push(GradeView {
                member: m,
                grade: g.grade,
                reevaluation: g.reevaluation,
                advised_on: g.advised_on,
                current: g.current(),
            });
        }
        let counts = Grade::ALL
            .iter()
            .map(|gr| {
                (
                    gr.as_str().to_owned(),
                    grades.iter().filter(|g| g.current == *gr).count(),
                )
            })
            .collect();
        let pending = data
            .pending()
            .iter()
            .map(|id| masks.get(id).cloned().unwrap_or_else(|| id.to_string()))
            .collect();
        Ok(EvaluationView {
            id: row.id,
            version: row.version,
            branch: b.code.clone(),
            year: row.year,
            state: row.state.clone(),
            meeting_date: data.meeting_date,
            members: data.members,
            present: data.present,
            approved: data.approved.clone(),
            closed_on: data.closed_on,
            counts,
            grades,
            pending,
        })
    }

    /// The round of `branch` for `year` (`tuanji evaluation show`).
    ///
    /// Errors: [`EngineError::Input`] for an unknown branch; [`EngineError::NotFound`] for a year without a round.
    pub async fn evaluation_show(&self, branch: &str, year: i32) -> EngineResult<EvaluationView> {
        let mut tx = self.store().begin_read().await?;
        let b = self.branch_by_code(&mut tx, branch.trim()).await?;
        let row = tx.evaluation(b.id, year).await?.ok_or_else(|| {
            EngineError::NotFound(format!(
                "{} ({}) has no {year} evaluation round",
                b.name, b.code
            ))
        })?;
        self.evaluation_view_of(&mut tx, &row, &b).await
    }

    /// A member's last approved annual evaluation: the year and the grade that stands (the re-evaluation's if
    /// any), from the latest approved round that grades them; `None` when no approved round does. This is the
    /// "last grade" the Party recommendation guard reads (policy `minimum_grade`, 三会两制一课 Art. 33).
    pub(crate) async fn last_grade_in(
        &self,
        tx: &mut S::Tx,
        person_id: Uuid,
    ) -> EngineResult<Option<(i32, Grade)>> {
        for id in tx.graded_rounds(person_id).await? {
            let Some(row) = tx.evaluation_by_id(id).await? else {
                continue;
            };
            let data: EvaluationData = serde_json::from_str(&row.data)
                .map_err(|e| corrupt(format!("evaluation round {}: {e}", row.id)))?;
            if let Some(g) = data.grade_of(person_id) {
                return Ok(Some((row.year, g)));
            }
        }
        Ok(None)
    }

    /// A member's last approved annual evaluation (the latest approved round that grades them): `(year, grade)`.
    ///
    /// Errors: [`EngineError::Input`] for an unknown person.
    pub async fn last_grade(&self, member: &str) -> EngineResult<Option<(i32, Grade)>> {
        let mut tx = self.store().begin_read().await?;
        let p = self.find_person(&mut tx, member).await?;
        self.last_grade_in(&mut tx, p.id).await
    }

    /// Evaluation rounds per state, ordered by state (for the demo summary).
    pub async fn evaluation_state_counts(&self) -> EngineResult<Vec<(String, i64)>> {
        let mut tx = self.store().begin_read().await?;
        Ok(tx.evaluation_state_counts().await?)
    }
}

/// Header names of the member column of a grades CSV (resident ID, development number or instance id).
const MEMBER_HEADERS: &[&str] = &[
    "公民身份号码",
    "身份证号",
    "身份证号码",
    "团员编号",
    "resident_id",
    "member",
];
/// Header names of the grade column of a grades CSV.
const GRADE_HEADERS: &[&str] = &["等次", "评议等次", "评议结果", "grade"];

/// A grade as a branch secretary writes it: `excellent`, `qualified`, `basically_qualified` (or
/// `basically-qualified`), `unqualified`, or the Chinese 优秀, 合格, 基本合格, 不合格.
///
/// # Errors
/// A message listing the accepted values.
pub fn parse_grade(s: &str) -> Result<Grade, String> {
    let t = s.trim();
    Grade::ALL
        .iter()
        .copied()
        .find(|g| {
            g.as_str() == t.to_lowercase().replace('-', "_") || g.chinese() == t
        })
        .ok_or_else(|| {
            format!(
                "`{}` is not a grade: use excellent/优秀, qualified/合格, basically_qualified/基本合格 or unqualified/不合格",
                t.chars().take(30).collect::<String>()
            )
        })
}

/// Reads the grades of a round from a roster-like CSV: a header row with a member column (公民身份号码,
/// 身份证号, 团员编号, `resident_id` or `member`) and a grade column (等次, 评议等次, 评议结果 or `grade`); other
/// columns (姓名, …) are ignored, and so are blank lines. UTF-8 with or without BOM, or GB18030/GBK (Excel's
/// "CSV" on Chinese Windows).
///
/// # Errors
/// [`EngineError::Rows`] with every bad line (1-based, header = 1): a missing column, an empty member, a grade
/// that is not one of the four (EVL_GRADES), a member given on an earlier line too ("graded twice", both line
/// numbers, EVL_GRADES; the same person named once by resident ID and once by development number is found by
/// the engine, which names both entries), text that is neither UTF-8 nor GB18030.
pub fn parse_grades_csv(bytes: &[u8]) -> EngineResult<Vec<(String, Grade)>> {
    use tuanji_domain::RuleCode;
    use tuanji_import::roster::RowError;
    let row_error = |line: usize, column: Option<&str>, code, reason: String| RowError {
        line,
        column: column.map(str::to_owned),
        code,
        reason,
    };
    let text = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => std::str::from_utf8(rest).map(str::to_owned).ok(),
        None => std::str::from_utf8(bytes)
            .map(str::to_owned)
            .ok()
            .or_else(|| {
                encoding_rs::GB18030
                    .decode_without_bom_handling_and_without_replacement(bytes)
                    .map(|t| t.into_owned())
            }),
    };
    let Some(text) = text else {
        return Err(EngineError::Rows(vec![row_error(
            1,
            None,
            None,
            "the file is neither UTF-8 nor GB18030/GBK text; save it from Excel as \"CSV UTF-8\""
                .into(),
        )]));
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| EngineError::Rows(vec![row_error(1, None, None, e.to_string())]))?
        .clone();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.trim()));
    let (Some(mi), Some(gi)) = (find(MEMBER_HEADERS), find(GRADE_HEADERS)) else {
        return Err(EngineError::Rows(vec![row_error(
            1,
            None,
            None,
            format!(
                "the header needs a member column ({}) and a grade column ({})",
                MEMBER_HEADERS.join(", "),
                GRADE_HEADERS.join(", ")
            ),
        )]));
    };
    let (mh, gh) = (headers[mi].trim().to_owned(), headers[gi].trim().to_owned());
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                errors.push(row_error(line, None, None, e.to_string()));
                continue;
            }
        };
        // Physical line (the reader does not count the blank lines it skips).
        let line = record.position().map_or(0, |p| {
            let mut at = usize::try_from(p.byte())
                .unwrap_or(usize::MAX)
                .min(text.len());
            // The position may be that of the blank lines skipped before the record.
            while matches!(text.as_bytes().get(at), Some(b'\n' | b'\r')) {
                at += 1;
            }
            1 + text.as_bytes()[..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
        });
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let member = record.get(mi).map(str::trim).unwrap_or_default();
        let grade = record.get(gi).map(str::trim).unwrap_or_default();
        if member.is_empty() {
            errors.push(row_error(
                line,
                Some(&mh),
                None,
                "no member is given".into(),
            ));
            continue;
        }
        // The same member twice (resident IDs compared with an uppercase check character).
        let key = member.to_uppercase();
        if let Some(first) = lines.get(&key) {
            errors.push(row_error(
                line,
                Some(&mh),
                Some(RuleCode::EvlGrades),
                format!(
                    "{} is graded twice: lines {first} and {line}",
                    tuanji_domain::mask_id_like(member)
                ),
            ));
            continue;
        }
        lines.insert(key, line);
        match parse_grade(grade) {
            Ok(g) => out.push((member.to_owned(), g)),
            Err(m) => errors.push(row_error(line, Some(&gh), Some(RuleCode::EvlGrades), m)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(EngineError::Rows(errors))
    }
}
