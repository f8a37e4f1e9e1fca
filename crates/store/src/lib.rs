//! The storage interface of Tuanji: row types, [`StoreError`], and the [`Store`] / [`StoreTx`] traits that
//! `tuanji-store-sqlite` (the embedded default) and `tuanji-store-postgres` (the scale path) implement.
//!
//! Every engine command runs in one [`StoreTx`]: it reads what it needs, decides, then writes the instance
//! projection, the ledger rows and one transition-log entry, and commits. Dropping a transaction without
//! [`StoreTx::commit`] rolls all of it back.
//!
//! Both backends share the SQL in [`sql_tx_impl!`]: the statements are written once in the subset of SQL that
//! SQLite and PostgreSQL both accept (`$n` placeholders, `RETURNING`, `ON CONFLICT`), and each backend crate
//! instantiates the macro for its own `sqlx` driver. The few places where the two differ (row locks, the
//! transaction start) are parameters of the macro.

use chrono::{DateTime, NaiveDate, Utc};
use std::future::Future;
use uuid::Uuid;

mod sql;

#[doc(hidden)]
pub use sqlx;
#[doc(hidden)]
pub use tuanji_audit;

/// An organisation (团组织): a node of the tree 团中央 → provincial → city → county → township / basic-level
/// committee → branch.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct OrgRow {
    /// UUID v7.
    pub id: Uuid,
    /// GB/T 2260 administrative code where the organisation has one, else a code given on import.
    pub code: String,
    /// Full name, e.g. `共青团北京市委员会`.
    pub name: String,
    /// `tuanji_domain::OrgKind` in snake_case.
    pub kind: String,
    /// The parent organisation; `None` only for the root (团中央).
    pub parent_id: Option<Uuid>,
    /// Codes from the root, slash-separated and slash-terminated: `/CYLC/110000/110100/`.
    pub path: String,
    /// 0 for the root.
    pub depth: i32,
    /// May approve activists and admissions (ADM_APPROVAL): every committee; a 团总支 only when authorised.
    pub approves_admissions: bool,
    /// `tuanji_domain::SchoolLevel` in snake_case, for school organisations.
    pub school_level: Option<String>,
    /// A graduating-class branch (毕业班), for ADM_CLASS_CAP.
    pub graduating: bool,
    /// Students in the class, for ADM_CLASS_CAP.
    pub class_size: Option<i32>,
    /// Graduation date of a graduating branch (`tuanji org mark-graduating`).
    pub graduation_date: Option<NaiveDate>,
    /// The school's mobile-member branch (流动团员团支部), which keeps unemployed graduates (TRF_RETENTION).
    pub mobile_members: bool,
}

impl OrgRow {
    /// Whether `self` is `other` or one of its ancestors (a committee's rights cover its subtree).
    pub fn covers(&self, other: &OrgRow) -> bool {
        other.path.starts_with(&self.path)
    }

    /// The codes on the path from the root to this organisation, root first.
    pub fn path_codes(&self) -> impl Iterator<Item = &str> {
        self.path.split('/').filter(|s| !s.is_empty())
    }
}

/// A person (one record per person nationwide, ID_UNIQUE).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct PersonRow {
    /// UUID v7.
    pub id: Uuid,
    /// The 18-character resident ID (公民身份号码); sensitive: mask it outside the places that need it.
    pub resident_id: String,
    /// Full name; sensitive.
    pub name: String,
    /// `male` or `female`, from the resident ID.
    pub sex: String,
    /// 民族, as given on the roster.
    pub ethnicity: Option<String>,
    /// From the resident ID.
    pub birth_date: NaiveDate,
}

/// A quota allocation (发展指标 / 号段): `count` development numbers of `year` granted to `org_id` by
/// `allocated_by`; serials `first_serial .. first_serial + count`, of which `used` are issued.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct AllocationRow {
    /// UUID v7.
    pub id: Uuid,
    /// The committee that receives the numbers.
    pub org_id: Uuid,
    /// The admission year: the first 4 digits of every number in the range.
    pub year: i32,
    /// First serial (the last 8 digits of the first number).
    pub first_serial: i64,
    /// Numbers in the range, > 0.
    pub count: i64,
    /// Numbers issued so far, `0..=count`; never decreases (a voided number is not reissued).
    pub used: i64,
    /// The superior committee that granted the allocation.
    pub allocated_by: Uuid,
    /// Date of the allocation decision.
    pub effective_date: NaiveDate,
}

/// One development number in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct NumberRow {
    /// 12 digits, first 4 = year.
    pub number: String,
    /// Admission year.
    pub year: i32,
    /// The allocation it came from; `None` for legacy numbers.
    pub allocation_id: Option<Uuid>,
    /// The person it was issued to.
    pub person_id: Uuid,
    /// The admission instance that consumed it, if any.
    pub instance_id: Option<Uuid>,
    /// `issued`, `voided` (annulled admission; never reused) or `legacy` (imported from the register).
    pub status: String,
    /// Date of issue (the approval date).
    pub issued_on: NaiveDate,
    /// Date the number was voided.
    pub voided_on: Option<NaiveDate>,
}

/// A workflow instance: the projection of one run of a machine for one person.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct InstanceRow {
    /// UUID v7.
    pub id: Uuid,
    /// Machine name, e.g. `admission`.
    pub workflow: String,
    /// Version of the workflow file the instance started on.
    pub workflow_version: i32,
    /// SHA-256 (hex) of that file.
    pub definition_sha256: String,
    /// The person concerned.
    pub person_id: Uuid,
    /// The branch that runs the procedure.
    pub branch_id: Uuid,
    /// Current state.
    pub state: String,
    /// Optimistic version: 1 after creation, +1 per transition.
    pub version: i64,
    /// The machine's data (JSON object text), rebuilt exactly by replaying the log.
    pub data: String,
    /// Effective date of the creating command.
    pub opened_on: NaiveDate,
}

