//! Development-number quotas (按编号发展团员, 总量控制; 中青发〔2016〕6号): a superior committee allocates
//! `count` numbers of a year to a committee; admissions consume them one by one (ADM_NUMBER_REQUIRED,
//! ADM_QUOTA_EXHAUSTED).

use crate::{Engine, EngineError, EngineResult};
use serde::Serialize;
use tuanji_domain::{Date, DevelopmentNumber};
use tuanji_store::{AllocationRow, Store, StoreTx};
use uuid::Uuid;

/// Largest allocation accepted at once: the 8-digit serial space of a year.
pub const MAX_ALLOCATION: i64 = 99_999_999;

/// One allocation as shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationView {
    /// First number of the range.
    pub first: String,
    /// Last number of the range.
    pub last: String,
    /// Numbers in the range.
    pub count: i64,
    /// Numbers issued from it (including later voided ones).
    pub used: i64,
    /// Code of the committee that allocated it.
    pub allocated_by: String,
    /// Date of the allocation.
    pub effective_date: Date,
}

/// The quota of a committee for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaReport {
    /// Committee code.
    pub org: String,
    /// Committee name.
    pub name: String,
    /// Admission year.
    pub year: i32,
    /// Numbers allocated.
    pub allocated: i64,
    /// Numbers consumed by admissions (issued + voided).
    pub used: i64,
    /// Of those, voided by annulment (never reissued).
    pub voided: i64,
    /// Numbers still free.
    pub left: i64,
    /// The allocations, oldest range first.
    pub allocations: Vec<AllocationView>,
}

fn number(year: i32, serial: i64) -> EngineResult<String> {
    Ok(DevelopmentNumber::from_parts(year, serial as u64)?
        .as_str()
        .to_owned())
}

impl<S: Store> Engine<S> {
    /// Allocates `count` numbers of `year` to the committee `org`, granted by `by` (default: its parent).
    ///
    /// Errors: [`EngineError::Input`] when `org` is unknown or a branch, `by` is not a strict superior of `org`, the date is after today, the year is after next year,
    /// `count` is not in 1..=99,999,999, the year is not 2017..=9999, or the year's serial space would overflow.
    pub async fn allocate_quota(
        &self,
        org: &str,
        year: i32,
        count: i64,
        by: Option<&str>,
        date: Date,
    ) -> EngineResult<QuotaReport> {
        if !(1..=MAX_ALLOCATION).contains(&count) {
            return Err(EngineError::Input(format!(
                "count must be between 1 and {MAX_ALLOCATION}; got {count}"
            )));
        }
        if !(2017..=9999).contains(&year) {
            return Err(EngineError::Input(format!(
                "year must be 2017 or later (numbered development began in 2017); got {year}"
            )));
        }
        let today = self.today();
        if date > today {
            return Err(EngineError::Input(format!(
                "the allocation is dated {date}, after today ({today})"
            )));
        }
        let latest = chrono::Datelike::year(&today) + 1;
        if year > latest {
            return Err(EngineError::Input(format!(
                "numbers can be allocated up to next year ({latest}); got {year}"
            )));
        }
        self.retrying(|| async {
            let mut tx = self.store().begin().await?;
            let target = self.org_in(&mut tx, org).await?;
            if target.kind == "branch" {
                return Err(EngineError::Input(format!(
                    "{} ({}) is a branch; numbers are allocated to committees",
                    target.name, target.code
                )));
            }
            let granter = match by {
                Some(code) => self.org_in(&mut tx, code).await?,
                None => match target.parent_id {
                    Some(p) => tx
                        .org_by_id(p)
                        .await?
                        .ok_or_else(|| EngineError::Input("parent missing".into()))?,
                    None => {
                        return Err(EngineError::Input(format!(
                            "{} ({}) is the root; no superior can allocate to it",
                            target.name, target.code
                        )))
                    }
                },
            };
            if granter.id == target.id || !granter.covers(&target) {
                return Err(EngineError::Input(format!(
                    "{} ({}) is not a superior of {} ({}) and cannot allocate its numbers",
                    granter.name, granter.code, target.name, target.code
                )));
            }
            let row = tx
                .insert_allocation(Uuid::now_v7(), target.id, year, count, granter.id, date)
                .await?;
            if row.first_serial + row.count - 1 > MAX_ALLOCATION {
                return Err(EngineError::Input(format!(
                    "the {year} number space has fewer than {count} serials left"
                )));
            }
            tx.commit().await?;
            Ok(())
        })
        .await?;
        self.quota(org, year).await
    }

    /// The committee's quota for the year: allocated, used, voided, left, and the ranges.
    ///
    /// Errors: [`EngineError::Input`] for an unknown organisation.
    pub async fn quota(&self, org: &str, year: i32) -> EngineResult<QuotaReport> {
        let mut tx = self.store().begin_read().await?;
        let o = self.org_in(&mut tx, org).await?;
        let rows: Vec<AllocationRow> = tx.allocations(o.id, year).await?;
        let (_, voided) = tx.number_counts(o.id, year).await?;
        let mut allocations = Vec::new();
        for r in &rows {
            let by = tx
                .org_by_id(r.allocated_by)
                .await?
                .map(|g| g.code)
                .unwrap_or_default();
            allocations.push(AllocationView {
                first: number(year, r.first_serial)?,
                last: number(year, r.first_serial + r.count - 1)?,
                count: r.count,
                used: r.used,
                allocated_by: by,
                effective_date: r.effective_date,
            });
        }
        let allocated: i64 = rows.iter().map(|r| r.count).sum();
        let used: i64 = rows.iter().map(|r| r.used).sum();
        Ok(QuotaReport {
            org: o.code,
            name: o.name,
            year,
            allocated,
            used,
            voided,
            left: allocated - used,
            allocations,
        })
    }
}
