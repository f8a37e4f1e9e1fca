//! Roster import: a school's list of applicants (and, for registers being brought into Tuanji, existing
//! members) for one branch, in one transaction. One bad row means nothing is imported, and every bad row is
//! reported with its line number, column and rule code.

use crate::admission::{check_name, codes_of, held_by_for, holder, to_json, Application};
use crate::{Actor, Engine, EngineError, EngineResult};
use serde::Serialize;
use tuanji_domain::{add_months, age_on, Date, RuleCode, RuleViolation};
use tuanji_import::roster::{parse_roster_rows, Encoding, RosterRow, RosterRowKind, RowError};
use tuanji_store::{
    InstanceRow, MemberRow, NewLogEntry, NumberRow, OrgRow, PersonRow, Store, StoreError, StoreTx,
};
use uuid::Uuid;

/// What a roster import did (or, with `dry_run`, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterReport {
    /// Branch code.
    pub branch: String,
    /// Detected encoding: `utf8`, `utf8_bom` or `gb18030`.
    pub encoding: String,
    /// Applicants received.
    pub applicants: usize,
    /// Existing members registered.
    pub members: usize,
    /// Nothing was written.
    pub dry_run: bool,
}

/// The data of a standing instance created by a legacy import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LegacyMembership {
    /// 团籍 start.
    pub membership_date: Date,
    /// Development number, if admitted on or after 2017-01-01.
    pub number: Option<String>,
    /// End of probation (留团察看), if on probation.
    pub probation_until: Option<Date>,
}