/// A member (团员) in the register: the projection of an admission or a legacy import.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct MemberRow {
    /// The person.
    pub person_id: Uuid,
    /// The branch that holds the organisation relation (组织关系).
    pub branch_id: Uuid,
    /// 团籍 starts on the branch general meeting's date (ADM_MEMBERSHIP_DATE).
    pub membership_date: NaiveDate,
    /// Development number; `None` only for legacy members admitted before 2017.
    pub development_number: Option<String>,
    /// `member`, `on_probation` (留团察看: no vote, cannot sponsor) or `annulled`.
    pub standing: String,
    /// End of probation.
    pub probation_until: Option<NaiveDate>,
    /// `admission` or `legacy`.
    pub source: String,
    /// The admission instance, for members admitted through the engine.
    pub admission_instance_id: Option<Uuid>,
    /// Date of the oath (入团宣誓), ADM_OATH.
    pub oath_date: Option<NaiveDate>,
    /// Tombstone (TRF_NO_DELETE): the date the record was deleted; the row itself is never removed.
    pub deleted_on: Option<NaiveDate>,
    /// Tombstone: why.
    pub deletion_reason: Option<String>,
}

/// One organisation-relation transfer (组织关系转接), open or closed: the projection `transfer list` reads.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct TransferRow {
    /// UUID v7.
    pub id: Uuid,
    /// The member.
    pub person_id: Uuid,
    /// The relation instance (the stay at the outgoing branch).
    pub instance_id: Uuid,
    /// `member`, `outgoing` or `incoming` (TRF_INITIATOR).
    pub initiator: String,
    /// `employment`, `further_study` or `move`.
    pub destination: String,
    /// The branch the relation leaves.
    pub from_branch_id: Uuid,
    /// The receiving organisation (a branch, or a committee that assigns one).
    pub to_org_id: Uuid,
    /// The receiving branch, once known.
    pub to_branch_id: Option<Uuid>,
    /// `open`, `completed`, `rejected` or `cancelled`.
    pub state: String,
    /// Who acts next, e.g. `incoming 110108`; `None` when closed.
    pub waiting_on: Option<String>,
    /// Request date.
    pub requested_on: NaiveDate,
    /// Last action; the timeout (TRF_TIMEOUT) runs from it.
    pub last_action_on: NaiveDate,
    /// The day it becomes overdue.
    pub due_on: NaiveDate,
    /// The day the sweep marked it overdue.
    pub overdue_on: Option<NaiveDate>,
    /// The superior it was escalated to.
    pub escalated_to_id: Option<Uuid>,
    /// Completion, rejection or cancellation date.
    pub closed_on: Option<NaiveDate>,
}

/// An annual evaluation round (团员教育评议): the projection of one instance of the evaluation machine, one per
/// branch and year (`evaluation_rounds`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct EvaluationRow {
    /// UUID v7: the instance id its log entries carry.
    pub id: Uuid,
    /// The branch evaluated.
    pub branch_id: Uuid,
    /// The evaluation year.
    pub year: i32,
    /// Version of `evaluation.vN.toml` the round started on.
    pub workflow_version: i32,
    /// SHA-256 (hex) of that file.
    pub definition_sha256: String,
    /// `recorded`, `approved` or `closed`.
    pub state: String,
    /// Optimistic version: 1 after creation, +1 per transition.
    pub version: i64,
    /// `EvaluationData` as JSON text, rebuilt exactly by replaying the log.
    pub data: String,
    /// Effective date of the `record` command (the meeting date).
    pub opened_on: NaiveDate,
}

/// Which transfers to list.
#[derive(Debug, Clone, Default)]
pub struct TransferFilter {
    /// Subtree (organisation path prefix, e.g. `/CYLC/110000/`) the outgoing or incoming side lies in.
    pub path_prefix: String,
    /// Only transfers whose outgoing branch is in the subtree.
    pub outgoing: bool,
    /// Only transfers whose receiving organisation is in the subtree.
    pub incoming: bool,
    /// Only open, overdue transfers.
    pub overdue: bool,
    /// Only open transfers.
    pub open: bool,
    /// Only this person's transfers.
    pub person_id: Option<Uuid>,
}

/// A transition-log entry to append; the store assigns `seq`, `entry_id`, `recorded_at` and the hashes.
#[derive(Debug, Clone)]
pub struct NewLogEntry {
    /// The instance that changed.
    pub instance_id: Uuid,
    /// The person concerned.
    pub person_id: Option<Uuid>,
    /// The organisation the change happened in.
    pub org_id: Option<Uuid>,
    /// Machine name.
    pub workflow: String,
    /// Machine version.
    pub workflow_version: i32,
    /// SHA-256 (hex) of the workflow file.
    pub definition_sha256: String,
    /// State before (`new` for a creating command).
    pub from_state: String,
    /// State after.
    pub to_state: String,
    /// Command name.
    pub command: String,
    /// Who issued the command.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// Rule codes checked (guards, flags and actions), in order.
    pub rule_codes: Vec<String>,
    /// The command's facts and results (JSON object).
    pub payload: serde_json::Value,
    /// The date the change takes effect (a calendar date in China Standard Time).
    pub effective_date: NaiveDate,
    /// Idempotency key of the request, if any.
    pub idempotency_key: Option<String>,
}

