//! Review and export of the transition log (`tuanji log`, `tuanji audit export`): a selection by member,
//! organisation subtree, workflow, command, rule code, actor and date range, written as JSON Lines or as CSV
//! (UTF-8 with BOM, so Excel opens it) with the hashes. Resident ID numbers are masked unless the export is
//! unmasked, and an unmasked export is itself recorded in the log (`workflows/audit.v1.toml`).

use crate::admission::{masked, role_for};
use crate::{Actor, Engine, EngineError, EngineResult};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use tuanji_domain::Date;
use tuanji_store::{LogFilter, LogRow, NewLogEntry, Store, StoreTx};
use uuid::Uuid;

/// A selection of the log as a user gives it. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogQuery {
    /// A person: resident ID, development number or instance id.
    pub member: Option<String>,
    /// An organisation code: entries of its subtree.
    pub org: Option<String>,
    /// A workflow name.
    pub workflow: Option<String>,
    /// A command name.
    pub command: Option<String>,
    /// A rule code the entry checked.
    pub rule: Option<String>,
    /// An actor.
    pub actor: Option<String>,
    /// Effective on or after.
    pub from: Option<Date>,
    /// Effective on or before.
    pub to: Option<Date>,
    /// At most this many entries (oldest first).
    pub limit: Option<i64>,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line.
    JsonLines,
    /// CSV, UTF-8 with BOM.
    Csv,
}

/// One exported entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    /// Sequence number.
    pub seq: i64,
    /// Effective date.
    pub effective_date: Date,
    /// Recording time (RFC 3339, UTC).
    pub recorded_at: String,
    /// Workflow and version, e.g. `relation v1`.
    pub workflow: String,
    /// Command.
    pub command: String,
    /// State before.
    pub from_state: String,
    /// State after.
    pub to_state: String,
    /// Actor.
    pub actor: String,
    /// Role.
    pub role: String,
    /// Rule codes, `;`-separated.
    pub rule_codes: String,
    /// Resident ID of the person, masked unless unmasked.
    pub member: String,
    /// Organisation code.
    pub org: String,
    /// Payload JSON text.
    pub payload: String,
    /// Leaf hash (hex).
    pub leaf_hash: String,
    /// Chain hash (hex).
    pub chain_hash: String,
}

/// A CSV cell that a spreadsheet will not run as a formula: text beginning with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'` (OWASP "CSV injection"). Only the free-text columns (actor, organisation
/// code) can begin so; hashes, dates, states and the JSON payload cannot.
fn spreadsheet_safe(text: String) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text,
    }
}

