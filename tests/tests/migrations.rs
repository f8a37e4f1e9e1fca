//! Migrations: the SQLite and PostgreSQL folders hold the same numbered files, and each backend applies all
//! of them.

use std::path::Path;
use tuanji_tests::*;

fn migration_files(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

fn versions(files: &[String]) -> Vec<i64> {
    files
        .iter()
        .map(|f| {
            f.split('_')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{f}: no version prefix"))
        })
        .collect()
}

#[test]
fn migrations_sqlite_and_postgres_have_the_same_files() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert!(!sqlite.is_empty(), "no migrations found");
    assert_eq!(sqlite, postgres);
    let v = versions(&sqlite);
    assert_eq!(
        v,
        (1..=v.len() as i64).collect::<Vec<_>>(),
        "versions are numbered 1, 2, … without gaps"
    );
}

both_backends!(migrations_are_all_applied, |app| async move {
    let dir = match app.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(
        app.applied_migrations().await,
        versions(&migration_files(dir))
    );
});