/// A stored transition-log entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct LogRow {
    /// Dense sequence number, from 1.
    pub seq: i64,
    /// UUID v7 of the entry.
    pub entry_id: Uuid,
    /// The instance that changed.
    pub instance_id: Uuid,
    /// The person concerned.
    pub person_id: Option<Uuid>,
    /// The organisation.
    pub org_id: Option<Uuid>,
    /// Machine name.
    pub workflow: String,
    /// Machine version.
    pub workflow_version: i32,
    /// SHA-256 (hex) of the workflow file.
    pub definition_sha256: String,
    /// State before.
    pub from_state: String,
    /// State after.
    pub to_state: String,
    /// Command.
    pub command: String,
    /// Actor.
    pub actor: String,
    /// Role.
    pub role: String,
    /// JSON array of rule codes.
    pub rule_codes: String,
    /// JSON object text, exactly as hashed: for a `canonical_v2` entry, without its personal fields
    /// (use [`LogRow::payload_value`] to read the whole payload).
    pub payload: String,
    /// Effective date.
    pub effective_date: NaiveDate,
    /// Server time of recording (UTC, microseconds).
    pub recorded_at: DateTime<Utc>,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
    /// SHA-256(0x00 ‖ canonical(entry)), `canonical_v1` or `canonical_v2` (docs/audit-format.md).
    #[serde(serialize_with = "hex_bytes")]
    pub leaf_hash: Vec<u8>,
    /// SHA-256(previous chain ‖ leaf).
    #[serde(serialize_with = "hex_bytes")]
    pub chain_hash: Vec<u8>,
    /// The entry's 32 random bytes for its commitments (`canonical_v2`); `None` for a `canonical_v1` entry.
    /// Never serialised: without it a leaf hash reveals nothing about the personal fields.
    #[serde(skip)]
    pub salt: Option<Vec<u8>>,
    /// The payload's personal fields ([`tuanji_audit::PERSONAL_KEYS`]) as a JSON object of JSON Pointer → value,
    /// `None` when it had none. Not serialised with the row (personal data).
    #[serde(skip)]
    pub personal: Option<String>,
}

fn hex_bytes<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(b))
}

impl LogRow {
    /// The whole payload: the stored payload with its personal fields put back.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the stored payload or personal fields are not JSON or do not fit together.
    pub fn payload_value(&self) -> Result<serde_json::Value, StoreError> {
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("log seq {}: {what}: {e}", self.seq))
        };
        let mut payload: serde_json::Value =
            serde_json::from_str(&self.payload).map_err(|e| corrupt("payload", &e))?;
        if let Some(personal) = &self.personal {
            let personal: serde_json::Value =
                serde_json::from_str(personal).map_err(|e| corrupt("personal fields", &e))?;
            tuanji_audit::join_personal(&mut payload, &personal)
                .map_err(|e| corrupt("personal fields", &e))?;
        }
        Ok(payload)
    }

    /// The salt as 32 bytes, `None` for a `canonical_v1` entry.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the stored salt is not 32 bytes.
    pub fn salt32(&self) -> Result<Option<[u8; 32]>, StoreError> {
        self.salt
            .as_deref()
            .map(|s| {
                s.try_into().map_err(|_| {
                    StoreError::Corrupt(format!("log seq {}: salt is not 32 bytes", self.seq))
                })
            })
            .transpose()
    }

    /// The entry as the audit crate hashes it. Errors if `rule_codes` is not a JSON array of strings.
    pub fn rule_code_list(&self) -> Result<Vec<String>, StoreError> {
        serde_json::from_str(&self.rule_codes)
            .map_err(|e| StoreError::Corrupt(format!("log seq {}: rule_codes: {e}", self.seq)))
    }
}

/// Which log entries to read. Every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Only this person's entries.
    pub person_id: Option<Uuid>,
    /// Only entries with seq greater than this.
    pub after_seq: Option<i64>,
    /// At most this many entries (oldest first).
    pub limit: Option<i64>,
    /// Only entries whose organisation lies in this subtree (path prefix, e.g. `/CYLC/110000/`).
    pub org_path: Option<String>,
    /// Only this workflow (machine name).
    pub workflow: Option<String>,
    /// Only this command.
    pub command: Option<String>,
    /// Only entries that checked this rule code.
    pub rule_code: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only entries effective on or after this date.
    pub from: Option<NaiveDate>,
    /// Only entries effective on or before this date.
    pub to: Option<NaiveDate>,
}

/// A signed checkpoint of the transition log (ARCHITECTURE.md "Audit", docs/audit-format.md).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct CheckpointRow {
    /// Dense number from 1.
    pub id: i64,
    /// Log size (entries 1..=size) the checkpoint covers.
    pub size: i64,
    /// RFC 6962 Merkle root over the leaf hashes of entries 1..=size.
    #[serde(serialize_with = "hex_bytes")]
    pub root: Vec<u8>,
    /// Chain hash of entry `size` (32 zero bytes for size 0).
    #[serde(serialize_with = "hex_bytes")]
    pub chain_head: Vec<u8>,
    /// Name of the signing key (a row of `audit_keys`).
    pub key_name: String,
    /// The signed C2SP checkpoint text.
    pub note: String,
    /// Why it was taken: `on_demand`, `every_n`, `every_t`, `transfer`.
    pub reason: String,
    /// Server time (UTC).
    pub created_at: DateTime<Utc>,
    /// The Merkle frontier at `size` (`tuanji_audit::MerkleBuilder::frontier`, 32 bytes per hash, concatenated);
    /// `None` for checkpoints stored before it was kept. Not part of the signed checkpoint.
    #[serde(skip)]
    pub frontier: Option<Vec<u8>>,
}

