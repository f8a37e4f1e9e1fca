//! Benchmark of the standing sweep (issue 4). Run with `cargo bench -p tuanji-engine --bench standing`; add
//! `TUANJI_BENCH_POSTGRES_URL=postgres://…/db` for PostgreSQL (a fresh database `tuanji_bench_standing_<pid>` is
//! created on that server and dropped). `TUANJI_BENCH_MEMBERS` sets the number of members (default 1,000,000).
//!
//! Seeding: `MEMBERS` legacy members (born 2008, members since 2025-05-04) in one branch with the shared
//! `seed_members!`, then one standing instance per member written with plain SQL in exactly the shape the roster
//! import gives it (`import_member`: state `member`, version 1, the engine's [`StandingData`] JSON with dues
//! tracked from the import month 2026-11), except that every 100th member's dues are tracked from 2026-01
//! (registered in January, never paid): the sweep flags those as a six-month lapse (STD_LAPSE) and writes one
//! log entry each. Nobody is near 28, so no age-out; the sweep's per-member work (read, decode, `due_steps`) is
//! the same for every member whether a step falls due or not. The import's log entries are not written: the
//! sweep does not read the log.
//!
//! Figures, in the same run on the same rows:
//! 1. `Engine::standing_sweep` as of 2026-11-30, first run (examines every member, flags `MEMBERS / 100`
//!    lapses) and second run (idempotent: examines every member, writes nothing) — members examined per second.
//! 2. Raw sqlx: the sweep's own query (live standing instances joined to persons and members, pages of 5,000 by
//!    id) read with `fetch_all`, nothing decoded — rows per second.

mod common;

use std::time::Instant;
use tuanji_domain::dues::YearMonth;
use tuanji_engine::{with_engine, Actor, AnyEngine};
use tuanji_workflow::standing::{Membership, StandingData, StandingStep};

const ORGS: &str = "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
    CYLC,共青团中央,central,,,,,\n\
    C,共青团北京市海淀区委员会,county,CYLC,,,,\n\
    UNI,某大学团委,basic_committee,C,true,university,false,\n\
    B,2025级本科生团支部,branch,UNI,false,university,false,\n";

/// The sweep's page size and query (crates/store/src/sql.rs, `standing_live_page`, with each backend's
/// `standing_live` condition from crates/store-sqlite and crates/store-postgres).
const PAGE: i64 = 5_000;
const LIVE_SQLITE: &str = "SELECT i.id, i.person_id, m.branch_id AS branch_id, i.state, i.version, i.data, p.birth_date \
     FROM instances i JOIN persons p ON p.id = i.person_id JOIN members m ON m.person_id = i.person_id \
     WHERE i.workflow || '' = 'standing' \
     AND i.state || '' IN ('member', 'on_probation', 'recommended_for_party', 'party_member') \
     AND m.standing <> 'annulled' AND m.deleted_on IS NULL";
const LIVE_POSTGRES: &str = "SELECT i.id, i.person_id, m.branch_id AS branch_id, i.state, i.version, i.data, p.birth_date \
     FROM instances i JOIN persons p ON p.id = i.person_id JOIN members m ON m.person_id = i.person_id \
     WHERE i.workflow = 'standing' \
     AND i.state IN ('member', 'on_probation', 'recommended_for_party', 'party_member') \
     AND m.standing <> 'annulled' AND m.deleted_on IS NULL";

