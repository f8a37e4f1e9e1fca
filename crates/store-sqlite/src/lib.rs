//! The SQLite store: Tuanji's embedded default, one database file.
//!
//! WAL journal, `synchronous=FULL` (durable commits), `foreign_keys=ON`, a 5 s `busy_timeout`, one writer
//! connection (every write transaction opens with `BEGIN IMMEDIATE`, so writers never deadlock on lock upgrades)
//! beside a pool of reader connections. Migrations from `migrations/sqlite/` are applied at start-up.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;
use tuanji_store::{Store, StoreError, StoreResult};

/// The migrations of this backend, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// The database file of a `sqlite://PATH` / `sqlite:PATH` URL (query parameters removed); `None` when the URL
/// names no file (in-memory databases, an empty path).
pub fn file_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| std::path::PathBuf::from(path))
}

/// A SQLite database: a one-connection writer pool and a reader pool on the same file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

/// A SQLite transaction.
pub struct SqliteTx(Transaction<'static, Sqlite>);

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path`, `sqlite:path` or `sqlite::memory:` is
    /// refused because readers and writer would see different databases) and applies pending migrations.
    ///
    /// Errors: [`StoreError::BadUrl`] for an unusable URL, [`StoreError::Database`] when the file cannot be
    /// opened, [`StoreError::Migrate`] when a migration fails.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        if url.contains(":memory:") || url.contains("mode=memory") || file_path(url).is_none() {
            return Err(StoreError::BadUrl(format!(
                "`{url}`: in-memory SQLite is not supported; give a file, e.g. sqlite://tuanji.db"
            )));
        }
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(format!("`{url}`: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.read_only(true))
            .await?;
        Ok(SqliteStore { writer, reader })
    }

    /// Checkpoints the write-ahead log into the database file (`PRAGMA wal_checkpoint(TRUNCATE)`: the `-wal` file
    /// is left empty, if it is left at all), then closes both pools. Afterwards the file alone is the whole
    /// database. A failed checkpoint is logged, not returned: the log is still there and SQLite replays it on the
    /// next open.
    pub async fn close(&self) {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await
        {
            tracing::warn!(error = %e, "checkpoint of the SQLite write-ahead log at close failed");
        }
        self.reader.close().await;
        self.writer.close().await;
    }
}

impl Store for SqliteStore {
    type Tx = SqliteTx;

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn begin(&self) -> StoreResult<SqliteTx> {
        Ok(SqliteTx(self.writer.begin_with("BEGIN IMMEDIATE").await?))
    }

    async fn begin_read(&self) -> StoreResult<SqliteTx> {
        Ok(SqliteTx(self.reader.begin().await?))
    }
}

tuanji_store::sql_tx_impl!(
    SqliteTx,
    sqlx::Sqlite,
    lock_org = "",
    standing_live = "i.workflow || '' = 'standing' \
        AND i.state || '' IN ('member', 'on_probation', 'recommended_for_party', 'party_member')"
);
