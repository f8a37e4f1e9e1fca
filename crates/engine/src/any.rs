//! Dispatch on the database URL: `sqlite://…` (the embedded default) or `postgres://…`.

use crate::{Engine, EngineError, EngineResult};
use tuanji_store::StoreError;
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
        let opened = |e: StoreError| match e {
            StoreError::BadUrl(m) => EngineError::Input(format!("bad database URL {m}")),
            StoreError::Migrate(m) => EngineError::Store(StoreError::Migrate(m)),
            other => EngineError::Unavailable(format!(
                "cannot open the database {}: {other}",
                redact(url)
            )),
        };
        if url.starts_with("sqlite:") {
            Ok(AnyEngine::Sqlite(Engine::new(
                SqliteStore::connect(url).await.map_err(opened)?,
            )?))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(AnyEngine::Postgres(Engine::new(
                PgStore::connect(url, 16).await.map_err(opened)?,
            )?))
        } else {
            Err(EngineError::Input(format!(
                "unsupported database URL `{}`: use sqlite://FILE or postgres://USER:PASSWORD@HOST/DB",
                redact(url)
            )))
        }
    }

    /// Closes the database connections. For SQLite this checkpoints the write-ahead log into the database file
    /// and removes `-wal`/`-shm` beside it, so the file alone is the whole database afterwards.
    pub async fn close(&self) {
        match self {
            AnyEngine::Sqlite(e) => e.store().close().await,
            AnyEngine::Postgres(e) => e.store().close().await,
        }
    }

    /// Fixes "today" for every command (tests, the demo).
    pub fn with_today(self, today: tuanji_domain::Date) -> Self {
        match self {
            AnyEngine::Sqlite(e) => AnyEngine::Sqlite(e.with_today(today)),
            AnyEngine::Postgres(e) => AnyEngine::Postgres(e.with_today(today)),
        }
    }

    /// Signs checkpoints automatically (see [`Engine::with_signer`]).
    pub fn with_signer(self, signer: crate::audit::Signer) -> Self {
        match self {
            AnyEngine::Sqlite(e) => AnyEngine::Sqlite(e.with_signer(signer)),
            AnyEngine::Postgres(e) => AnyEngine::Postgres(e.with_signer(signer)),
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

/// The URL with its password (in the authority or a `password=` parameter) replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = redact_authority(base);
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

fn redact_authority(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(super::redact("sqlite://tuanji.db"), "sqlite://tuanji.db");
        assert_eq!(
            super::redact("postgres://h/db?sslmode=disable&password=x"),
            "postgres://h/db?sslmode=disable&password=***"
        );
    }
}
