//! The organisation tree: import of the national committee tree and of organisation CSV files, listing.
//! Each import is one transaction: every row or none.

use crate::{Engine, EngineError, EngineResult};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use tuanji_domain::{OrgKind, SchoolLevel};
use tuanji_import::orgs::{national_tree, parse_org_csv, OrgCsvRow};
use tuanji_import::roster::RowError;
use tuanji_store::{OrgRow, Store, StoreTx};
use uuid::Uuid;

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgImportReport {
    /// Organisations inserted.
    pub inserted: usize,
    /// Inserted organisations by kind.
    pub by_kind: BTreeMap<String, usize>,
}

/// Progress callback: (what is being done, done, total).
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Send + Sync);

/// Levels of the tree: 0 central, 1 provincial, 2 city, 3 county, 4 township and basic-level committees,
/// 5 general branch, 6 branch.
fn level(kind: OrgKind) -> u8 {
    match kind {
        OrgKind::Central => 0,
        OrgKind::Provincial => 1,
        OrgKind::City => 2,
        OrgKind::County => 3,
        OrgKind::Township | OrgKind::BasicCommittee | OrgKind::WorkingCommittee => 4,
        OrgKind::GeneralBranch => 5,
        OrgKind::Branch => 6,
    }
}

/// A child sits at a lower level than its parent; basic-level committees may nest (a university's 团委 over
/// a school's 团委); a branch never has children.
fn may_sit_under(child: OrgKind, parent: OrgKind) -> bool {
    let (c, p) = (level(child), level(parent));
    c > p || (c == 4 && p == 4 && !matches!(child, OrgKind::Township))
}

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
        if let Some(root) = tx.root_org().await? {
            return Err(EngineError::Input(format!(
                "the national tree is already imported ({} is present); nothing was written",
                root.name
            )));
        }
        let existing: std::collections::HashSet<String> = tx
            .orgs_under("/")
            .await?
            .into_iter()
            .map(|o| o.code)
            .collect();
        let clashes: Vec<&str> = records
            .iter()
            .map(|r| r.code.as_str())
            .filter(|c| existing.contains(*c))
            .collect();
        if !clashes.is_empty() {
            return Err(EngineError::Input(format!(
                "{} organisation code(s) of the national tree already exist ({}{}); nothing was written",
                clashes.len(),
                clashes.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                if clashes.len() > 5 { ", …" } else { "" }
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
                graduation_date: None,
                mobile_members: false,
            });
        }
        let total = rows.len() as u64;
        for (i, chunk) in rows.chunks(2000).enumerate() {
            tx.insert_orgs(chunk).await?;
            progress("organisations", ((i * 2000) + chunk.len()) as u64, total);
        }
        tx.commit().await?;
        Ok(OrgImportReport {
            inserted: rows.len(),
            by_kind,
        })
    }

    /// Imports organisations from a CSV (header `code,name,kind,parent[,approves_admissions,school_level,
    /// graduating,class_size]`). A parent is another row of the file (in any order) or an existing organisation.
    /// A code that already exists is refused: an import only adds organisations.
    ///
    /// The tree's shape is checked: one 团中央 (`central`) at the root and nowhere else; every other organisation
    /// sits under a higher level (central → provincial → city → county → township / basic-level committee →
    /// general branch → branch; basic-level committees may nest); a graduating branch names its school level,
    /// and a junior- or senior-high one its class size (ADM_CLASS_CAP).
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
        let row_err = |r: &OrgCsvRow, column: &str, reason: String| RowError {
            line: r.line,
            column: Some(column.into()),
            code: None,
            reason,
        };
        let mut in_file: HashMap<&str, &OrgCsvRow> = HashMap::new();
        for r in &parsed {
            if in_file.insert(r.code.as_str(), r).is_some() {
                errors.push(row_err(
                    r,
                    "code",
                    format!("code `{}` appears twice in the file", r.code.as_str()),
                ));
            }
        }
        // The root: the one in the database, else the first central row of the file.
        let root: Option<String> = match tx.root_org().await? {
            Some(o) => Some(o.code),
            None => parsed
                .iter()
                .find(|r| r.kind == OrgKind::Central)
                .map(|r| r.code.as_str().to_owned()),
        };
        let mut known: HashMap<String, OrgRow> = HashMap::new();
        let (mut inserts, mut by_kind) = (Vec::new(), BTreeMap::new());
        // Resolve rows whose parent is known, pass after pass, so the file may list children before parents.
        let mut pending: Vec<&OrgCsvRow> = parsed.iter().collect();
        loop {
            let mut next = Vec::new();
            for r in pending.drain(..) {
                let parent = match &r.parent {
                    None => None,
                    Some(p) => match known.get(p.as_str()) {
                        Some(o) => Some(o.clone()),
                        None if in_file.contains_key(p.as_str()) => {
                            next.push(r);
                            continue;
                        }
                        None => match tx.org_by_code(p.as_str()).await? {
                            Some(o) => Some(o),
                            None => {
                                errors.push(row_err(
                                    r,
                                    "parent",
                                    format!("no organisation has code `{}`", p.as_str()),
                                ));
                                continue;
                            }
                        },
                    },
                };
                match self
                    .org_row(&mut tx, r, parent.as_ref(), root.as_deref())
                    .await?
                {
                    Err(e) => errors.push(e),
                    Ok(row) => {
                        *by_kind.entry(row.kind.clone()).or_insert(0) += 1;
                        inserts.push(row.clone());
                        known.insert(row.code.clone(), row);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            let progress = next.iter().any(|r| {
                r.parent
                    .as_ref()
                    .is_some_and(|p| known.contains_key(p.as_str()))
            });
            if !progress {
                for r in next {
                    let p = r.parent.as_ref().map_or("", |p| p.as_str());
                    let line = in_file.get(p).map_or(0, |pr| pr.line);
                    errors.push(row_err(
                        r,
                        "parent",
                        format!(
                            "the parent `{p}` (line {line}) is refused or its rows form a cycle"
                        ),
                    ));
                }
                break;
            }
            pending = next;
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(EngineError::Rows(errors));
        }
        inserts.sort_by_key(|o| o.depth);
        tx.insert_orgs(&inserts).await?;
        if !dry_run {
            tx.commit().await?;
        }
        Ok(OrgImportReport {
            inserted: inserts.len(),
            by_kind,
        })
    }

    /// The row to insert for one CSV row whose parent is resolved, or the row's error.
    async fn org_row(
        &self,
        tx: &mut S::Tx,
        r: &OrgCsvRow,
        parent: Option<&OrgRow>,
        root: Option<&str>,
    ) -> EngineResult<Result<OrgRow, RowError>> {
        let code = r.code.as_str().to_owned();
        let err = |column: &str, reason: String| {
            Ok(Err(RowError {
                line: r.line,
                column: Some(column.into()),
                code: None,
                reason,
            }))
        };
        match (r.kind, parent) {
            (OrgKind::Central, Some(_)) => {
                return err(
                    "parent",
                    "团中央 (central) is the root and has no parent".into(),
                )
            }
            (OrgKind::Central, None) if root.is_some_and(|c| c != code) => {
                return err(
                    "kind",
                    format!(
                        "the root 团中央 already exists (`{}`); there is only one",
                        root.unwrap_or_default()
                    ),
                )
            }
            (OrgKind::Central, None) => {}
            (_, None) => {
                return err(
                    "parent",
                    format!("a {} needs a parent organisation", r.kind.as_str()),
                )
            }
            (kind, Some(p)) => {
                let parent_kind: OrgKind = p.kind.parse().map_err(|_| {
                    EngineError::Input(format!("stored kind `{}` is unknown", p.kind))
                })?;
                if !may_sit_under(kind, parent_kind) {
                    return err(
                        "kind",
                        format!(
                            "a {} cannot sit under a {} (`{}`)",
                            kind.as_str(),
                            parent_kind.as_str(),
                            p.code
                        ),
                    );
                }
            }
        }
        if r.graduating {
            match r.school_level {
                None => return err("school_level", "a graduating branch needs its school level (junior_high, senior_high, vocational, university)".into()),
                Some(SchoolLevel::JuniorHigh | SchoolLevel::SeniorHigh) if r.class_size.is_none() => {
                    return err("class_size", "a junior- or senior-high graduating branch needs its class size (ADM_CLASS_CAP)".into())
                }
                _ => {}
            }
        }
        let approves = r
            .approves_admissions
            .unwrap_or_else(|| approves_by_default(r.kind));
        let school_level = r.school_level.map(|l| l.as_str().to_owned());
        let class_size = r.class_size.map(|n| n as i32);
        if tx.org_by_code(&code).await?.is_some() {
            return err(
                "code",
                format!("`{code}` already exists; an import only adds organisations (it never changes or moves one)"),
            );
        }
        let (path, depth) = match parent {
            Some(p) => (format!("{}{code}/", p.path), p.depth + 1),
            None => (format!("/{code}/"), 0),
        };
        Ok(Ok(OrgRow {
            id: Uuid::now_v7(),
            code,
            name: r.name.clone(),
            kind: r.kind.as_str().to_owned(),
            parent_id: parent.map(|p| p.id),
            path,
            depth,
            approves_admissions: approves,
            school_level,
            graduating: r.graduating,
            class_size,
            graduation_date: None,
            mobile_members: r.mobile_members,
        }))
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
            .ok_or_else(|| EngineError::NotFound(format!("no organisation has code `{code}`")))
    }
}
