//! Dispatch on the database URL: `sqlite://…` (the embedded default) or `postgres://…`.

use crate::{Engine, EngineError, EngineResult};
use tuanji_store_postgres::PgStore;
use tuanji_store_sqlite::SqliteStore;

/// The database used when none is given: a SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://tuanji.db";

/// An engine on either backend. Call sites dispatch with [`crate::with_engine!`].
#[derive(Clone)]
pub enum AnyEngine {
    /// SQLite.
    Sqlite(Engine<SqliteStore>),
    /// PostgreSQL.
    Postgres(Engine<PgStore>),
}

impl AnyEngine {
    /// Connects to `url`, applies migrations and builds the engine.
    ///
    /// Errors: [`EngineError::Input`] for a URL that is neither `sqlite:` nor `postgres:`/`postgresql:`;
    /// [`EngineError::Store`] when the database cannot be opened or migrated.
    pub async fn connect(url: &str) -> EngineResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(AnyEngine::Sqlite(Engine::new(
                SqliteStore::connect(url).await?,
            )?))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(AnyEngine::Postgres(Engine::new(
                PgStore::connect(url, 16).await?,
            )?))
        } else {
            Err(EngineError::Input(format!(
                "unsupported database URL `{url}`: use sqlite://FILE or postgres://USER:PASSWORD@HOST/DB"
            )))
        }
    }

    /// Fixes "today" for every command (tests, the demo).
    pub fn with_today(self, today: tuanji_domain::Date) -> Self {
        match self {
            AnyEngine::Sqlite(e) => AnyEngine::Sqlite(e.with_today(today)),
            AnyEngine::Postgres(e) => AnyEngine::Postgres(e.with_today(today)),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyEngine::Sqlite(_) => "sqlite",
            AnyEngine::Postgres(_) => "postgres",
        }
    }
}

/// Runs an expression with `$e` bound to the concrete engine inside an [`AnyEngine`].
#[macro_export]
macro_rules! with_engine {
    ($any:expr, $e:ident => $body:expr) => {
        match $any {
            $crate::AnyEngine::Sqlite($e) => $body,
            $crate::AnyEngine::Postgres($e) => $body,
        }
    };
}
