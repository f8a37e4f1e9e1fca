//! The organisation tree: import of the national committee tree and of organisation CSV files, listing.
//! Each import is one transaction: every row or none.

use crate::{Engine, EngineError, EngineResult};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use tuanji_domain::OrgKind;
use tuanji_import::orgs::{national_tree, parse_org_csv};
use tuanji_import::roster::RowError;
use tuanji_store::{OrgRow, Store, StoreTx};
use uuid::Uuid;

/// Code of the root, 共青团中央.
pub const ROOT_CODE: &str = "CYLC";

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgImportReport {
    /// Organisations inserted.
    pub inserted: usize,
    /// Organisations updated (existing codes in an organisation CSV).
    pub updated: usize,
    /// Inserted organisations by kind.
    pub by_kind: BTreeMap<String, usize>,
}

/// Progress callback: (done, total).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

fn approves_by_default(kind: OrgKind) -> bool {
    !matches!(kind, OrgKind::Branch | OrgKind::GeneralBranch)
}

impl<S: Store> Engine<S> {
    /// Builds the national committee tree (团中央 → provincial → city → county → township committees) from the
    /// GB/T 2260 tables in `dir` (`data/china-division/`), in one transaction, reporting progress.
    ///
    /// Errors: [`EngineError::Input`] when the tables are missing or malformed, or the tree is already imported.
    pub async fn import_national_tree(
        &self,
        dir: &Path,
        progress: Progress<'_>,
    ) -> EngineResult<OrgImportReport> {
        let records = national_tree(dir).map_err(|e| EngineError::Input(e.to_string()))?;
        let mut tx = self.store().begin().await?;
        if let Some(root) = tx.org_by_code(ROOT_CODE).await? {
            return Err(EngineError::Input(format!(
                "the national tree is already imported ({} is present); nothing was written",
                root.name
            )));
        }
        let mut ids: HashMap<String, (Uuid, String, i32)> = HashMap::with_capacity(records.len());
        let mut rows = Vec::with_capacity(records.len());
        let mut by_kind = BTreeMap::new();
        for r in &records {
            let (parent_id, path, depth) = match &r.parent {
                None => (None, format!("/{}/", r.code.as_str()), 0),
                Some(p) => {
                    let (pid, ppath, pdepth) = ids.get(p.as_str()).ok_or_else(|| {
                        EngineError::Input(format!(
                            "{} comes before its parent {}",
                            r.code.as_str(),
                            p.as_str()
                        ))
                    })?;
                    (
                        Some(*pid),
                        format!("{ppath}{}/", r.code.as_str()),
                        pdepth + 1,
                    )
                }
            };
            let id = Uuid::now_v7();
            ids.insert(r.code.as_str().to_owned(), (id, path.clone(), depth));
            *by_kind.entry(r.kind.as_str().to_owned()).or_insert(0) += 1;
            rows.push(OrgRow {
                id,
                code: r.code.as_str().to_owned(),
                name: r.name.clone(),
                kind: r.kind.as_str().to_owned(),
                parent_id,
                path,
                depth,
                approves_admissions: approves_by_default(r.kind),
                school_level: None,
                graduating: false,
                class_size: None,
            });
        }
        let total = rows.len() as u64;
        for (i, chunk) in rows.chunks(2000).enumerate() {
            tx.insert_orgs(chunk).await?;
            progress(((i * 2000) + chunk.len()) as u64, total);
        }
        tx.commit().await?;
        Ok(OrgImportReport {
            inserted: rows.len(),
            updated: 0,
            by_kind,
        })
    }

