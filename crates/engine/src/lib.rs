//! The Tuanji engine: the use cases. Every command is one store transaction: load, decide with the workflow
//! tables and the national floor rules, append one transition-log entry, update the projections and the
//! development-number ledger, commit. Bulk work (organisation tree, rosters) is one transaction for the whole
//! file: all of it or nothing.
//!
//! [`Engine`] is generic over the [`Store`]; [`AnyEngine`] picks the backend from the database URL.

use chrono::{FixedOffset, Utc};
use std::future::Future;
use tuanji_domain::{Date, RuleViolation, WorkingCalendar};
use tuanji_import::roster::RowError;
use tuanji_store::{Store, StoreError};
use tuanji_workflow::relation::RelationPolicy;
use tuanji_workflow::{AdmissionPolicy, Definition, LoadError, Registry};

pub mod access;
pub mod admission;
mod any;
pub mod audit;
pub mod demo;
pub mod evaluation;
pub mod export;
pub mod orgs;
pub mod party;
pub mod principals;
pub mod query;
pub mod quota;
pub mod relation;
pub mod roster;
pub mod standing;

pub use any::{AnyEngine, DEFAULT_DATABASE_URL};

/// Who issues a command, and in which role (`branch_secretary`, `committee_admin`, …). Recorded in the log.
///
/// The CLI is trusted (whoever runs it on the server holds the database): it names the actor and may claim a role.
/// The HTTP API sets [`Actor::grants`] from the caller's role bindings, so the engine authorises every command
/// against the organisation it acts on (ARCHITECTURE.md "Access").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// Name or account of the person or system.
    pub name: String,
    /// Role claimed for this command; `None` takes the first role the transition allows (and the caller holds).
    pub role: Option<String>,
    /// The caller's role bindings (HTTP API); `None` for the trusted CLI. With grants, a command is allowed only
    /// when one binding covers the organisation acted on (or, for `member`, is the member acted on) in a role the
    /// transition allows; otherwise [`EngineError::Forbidden`].
    pub grants: Option<std::sync::Arc<Vec<access::Grant>>>,
    /// The instance version the caller last read (HTTP `If-Match`); a different current version is
    /// [`EngineError::Precondition`] and nothing is written.
    pub if_version: Option<i64>,
    /// The request's idempotency key (HTTP `Idempotency-Key`), recorded on every log entry the command writes.
    pub idempotency_key: Option<String>,
}

impl Actor {
    /// An actor with no explicit role.
    pub fn new(name: impl Into<String>) -> Self {
        Actor {
            name: name.into(),
            ..Actor::default()
        }
    }

    /// An actor claiming `role`.
    pub fn with_role(name: impl Into<String>, role: impl Into<String>) -> Self {
        Actor {
            name: name.into(),
            role: Some(role.into()),
            ..Actor::default()
        }
    }
}

/// Errors of the engine. [`EngineError::exit_code`] maps them to the CLI's exit status.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A rule refused the command; nothing was written.
    #[error("{0}")]
    Rule(#[from] RuleViolation),
    /// An imported file has bad rows; nothing was written.
    #[error("{} bad row(s); nothing was imported", .0.len())]
    Rows(Vec<RowError>),
    /// The input names something that does not exist or is malformed.
    #[error("{0}")]
    Input(String),
    /// The instance changed while the command ran, and retrying did not help.
    #[error("{0}")]
    Conflict(String),
    /// The caller's `If-Match` version is not the instance's current version; nothing was written.
    #[error("{0}")]
    Precondition(String),
    /// No valid credentials (missing, malformed, unknown or revoked token).
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller holds no role binding that allows this command on this organisation or member.
    #[error("{0}")]
    Forbidden(String),
    /// The member, organisation or instance named does not exist (or the caller may not know it exists).
    #[error("{0}")]
    NotFound(String),
    /// A workflow file is invalid.
    #[error("{0}")]
    Workflow(#[from] LoadError),
    /// The database cannot be reached or opened.
    #[error("{0}")]
    Unavailable(String),
    /// The database failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl EngineError {
    /// 1 when a rule or the input refused the command, 3 when the system failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            EngineError::Rule(_)
            | EngineError::Rows(_)
            | EngineError::Input(_)
            | EngineError::Conflict(_)
            | EngineError::Precondition(_)
            | EngineError::Unauthenticated(_)
            | EngineError::Forbidden(_)
            | EngineError::NotFound(_) => 1,
            EngineError::Workflow(_) | EngineError::Unavailable(_) | EngineError::Store(_) => 3,
        }
    }

    /// The rule code, when a single rule refused.
    pub fn rule_code(&self) -> Option<&'static str> {
        match self {
            EngineError::Rule(v) => Some(v.code.as_str()),
            _ => None,
        }
    }
}