impl<S: Store> Engine<S> {
    async fn log_filter(&self, tx: &mut S::Tx, q: &LogQuery) -> EngineResult<LogFilter> {
        let person_id = match &q.member {
            Some(m) => Some(self.find_person(tx, m).await?.id),
            None => None,
        };
        let org_path = match &q.org {
            Some(code) => Some(
                tx.org_by_code(code.trim())
                    .await?
                    .ok_or_else(|| {
                        EngineError::NotFound(format!("no organisation has code `{}`", code.trim()))
                    })?
                    .path,
            ),
            None => None,
        };
        // A workflow, command or rule code that does not exist would silently select nothing.
        let registry = self.registry();
        if let Some(w) = &q.workflow {
            if registry.latest(w).is_none() {
                let names: std::collections::BTreeSet<&str> =
                    registry.iter().map(|d| d.name.as_str()).collect();
                return Err(EngineError::Input(format!(
                    "no workflow is named `{w}` (workflows: {})",
                    names.into_iter().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        if let Some(c) = &q.command {
            let declared = registry
                .iter()
                .filter(|d| q.workflow.as_ref().is_none_or(|w| &d.name == w))
                .any(|d| d.transitions.iter().any(|t| &t.command == c));
            if !declared {
                return Err(EngineError::Input(format!(
                    "no transition of {} has the command `{c}`",
                    q.workflow.as_deref().unwrap_or("any workflow")
                )));
            }
        }
        if let Some(r) = &q.rule {
            if r.trim()
                .to_uppercase()
                .parse::<tuanji_domain::RuleCode>()
                .is_err()
            {
                return Err(EngineError::Input(format!(
                    "`{r}` is not a rule code (see docs/rules.md)"
                )));
            }
        }
        if let (Some(f), Some(t)) = (q.from, q.to) {
            if f > t {
                return Err(EngineError::Input(format!("--from {f} is after --to {t}")));
            }
        }
        if q.limit.is_some_and(|l| l < 1) {
            return Err(EngineError::Input("--limit must be at least 1".into()));
        }
        Ok(LogFilter {
            person_id,
            after_seq: None,
            limit: q.limit,
            org_path,
            workflow: q.workflow.clone(),
            command: q.command.clone(),
            rule_code: q.rule.as_ref().map(|r| r.trim().to_uppercase()),
            actor: q.actor.clone(),
            from: q.from,
            to: q.to,
        })
    }

    /// Log entries matching `q`, oldest first.
    ///
    /// Errors: [`EngineError::Input`] for an unknown person or organisation, `from` after `to`, a limit below 1.
    pub async fn log_query(&self, q: &LogQuery) -> EngineResult<Vec<LogRow>> {
        let mut tx = self.store().begin_read().await?;
        let f = self.log_filter(&mut tx, q).await?;
        Ok(tx.log(&f).await?)
    }

    /// Writes the entries matching `q` to `out` and returns how many. With `unmasked` the resident ID numbers are
    /// written in full, and the export is first recorded in the log (`audit` workflow, command
    /// `export_unmasked`, with the selection), in the actor's role (auditor or system_admin).
    ///
    /// Errors: as [`Engine::log_query`]; WF_NOT_ALLOWED for an unmasked export in another role; write errors as
    /// [`EngineError::Input`].
    pub async fn audit_export(
        &self,
        actor: &Actor,
        q: &LogQuery,
        format: ExportFormat,
        unmasked: bool,
        out: &mut (dyn Write + Send),
    ) -> EngineResult<usize> {
        if unmasked {
            self.record_unmasked_export(actor, q, format).await?;
        }
        let mut tx = self.store().begin_read().await?;
        let f = self.log_filter(&mut tx, q).await?;
        let rows = tx.log(&f).await?;
        let mut ids: HashMap<Uuid, String> = HashMap::new();
        let mut orgs: HashMap<Uuid, String> = HashMap::new();
        let io = |e: std::io::Error| EngineError::Input(format!("cannot write the export: {e}"));
        let mut csv = match format {
            ExportFormat::Csv => {
                out.write_all("\u{feff}".as_bytes()).map_err(io)?;
                Some(csv::Writer::from_writer(Vec::new()))
            }
            ExportFormat::JsonLines => None,
        };
        for r in &rows {
            let member = match r.person_id {
                Some(p) => match ids.get(&p) {
                    Some(s) => s.clone(),
                    None => {
                        let s = match tx.person(p).await? {
                            Some(person) if unmasked => person.resident_id,
                            Some(person) => masked(&person.resident_id),
                            None => String::new(),
                        };
                        ids.insert(p, s.clone());
                        s
                    }
                },
                None => String::new(),
            };
            let org = match r.org_id {
                Some(o) => match orgs.get(&o) {
                    Some(s) => s.clone(),
                    None => {
                        let s = tx.org_by_id(o).await?.map(|o| o.code).unwrap_or_default();
                        orgs.insert(o, s.clone());
                        s
                    }
                },
                None => String::new(),
            };
            let row = ExportRow {
                seq: r.seq,
                effective_date: r.effective_date,
                recorded_at: r
                    .recorded_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                workflow: format!("{} v{}", r.workflow, r.workflow_version),
                command: r.command.clone(),
                from_state: r.from_state.clone(),
                to_state: r.to_state.clone(),
                actor: r.actor.clone(),
                role: r.role.clone(),
                rule_codes: r.rule_code_list()?.join(";"),
                member,
                org,
                // Masked: the payload without its personal fields (names, free text), as hashed.
                payload: if unmasked {
                    r.payload_value()?.to_string()
                } else {
                    r.payload.clone()
                },
                leaf_hash: hex::encode(&r.leaf_hash),
                chain_hash: hex::encode(&r.chain_hash),
            };
            let row = match csv {
                Some(_) => ExportRow {
                    actor: spreadsheet_safe(row.actor),
                    org: spreadsheet_safe(row.org),
                    ..row
                },
                None => row,
            };
            match &mut csv {
                Some(w) => w
                    .serialize(&row)
                    .map_err(|e| EngineError::Input(format!("cannot write the export: {e}")))?,
                None => {
                    let line = serde_json::to_string(&row)
                        .map_err(|e| EngineError::Input(format!("cannot write the export: {e}")))?;
                    writeln!(out, "{line}").map_err(io)?;
                }
            }
        }
        if let Some(w) = csv {
            // A selection with no rows still gets its header line.
            let bytes = if rows.is_empty() {
                "seq,effective_date,recorded_at,workflow,command,from_state,to_state,actor,role,rule_codes,member,org,payload,leaf_hash,chain_hash\n"
                    .as_bytes()
                    .to_vec()
            } else {
                w.into_inner()
                    .map_err(|e| EngineError::Input(format!("cannot write the export: {e}")))?
            };
            out.write_all(&bytes).map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok(rows.len())
    }

    async fn record_unmasked_export(
        &self,
        actor: &Actor,
        q: &LogQuery,
        format: ExportFormat,
    ) -> EngineResult<()> {
        let def = self
            .registry()
            .latest("audit")
            .ok_or_else(|| EngineError::Input("no audit workflow is installed".into()))?;
        let t = def.transition(tuanji_workflow::NEW, "export_unmasked")?;
        let role = role_for(actor, t, def)?;
        let today = self.today();
        let mut selection = q.clone();
        if let Some(m) = &selection.member {
            selection.member = Some(tuanji_domain::mask_id_like(m));
        }
        let step = serde_json::json!({
            "command": "export_unmasked",
            "date": today,
            "format": match format { ExportFormat::Csv => "csv", ExportFormat::JsonLines => "jsonl" },
            "selection": selection,
        });
        // The audit workflow has no projection: the log entry is the record (its instance id names the use).
        let mut tx = self.store().begin().await?;
        tx.append_log(&NewLogEntry {
            instance_id: Uuid::now_v7(),
            person_id: None,
            org_id: None,
            workflow: def.name.clone(),
            workflow_version: def.version as i32,
            definition_sha256: def.sha256.clone(),
            from_state: t.from.clone(),
            to_state: t.to.clone(),
            command: t.command.clone(),
            actor: actor.name.clone(),
            role,
            rule_codes: Vec::new(),
            payload: serde_json::json!({ "step": step }),
            effective_date: today,
            idempotency_key: actor.idempotency_key.clone(),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
