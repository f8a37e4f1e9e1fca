//! Benchmark: one admission step through the engine against a raw sqlx transaction of the same shape, on the
//! same database, interleaved (A B A B …) as PERFORMANCE.md asks. Run with
//! `cargo bench -p tuanji-engine --bench admission_step` (add `TUANJI_BENCH_POSTGRES_URL=postgres://…/db` for
//! PostgreSQL; the database must be empty).
//!
//! A: `record_class` through [`Engine::step`] — find the person and the instance, load the branch, check the
//!    guards, update the instance (optimistic version), append a hash-chained log entry, commit.
//! B: raw sqlx, one transaction — read the instance, update it with a version check, insert one ~300-byte JSON
//!    log row into a plain table, commit.

use std::time::Instant;
use tuanji_domain::{check_character, Date};
use tuanji_engine::admission::{AdmissionCommand, Application};
use tuanji_engine::{with_engine, Actor, AnyEngine};

const APPLICANTS: usize = 200;
const ROUNDS: usize = 5;

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd_opt(y, m, day).expect("date")
}

fn rid(birth: &str, seq: usize) -> String {
    let first17 = format!("110105{birth}{seq:03}");
    format!("{first17}{}", check_character(&first17).expect("17 digits"))
}

async fn setup(e: &AnyEngine) -> Vec<String> {
    let actor = Actor::new("bench");
    let orgs = "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
                CYLC,共青团中央,central,,,,,\nC,县团委,county,CYLC,,,,\nS,中学团委,basic_committee,C,true,,,\n\
                B,高一(1)班团支部,branch,S,,senior_high,false,\n";
    with_engine!(e, e => e.import_org_csv(orgs.as_bytes(), false).await).expect("orgs");
    let mentor = rid("20080101", 999);
    let members =
        format!("姓名,公民身份号码,入团日期,团员编号\n导师,{mentor},2025-05-04,202590000001\n");
    with_engine!(e, e => e.import_roster(&actor, "B", members.as_bytes(), false).await)
        .expect("members");
    let mut ids = Vec::new();
    for i in 0..APPLICANTS {
        let r = rid(&format!("2011{:02}{:02}", 1 + i % 12, 1 + i % 28), i);
        let app = Application {
            branch: "B".into(),
            resident_id: r.clone(),
            name: format!("申请人{i}"),
            ethnicity: None,
            class: None,
            date: d(2026, 3, 2),
        };
        with_engine!(e, e => e.apply(&actor, &app).await).expect("apply");
        for cmd in [
            AdmissionCommand::RecordTalk {
                date: d(2026, 3, 10),
                by: "书记".into(),
            },
            AdmissionCommand::ApproveActivist {
                date: d(2026, 4, 10),
                committee: "S".into(),
            },
            AdmissionCommand::AssignMentors {
                date: d(2026, 4, 13),
                members: vec![mentor.clone()],
                party_members: vec![],
            },
        ] {
            with_engine!(e, e => e.step(&actor, &r, &cmd).await).expect("step");
        }
        ids.push(r);
    }
    ids
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn engine_round(e: &AnyEngine, ids: &[String], round: usize) -> f64 {
    let actor = Actor::new("bench");
    let cmd = AdmissionCommand::RecordClass {
        date: d(2026, 4, 20 + round as u32),
        minutes: 45,
        topic: "团课".into(),
    };
    let t = Instant::now();
    for r in ids {
        with_engine!(e, e => e.step(&actor, r, &cmd).await).expect("record_class");
    }
    ids.len() as f64 / t.elapsed().as_secs_f64()
}

macro_rules! raw_round {
    ($pool:expr, $db:ty, $begin:expr, $ids:expr) => {{
        let t = Instant::now();
        let payload = format!("{{\"step\":{{\"command\":\"record_class\",\"date\":\"2026-04-20\",\"minutes\":45,\"topic\":\"团课\"}},\"flags\":[],\"pad\":\"{}\"}}", "x".repeat(200));
        for id in $ids {
            let mut tx = $begin.await.expect("begin");
            let (version, data): (i64, String) = sqlx::query_as("SELECT version, data FROM instances WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .expect("select");
            sqlx::query("UPDATE instances SET data = $2, version = version + 1 WHERE id = $1 AND version = $3")
                .bind(id)
                .bind(&data)
                .bind(version)
                .execute(&mut *tx)
                .await
                .expect("update");
            sqlx::query("INSERT INTO bench_log (instance_id, payload) VALUES ($1, $2)")
                .bind(id)
                .bind(&payload)
                .execute(&mut *tx)
                .await
                .expect("insert");
            tx.commit().await.expect("commit");
        }
        $ids.len() as f64 / t.elapsed().as_secs_f64()
    }};
}

async fn run(url: &str) {
    let e = AnyEngine::connect(url)
        .await
        .expect("connect")
        .with_today(d(2026, 11, 30));
    let ids = setup(&e).await;
    let mut engine_rates = Vec::new();
    let mut raw_rates = Vec::new();
    match &e {
        AnyEngine::Sqlite(_) => {
            let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
            let opts = opts
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .expect("raw pool");
            sqlx::query("CREATE TABLE bench_log (seq INTEGER PRIMARY KEY, instance_id BLOB NOT NULL, payload TEXT NOT NULL)").execute(&pool).await.expect("table");
            let inst: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM instances")
                .fetch_all(&pool)
                .await
                .expect("ids");
            for round in 0..ROUNDS {
                engine_rates.push(engine_round(&e, &ids, round).await);
                raw_rates.push(raw_round!(
                    pool,
                    sqlx::Sqlite,
                    pool.begin_with("BEGIN IMMEDIATE"),
                    &inst
                ));
            }
        }
        AnyEngine::Postgres(_) => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .expect("raw pool");
            sqlx::query("CREATE TABLE bench_log (seq BIGSERIAL PRIMARY KEY, instance_id UUID NOT NULL, payload TEXT NOT NULL)").execute(&pool).await.expect("table");
            let inst: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM instances")
                .fetch_all(&pool)
                .await
                .expect("ids");
            for round in 0..ROUNDS {
                engine_rates.push(engine_round(&e, &ids, round).await);
                raw_rates.push(raw_round!(pool, sqlx::Postgres, pool.begin(), &inst));
            }
        }
    }
    let (a, b) = (median(engine_rates.clone()), median(raw_rates.clone()));
    println!(
        "{:8} engine step {:7.0}/s  raw sqlx same shape {:7.0}/s  ratio {:.2}  (rounds: engine {:?}, raw {:?})",
        e.backend(),
        a,
        b,
        a / b,
        engine_rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
        raw_rates.iter().map(|r| r.round()).collect::<Vec<_>>()
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
    if let Ok(url) = std::env::var("TUANJI_BENCH_POSTGRES_URL") {
        run(&url).await;
    }
}