/// Result alias of the engine.
pub type EngineResult<T> = Result<T, EngineError>;

/// Today's date in China Standard Time (UTC+8).
pub fn today_cst() -> Date {
    let now = Utc::now();
    FixedOffset::east_opt(8 * 3600)
        .map_or(now.date_naive(), |cst| now.with_timezone(&cst).date_naive())
}

/// The engine over one store.
#[derive(Clone)]
pub struct Engine<S: Store> {
    store: S,
    registry: &'static Registry,
    admission: &'static Definition,
    policy: AdmissionPolicy,
    relation: &'static Definition,
    relation_policy: RelationPolicy,
    calendar: &'static WorkingCalendar,
    today: Option<Date>,
    signer: Option<std::sync::Arc<audit::Signer>>,
    verified_tokens: principals::VerifiedTokens,
}

impl<S: Store> Engine<S> {
    /// An engine with the shipped workflows and calendar.
    ///
    /// Errors: [`EngineError::Workflow`] if the shipped admission workflow is missing or its policy invalid.
    pub fn new(store: S) -> EngineResult<Self> {
        let registry = tuanji_workflow::builtin();
        let admission = registry
            .latest("admission")
            .ok_or_else(|| EngineError::Input("no admission workflow is installed".into()))?;
        let policy = AdmissionPolicy::from_definition(admission)?;
        let relation = registry
            .latest("relation")
            .ok_or_else(|| EngineError::Input("no relation workflow is installed".into()))?;
        let relation_policy = RelationPolicy::from_definition(relation)?;
        Ok(Engine {
            store,
            registry,
            admission,
            policy,
            relation,
            relation_policy,
            calendar: WorkingCalendar::china(),
            today: None,
            signer: None,
            verified_tokens: principals::VerifiedTokens::default(),
        })
    }

    /// Fixes "today" (for tests and the demo); by default it is the current date in China Standard Time.
    pub fn with_today(mut self, today: Date) -> Self {
        self.today = Some(today);
        self
    }

    /// Signs checkpoints automatically with `signer` (every N entries or T minutes after a command, and at every
    /// completed transfer).
    pub fn with_signer(mut self, signer: audit::Signer) -> Self {
        self.signer = Some(std::sync::Arc::new(signer));
        self
    }

    /// Today's date as the engine sees it.
    pub fn today(&self) -> Date {
        self.today.unwrap_or_else(today_cst)
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The workflow registry in use.
    pub fn registry(&self) -> &'static Registry {
        self.registry
    }

    /// The admission policy in use.
    pub fn policy(&self) -> &AdmissionPolicy {
        &self.policy
    }

    /// Runs `f` and retries it (up to 5 times) when the store reports a transient failure.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut f: F) -> EngineResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = EngineResult<T>>,
    {
        let mut attempt = 0;
        loop {
            match f().await {
                Err(EngineError::Store(StoreError::Retryable(e))) if attempt < 5 => {
                    attempt += 1;
                    tracing::debug!(attempt, error = %e, "transient store failure, retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(10 << attempt)).await;
                }
                Ok(v) => {
                    self.checkpoint_after_commit().await;
                    return Ok(v);
                }
                other => return other,
            }
        }
    }
}
