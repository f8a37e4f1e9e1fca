//! Read use cases: a member's record, the transition log, and the replay check (replaying a person's log
//! rebuilds their projections exactly).

use crate::admission::masked;
use crate::{Engine, EngineError, EngineResult};
use serde::Serialize;
use tuanji_domain::dues::YearMonth;
use tuanji_store::{InstanceRow, LogFilter, LogRow, MemberRow, Store, StoreError, StoreTx};
use tuanji_workflow::admission::{admitted_member, AdmissionData, AdmissionStep};
use tuanji_workflow::relation::RelationData;

/// A person's record as shown by `tuanji member show`. The resident ID is masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberView {
    /// Masked resident ID: `110105********1234`.
    pub resident_id: String,
    /// Name.
    pub name: String,
    /// `male` / `female`.
    pub sex: String,
    /// Birth month (`"2012-02"`): the day is not shown, as the masked resident ID's hidden digits are the
    /// birth date and together they would give the full ID back.
    pub birth_month: YearMonth,
    /// Branch code and name holding the record.
    pub branch: String,
    /// Membership, if a member.
    pub member: Option<MemberRow>,
    /// The latest admission instance, if any.
    pub admission: Option<AdmissionView>,
    /// The current organisation-relation stay (组织关系), if any relation command has run for the person.
    pub relation: Option<RelationView>,
}

/// A relation instance (one stay at one branch) with its data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelationView {
    /// Instance id.
    pub id: uuid::Uuid,
    /// Current state, e.g. `graduated_pending_transfer`.
    pub state: String,
    /// Version (transitions so far).
    pub version: i64,
    /// The data: branch, graduation, retention, contacts, transfer, …
    pub data: RelationData,
}

/// An admission instance with its data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdmissionView {
    /// Instance id.
    pub id: uuid::Uuid,
    /// Current state.
    pub state: String,
    /// Version (transitions so far).
    pub version: i64,
    /// Workflow and version.
    pub workflow: String,
    /// The data.
    pub data: AdmissionData,
}

/// The outcome of replaying one instance's log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    /// Entries replayed.
    pub entries: usize,
    /// Whether the replayed state, data, version and member row equal the stored projection.
    pub matches: bool,
    /// What differs, if anything.
    pub differences: Vec<String>,
}

impl<S: Store> Engine<S> {
    /// A person's record, by resident ID, development number or admission instance id.
    ///
    /// Errors: [`EngineError::Input`] when nobody matches.
    pub async fn member_view(&self, who: &str) -> EngineResult<MemberView> {
        let mut tx = self.store().begin_read().await?;
        let p = self.find_person(&mut tx, who).await?;
        let member = tx.member(p.id).await?;
        let inst = tx.latest_instance(p.id, "admission").await?;
        let branch_id = member
            .as_ref()
            .map(|m| m.branch_id)
            .or(inst.as_ref().map(|i| i.branch_id));
        let branch = match branch_id {
            Some(id) => tx
                .org_by_id(id)
                .await?
                .map(|o| format!("{} {}", o.code, o.name))
                .unwrap_or_default(),
            None => String::new(),
        };
        let admission = match inst {
            Some(i) => Some(AdmissionView {
                data: parse_data(&i)?,
                id: i.id,
                state: i.state,
                version: i.version,
                workflow: format!("{} v{}", i.workflow, i.workflow_version),
            }),
            None => None,
        };
        let relation = match tx.latest_instance(p.id, "relation").await? {
            Some(i) => Some(RelationView {
                data: serde_json::from_str(&i.data)
                    .map_err(|e| StoreError::Corrupt(format!("instance {}: {e}", i.id)))?,
                id: i.id,
                state: i.state,
                version: i.version,
            }),
            None => None,
        };
        Ok(MemberView {
            relation,
            resident_id: masked(&p.resident_id),
            name: p.name,
            sex: p.sex,
            birth_month: YearMonth::of(p.birth_date),
            branch,
            member,
            admission,
        })
    }