impl<S: Store> Engine<S> {
    /// Imports a roster CSV (UTF-8 with or without BOM, or GB18030/GBK) into the branch `branch`.
    ///
    /// Applicant rows run the `apply` command (ID_*, ADM_AGE_MIN, ADM_AGE_MAX, ID_UNIQUE); member rows register
    /// existing members (IMP_LEGACY_AGE, ADM_NUMBER_REQUIRED, ID_UNIQUE). Errors: [`EngineError::Rows`] with
    /// every bad row; [`EngineError::Input`] / rule errors for the branch itself. With `dry_run` every check runs
    /// and nothing is written.
    pub async fn import_roster(
        &self,
        actor: &Actor,
        branch: &str,
        bytes: &[u8],
        dry_run: bool,
    ) -> EngineResult<RosterReport> {
        let today = self.today();
        // Rows that parse are checked by the engine too, so one pass reports every bad row.
        let parsed = parse_roster_rows(bytes, today).map_err(EngineError::Rows)?;
        let roster = parsed.roster;
        let mut tx = self.store().begin().await?;
        let b = self.branch_by_code(&mut tx, branch).await?;
        let mut errors = parsed.errors;
        let (mut applicants, mut members) = (0, 0);
        for row in &roster.rows {
            let res = match &row.kind {
                RosterRowKind::Applicant { application_date } => {
                    let app = Application {
                        branch: b.code.clone(),
                        resident_id: row.resident_id.as_str().to_owned(),
                        name: row.name.clone(),
                        ethnicity: row.ethnicity.clone(),
                        class: row.class.clone(),
                        date: *application_date,
                    };
                    applicants += 1;
                    self.apply_in(&mut tx, actor, &b, &app).await.map(|_| ())
                }
                RosterRowKind::Member { .. } => {
                    members += 1;
                    self.register_member_in(&mut tx, actor, &b, row).await
                }
            };
            match res {
                Ok(()) => {}
                Err(EngineError::Rule(v)) => errors.push(RowError {
                    line: row.line,
                    column: None,
                    code: Some(v.code),
                    reason: v.message,
                }),
                Err(EngineError::Input(m)) => errors.push(RowError {
                    line: row.line,
                    column: None,
                    code: None,
                    reason: m,
                }),
                Err(other) => return Err(other),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(EngineError::Rows(errors));
        }
        if !dry_run {
            tx.commit().await?;
        }
        Ok(RosterReport {
            branch: b.code,
            encoding: match roster.encoding {
                Encoding::Utf8 => "utf8",
                Encoding::Utf8Bom => "utf8_bom",
                Encoding::Gb18030 => "gb18030",
            }
            .to_owned(),
            applicants,
            members,
            dry_run,
        })
    }

    /// Registers an existing member from a roster row (IMP_LEGACY_AGE): a `standing` instance in state `member`
    /// (or `on_probation`), the legacy number in the ledger, the member row and one log entry.
    async fn register_member_in(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        branch: &OrgRow,
        row: &RosterRow,
    ) -> EngineResult<()> {
        let RosterRowKind::Member {
            membership_date,
            development_number,
            probation_until,
        } = &row.kind
        else {
            return Ok(());
        };
        let def = self
            .registry
            .latest("standing")
            .ok_or_else(|| EngineError::Input("no standing workflow is installed".into()))?;
        let t = def.transition(tuanji_workflow::NEW, "import_member")?;
        let role = self.role_on(tx, actor, t, def, branch.id, None).await?;
        let rid = &row.resident_id;
        for g in &t.guards {
            match g.as_str() {
                // IMP_LEGACY_AGE: a `RosterRowKind::Member` row comes only from `parse_roster`, which refuses
                // members younger than 13 (from 2017-01-01, with a number) or 12 (before) at admission.
                "legacy_age" => {}
                "person_unique" => {} // checked just below, with the holder's name
                other => {
                    return Err(RuleViolation::new(
                        RuleCode::WfNotAllowed,
                        format!("guard `{other}` is not implemented for {}", def.name),
                    )
                    .into())
                }
            }
        }
        if let Some(p) = tx.person_by_resident_id(rid.as_str()).await? {
            let at = match tx.member(p.id).await? {
                Some(m) => held_by_for(tx, actor, m.branch_id, "").await?,
                None => "an admission on record".to_owned(),
            };
            return Err(RuleViolation::new(
                RuleCode::IdUnique,
                format!(
                    "{} is already registered at {at}; start a transfer instead",
                    rid.masked()
                ),
            )
            .into());
        }
        // STD_PROBATION: a probation lasts 6 or 12 months; STD_AGE_OUT: members leave at 28 (团章 Art. 1).
        let today = self.today();
        if let Some(until) = probation_until {
            if *until <= today {
                return Err(RuleViolation::new(
                    RuleCode::StdProbation,
                    format!("the probation ended on {until}; import the member without 留团察看至"),
                )
                .into());
            }
            if *until > add_months(today, 12) {
                return Err(RuleViolation::new(RuleCode::StdProbation, format!("a probation lasts 6 or 12 months; {until} is more than 12 months from today ({today})")).into());
            }
        }
        let age = age_on(rid.birth_date(), today);
        if age >= 28 {
            return Err(RuleViolation::new(RuleCode::StdAgeOut, format!("{} is {age}: members leave the League at 28 (超龄离团); League posts, which keep a member on, are not recorded yet", rid.masked())).into());
        }
        let name = check_name(&row.name)?;
        let person = PersonRow {
            id: Uuid::now_v7(),
            resident_id: rid.as_str().to_owned(),
            name,
            sex: rid.sex().as_str().to_owned(),
            ethnicity: row.ethnicity.clone(),
            birth_date: rid.birth_date(),
        };
        tx.insert_person(&person).await?;
        let data = LegacyMembership {
            membership_date: *membership_date,
            number: development_number.as_ref().map(|n| n.as_str().to_owned()),
            probation_until: *probation_until,
        };
        // Dues are tracked from the month of import (DUE_STUDENT): months before it are neither owed nor counted
        // towards a lapse (STD_LAPSE).
        let membership = tuanji_workflow::standing::Membership {
            membership_date: *membership_date,
            number: data.number.clone(),
            probation_until: *probation_until,
            dues_from: Some(tuanji_domain::dues::YearMonth::of(today)),
        };
        let mut standing = tuanji_workflow::standing::StandingData::default();
        standing.apply(
            tuanji_workflow::NEW,
            &tuanji_workflow::standing::StandingStep::ImportMember {
                membership: membership.clone(),
            },
        );
        let inst = InstanceRow {
            id: Uuid::now_v7(),
            workflow: def.name.clone(),
            workflow_version: def.version as i32,
            definition_sha256: def.sha256.clone(),
            person_id: person.id,
            branch_id: branch.id,
            state: t.to.clone(),
            version: 1,
            data: to_json(&standing)?,
            opened_on: *membership_date,
        };
        tx.insert_instance(&inst).await?;
        if let Some(n) = &development_number {
            let serial = n.serial() as i64;
            if let Some(a) = tx.allocation_covering(n.year(), serial).await? {
                let org = holder(tx, a.org_id).await?;
                return Err(RuleViolation::new(
                    RuleCode::AdmNumberRequired,
                    format!("development number {} lies in the range allocated to {org} on {}; numbers from an allocation are issued only by approvals", n.as_str(), a.effective_date),
                )
                .into());
            }
        }
        if let Some(n) = &data.number {
            if tx.number(n).await?.is_some() {
                return Err(RuleViolation::new(
                    RuleCode::AdmNumberRequired,
                    format!(
                        "development number {n} is already on record; a number is never used twice"
                    ),
                )
                .into());
            }
            tx.insert_number(&NumberRow {
                number: n.clone(),
                year: chrono::Datelike::year(membership_date),
                allocation_id: None,
                person_id: person.id,
                instance_id: Some(inst.id),
                status: "legacy".into(),
                issued_on: *membership_date,
                voided_on: None,
            })
            .await
            .map_err(|e| match e {
                StoreError::Unique { .. } => EngineError::Rule(RuleViolation::new(
                    RuleCode::AdmNumberRequired,
                    format!("development number {n} is already on record"),
                )),
                other => other.into(),
            })?;
        }
        // The registration, then (for a member under probation) the probation recorded before import.
        let mut steps = vec![t];
        if probation_until.is_some() {
            steps.push(def.transition(&t.to, "import_probation")?);
        }
        for (i, t) in steps.iter().enumerate() {
            if i > 0 {
                standing.apply(
                    &t.from,
                    &tuanji_workflow::standing::StandingStep::ImportProbation {
                        membership: membership.clone(),
                    },
                );
                tx.update_instance(inst.id, i as i64, &t.to, &to_json(&standing)?)
                    .await?;
            }
            tx.append_log(&NewLogEntry {
                instance_id: inst.id,
                person_id: Some(person.id),
                org_id: Some(branch.id),
                workflow: def.name.clone(),
                workflow_version: def.version as i32,
                definition_sha256: def.sha256.clone(),
                from_state: t.from.clone(),
                to_state: t.to.clone(),
                command: t.command.clone(),
                actor: actor.name.clone(),
                role: role.clone(),
                rule_codes: codes_of(&def.name, t),
                payload: serde_json::json!({ "membership": membership }),
                effective_date: *membership_date,
                idempotency_key: actor.idempotency_key.clone(),
            })
            .await?;
        }
        let last = steps.last().map_or("member", |t| t.to.as_str());
        tx.upsert_member(&MemberRow {
            person_id: person.id,
            branch_id: branch.id,
            membership_date: *membership_date,
            development_number: data.number.clone(),
            standing: last.to_owned(),
            probation_until: *probation_until,
            source: "legacy".into(),
            admission_instance_id: None,
            oath_date: None,
            deleted_on: None,
            deletion_reason: None,
        })
        .await?;
        Ok(())
    }
}
