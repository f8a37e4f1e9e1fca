//! The PostgreSQL store: Tuanji's scale path.
//!
//! Read Committed transactions; quota numbers are taken with a guarded `UPDATE … WHERE used < count
//! RETURNING`, which cannot over-issue under concurrency; commands on one branch are serialised with a row lock
//! on the organisation; the transition log's head row serialises appends (dense `seq`). Unique constraints are
//! the last line of defence. Migrations from `migrations/postgres/` are applied at start-up.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;
use tuanji_store::{Store, StoreError, StoreResult};

/// The migrations of this backend, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// A PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

/// A PostgreSQL transaction.
pub struct PgTx(Transaction<'static, Postgres>);

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`) with up to `max_connections` connections and
    /// applies pending migrations.
    ///
    /// Errors: [`StoreError::BadUrl`], [`StoreError::Database`] (cannot connect), [`StoreError::Migrate`].
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let opts =
            PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(format!("{e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// The pool, for tests and tools.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Store for PgStore {
    type Tx = PgTx;

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn begin(&self) -> StoreResult<PgTx> {
        Ok(PgTx(self.pool.begin().await?))
    }

    async fn begin_read(&self) -> StoreResult<PgTx> {
        Ok(PgTx(self.pool.begin().await?))
    }
}

tuanji_store::sql_tx_impl!(
    PgTx,
    sqlx::Postgres,
    lock_org = "SELECT 1 FROM organisations WHERE id = $1 FOR UPDATE",
    standing_live = "i.workflow = 'standing' \
        AND i.state IN ('member', 'on_probation', 'recommended_for_party', 'party_member')"
);
