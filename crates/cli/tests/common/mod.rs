//! Helpers shared by the CLI's end-to-end tests: run the binary, expect an exit status, make IDs and files,
//! and run a story on a fresh PostgreSQL database.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use tuanji_domain::check_character;

/// Runs `tuanji --database-url DB ARGS…`.
pub fn tuanji(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tuanji"))
        .arg("--database-url")
        .arg(db)
        .args(args)
        .env_remove("TUANJI_DATABASE_URL")
        .output()
        .expect("run tuanji")
}

/// Runs the command, expects exit 0, returns standard output.
#[track_caller]
pub fn ok(db: &str, args: &[&str]) -> String {
    let out = tuanji(db, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "tuanji {args:?}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs the command, expects exit 1 (refused), returns standard error.
#[track_caller]
pub fn refused(db: &str, args: &[&str]) -> String {
    let out = tuanji(db, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "tuanji {args:?} should be refused; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A valid resident ID from region, birth date (YYYYMMDD) and 3-digit sequence.
pub fn id(region: &str, birth: &str, seq: &str) -> String {
    let first17 = format!("{region}{birth}{seq}");
    let check = check_character(&first17).expect("17 digits");
    format!("{first17}{check}")
}

/// Writes a file in `dir`, returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write file");
    p.to_string_lossy().into_owned()
}

/// Runs `story` on a fresh SQLite file.
pub fn on_sqlite(story: impl FnOnce(&str, &Path)) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", tmp.path().join("t.db").display());
    story(&db, tmp.path());
}

/// Runs `story` on a fresh PostgreSQL database `prefix_<pid>` (dropped afterwards), or skips when
/// `TUANJI_TEST_POSTGRES_URL` is unset (and `TUANJI_REQUIRE_POSTGRES` is not 1).
pub fn on_postgres(prefix: &str, story: impl FnOnce(&str, &Path)) {
    let Ok(admin) = std::env::var("TUANJI_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TUANJI_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TUANJI_REQUIRE_POSTGRES=1 but TUANJI_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipped: TUANJI_TEST_POSTGRES_URL not set");
        return;
    };
    let name = format!("{prefix}_{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let exec = |sql: String| {
        rt.block_on(async {
            use sqlx::Executor;
            let pool = sqlx::PgPool::connect(&admin).await.expect("connect admin");
            pool.execute(sql.as_str()).await.expect("admin sql");
            pool.close().await;
        })
    };
    exec(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    exec(format!("CREATE DATABASE {name}"));
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(b, _)| b)
        .to_owned();
    let tmp = tempfile::tempdir().expect("tempdir");
    story(&format!("{base}/{name}"), tmp.path());
    exec(format!("DROP DATABASE {name} WITH (FORCE)"));
}
