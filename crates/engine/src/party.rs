//! Party recommendation (推优入党) use cases over `workflows/party_recommendation.v1.toml`, each command one
//! transaction: the branch committee nominates a member, the branch general meeting votes by secret ballot,
//! the result is publicised, the basic-level committee recommends the member to the Party organisation, and
//! the Party side's outcome (accepted or declined) is recorded; the sweep expires a recommendation two years
//! after it was made. The member's standing follows in the same transaction: `recommended_for_party` while
//! recommended, back to `member` when it is declined or expires, `party_member` when the Party accepts.
//!
//! Rules: DOMAIN.md "Party recommendation (§5)" (PTY_AGE, PTY_TENURE, PTY_SHARE, PTY_MEETING, PTY_VALIDITY),
//! sources in DOMAIN-SOURCES.md §5 (《共青团推优入党工作实施办法（试行）》 中青发〔2019〕9号); the least last
//! annual evaluation grade follows 三会两制一课 Art. 33 (EVL_GRADES, policy `minimum_grade`). Dates are calendar
//! dates in China Standard Time; ages are full years (周岁).

use crate::admission::{check_text, codes_of, masked, role_for, to_json};
use crate::evaluation::org_fact;
use crate::{Actor, Engine, EngineError, EngineResult};
use serde::Serialize;
use tuanji_domain::{add_months, Date, RuleCode, RuleViolation};
use tuanji_store::{
    InstanceRow, MemberRow, NewLogEntry, OrgRow, PersonRow, Store, StoreError, StoreTx,
};
use tuanji_workflow::party::{
    check_guard, publicity_end, PartyData, PartyFacts, PartyPolicy, PartyStep,
};
use tuanji_workflow::standing::{
    BranchMeeting, RecommendationEnd, RecommendationFact, StandingStep,
};
use tuanji_workflow::{Definition, TransitionDef, NEW};
use uuid::Uuid;

/// The machine's name.
const PARTY: &str = "party_recommendation";

/// The states in which a recommendation is over.
pub const PARTY_ENDED: &[&str] = &["accepted_by_party", "declined", "expired", "cancelled"];

/// Standings of a person who is still a member of the branch (counted in its size, PTY_SHARE).
const IN_BRANCH: &[&str] = &[
    "member",
    "on_probation",
    "recommended_for_party",
    "party_member",
];

/// Standings entitled to vote at a branch general meeting: every member not on probation (STD_PROBATION).
const ENTITLED: &[&str] = &["member", "recommended_for_party", "party_member"];

/// A Party recommendation command as a branch secretary or committee gives it. Dates are effective dates and
/// may not be after today.
/// In JSON (HTTP API): an object whose `command` names the workflow command beside its fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum PartyCommand {
    /// The branch committee nominates the member (推荐人选): in good standing, no other open recommendation,
    /// last annual grade at least the policy's minimum.
    Nominate {
        /// Date.
        date: Date,
    },
    /// The branch general meeting voted by secret ballot (PTY_MEETING); on its date the member is 18 to under
    /// 28 (PTY_AGE) with a year of membership (PTY_TENURE), and the branch stays within 20 % (PTY_SHARE).
    Vote {
        /// Meeting date.
        date: Date,
        /// Voting-entitled members (members not on probation); `None` takes the branch's count on the date,
        /// a number given must equal it.
        entitled: Option<u32>,
        /// Entitled members present.
        present: u32,
        /// Yes votes.
        yes: u32,
        /// No votes.
        no: u32,
        /// Abstentions.
        abstain: u32,
    },
    /// Publicity (公示) from `date` for the policy's working days (holiday-aware).
    Publicise {
        /// First day.
        date: Date,
    },
    /// The basic-level committee recommends the member to the Party organisation after publicity; valid for
    /// 24 months (PTY_VALIDITY). The member's standing becomes `recommended_for_party`.
    Recommend {
        /// Date.
        date: Date,
        /// The recommending committee (code), above the member's branch.
        org: String,
    },
    /// The Party organisation took the member on; the member's standing becomes `party_member`.
    Accept {
        /// Date.
        date: Date,
        /// The Party organisation (free text, 1–100 characters).
        party_org: String,
    },
    /// The Party organisation declined; the member's standing returns to `member`.
    Decline {
        /// Date.
        date: Date,
        /// The Party organisation (free text, 1–100 characters).
        party_org: String,
        /// Why (1–500 characters).
        reason: String,
    },
    /// The nomination goes no further (vote failed, objection upheld, no longer eligible).
    Cancel {
        /// Date.
        date: Date,
        /// Why (1–500 characters).
        reason: String,
    },
}

