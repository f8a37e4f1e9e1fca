//! Issue 3: graduating a 100,000-member branch either completes entirely or leaves nothing changed when the
//! process is killed part-way. `tuanji graduate` runs as a child process on a database seeded with 100,000
//! legacy members; once it is demonstrably inside its one transaction (PostgreSQL: `transition_log` has grown by
//! 16 MB of uncommitted rows and the transaction shows in `pg_stat_activity`; SQLite: the `-wal` file has grown
//! past 32 MB) the test sends SIGKILL — and fails if the process had already finished — checks that nothing
//! changed (no relation instance, log head and log rows as before), then graduates again to completion: exactly
//! 100,000 graduated and 200,000 log entries (`open` + `graduate` per member). On SQLite always, on PostgreSQL
//! when `TUANJI_TEST_POSTGRES_URL` is set.
//!
//! Run: `cargo test -p tuanji-cli --test graduation_kill -- --nocapture` (prints the timings).

mod common;

use common::{ok, on_postgres, on_sqlite, write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tuanji_domain::check_character;

/// Members seeded into the graduating branch.
const MEMBERS: u32 = 100_000;
/// The graduating branch.
const BRANCH: &str = "G2026";
/// Graduation date.
const ON: &str = "2026-07-01";
/// Rows per seeding INSERT.
const CHUNK: u32 = 1000;

const ORGS_CSV: &str =
    "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
    CYLC,共青团中央,central,,,,,\n\
    110108,共青团北京市海淀区委员会,county,CYLC,,,,\n\
    UNI,某大学团委,basic_committee,110108,true,university,false,\n\
    G2026,2026届毕业生团总支,branch,UNI,false,university,true,\n";

fn spawn_graduate(db: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tuanji"))
        .arg("--database-url")
        .arg(db)
        .args(["graduate", "--branch", BRANCH, "--on", ON, "--json"])
        .env_remove("TUANJI_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tuanji graduate")
}

/// Member `i`'s person id: the same 16 bytes on both backends.
fn person_hex(i: u32) -> String {
    format!("0190aaaa000070008000{i:012x}")
}

/// Member `i`'s resident ID (valid check character), birth date and sex. Born in 2008, 1,000 per day.
fn person(i: u32) -> (String, String, &'static str) {
    let birth = chrono::NaiveDate::from_ymd_opt(2008, 1, 1).expect("date")
        + chrono::Days::new(u64::from(i / 1000));
    let seq = i % 1000;
    let first17 = format!("110108{}{seq:03}", birth.format("%Y%m%d"));
    let check = check_character(&first17).expect("17 digits");
    let sex = if seq % 2 == 1 { "male" } else { "female" };
    (
        format!("{first17}{check}"),
        birth.format("%Y-%m-%d").to_string(),
        sex,
    )
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The persons INSERT statements (CHUNK rows each) and the one members INSERT … SELECT.
fn seed_sql(backend: Backend) -> (Vec<String>, String) {
    let mut persons = Vec::new();
    for start in (0..MEMBERS).step_by(CHUNK as usize) {
        let mut sql =
            String::from("INSERT INTO persons (id, resident_id, name, sex, birth_date) VALUES ");
        for i in start..(start + CHUNK).min(MEMBERS) {
            let (rid, birth, sex) = person(i);
            let hex = person_hex(i);
            let id = match backend {
                Backend::Sqlite => format!("X'{hex}'"),
                Backend::Postgres => format!(
                    "'{}-{}-{}-{}-{}'",
                    &hex[0..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..32]
                ),
            };
            if i > start {
                sql.push(',');
            }
            sql.push_str(&format!("({id}, '{rid}', '毕业生{i}', '{sex}', '{birth}')"));
        }
        persons.push(sql);
    }
    let date = match backend {
        Backend::Sqlite => "'2025-05-04'",
        Backend::Postgres => "DATE '2025-05-04'",
    };
    let members = format!(
        "INSERT INTO members (person_id, branch_id, membership_date, standing, source) \
         SELECT p.id, o.id, {date}, 'member', 'legacy' FROM persons p \
         JOIN organisations o ON o.code = '{BRANCH}'"
    );
    (persons, members)
}

/// What the test reads back from the database.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    log_seq: i64,
    log_rows: i64,
    relation_instances: i64,
    graduated: i64,
    members: i64,
}

const COUNTS_SQL: [&str; 5] = [
    "SELECT seq FROM log_head WHERE id = 1",
    "SELECT COUNT(*) FROM transition_log",
    "SELECT COUNT(*) FROM instances WHERE workflow = 'relation'",
    "SELECT COUNT(*) FROM instances WHERE workflow = 'relation' AND state = 'graduated_pending_transfer'",
    "SELECT COUNT(*) FROM members",
];

macro_rules! counts {
    ($pool:expr) => {{
        let mut v = Vec::new();
        for sql in COUNTS_SQL {
            let n: i64 = sqlx::query_scalar(sql)
                .fetch_one($pool)
                .await
                .expect("count query");
            v.push(n);
        }
        Counts {
            log_seq: v[0],
            log_rows: v[1],
            relation_instances: v[2],
            graduated: v[3],
            members: v[4],
        }
    }};
}

/// Sets up the organisations and marks the branch graduating through the CLI.
fn prepare(db: &str, dir: &Path) {
    ok(db, &["init"]);
    let orgs = write(dir, "orgs.csv", ORGS_CSV);
    let out = ok(db, &["org", "import", &orgs]);
    assert!(out.starts_with("4 organisation(s) inserted"), "{out}");
    let out = ok(
        db,
        &["org", "mark-graduating", "--branch", BRANCH, "--on", ON],
    );
    assert!(out.starts_with("G2026 "), "{out}");
}

/// Kills the running child; fails loudly if it had already finished (the kill would prove nothing).
fn kill_mid_way(mut child: Child, started: Instant) {
    if let Some(status) = child.try_wait().expect("try_wait") {
        let out = child.wait_with_output().expect("output");
        panic!(
            "tuanji graduate finished ({status}) after {:?} before the test could kill it: the kill test would \
             pass vacuously\nstdout: {}\nstderr: {}",
            started.elapsed(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    child.kill().expect("SIGKILL tuanji graduate");
    let out = child.wait_with_output().expect("reap");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(9),
        "tuanji graduate must have died of SIGKILL, not finished: {}\nstdout: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "a killed graduation printed a result"
    );
    eprintln!("killed after {:?}", started.elapsed());
}

/// The longest a complete graduation of [`MEMBERS`] may take in a debug build before the test gives up.
const COMPLETION_LIMIT: Duration = Duration::from_secs(600);

/// Runs `tuanji graduate` to completion (killed and failed after [`COMPLETION_LIMIT`]) and checks its report.
fn graduate_to_completion(db: &str) -> Duration {
    let t = Instant::now();
    let mut child = spawn_graduate(db);
    while child.try_wait().expect("try_wait").is_none() {
        if t.elapsed() > COMPLETION_LIMIT {
            child.kill().expect("kill");
            let _ = child.wait();
            panic!("graduating {MEMBERS} members took more than {COMPLETION_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = t.elapsed();
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "tuanji graduate\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("graduate --json");
    assert_eq!(v["graduated"], 100_000, "{stdout}");
    assert_eq!(v["branch"], BRANCH, "{stdout}");
    assert_eq!(v["date"], ON, "{stdout}");
    assert_eq!(v["skipped"], serde_json::json!([]), "{stdout}");
    took
}

fn check_after_kill(before: &Counts, after: &Counts) {
    assert_eq!(after.relation_instances, 0, "no relation instance survives");
    assert_eq!(after.graduated, 0, "no member graduated");
    assert_eq!(after.log_seq, before.log_seq, "log head unchanged");
    assert_eq!(after.log_rows, before.log_rows, "log rows unchanged");
    assert_eq!(after.members, i64::from(MEMBERS));
}

fn check_after_completion(before: &Counts, after: &Counts) {
    assert_eq!(after.graduated, i64::from(MEMBERS));
    assert_eq!(after.relation_instances, i64::from(MEMBERS));
    // open + graduate per member
    assert_eq!(after.log_seq, before.log_seq + 200_000);
    assert_eq!(after.log_rows, before.log_rows + 200_000);
    assert_eq!(after.members, i64::from(MEMBERS));
}

#[test]
fn graduation_of_100000_members_killed_part_way_changes_nothing_on_sqlite() {
    on_sqlite(sqlite_story);
}

fn sqlite_story(db: &str, dir: &Path) {
    let wal = dir.join("t.db-wal");
    assert_eq!(db, format!("sqlite://{}", dir.join("t.db").display()));
    prepare(db, dir);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let open = || async {
        let opts: sqlx::sqlite::SqliteConnectOptions = db.parse().expect("url");
        sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.busy_timeout(Duration::from_secs(30)))
            .await
            .expect("open sqlite")
    };
    let t = Instant::now();
    let before = rt.block_on(async {
        let pool = open().await;
        let (persons, members) = seed_sql(Backend::Sqlite);
        let mut tx = pool.begin().await.expect("begin");
        for sql in &persons {
            sqlx::query(sql).execute(&mut *tx).await.expect("persons");
        }
        let n = sqlx::query(&members)
            .execute(&mut *tx)
            .await
            .expect("members")
            .rows_affected();
        assert_eq!(n, u64::from(MEMBERS));
        tx.commit().await.expect("commit");
        // An empty WAL: whatever grows it from here is the graduation's transaction (the whole graduation
        // writes well over 100 MB).
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await
            .expect("checkpoint");
        let c = counts!(&pool);
        pool.close().await;
        c
    });
    eprintln!("sqlite: seeded {MEMBERS} members in {:?}", t.elapsed());
    assert_eq!(before.relation_instances, 0);
    let wal_len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert!(
        wal_len() < 1 << 20,
        "WAL not empty after the checkpoint: {}",
        wal_len()
    );

    let started = Instant::now();
    let mut child = spawn_graduate(db);
    let threshold = 32 << 20;
    while wal_len() < threshold {
        if child.try_wait().expect("try_wait").is_some() {
            break; // kill_mid_way reports it
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the WAL never grew"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let grown = wal_len();
    kill_mid_way(child, started);
    eprintln!("sqlite: WAL at {} MB when killed", grown >> 20);

    let after = rt.block_on(async {
        let pool = open().await;
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .expect("integrity_check");
        assert_eq!(check, "ok");
        let c = counts!(&pool);
        pool.close().await;
        c
    });
    check_after_kill(&before, &after);

    let took = graduate_to_completion(db);
    eprintln!(
        "sqlite: graduated {MEMBERS} in {took:?} ({:.0} members/s, debug build)",
        f64::from(MEMBERS) / took.as_secs_f64()
    );
    let done = rt.block_on(async {
        let pool = open().await;
        let c = counts!(&pool);
        pool.close().await;
        c
    });
    check_after_completion(&before, &done);
    eprintln!("sqlite: test took {:?}", t.elapsed());
}

#[test]
fn graduation_of_100000_members_killed_part_way_changes_nothing_on_postgres() {
    on_postgres("tuanji_gradkill", postgres_story);
}

fn postgres_story(db: &str, dir: &Path) {
    prepare(db, dir);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pool = rt.block_on(async {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(db)
            .await
            .expect("connect")
    });
    let t = Instant::now();
    let before = rt.block_on(async {
        let (persons, members) = seed_sql(Backend::Postgres);
        let mut tx = pool.begin().await.expect("begin");
        for sql in &persons {
            sqlx::query(sql).execute(&mut *tx).await.expect("persons");
        }
        let n = sqlx::query(&members)
            .execute(&mut *tx)
            .await
            .expect("members")
            .rows_affected();
        assert_eq!(n, u64::from(MEMBERS));
        tx.commit().await.expect("commit");
        sqlx::query("ANALYZE")
            .execute(&pool)
            .await
            .expect("analyze");
        counts!(&pool)
    });
    eprintln!("postgres: seeded {MEMBERS} members in {:?}", t.elapsed());
    assert_eq!(before.relation_instances, 0);

    // The graduation is well inside its one transaction once `transition_log`'s files have grown by 16 MB
    // (uncommitted rows take space too; the whole graduation writes well over 100 MB).
    let size = "SELECT pg_total_relation_size('transition_log')";
    let size_of = |pool: &sqlx::PgPool| -> i64 {
        rt.block_on(sqlx::query_scalar(size).fetch_one(pool))
            .expect("pg_total_relation_size")
    };
    let base = size_of(&pool);
    let started = Instant::now();
    let mut child = spawn_graduate(db);
    while size_of(&pool) < base + (16 << 20) {
        if child.try_wait().expect("try_wait").is_some() {
            break; // kill_mid_way reports a finished process
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the graduation never grew the log"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let grown = size_of(&pool) - base;
    let in_flight: i64 = rt
        .block_on(
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
            )
            .fetch_one(&pool),
        )
        .expect("pg_stat_activity");
    kill_mid_way(child, started);
    eprintln!(
        "postgres: transition_log grown by {} MB, {in_flight} open transaction(s) when killed",
        grown >> 20
    );
    assert_eq!(in_flight, 1, "the graduation's transaction was open");

    // The server rolls the transaction back when it sees the client gone; wait for that backend to end.
    let gone = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                AND pid <> pg_backend_pid() AND backend_type = 'client backend'";
    let t_gone = Instant::now();
    loop {
        let n: i64 = rt
            .block_on(sqlx::query_scalar(gone).fetch_one(&pool))
            .expect("pg_stat_activity");
        if n == 0 {
            break;
        }
        assert!(
            t_gone.elapsed() < Duration::from_secs(60),
            "the killed client's backend is still there"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = rt.block_on(async { counts!(&pool) });
    check_after_kill(&before, &after);

    let took = graduate_to_completion(db);
    eprintln!(
        "postgres: graduated {MEMBERS} in {took:?} ({:.0} members/s, debug build)",
        f64::from(MEMBERS) / took.as_secs_f64()
    );
    let done = rt.block_on(async { counts!(&pool) });
    check_after_completion(&before, &done);
    rt.block_on(pool.close());
    eprintln!("postgres: test took {:?}", t.elapsed());
}