fn members() -> usize {
    std::env::var("TUANJI_BENCH_MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// The instance data the roster import writes for a legacy member admitted 2025-05-04 without a number, dues
/// tracked from `dues_from`.
fn imported(dues_from: YearMonth) -> String {
    let mut data = StandingData::default();
    data.apply(
        tuanji_workflow::NEW,
        &StandingStep::ImportMember {
            membership: Membership {
                membership_date: common::d(2025, 5, 4),
                number: None,
                probation_until: None,
                dues_from: Some(dues_from),
            },
        },
    );
    serde_json::to_string(&data).expect("standing data")
}

/// Writes one standing instance per seeded member, in the roster import's shape.
macro_rules! seed_standing {
    ($pool:expr, $db:ty, $branch:expr) => {{
        let def = tuanji_workflow::builtin()
            .latest("standing")
            .expect("standing workflow");
        let usual = imported(YearMonth::new(2026, 11).expect("month"));
        let lapsing = imported(YearMonth::new(2026, 1).expect("month"));
        let mut people: Vec<(uuid::Uuid, String)> =
            sqlx::query_as("SELECT p.id, p.resident_id FROM persons p JOIN members m ON m.person_id = p.id")
                .fetch_all(&$pool)
                .await
                .expect("members");
        people.sort_by(|a, b| a.1.cmp(&b.1));
        let mut tx = $pool.begin().await.expect("begin");
        for (c, chunk) in people.chunks(common::CHUNK).enumerate() {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO instances (id, workflow, workflow_version, definition_sha256, person_id, branch_id, \
                 state, version, data, opened_on) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut b, (k, (person, _))| {
                let i = c * common::CHUNK + k;
                b.push_bind(uuid::Uuid::now_v7())
                    .push_bind("standing")
                    .push_bind(def.version as i32)
                    .push_bind(def.sha256.clone())
                    .push_bind(*person)
                    .push_bind($branch)
                    .push_bind("member")
                    .push_bind(1i64)
                    .push_bind(if i % 100 == 0 { lapsing.clone() } else { usual.clone() })
                    .push_bind(common::d(2025, 5, 4));
            });
            q.build().execute(&mut *tx).await.expect("instances");
        }
        tx.commit().await.expect("commit instances");
        people.len()
    }};
}

/// Reads the sweep's rows page by page with plain sqlx; returns (seconds, rows).
macro_rules! raw_read {
    ($pool:expr, $row:ty, $live:expr) => {{
        let t = Instant::now();
        let mut after: Option<uuid::Uuid> = None;
        let mut n = 0usize;
        loop {
            let rows: Vec<$row> = match after {
                Some(a) => sqlx::query(&format!("{} AND i.id > $1 ORDER BY i.id LIMIT $2", $live))
                    .bind(a)
                    .bind(PAGE)
                    .fetch_all(&$pool)
                    .await
                    .expect("page"),
                None => sqlx::query(&format!("{} ORDER BY i.id LIMIT $1", $live))
                    .bind(PAGE)
                    .fetch_all(&$pool)
                    .await
                    .expect("page"),
            };
            let Some(last) = rows.last() else { break };
            use sqlx::Row;
            after = Some(last.get::<uuid::Uuid, _>(0));
            n += rows.len();
        }
        (t.elapsed().as_secs_f64(), n)
    }};
}

async fn run(url: &str) {
    let n = members();
    let e = AnyEngine::connect(url)
        .await
        .expect("connect")
        .with_today(common::d(2026, 11, 30));
    with_engine!(&e, e => e.import_org_csv(ORGS.as_bytes(), false).await).expect("orgs");
    let branch = with_engine!(&e, e => {
        let mut tx = tuanji_store::Store::begin_read(e.store()).await.expect("tx");
        tuanji_store::StoreTx::org_by_code(&mut tx, "B").await
    })
    .expect("branch")
    .expect("branch B")
    .id;
    let t = Instant::now();
    let seeded = match &e {
        AnyEngine::Sqlite(_) => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("raw pool");
            seed_members!(pool, sqlx::Sqlite, branch, n);
            let s = seed_standing!(pool, sqlx::Sqlite, branch);
            pool.close().await;
            s
        }
        AnyEngine::Postgres(_) => {
            let pool = sqlx::PgPool::connect(url).await.expect("raw pool");
            seed_members!(pool, sqlx::Postgres, branch, n);
            let s = seed_standing!(pool, sqlx::Postgres, branch);
            sqlx::query("ANALYZE")
                .execute(&pool)
                .await
                .expect("analyze");
            pool.close().await;
            s
        }
    };
    assert_eq!(seeded, n);
    eprintln!(
        "{}: {n} members with standing instances seeded in {:.0} s",
        e.backend(),
        t.elapsed().as_secs_f64()
    );

    let actor = Actor {
        name: "bench".into(),
        role: Some("system_admin".into()),
        ..Default::default()
    };
    let as_of = common::d(2026, 11, 30);
    let t = Instant::now();
    let first =
        with_engine!(&e, e => e.standing_sweep(&actor, as_of, &|_, _, _| {}).await).expect("sweep");
    let first_s = t.elapsed().as_secs_f64();
    assert_eq!(first.examined, n);
    assert_eq!(first.lapse_dues, n.div_ceil(100));
    assert_eq!(first.entries, n.div_ceil(100));
    let t = Instant::now();
    let second = with_engine!(&e, e => e.standing_sweep(&actor, as_of, &|_, _, _| {}).await)
        .expect("sweep again");
    let second_s = t.elapsed().as_secs_f64();
    assert_eq!((second.examined, second.entries), (n, 0));

    let (raw_s, raw_n) = match &e {
        AnyEngine::Sqlite(_) => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("raw pool");
            let r = raw_read!(pool, sqlx::sqlite::SqliteRow, LIVE_SQLITE);
            pool.close().await;
            r
        }
        AnyEngine::Postgres(_) => {
            let pool = sqlx::PgPool::connect(url).await.expect("raw pool");
            let r = raw_read!(pool, sqlx::postgres::PgRow, LIVE_POSTGRES);
            pool.close().await;
            r
        }
    };
    assert_eq!(raw_n, n);
    let rate = |secs: f64| n as f64 / secs;
    println!(
        "{:8} standing sweep of {n} members: first run {:8.0} members/s ({first_s:.1} s, {} lapses flagged)  \
         second run {:8.0} members/s ({second_s:.1} s, nothing written)  raw sqlx read of the same rows {:8.0} rows/s \
         ({raw_s:.1} s)  sweep/raw {:.2}",
        e.backend(),
        rate(first_s),
        first.lapse_dues,
        rate(second_s),
        rate(raw_s),
        rate(second_s) / rate(raw_s),
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    run(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await;
    if let Ok(admin) = std::env::var("TUANJI_BENCH_POSTGRES_URL") {
        use sqlx::Executor;
        let name = format!("tuanji_bench_standing_{}", std::process::id());
        let pool = sqlx::PgPool::connect(&admin).await.expect("connect admin");
        pool.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        run(&format!("{base}/{name}")).await;
        pool.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
            .await
            .expect("drop database");
        pool.close().await;
    }
}