impl PartyCommand {
    /// The effective date.
    pub fn date(&self) -> Date {
        match self {
            PartyCommand::Nominate { date }
            | PartyCommand::Vote { date, .. }
            | PartyCommand::Publicise { date }
            | PartyCommand::Recommend { date, .. }
            | PartyCommand::Accept { date, .. }
            | PartyCommand::Decline { date, .. }
            | PartyCommand::Cancel { date, .. } => *date,
        }
    }

    /// The workflow command name.
    pub fn command(&self) -> &'static str {
        match self {
            PartyCommand::Nominate { .. } => "nominate",
            PartyCommand::Vote { .. } => "vote",
            PartyCommand::Publicise { .. } => "publicise",
            PartyCommand::Recommend { .. } => "recommend",
            PartyCommand::Accept { .. } => "accept",
            PartyCommand::Decline { .. } => "decline",
            PartyCommand::Cancel { .. } => "cancel",
        }
    }
}

/// One recommendation as `party show` / `party list` print it. The resident ID is masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyView {
    /// Instance id.
    pub id: Uuid,
    /// Instance version (the value `If-Match` names).
    pub version: i64,
    /// Masked resident ID.
    pub member: String,
    /// The branch (code) that nominated the member.
    pub branch: String,
    /// `nominated`, `branch_voted`, `publicised`, `recommended`, `accepted_by_party`, `declined`, `expired`,
    /// `cancelled`.
    pub state: String,
    /// Nomination date.
    pub nominated_on: Option<Date>,
    /// The branch general meeting and its secret-ballot counts.
    pub meeting: Option<BranchMeeting>,
    /// Publicity: first and last day.
    pub publicity: Option<(Date, Date)>,
    /// Recommendation: date and committee code.
    pub recommended: Option<(Date, String)>,
    /// The day the recommendation is no longer valid (PTY_VALIDITY).
    pub valid_until: Option<Date>,
    /// The Party side's outcome: date, Party organisation, accepted.
    pub party_outcome: Option<(Date, String, bool)>,
    /// How it ended: command and date.
    pub ended: Option<(String, Date)>,
}

/// What a Party recommendation command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyOutcome {
    /// State before (`new` for `nominate`).
    pub from: String,
    /// State after.
    pub to: String,
    /// Sequence number of the log entry.
    pub seq: i64,
    /// Rule codes checked.
    pub rule_codes: Vec<String>,
    /// The member's standing after the command, when the command changed it.
    pub standing: Option<String>,
    /// The recommendation after the command.
    pub recommendation: PartyView,
}

fn corrupt(e: impl std::fmt::Display) -> EngineError {
    EngineError::Store(StoreError::Corrupt(e.to_string()))
}

/// One member's recommendation as loaded for a command.
struct PartyLive {
    person: PersonRow,
    member: MemberRow,
    branch: OrgRow,
    inst: Option<InstanceRow>,
    state: String,
    data: PartyData,
}

impl<S: Store> Engine<S> {
    fn party_def(&self) -> EngineResult<(&'static Definition, PartyPolicy)> {
        let def = self.registry().latest(PARTY).ok_or_else(|| {
            EngineError::Input("no party_recommendation workflow is installed".into())
        })?;
        Ok((def, PartyPolicy::from_definition(def)?))
    }