/// A live standing instance (团籍, state `member`, `on_probation`, `recommended_for_party` or `party_member`) of
/// a member neither annulled nor tombstoned, with what the standing sweep needs: the person's birth date.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StandingLiveRow {
    /// Instance id (UUID v7).
    pub id: Uuid,
    /// The member.
    pub person_id: Uuid,
    /// The member's branch.
    pub branch_id: Uuid,
    /// Current state.
    pub state: String,
    /// Optimistic version.
    pub version: i64,
    /// `StandingData` JSON.
    pub data: String,
    /// From the resident ID (calendar date).
    pub birth_date: NaiveDate,
}

/// One month of League dues (团费) paid by a member (DUE_STUDENT).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct DuesRow {
    /// The member.
    pub person_id: Uuid,
    /// The month paid for, `YYYY-MM`.
    pub month: String,
    /// The part of the payment for this month, in fen (分).
    pub amount_fen: i64,
    /// Payment date.
    pub paid_on: NaiveDate,
    /// `reduced` (students, 0.20 yuan) or `salaried`.
    pub category: String,
}

/// A principal (调用者): a person or system that calls the HTTP API with a bearer token (ARCHITECTURE.md
/// "Access", migration 0009).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct PrincipalRow {
    /// UUID v7.
    pub id: Uuid,
    /// Unique name, 1–50 characters without control characters; recorded as the actor of its commands.
    pub name: String,
    /// Server time of creation (UTC).
    pub created_at: DateTime<Utc>,
    /// Set when the principal was disabled: its tokens stop working.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A role binding of a principal, resolved for access checks: the organisation it is on, or for a `member`
/// binding the member's current branch (read from `members`, so the binding follows the member's transfers).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BindingRow {
    /// `system_admin`, `committee_admin`, `branch_secretary`, `auditor` or `member`.
    pub role: String,
    /// The organisation bound (every role but `member`).
    pub org_id: Option<Uuid>,
    /// The person bound (`member` only).
    pub person_id: Option<Uuid>,
    /// Server time the binding was granted (UTC).
    pub created_at: DateTime<Utc>,
    /// Code of the organisation bound, or of the member's current branch; `None` for a member without a member
    /// row.
    pub org_code: Option<String>,
    /// Path (`/CYLC/…/`) of that organisation.
    pub org_path: Option<String>,
    /// The bound person's resident ID (`member` only). Sensitive: mask it before showing it.
    pub resident_id: Option<String>,
}

/// An API bearer token with its principal. The secret itself is never stored, only its argon2id hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    /// UUID v7; the `tj_<id as 32 hex>_…` part of the token.
    pub id: Uuid,
    /// The principal the token authenticates.
    pub principal_id: Uuid,
    /// That principal's name.
    pub principal_name: String,
    /// Whether that principal is disabled.
    pub principal_disabled: bool,
    /// Free text, at most 100 characters (e.g. the device).
    pub label: String,
    /// argon2id PHC string (`$argon2id$v=19$m=…`). Never shown.
    pub secret_hash: String,
    /// Server time of creation (UTC).
    pub created_at: DateTime<Utc>,
    /// Server time of revocation (UTC); a revoked token never works again.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The last day (China Standard Time) a request authenticated with it.
    pub last_used_on: Option<NaiveDate>,
}

/// A stored `Idempotency-Key` of a principal: the first request's SHA-256 and, once it completed, its response.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdempotencyRow {
    /// The principal that sent the key (keys are per principal).
    pub principal_id: Uuid,
    /// The key: 1–200 printable ASCII characters.
    pub key: String,
    /// SHA-256 of the first request (method, path and body), 32 bytes.
    pub request_sha256: Vec<u8>,
    /// HTTP status of the first response; `None` while the first request is still running.
    pub status: Option<i32>,
    /// Body of the first response.
    pub response: Option<String>,
    /// Server time of the first request (UTC).
    pub created_at: DateTime<Utc>,
    /// Server time the first response was stored (UTC).
    pub completed_at: Option<DateTime<Utc>>,
}

/// Counts of a branch's members, for meetings and class caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchCounts {
    /// Members in good standing: entitled to vote (members on probation are not, ADM_MEETING_QUORUM).
    pub entitled: i64,
    /// All current members (in good standing or on probation), for ADM_CLASS_CAP.
    pub members: i64,
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Optimistic concurrency: the instance changed since it was read.
    #[error(
        "the record changed since it was read (expected version {expected}); reload and retry"
    )]
    Conflict {
        /// The version the caller expected.
        expected: i64,
    },
    /// A unique constraint refused the write; `constraint` names it (PostgreSQL) or its columns (SQLite).
    #[error("unique constraint violated: {constraint}")]
    Unique {
        /// Constraint name or `table.column` list.
        constraint: String,
    },
    /// A transient failure (SQLITE_BUSY, serialization failure 40001, deadlock 40P01): retry the command.
    #[error("transient database failure, retry: {0}")]
    Retryable(#[source] sqlx::Error),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data that does not parse.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A database URL the store cannot use.
    #[error("bad database URL: {0}")]
    BadUrl(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                let constraint = db
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned());
                return StoreError::Unique { constraint };
            }
            let code = db.code().unwrap_or_default();
            // PostgreSQL serialization failure / deadlock; SQLite BUSY (5) and its extended codes.
            if matches!(
                code.as_ref(),
                "40001" | "40P01" | "5" | "261" | "517" | "6" | "262"
            ) {
                return StoreError::Retryable(e);
            }
        }
        if matches!(e, sqlx::Error::PoolTimedOut) {
            return StoreError::Retryable(e);
        }
        StoreError::Database(e)
    }
}