    /// Imports organisations from a CSV (header `code,name,kind,parent[,approves_admissions,school_level,
    /// graduating,class_size]`). A parent is an earlier row or an existing organisation. A code that exists is
    /// updated (name and flags), never moved.
    ///
    /// Errors: [`EngineError::Rows`] listing every bad row (line, column, reason); nothing is written then.
    pub async fn import_org_csv(
        &self,
        bytes: &[u8],
        dry_run: bool,
    ) -> EngineResult<OrgImportReport> {
        let parsed = parse_org_csv(bytes).map_err(EngineError::Rows)?;
        let mut tx = self.store().begin().await?;
        let mut errors = Vec::new();
        let mut known: HashMap<String, OrgRow> = HashMap::new();
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        let mut by_kind = BTreeMap::new();
        for r in &parsed {
            let code = r.code.as_str().to_owned();
            let parent = match &r.parent {
                None => None,
                Some(p) => match known.get(p.as_str()) {
                    Some(o) => Some(o.clone()),
                    None => tx.org_by_code(p.as_str()).await?,
                },
            };
            if r.parent.is_some() && parent.is_none() {
                errors.push(RowError {
                    line: r.line,
                    column: Some("parent".into()),
                    code: None,
                    reason: format!(
                        "no organisation has code `{}`",
                        r.parent.as_ref().map_or("", |p| p.as_str())
                    ),
                });
                continue;
            }
            let existing = tx.org_by_code(&code).await?;
            if known.contains_key(&code) {
                errors.push(RowError {
                    line: r.line,
                    column: Some("code".into()),
                    code: None,
                    reason: format!("code `{code}` appears twice in the file"),
                });
                continue;
            }
            if let Some(p) = &parent {
                if p.kind == "branch" {
                    errors.push(RowError {
                        line: r.line,
                        column: Some("parent".into()),
                        code: None,
                        reason: format!(
                            "`{}` is a branch and cannot have sub-organisations",
                            p.code
                        ),
                    });
                    continue;
                }
            }
            let approves = r
                .approves_admissions
                .unwrap_or_else(|| approves_by_default(r.kind));
            let row = match existing {
                Some(mut o) => {
                    if o.kind != r.kind.as_str() || o.parent_id != parent.as_ref().map(|p| p.id) {
                        errors.push(RowError { line: r.line, column: Some("code".into()), code: None, reason: format!("`{code}` exists with another kind or parent; organisations are not moved by import") });
                        continue;
                    }
                    o.name = r.name.clone();
                    o.approves_admissions = approves;
                    o.school_level = r.school_level.map(|l| l.as_str().to_owned());
                    o.graduating = r.graduating;
                    o.class_size = r.class_size.map(|n| n as i32);
                    updates.push(o.clone());
                    o
                }
                None => {
                    let (path, depth) = match &parent {
                        Some(p) => (format!("{}{code}/", p.path), p.depth + 1),
                        None => (format!("/{code}/"), 0),
                    };
                    let o = OrgRow {
                        id: Uuid::now_v7(),
                        code: code.clone(),
                        name: r.name.clone(),
                        kind: r.kind.as_str().to_owned(),
                        parent_id: parent.as_ref().map(|p| p.id),
                        path,
                        depth,
                        approves_admissions: approves,
                        school_level: r.school_level.map(|l| l.as_str().to_owned()),
                        graduating: r.graduating,
                        class_size: r.class_size.map(|n| n as i32),
                    };
                    *by_kind.entry(o.kind.clone()).or_insert(0) += 1;
                    inserts.push(o.clone());
                    o
                }
            };
            known.insert(code, row);
        }
        if !errors.is_empty() {
            return Err(EngineError::Rows(errors));
        }
        tx.insert_orgs(&inserts).await?;
        for o in &updates {
            tx.update_org(o).await?;
        }
        if !dry_run {
            tx.commit().await?;
        }
        Ok(OrgImportReport {
            inserted: inserts.len(),
            updated: updates.len(),
            by_kind,
        })
    }

    /// The organisations under `code` (itself included), or all of them, ordered by path.
    ///
    /// Errors: [`EngineError::Input`] for an unknown code.
    pub async fn list_orgs(&self, under: Option<&str>) -> EngineResult<Vec<OrgRow>> {
        let mut tx = self.store().begin_read().await?;
        let prefix = match under {
            None => "/".to_owned(),
            Some(code) => self.org_in(&mut tx, code).await?.path,
        };
        Ok(tx.orgs_under(&prefix).await?)
    }

    /// The organisation with this code.
    pub(crate) async fn org_in(&self, tx: &mut S::Tx, code: &str) -> EngineResult<OrgRow> {
        tx.org_by_code(code)
            .await?
            .ok_or_else(|| EngineError::Input(format!("no organisation has code `{code}`")))
    }
}