    /// Runs a Party recommendation command for the member named by resident ID, development number or
    /// instance id.
    ///
    /// Errors: WF_NOT_ALLOWED when the command is not allowed in the recommendation's state or role, or is dated
    /// before the nomination; PTY_AGE, PTY_TENURE, PTY_SHARE, PTY_MEETING (quorum, majority of the entitled,
    /// ballot counts, an `entitled` other than the branch's, publicity, the recommending committee), PTY_VALIDITY
    /// (a second open recommendation, an outcome after the end of validity), STD_PROBATION (a member on
    /// probation or not in good standing), EVL_GRADES (last annual grade below the policy's minimum);
    /// [`EngineError::Input`] for unknown persons or organisations, non-members, a command other than
    /// `nominate` without an open recommendation, and dates after today.
    pub async fn party(
        &self,
        actor: &Actor,
        member: &str,
        cmd: &PartyCommand,
    ) -> EngineResult<PartyOutcome> {
        self.retrying(|| async {
            let mut tx = self.store().begin().await?;
            let out = self.party_in(&mut tx, actor, member, cmd).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    async fn party_live(&self, tx: &mut S::Tx, person: PersonRow) -> EngineResult<PartyLive> {
        let who = masked(&person.resident_id);
        let member = tx.member(person.id).await?.ok_or_else(|| {
            EngineError::Input(format!("{who} is not a member (no membership on record)"))
        })?;
        if member.deleted_on.is_some() || member.standing == "annulled" {
            return Err(EngineError::Input(format!(
                "{who} is not a member (deleted or annulled)"
            )));
        }
        tx.lock_org(member.branch_id).await?;
        let branch = tx
            .org_by_id(member.branch_id)
            .await?
            .ok_or_else(|| corrupt(format!("organisation {} is missing", member.branch_id)))?;
        let inst = tx
            .latest_instance(person.id, PARTY)
            .await?
            .filter(|i| !PARTY_ENDED.contains(&i.state.as_str()));
        let (state, data) = match &inst {
            Some(i) => (
                i.state.clone(),
                serde_json::from_str(&i.data)
                    .map_err(|e| corrupt(format!("instance {}: {e}", i.id)))?,
            ),
            None => (NEW.to_owned(), PartyData::default()),
        };
        Ok(PartyLive {
            person,
            member,
            branch,
            inst,
            state,
            data,
        })
    }

    /// Members of a branch on `on` (membership started, still in the branch), and those entitled to vote at
    /// a branch general meeting (members in good standing, not on probation: STD_PROBATION). Shared by the
    /// Party vote (PTY_MEETING, PTY_SHARE) and the standing decisions (STD_PROBATION, STD_EXPEL, STD_WITHDRAW,
    /// STD_LAPSE).
    pub(crate) async fn branch_size_on(
        &self,
        tx: &mut S::Tx,
        branch: &OrgRow,
        on: Date,
    ) -> EngineResult<(u32, u32)> {
        let mut members = 0u32;
        let mut entitled = 0u32;
        for m in tx.members_of_branch(branch.id).await? {
            if m.membership_date > on {
                continue;
            }
            if IN_BRANCH.contains(&m.standing.as_str()) {
                members += 1;
            }
            if ENTITLED.contains(&m.standing.as_str()) {
                entitled += 1;
            }
        }
        Ok((members, entitled))
    }

    /// The branch's recommendations, other than `except`, that count against its share on `on` (PTY_SHARE).
    async fn branch_holding_on(
        &self,
        tx: &mut S::Tx,
        branch: &OrgRow,
        except: Option<Uuid>,
        on: Date,
    ) -> EngineResult<u32> {
        let mut n = 0;
        for i in tx.instances_at(PARTY, branch.id).await? {
            if Some(i.id) == except {
                continue;
            }
            let d: PartyData = serde_json::from_str(&i.data)
                .map_err(|e| corrupt(format!("instance {}: {e}", i.id)))?;
            if d.counts_on(&i.state, on) {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn party_in(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        member: &str,
        cmd: &PartyCommand,
    ) -> EngineResult<PartyOutcome> {
        let today = self.today();
        let date = cmd.date();
        if date > today {
            return Err(EngineError::Input(format!(
                "`{}` is dated {date}, after today ({today})",
                cmd.command()
            )));
        }
        let (def, policy) = self.party_def()?;
        let person = self.find_person(tx, member).await?;
        let mut live = self.party_live(tx, person).await?;
        self.gate(tx, actor, &[live.branch.id], Some(live.person.id), member)
            .await?;
        let who = masked(&live.person.resident_id);
        let other_open = match (&live.inst, cmd) {
            (Some(i), PartyCommand::Nominate { .. }) => Some(format!("{} `{}`", i.id, i.state)),
            (None, PartyCommand::Nominate { .. }) => None,
            (None, c) => {
                return Err(EngineError::Input(format!(
                    "{who} has no open Party recommendation to `{}`; nominate first",
                    c.command()
                )))
            }
            (Some(_), _) => None,
        };
        // A second nomination is judged from `new` (the guard `one_open` names the open one).
        let (from, data_before) = if other_open.is_some() {
            (NEW.to_owned(), PartyData::default())
        } else {
            (live.state.clone(), live.data.clone())
        };
        let t = def.transition(&from, cmd.command())?;
        let acting = match cmd {
            PartyCommand::Recommend { org, .. } => self.branch_or_org(tx, org).await?,
            _ => live.branch.id,
        };
        let role = self
            .role_on(tx, actor, t, def, acting, Some(live.person.id))
            .await?;
        crate::access::check_version(actor, live.inst.as_ref().map_or(0, |i| i.version))?;
        let mut approver = None;
        let mut approver_above_branch = false;
        let step = match cmd {
            PartyCommand::Nominate { date } => PartyStep::Nominate {
                date: *date,
                branch: live.branch.code.clone(),
            },
            PartyCommand::Vote {
                date,
                entitled,
                present,
                yes,
                no,
                abstain,
            } => {
                let (_, branch_entitled) = self.branch_size_on(tx, &live.branch, *date).await?;
                if let Some(e) = entitled.filter(|e| *e != branch_entitled) {
                    return Err(RuleViolation::new(
                        RuleCode::PtyMeeting,
                        format!(
                            "the meeting names {e} entitled members, but {} ({}) has {branch_entitled} on {date} (members on probation are not entitled to vote)",
                            live.branch.name, live.branch.code
                        ),
                    )
                    .into());
                }
                PartyStep::Vote {
                    date: *date,
                    meeting: BranchMeeting {
                        date: *date,
                        entitled: branch_entitled,
                        present: *present,
                        yes: *yes,
                        no: *no,
                        abstain: *abstain,
                    },
                }
            }
            PartyCommand::Publicise { date } => PartyStep::Publicise {
                date: *date,
                ends_on: publicity_end(self.calendar, *date, policy.publicity_working_days)?,
            },
            PartyCommand::Recommend { date, org } => {
                let o = tx.org_by_code(org.trim()).await?.ok_or_else(|| {
                    EngineError::NotFound(format!("no organisation has code `{}`", org.trim()))
                })?;
                approver_above_branch =
                    o.id != live.branch.id && o.covers(&live.branch) && o.kind != "branch";
                approver = Some(org_fact(&o));
                PartyStep::Recommend {
                    date: *date,
                    org: o.code,
                    valid_until: add_months(*date, policy.validity_months),
                }
            }
            PartyCommand::Accept { date, party_org } => PartyStep::Accept {
                date: *date,
                party_org: check_text("party organisation", party_org, 100)?,
            },
            PartyCommand::Decline {
                date,
                party_org,
                reason,
            } => PartyStep::Decline {
                date: *date,
                party_org: check_text("party organisation", party_org, 100)?,
                reason: check_text("reason", reason, 500)?,
            },
            PartyCommand::Cancel { date, reason } => PartyStep::Cancel {
                date: *date,
                reason: check_text("reason", reason, 500)?,
            },
        };
        let (branch_members, _) = self.branch_size_on(tx, &live.branch, date).await?;
        let branch_holding = self
            .branch_holding_on(tx, &live.branch, live.inst.as_ref().map(|i| i.id), date)
            .await?;
        let last_grade = self.last_grade_in(tx, live.person.id).await?;
        let facts = PartyFacts {
            policy: &policy,
            calendar: self.calendar,
            data: &data_before,
            state: &from,
            step: &step,
            role: &role,
            today,
            birth: live.person.birth_date,
            membership_date: Some(live.member.membership_date),
            standing: &live.member.standing,
            last_grade,
            branch_members,
            branch_holding,
            other_open,
            approver,
            approver_above_branch,
        };
        for g in &t.guards {
            check_guard(g, &facts)?;
        }
        let seq = self
            .party_record(tx, &mut live, actor, &role, t, &step)
            .await?;
        let standing = self.party_follow(tx, actor, &live, &step).await?;
        let recommendation = self
            .party_view_of(
                tx,
                live.inst.as_ref().ok_or_else(|| corrupt("no instance"))?,
            )
            .await?;
        Ok(PartyOutcome {
            from,
            to: live.state.clone(),
            seq,
            rule_codes: codes_of(&def.name, t),
            standing,
            recommendation,
        })
    }

    /// Writes one transition of the member's recommendation (creating the instance on `nominate`) and its log
    /// entry; returns the entry's seq.
    async fn party_record(
        &self,
        tx: &mut S::Tx,
        live: &mut PartyLive,
        actor: &Actor,
        role: &str,
        t: &TransitionDef,
        step: &PartyStep,
    ) -> EngineResult<i64> {
        let (def, _) = self.party_def()?;
        let conflict = |who: &str| {
            EngineError::Conflict(format!(
                "the Party recommendation of {who} changed while this command ran; run it again"
            ))
        };
        let who = masked(&live.person.resident_id);
        let from = if t.from == NEW {
            NEW.to_owned()
        } else {
            live.state.clone()
        };
        let mut data = if t.from == NEW {
            PartyData::default()
        } else {
            live.data.clone()
        };
        data.apply(&from, step);
        let json = to_json(&data)?;
        let inst = if t.from == NEW {
            let inst = InstanceRow {
                id: Uuid::now_v7(),
                workflow: def.name.clone(),
                workflow_version: def.version as i32,
                definition_sha256: def.sha256.clone(),
                person_id: live.person.id,
                branch_id: live.branch.id,
                state: t.to.clone(),
                version: 1,
                data: json,
                opened_on: step.date(),
            };
            tx.insert_instance(&inst).await.map_err(|e| match e {
                StoreError::Unique { .. } => conflict(&who),
                other => other.into(),
            })?;
            inst
        } else {
            let mut inst = live.inst.clone().ok_or_else(|| corrupt("no instance"))?;
            tx.update_instance(inst.id, inst.version, &t.to, &json)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict { .. } => conflict(&who),
                    other => other.into(),
                })?;
            inst.version += 1;
            inst.state = t.to.clone();
            inst.data = json;
            inst
        };
        let entry = NewLogEntry {
            instance_id: inst.id,
            person_id: Some(live.person.id),
            org_id: Some(inst.branch_id),
            workflow: def.name.clone(),
            workflow_version: inst.workflow_version,
            definition_sha256: inst.definition_sha256.clone(),
            from_state: from,
            to_state: t.to.clone(),
            command: t.command.clone(),
            actor: actor.name.clone(),
            role: role.to_owned(),
            rule_codes: codes_of(&def.name, t),
            payload: serde_json::json!({ "step": step, "flags": [] }),
            effective_date: step.date(),
            idempotency_key: actor.idempotency_key.clone(),
        };
        let row = tx.append_log(&entry).await?;
        live.state = t.to.clone();
        live.data = data;
        live.inst = Some(inst);
        Ok(row.seq)
    }

    /// The standing step that follows a recommendation step, in the same transaction: `recommend` enters
    /// `recommended_for_party`, `decline`, `expire` and `cancel` end it (when the standing is still
    /// `recommended_for_party`), `accept` is `join_party`. Returns the standing state reached, if any.
    async fn party_follow(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        live: &PartyLive,
        step: &PartyStep,
    ) -> EngineResult<Option<String>> {
        let inst = live.inst.as_ref().ok_or_else(|| corrupt("no instance"))?;
        let fact = RecommendationFact {
            id: inst.id.to_string(),
            state: inst.state.clone(),
            valid_until: live.data.valid_until,
        };
        let standing_step = match step {
            PartyStep::Recommend {
                date, valid_until, ..
            } => StandingStep::Recommend {
                date: *date,
                recommendation: inst.id.to_string(),
                valid_until: *valid_until,
            },
            PartyStep::Decline { date, .. }
            | PartyStep::Expire { date }
            | PartyStep::Cancel { date, .. } => {
                let now = tx
                    .member(live.person.id)
                    .await?
                    .map(|m| m.standing)
                    .unwrap_or_default();
                if now != "recommended_for_party" {
                    return Ok(None);
                }
                StandingStep::EndRecommendation {
                    date: *date,
                    reason: match step {
                        PartyStep::Expire { .. } => RecommendationEnd::Expired,
                        PartyStep::Cancel { .. } => RecommendationEnd::Cancelled,
                        _ => RecommendationEnd::Declined,
                    },
                }
            }
            PartyStep::Accept { date, party_org } => StandingStep::JoinParty {
                date: *date,
                party_org: party_org.clone(),
            },
            _ => return Ok(None),
        };
        let out = self
            .standing_step_in(tx, actor, live.person.id, standing_step, Some(fact))
            .await?;
        Ok(Some(out.to))
    }

    /// Ends the member's open Party recommendation (nominated, voted, publicised or recommended) with `cancel`,
    /// effective on `date` (or on the recommendation's last step, if later) with `reason`, inside the caller's
    /// transaction: the member was put on probation or left the League, so it no longer counts against the
    /// branch's share (PTY_SHARE). The member's standing is the caller's (it is changing in the same transaction). Returns the
    /// cancelled instance and the seq of its log entry; `None` without an open recommendation.
    ///
    /// Errors: WF_NOT_ALLOWED when the actor's role may not cancel; [`EngineError::Store`].
    pub(crate) async fn party_end_for_standing(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        person_id: Uuid,
        date: Date,
        reason: &str,
    ) -> EngineResult<Option<(Uuid, i64)>> {
        let Some(person) = tx.person(person_id).await? else {
            return Ok(None);
        };
        let mut live = self.party_live(tx, person).await?;
        let Some(id) = live.inst.as_ref().map(|i| i.id) else {
            return Ok(None);
        };
        let (def, policy) = self.party_def()?;
        let t = def.transition(&live.state, "cancel")?;
        let role = self
            .role_on(tx, actor, t, def, live.branch.id, Some(live.person.id))
            .await?;
        let date = live.data.last_step_on().map_or(date, |l| date.max(l));
        let step = PartyStep::Cancel {
            date,
            reason: check_text("reason", reason, 500)?,
        };
        let standing = live.member.standing.clone();
        let facts = PartyFacts {
            policy: &policy,
            calendar: self.calendar,
            data: &live.data,
            state: &live.state,
            step: &step,
            role: &role,
            today: self.today().max(date),
            birth: live.person.birth_date,
            membership_date: Some(live.member.membership_date),
            standing: &standing,
            last_grade: None,
            branch_members: 0,
            branch_holding: 0,
            other_open: None,
            approver: None,
            approver_above_branch: false,
        };
        for g in &t.guards {
            check_guard(g, &facts)?;
        }
        let seq = self
            .party_record(tx, &mut live, actor, &role, t, &step)
            .await?;
        Ok(Some((id, seq)))
    }

    async fn party_view_of(&self, tx: &mut S::Tx, inst: &InstanceRow) -> EngineResult<PartyView> {
        let d: PartyData = serde_json::from_str(&inst.data)
            .map_err(|e| corrupt(format!("instance {}: {e}", inst.id)))?;
        let member = tx
            .person(inst.person_id)
            .await?
            .map(|p| masked(&p.resident_id))
            .unwrap_or_default();
        Ok(PartyView {
            id: inst.id,
            version: inst.version,
            member,
            branch: d.branch.clone(),
            state: inst.state.clone(),
            nominated_on: d.nominated_on,
            meeting: d.meeting,
            publicity: d.publicity,
            recommended: d.recommended,
            valid_until: d.valid_until,
            party_outcome: d.party_outcome,
            ended: d.ended,
        })
    }

    /// A member's recommendations, oldest first (`tuanji party show`).
    ///
    /// Errors: [`EngineError::Input`] for an unknown person.
    pub async fn party_show(&self, member: &str) -> EngineResult<Vec<PartyView>> {
        let mut tx = self.store().begin_read().await?;
        let p = self.find_person(&mut tx, member).await?;
        let mut out = Vec::new();
        for i in tx.instances_of(p.id, PARTY).await? {
            out.push(self.party_view_of(&mut tx, &i).await?);
        }
        Ok(out)
    }

    /// The recommendations of a branch, oldest first, optionally only those in `state` (`tuanji party list`).
    ///
    /// Errors: [`EngineError::Input`] for an unknown branch or a state the workflow does not declare.
    pub async fn party_list(
        &self,
        branch: &str,
        state: Option<&str>,
    ) -> EngineResult<Vec<PartyView>> {
        if let Some(s) = state {
            let (def, _) = self.party_def()?;
            if s == NEW || def.state(s).is_none() {
                let names: Vec<&str> = def
                    .states
                    .iter()
                    .map(|d| d.name.as_str())
                    .filter(|n| *n != NEW)
                    .collect();
                return Err(EngineError::Input(format!(
                    "no recommendation state `{s}`; the states are: {}",
                    names.join(", ")
                )));
            }
        }
        let mut tx = self.store().begin_read().await?;
        let b = self.branch_by_code(&mut tx, branch.trim()).await?;
        let mut out = Vec::new();
        for i in tx.instances_at(PARTY, b.id).await? {
            if state.is_some_and(|s| s != i.state) {
                continue;
            }
            out.push(self.party_view_of(&mut tx, &i).await?);
        }
        Ok(out)
    }

    /// Party recommendations per state, ordered by state (for the demo summary).
    pub async fn party_state_counts(&self) -> EngineResult<Vec<(String, i64)>> {
        let mut tx = self.store().begin_read().await?;
        Ok(tx.instance_state_counts(PARTY).await?)
    }

    /// The sweep's Party part, inside the sweep's transaction: every recommendation in `recommended` whose
    /// validity ended on or before `as_of` expires, effective on its end of validity (PTY_VALIDITY), and the
    /// member's standing returns to `member`. Idempotent. Adds the recommendations expired and the log entries
    /// written to `report`.
    pub(crate) async fn party_sweep_in(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        as_of: Date,
        progress: &(dyn Fn(&str, u64, u64) + Sync),
        report: &mut crate::relation::SweepReport,
    ) -> EngineResult<()> {
        let (def, policy) = self.party_def()?;
        let today = self.today();
        let rows = tx.instances_in_state(PARTY, "recommended").await?;
        let total = rows.len() as u64;
        let (mut expired, mut entries) = (0, 0);
        for (i, inst) in rows.into_iter().enumerate() {
            let data: PartyData = serde_json::from_str(&inst.data)
                .map_err(|e| corrupt(format!("instance {}: {e}", inst.id)))?;
            let Some(step) = data.due_step(&inst.state, as_of) else {
                continue;
            };
            let Some(person) = tx.person(inst.person_id).await? else {
                continue;
            };
            let mut live = self.party_live(tx, person).await?;
            if live.inst.as_ref().map(|l| l.id) != Some(inst.id) {
                continue;
            }
            let t = def.transition(&live.state, "expire")?;
            let role = role_for(actor, t, def)?;
            let standing = live.member.standing.clone();
            let facts = PartyFacts {
                policy: &policy,
                calendar: self.calendar,
                data: &live.data,
                state: &live.state,
                step: &step,
                role: &role,
                today,
                birth: live.person.birth_date,
                membership_date: Some(live.member.membership_date),
                standing: &standing,
                last_grade: None,
                branch_members: 0,
                branch_holding: 0,
                other_open: None,
                approver: None,
                approver_above_branch: false,
            };
            if !t.guards.iter().all(|g| check_guard(g, &facts).is_ok()) {
                continue;
            }
            self.party_record(tx, &mut live, actor, &role, t, &step)
                .await?;
            entries += 1;
            if self.party_follow(tx, actor, &live, &step).await?.is_some() {
                entries += 1;
            }
            expired += 1;
            progress("party recommendations", i as u64 + 1, total);
        }
        report.recommendations_expired += expired;
        report.entries += entries;
        Ok(())
    }
}