/// Result alias of the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// A storage backend: hands out transactions.
pub trait Store: Clone + Send + Sync + 'static {
    /// The backend's transaction.
    type Tx: StoreTx;
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Starts a write transaction (SQLite: `BEGIN IMMEDIATE` on the single writer connection).
    fn begin(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;
    /// Starts a read-only transaction (SQLite: a reader connection; PostgreSQL: the pool).
    fn begin_read(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;
}

/// One database transaction. One method per storage use case; none decides business rules.
pub trait StoreTx: Send {
    /// Commits. Without it, dropping the transaction rolls it back.
    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;

    // --- organisations
    /// Inserts organisations (parents before children), in multi-row statements.
    fn insert_orgs(&mut self, orgs: &[OrgRow]) -> impl Future<Output = StoreResult<()>> + Send;
    /// The organisation with this code.
    fn org_by_code(
        &mut self,
        code: &str,
    ) -> impl Future<Output = StoreResult<Option<OrgRow>>> + Send;
    /// The organisation with this id.
    fn org_by_id(&mut self, id: Uuid) -> impl Future<Output = StoreResult<Option<OrgRow>>> + Send;
    /// All organisations whose path starts with `path_prefix` (a subtree), ordered by path.
    fn orgs_under(
        &mut self,
        path_prefix: &str,
    ) -> impl Future<Output = StoreResult<Vec<OrgRow>>> + Send;
    /// The root of the tree (the organisation without a parent), if any.
    fn root_org(&mut self) -> impl Future<Output = StoreResult<Option<OrgRow>>> + Send;
    /// Number of organisations.
    fn org_count(&mut self) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Marks a branch graduating with its graduation date.
    fn set_graduation(
        &mut self,
        org_id: Uuid,
        on: NaiveDate,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Serialises concurrent commands on one branch (PostgreSQL row lock; SQLite writes are already serial).
    fn lock_org(&mut self, id: Uuid) -> impl Future<Output = StoreResult<()>> + Send;

    // --- development numbers
    /// Reserves `count` serials of `year` for a new allocation and inserts it; returns it with its first serial.
    fn insert_allocation(
        &mut self,
        id: Uuid,
        org_id: Uuid,
        year: i32,
        count: i64,
        allocated_by: Uuid,
        effective_date: NaiveDate,
    ) -> impl Future<Output = StoreResult<AllocationRow>> + Send;
    /// The allocations of an organisation for a year, oldest range first.
    fn allocations(
        &mut self,
        org_id: Uuid,
        year: i32,
    ) -> impl Future<Output = StoreResult<Vec<AllocationRow>>> + Send;
    /// The allocation of `year` whose range contains `serial`, if any.
    fn allocation_covering(
        &mut self,
        year: i32,
        serial: i64,
    ) -> impl Future<Output = StoreResult<Option<AllocationRow>>> + Send;
    /// Takes the next free serial from the organisation's allocations for the year decided on or before `on`, atomically
    /// (`UPDATE … SET used = used + 1 WHERE used < count RETURNING`): `(allocation id, serial)`, or `None` when
    /// every allocation is used up (ADM_QUOTA_EXHAUSTED).
    fn take_serial(
        &mut self,
        org_id: Uuid,
        year: i32,
        on: NaiveDate,
    ) -> impl Future<Output = StoreResult<Option<(Uuid, i64)>>> + Send;
    /// Records a number in the ledger; a legacy number also moves the year's series past it.
    fn insert_number(&mut self, row: &NumberRow) -> impl Future<Output = StoreResult<()>> + Send;
    /// The ledger row of a number.
    fn number(
        &mut self,
        number: &str,
    ) -> impl Future<Output = StoreResult<Option<NumberRow>>> + Send;
    /// Marks a number voided (never reissued).
    fn void_number(
        &mut self,
        number: &str,
        on: NaiveDate,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Numbers issued from an organisation's allocations for a year, by status: (issued, voided).
    fn number_counts(
        &mut self,
        org_id: Uuid,
        year: i32,
    ) -> impl Future<Output = StoreResult<(i64, i64)>> + Send;

    // --- persons and members
    /// Inserts a person; a second person with the same resident ID is `StoreError::Unique` (ID_UNIQUE).
    fn insert_person(&mut self, p: &PersonRow) -> impl Future<Output = StoreResult<()>> + Send;
    /// The person with this resident ID.
    fn person_by_resident_id(
        &mut self,
        rid: &str,
    ) -> impl Future<Output = StoreResult<Option<PersonRow>>> + Send;
    /// The person with this resident ID and their most recent instance of `workflow`, in one query; `None` if
    /// either is missing.
    fn person_with_latest_instance(
        &mut self,
        rid: &str,
        workflow: &str,
    ) -> impl Future<Output = StoreResult<Option<(PersonRow, InstanceRow)>>> + Send;
    /// The person with this id.
    fn person(&mut self, id: Uuid) -> impl Future<Output = StoreResult<Option<PersonRow>>> + Send;
    /// Inserts or replaces a member row; a tombstone (`deleted_on`) once set is never cleared.
    fn upsert_member(&mut self, m: &MemberRow) -> impl Future<Output = StoreResult<()>> + Send;
    /// The member row of a person.
    fn member(
        &mut self,
        person_id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<MemberRow>>> + Send;
    /// The members of a branch that are not tombstoned, by person id.
    fn members_of_branch(
        &mut self,
        branch_id: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<MemberRow>>> + Send;
    /// Moves a member's relation to another branch.
    fn move_member(
        &mut self,
        person_id: Uuid,
        branch_id: Uuid,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Records the tombstone of a member (the row stays).
    fn tombstone_member(
        &mut self,
        person_id: Uuid,
        on: NaiveDate,
        reason: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Member counts of a branch.
    fn branch_counts(
        &mut self,
        branch_id: Uuid,
    ) -> impl Future<Output = StoreResult<BranchCounts>> + Send;

    // --- instances
    /// Inserts a new instance (version 1).
    fn insert_instance(&mut self, i: &InstanceRow) -> impl Future<Output = StoreResult<()>> + Send;
    /// Inserts new instances (version 1) in multi-row statements.
    fn insert_instances(
        &mut self,
        rows: &[InstanceRow],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The instances of `workflow` at a branch whose state is not one of `ended`, by id.
    fn live_instances_at(
        &mut self,
        workflow: &str,
        branch_id: Uuid,
        ended: &[&str],
    ) -> impl Future<Output = StoreResult<Vec<InstanceRow>>> + Send;
    /// The instances of `workflow` in `state`, by id.
    fn instances_in_state(
        &mut self,
        workflow: &str,
        state: &str,
    ) -> impl Future<Output = StoreResult<Vec<InstanceRow>>> + Send;
    /// Moves an instance to another branch (a retention at the school's mobile-member branch).
    fn set_instance_branch(
        &mut self,
        id: Uuid,
        branch_id: Uuid,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The instance with this id.
    fn instance(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<InstanceRow>>> + Send;
    /// The person's most recent instance of a workflow.
    fn latest_instance(
        &mut self,
        person_id: Uuid,
        workflow: &str,
    ) -> impl Future<Output = StoreResult<Option<InstanceRow>>> + Send;
    /// Sets state and data if the stored version is `expected_version`, and bumps the version;
    /// else `StoreError::Conflict`.
    fn update_instance(
        &mut self,
        id: Uuid,
        expected_version: i64,
        state: &str,
        data: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Number of instances of a workflow per state, ordered by state.
    fn instance_state_counts(
        &mut self,
        workflow: &str,
    ) -> impl Future<Output = StoreResult<Vec<(String, i64)>>> + Send;

    // --- standing (团籍) and dues
    /// Live standing instances (see [`StandingLiveRow`]) by id after `after`, at most `limit`.
    fn standing_live_page(
        &mut self,
        after: Option<Uuid>,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<StandingLiveRow>>> + Send;
    /// Sets the member projection of a standing change: `standing` (the machine's state), the end of probation
    /// and the date of the change.
    fn set_member_standing(
        &mut self,
        person_id: Uuid,
        standing: &str,
        probation_until: Option<NaiveDate>,
        since: NaiveDate,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Records a League post taken (`post` in snake_case: `secretary`, `deputy_secretary`, `committee_member`).
    fn insert_post(
        &mut self,
        person_id: Uuid,
        post: &str,
        org_id: Uuid,
        from: NaiveDate,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Who holds `post` at `org_id` now (rows without an end), by person id.
    fn post_holders(
        &mut self,
        post: &str,
        org_id: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<Uuid>>> + Send;
    /// Ends the held post (`held_until` set on the row without an end).
    fn end_post(
        &mut self,
        person_id: Uuid,
        post: &str,
        org_id: Uuid,
        until: NaiveDate,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Records months of dues paid; a month paid twice is `StoreError::Unique`.
    fn insert_dues(&mut self, rows: &[DuesRow]) -> impl Future<Output = StoreResult<()>> + Send;
    /// A member's dues, by month.
    fn dues_of(
        &mut self,
        person_id: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<DuesRow>>> + Send;

    // --- transfers
    /// Inserts or replaces a transfer; a second open transfer of a person is `StoreError::Unique` (TRF_ONE_OPEN).
    fn upsert_transfer(&mut self, t: &TransferRow) -> impl Future<Output = StoreResult<()>> + Send;
    /// One transfer by id.
    fn transfer(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<TransferRow>>> + Send;
    /// The person's open transfer.
    fn open_transfer(
        &mut self,
        person_id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<TransferRow>>> + Send;
    /// Transfers touching a subtree, oldest request first.
    fn transfers(
        &mut self,
        f: &TransferFilter,
    ) -> impl Future<Output = StoreResult<Vec<TransferRow>>> + Send;
    /// Open transfers not yet overdue whose due date is on or before `as_of`, oldest first.
    fn transfers_due(
        &mut self,
        as_of: NaiveDate,
    ) -> impl Future<Output = StoreResult<Vec<TransferRow>>> + Send;
    /// Transfers per state, ordered by state.
    fn transfer_state_counts(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<(String, i64)>>> + Send;

    // --- annual evaluation (evaluation.v1)
    /// Inserts a new evaluation round (version 1); a second round of the same branch and year is
    /// `StoreError::Unique`.
    fn insert_evaluation(
        &mut self,
        r: &EvaluationRow,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The round of a branch for a year.
    fn evaluation(
        &mut self,
        branch_id: Uuid,
        year: i32,
    ) -> impl Future<Output = StoreResult<Option<EvaluationRow>>> + Send;
    /// The round with this id.
    fn evaluation_by_id(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<EvaluationRow>>> + Send;
    /// Sets state and data if the stored version is `expected_version`, and bumps the version; else
    /// `StoreError::Conflict`.
    fn update_evaluation(
        &mut self,
        id: Uuid,
        expected_version: i64,
        state: &str,
        data: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Every round, by id, after `after` (paging), at most `limit`.
    fn evaluations_page(
        &mut self,
        after: Option<Uuid>,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<EvaluationRow>>> + Send;
    /// Records that an approved round grades these members (idempotent).
    fn insert_graded(
        &mut self,
        round_id: Uuid,
        year: i32,
        person_ids: &[Uuid],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The approved rounds that grade a member, latest year first (then latest round id first).
    fn graded_rounds(
        &mut self,
        person_id: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<Uuid>>> + Send;
    /// Number of evaluation rounds per state, ordered by state.
    fn evaluation_state_counts(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<(String, i64)>>> + Send;
    /// The instances of `workflow` at a branch in any state, by id (Party recommendations of a branch).
    fn instances_at(
        &mut self,
        workflow: &str,
        branch_id: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<InstanceRow>>> + Send;
    /// The instances of `workflow` of a person, oldest first.
    fn instances_of(
        &mut self,
        person_id: Uuid,
        workflow: &str,
    ) -> impl Future<Output = StoreResult<Vec<InstanceRow>>> + Send;

    // --- log
    /// Appends one entry: next dense seq, leaf and chain hash, recorded now.
    fn append_log(&mut self, e: &NewLogEntry) -> impl Future<Output = StoreResult<LogRow>> + Send;
    /// Appends entries in order, in multi-row statements: the same seq, hashes and chain as one
    /// [`StoreTx::append_log`] each. Returns the last seq.
    fn append_logs(
        &mut self,
        entries: &[NewLogEntry],
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// The log head: last seq and its chain hash.
    fn log_head(&mut self) -> impl Future<Output = StoreResult<(i64, Vec<u8>)>> + Send;
    /// Leaf hashes of entries `after_seq + 1 ..`, at most `limit`, by seq: `(seq, leaf_hash)`.
    fn log_leaves(
        &mut self,
        after_seq: i64,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<(i64, Vec<u8>)>>> + Send;
    /// Every member row (tombstoned ones too), by person id, after `after` (paging), at most `limit`, each with
    /// whether its person row exists.
    fn members_page(
        &mut self,
        after: Option<Uuid>,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<(MemberRow, bool)>>> + Send;
    /// Every instance, by id, after `after` (paging), at most `limit`.
    fn instances_page(
        &mut self,
        after: Option<Uuid>,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<InstanceRow>>> + Send;

    // --- audit
    /// Stores a public key (C2SP vkey text) under its name; a second key with the same name is `Unique`.
    fn insert_audit_key(
        &mut self,
        name: &str,
        vkey: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The public key text stored under `name`.
    fn audit_key(&mut self, name: &str)
        -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// Appends a checkpoint; its `id` must be the next dense number (else `Unique`).
    fn insert_checkpoint(
        &mut self,
        c: &CheckpointRow,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Every checkpoint, by id.
    fn checkpoints(&mut self) -> impl Future<Output = StoreResult<Vec<CheckpointRow>>> + Send;
    /// The latest checkpoint (highest id), if any.
    fn last_checkpoint(
        &mut self,
    ) -> impl Future<Output = StoreResult<Option<CheckpointRow>>> + Send;
    /// Number of entries in the log (the last seq).
    fn log_size(&mut self) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Entries, oldest first.
    fn log(&mut self, f: &LogFilter) -> impl Future<Output = StoreResult<Vec<LogRow>>> + Send;

    // --- access (principals, role bindings, API tokens, idempotency keys)
    /// Inserts a principal; a name already taken is `StoreError::Unique`.
    fn insert_principal(
        &mut self,
        p: &PrincipalRow,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The principal with this name.
    fn principal_by_name(
        &mut self,
        name: &str,
    ) -> impl Future<Output = StoreResult<Option<PrincipalRow>>> + Send;
    /// The principal with this id.
    fn principal_by_id(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<PrincipalRow>>> + Send;
    /// Every principal, by name.
    fn principals(&mut self) -> impl Future<Output = StoreResult<Vec<PrincipalRow>>> + Send;
    /// Sets (or with `None` clears) a principal's `disabled_at`; whether the principal exists.
    fn set_principal_disabled(
        &mut self,
        id: Uuid,
        at: Option<DateTime<Utc>>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Inserts a role binding: `org_id` for every role but `member`, `person_id` for `member`. A binding the
    /// principal already holds is `StoreError::Unique`.
    fn insert_binding(
        &mut self,
        principal_id: Uuid,
        role: &str,
        org_id: Option<Uuid>,
        person_id: Option<Uuid>,
        created_at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Deletes a role binding; whether there was one.
    fn delete_binding(
        &mut self,
        principal_id: Uuid,
        role: &str,
        org_id: Option<Uuid>,
        person_id: Option<Uuid>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// A principal's bindings resolved with their organisation (see [`BindingRow`]), oldest first.
    fn bindings_of(
        &mut self,
        principal_id: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<BindingRow>>> + Send;
    /// Inserts an API token (`secret_hash` an argon2id PHC string).
    fn insert_token(
        &mut self,
        id: Uuid,
        principal_id: Uuid,
        label: &str,
        secret_hash: &str,
        created_at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The token with this id, with its principal's name and disabled flag.
    fn token(&mut self, id: Uuid) -> impl Future<Output = StoreResult<Option<TokenRow>>> + Send;
    /// Revokes a token not yet revoked; whether it was live.
    fn revoke_token(
        &mut self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Records that a token was used on `on` (a calendar date in China Standard Time).
    fn touch_token(
        &mut self,
        id: Uuid,
        on: NaiveDate,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// A principal's tokens, revoked ones too, oldest first.
    fn tokens_of(
        &mut self,
        principal_id: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<TokenRow>>> + Send;
    /// Claims an idempotency key: inserts a pending row unless the principal already used the key, then reads
    /// the row. Returns whether this call inserted it, and the row (possibly another request's). On PostgreSQL
    /// a concurrent claim of the same key waits for the first claim's transaction.
    fn claim_idempotency(
        &mut self,
        principal_id: Uuid,
        key: &str,
        request_sha256: &[u8],
        at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<(bool, IdempotencyRow)>> + Send;
    /// Stores the response of a pending key; whether a pending row was there.
    fn complete_idempotency(
        &mut self,
        principal_id: Uuid,
        key: &str,
        status: i32,
        response: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Deletes a pending key (its request failed before any effect, so it may be sent again); whether a pending
    /// row was there. A completed key is kept.
    fn release_idempotency(
        &mut self,
        principal_id: Uuid,
        key: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}

/// Hashes a stored log row with the audit crate's canonical encoding (the same function the store used to write it):
/// `canonical_v2` when the row has a salt, `canonical_v1` otherwise.
pub fn leaf_of(row: &LogRow, rule_codes: &[String], salt: Option<&[u8; 32]>) -> tuanji_audit::Hash {
    let personal = match salt {
        Some(salt) => tuanji_audit::Personal::Open {
            salt,
            personal_json: row.personal.as_deref(),
        },
        None => tuanji_audit::Personal::Clear,
    };
    tuanji_audit::leaf_hash(&tuanji_audit::LogEntry {
        seq: row.seq,
        entry_id: row.entry_id,
        instance_id: row.instance_id,
        person_id: row.person_id,
        org_id: row.org_id,
        workflow: &row.workflow,
        workflow_version: row.workflow_version,
        definition_sha256: &row.definition_sha256,
        from_state: &row.from_state,
        to_state: &row.to_state,
        command: &row.command,
        actor: &row.actor,
        role: &row.role,
        rule_codes,
        payload_json: &row.payload,
        effective_date: row.effective_date,
        recorded_at: row.recorded_at,
        idempotency_key: row.idempotency_key.as_deref(),
        personal,
    })
}

#[doc(hidden)]
pub use chrono::NaiveDate as __NaiveDate;
#[doc(hidden)]
pub use uuid::Uuid as __Uuid;
#[doc(hidden)]
pub type __DateTimeUtc = DateTime<Utc>;

#[doc(hidden)]
pub const __LOG_INSERT: &str = "INSERT INTO transition_log (seq, entry_id, instance_id, person_id, org_id, workflow, \
     workflow_version, definition_sha256, from_state, to_state, command, actor, role, rule_codes, payload, \
     effective_date, recorded_at, idempotency_key, leaf_hash, chain_hash, salt, personal) ";

/// Binds the 22 columns of a [`LogRow`] in the order of `__LOG_INSERT` (a closure for `QueryBuilder::push_values`).
#[doc(hidden)]
#[macro_export]
macro_rules! __push_log_row {
    () => {
        |mut b, row: &$crate::LogRow| {
            b.push_bind(row.seq)
                .push_bind(row.entry_id)
                .push_bind(row.instance_id)
                .push_bind(row.person_id)
                .push_bind(row.org_id)
                .push_bind(row.workflow.clone())
                .push_bind(row.workflow_version)
                .push_bind(row.definition_sha256.clone())
                .push_bind(row.from_state.clone())
                .push_bind(row.to_state.clone())
                .push_bind(row.command.clone())
                .push_bind(row.actor.clone())
                .push_bind(row.role.clone())
                .push_bind(row.rule_codes.clone())
                .push_bind(row.payload.clone())
                .push_bind(row.effective_date)
                .push_bind(row.recorded_at)
                .push_bind(row.idempotency_key.clone())
                .push_bind(row.leaf_hash.clone())
                .push_bind(row.chain_hash.clone())
                .push_bind(row.salt.clone())
                .push_bind(row.personal.clone());
        }
    };
}

#[doc(hidden)]
pub fn __head_hash(prev: Vec<u8>) -> StoreResult<tuanji_audit::Hash> {
    prev.try_into()
        .map_err(|_| StoreError::Corrupt("log_head.chain_hash is not 32 bytes".into()))
}

/// The stored row of entry `e` at `seq`, chained onto `prev` (which moves to this entry's chain hash). The payload's
/// personal fields are stored apart and committed with a fresh random salt (`canonical_v2`).
#[doc(hidden)]
pub fn __log_row(
    seq: i64,
    prev: &mut tuanji_audit::Hash,
    e: &NewLogEntry,
    recorded_at: DateTime<Utc>,
) -> StoreResult<LogRow> {
    let (redacted, personal) = tuanji_audit::split_personal(&e.payload);
    let salt: [u8; 32] = rand::random();
    let mut row = LogRow {
        seq,
        entry_id: Uuid::now_v7(),
        instance_id: e.instance_id,
        person_id: e.person_id,
        org_id: e.org_id,
        workflow: e.workflow.clone(),
        workflow_version: e.workflow_version,
        definition_sha256: e.definition_sha256.clone(),
        from_state: e.from_state.clone(),
        to_state: e.to_state.clone(),
        command: e.command.clone(),
        actor: e.actor.clone(),
        role: e.role.clone(),
        rule_codes: __json_string(&e.rule_codes)?,
        payload: __json_string(&redacted)?,
        effective_date: e.effective_date,
        recorded_at,
        idempotency_key: e.idempotency_key.clone(),
        leaf_hash: Vec::new(),
        chain_hash: Vec::new(),
        salt: Some(salt.to_vec()),
        personal: personal.as_ref().map(__json_string).transpose()?,
    };
    let leaf = leaf_of(&row, &e.rule_codes, Some(&salt));
    let chain = tuanji_audit::chain_hash(prev, &leaf);
    row.leaf_hash = leaf.to_vec();
    row.chain_hash = chain.to_vec();
    *prev = chain;
    Ok(row)
}

#[doc(hidden)]
pub fn __json_string<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("cannot serialise JSON: {e}")))
}

/// Now, truncated to microseconds: the precision both backends store, so the hashed value equals the stored one.
#[doc(hidden)]
pub fn __now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