    /// Log entries, oldest first; `who` restricts them to one person.
    ///
    /// Errors: [`EngineError::Input`] when `who` matches nobody.
    pub async fn log(&self, who: Option<&str>, limit: Option<i64>) -> EngineResult<Vec<LogRow>> {
        let mut tx = self.store().begin_read().await?;
        let person_id = match who {
            Some(w) => Some(self.find_person(&mut tx, w).await?.id),
            None => None,
        };
        Ok(tx
            .log(&LogFilter {
                person_id,
                limit,
                ..LogFilter::default()
            })
            .await?)
    }

    /// Replays the person's admission log from nothing and compares the result with the stored instance and
    /// member row.
    ///
    /// Errors: [`EngineError::Input`] when the person has no admission; [`StoreError::Corrupt`] for payloads
    /// that do not parse.
    pub async fn replay_admission(&self, who: &str) -> EngineResult<ReplayReport> {
        let mut tx = self.store().begin_read().await?;
        let (person, inst) = self.find_admission(&mut tx, who).await?;
        let entries = tx
            .log(&LogFilter {
                person_id: Some(person.id),
                limit: None,
                ..LogFilter::default()
            })
            .await?;
        let mut data = AdmissionData::default();
        let mut state = String::new();
        let mut version = 0i64;
        let mut differences = Vec::new();
        let mut count = 0;
        for e in entries.iter().filter(|e| e.instance_id == inst.id) {
            let payload = e.payload_value()?;
            let step: AdmissionStep = serde_json::from_value(payload["step"].clone())
                .map_err(|err| StoreError::Corrupt(format!("log seq {}: {err}", e.seq)))?;
            if let Some(def) = self.registry().get(&e.workflow, e.workflow_version as u32) {
                match def.transition(&e.from_state, &e.command) {
                    Ok(t) if t.to == e.to_state => {}
                    _ => differences.push(format!(
                        "seq {}: `{}` from `{}` to `{}` is not a declared transition",
                        e.seq, e.command, e.from_state, e.to_state
                    )),
                }
            }
            if !state.is_empty() && state != e.from_state {
                differences.push(format!(
                    "seq {}: starts from `{}` but the previous entry ended in `{state}`",
                    e.seq, e.from_state
                ));
            }
            data.apply(&step);
            state = e.to_state.clone();
            version += 1;
            count += 1;
        }
        let stored = parse_data(&inst)?;
        if state != inst.state {
            differences.push(format!("state: replay `{state}`, stored `{}`", inst.state));
        }
        if version != inst.version {
            differences.push(format!(
                "version: replay {version}, stored {}",
                inst.version
            ));
        }
        if data != stored {
            differences.push("data: replay differs from the stored instance data".into());
        }
        let member = tx.member(person.id).await?;
        // The member row sits where the relation is: the admitting branch until a transfer moves it.
        let expected_branch = match tx.latest_instance(person.id, "relation").await? {
            Some(r) => r.branch_id,
            None => inst.branch_id,
        };
        let replayed = admitted_member(&state, &data);
        match (&replayed, &member) {
            (None, None) => {}
            (Some(r), Some(m))
                if m.source == "admission"
                    && m.membership_date == r.membership_date
                    && m.development_number.as_deref() == Some(r.number.as_str())
                    && m.standing == r.standing
                    && m.oath_date == r.oath_date
                    && m.branch_id == expected_branch => {}
            // The member row of an earlier admission (annulled, then a new application).
            (None, Some(m)) if m.admission_instance_id != Some(inst.id) => {}
            _ => differences.push(format!(
                "member row: replay {replayed:?}, stored {member:?}"
            )),
        }
        Ok(ReplayReport {
            entries: count,
            matches: differences.is_empty(),
            differences,
        })
    }
}

fn parse_data(i: &InstanceRow) -> EngineResult<AdmissionData> {
    if i.workflow != "admission" {
        return Err(EngineError::Input(format!(
            "instance {} is a {} instance",
            i.id, i.workflow
        )));
    }
    serde_json::from_str(&i.data)
        .map_err(|e| StoreError::Corrupt(format!("instance {}: {e}", i.id)).into())
}
