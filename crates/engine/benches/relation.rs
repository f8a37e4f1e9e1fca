//! Benchmark of the relation workflow (issue 3's closing figures), each against a raw sqlx baseline of the same
//! shape measured in the same run on the same database. Run with
//! `cargo bench -p tuanji-engine --bench relation`; add `TUANJI_BENCH_POSTGRES_URL=postgres://…/db` for
//! PostgreSQL (the bench creates a fresh database `tuanji_bench_relation_<pid>` on that server and drops it).
//!
//! 1. Graduation: 100,000 legacy members seeded into one graduating branch with direct SQL, then
//!    [`Engine::graduate`](tuanji_engine::Engine::graduate) — one transaction: 100,000 relation instances, 200,000
//!    hash-chained log entries (`open` + `graduate`). Baseline: one raw transaction inserting 100,000 instance-like
//!    rows and 200,000 ~300-byte JSON log rows with two 32-byte hashes into plain tables, 1,000 rows per INSERT;
//!    measured before and after the engine run.
//! 2. Transfers: 2,000 of the graduates, each transferred end to end — a request by the outgoing university
//!    committee (`request_transfer`, one transaction) and the approval by the receiving employer's committee
//!    (`approve` → `complete` + `receive`, one transaction). Baseline per transfer: two raw transactions, the first
//!    reading and updating the instance and inserting one log row and one transfer row, the second reading and
//!    updating the instance, inserting the next stay's instance, three log rows, and updating the transfer and the
//!    member. Engine and baseline alternate in rounds (A B A B …); medians are reported. `ANALYZE` runs before
//!    the transfers (PostgreSQL's autovacuum would within a minute of the graduation; without it the planner
//!    still thinks `instances` is empty and each relation lookup scans the 100,000 relation instances).

mod common;

use common::{d, median, person, CHUNK};
use std::time::Instant;
use tuanji_engine::relation::RelationCommand;
use tuanji_engine::{with_engine, Actor, AnyEngine};
use tuanji_workflow::relation::{Destination, Initiator};
use uuid::Uuid;

/// Members of the graduating branch.
const MEMBERS: usize = 100_000;
/// Transfers completed end to end.
const TRANSFERS: usize = 2_000;
/// Rounds the transfers are split into (engine and baseline alternate).
const ROUNDS: usize = 4;

const ORGS: &str = "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
    CYLC,共青团中央,central,,,,,\n\
    C,共青团北京市海淀区委员会,county,CYLC,,,,\n\
    UNI,某大学团委,basic_committee,C,true,university,false,\n\
    G,2026届毕业生团总支,branch,UNI,false,university,true,\n\
    E,共青团某公司委员会,basic_committee,C,true,,,\n\
    E-B1,某公司研发部团支部,branch,E,false,,,\n";

/// A ~300-byte log payload, as the engine writes for a relation step.
fn payload(command: &str) -> String {
    format!(
        "{{\"step\":{{\"command\":\"{command}\",\"date\":\"2026-07-01\",\"branch\":\"G\"}},\"flags\":[],\"pad\":\"{}\"}}",
        "x".repeat(220)
    )
}

/// Creates the baseline tables, and runs one raw graduation-shaped transaction.
macro_rules! raw {
    (tables, $pool:expr, $id:literal, $bytes:literal, $seq:literal) => {{
        for sql in [
            "DROP TABLE IF EXISTS bench_instances",
            "DROP TABLE IF EXISTS bench_log",
            "DROP TABLE IF EXISTS bench_transfers",
            concat!(
                "CREATE TABLE bench_instances (id ",
                $id,
                " PRIMARY KEY, person_id ",
                $id,
                " NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL)"
            ),
            concat!(
                "CREATE TABLE bench_log (seq ",
                $seq,
                " PRIMARY KEY, instance_id ",
                $id,
                " NOT NULL, command TEXT NOT NULL, payload TEXT NOT NULL, leaf_hash ",
                $bytes,
                " NOT NULL, chain_hash ",
                $bytes,
                " NOT NULL)"
            ),
            concat!(
                "CREATE TABLE bench_transfers (id ",
                $id,
                " PRIMARY KEY, person_id ",
                $id,
                " NOT NULL, state TEXT NOT NULL)"
            ),
        ] {
            sqlx::query(sql).execute(&$pool).await.expect("bench table");
        }
    }};
    (graduate, $pool:expr, $db:ty, $begin:expr) => {{
        let t = Instant::now();
        let mut tx = $begin.await.expect("begin");
        let data = format!("{{\"branch\":\"G\",\"graduated_on\":\"2026-07-01\",\"pad\":\"{}\"}}", "y".repeat(60));
        let (open, grad) = (payload("open"), payload("graduate"));
        let hash = vec![7u8; 32];
        let ids: Vec<(Uuid, Uuid)> = (0..MEMBERS).map(|_| (Uuid::now_v7(), Uuid::now_v7())).collect();
        for chunk in ids.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO bench_instances (id, person_id, state, version, data) ",
            );
            q.push_values(chunk.iter(), |mut b, (id, person)| {
                b.push_bind(*id)
                    .push_bind(*person)
                    .push_bind("graduated_pending_transfer")
                    .push_bind(2i32)
                    .push_bind(data.clone());
            });
            q.build().execute(&mut *tx).await.expect("instances");
            for (command, p) in [("open", &open), ("graduate", &grad)] {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO bench_log (instance_id, command, payload, leaf_hash, chain_hash) ",
                );
                q.push_values(chunk.iter(), |mut b, (id, _)| {
                    b.push_bind(*id)
                        .push_bind(command)
                        .push_bind(p.clone())
                        .push_bind(hash.clone())
                        .push_bind(hash.clone());
                });
                q.build().execute(&mut *tx).await.expect("log");
            }
        }
        tx.commit().await.expect("commit");
        MEMBERS as f64 / t.elapsed().as_secs_f64()
    }};
    (transfers, $pool:expr, $begin:expr, $ids:expr) => {{
        let ids: &[(Uuid, Uuid)] = $ids;
        let t = Instant::now();
        let hash = vec![7u8; 32];
        for &(id, person) in ids {
            // request_transfer
            let mut tx = $begin.await.expect("begin");
            let (version, data): (i32, String) =
                sqlx::query_as("SELECT version, data FROM bench_instances WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .expect("select");
            sqlx::query("UPDATE bench_instances SET state = 'transfer_requested', data = $2, version = version + 1 WHERE id = $1 AND version = $3")
                .bind(id)
                .bind(&data)
                .bind(version)
                .execute(&mut *tx)
                .await
                .expect("update");
            sqlx::query("INSERT INTO bench_log (instance_id, command, payload, leaf_hash, chain_hash) VALUES ($1, 'request_transfer', $2, $3, $3)")
                .bind(id)
                .bind(payload("request_transfer"))
                .bind(&hash)
                .execute(&mut *tx)
                .await
                .expect("log");
            let transfer = Uuid::now_v7();
            sqlx::query("INSERT INTO bench_transfers (id, person_id, state) VALUES ($1, $2, 'open')")
                .bind(transfer)
                .bind(person)
                .execute(&mut *tx)
                .await
                .expect("transfer");
            tx.commit().await.expect("commit");
            // approve → complete + receive
            let mut tx = $begin.await.expect("begin");
            let (version, data): (i32, String) =
                sqlx::query_as("SELECT version, data FROM bench_instances WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .expect("select");
            sqlx::query("UPDATE bench_instances SET state = 'transferred', data = $2, version = version + 1 WHERE id = $1 AND version = $3")
                .bind(id)
                .bind(&data)
                .bind(version)
                .execute(&mut *tx)
                .await
                .expect("update");
            let next = Uuid::now_v7();
            sqlx::query("INSERT INTO bench_instances (id, person_id, state, version, data) VALUES ($1, $2, 'at_branch', 1, $3)")
                .bind(next)
                .bind(person)
                .bind(&data)
                .execute(&mut *tx)
                .await
                .expect("next stay");
            sqlx::query("INSERT INTO bench_log (instance_id, command, payload, leaf_hash, chain_hash) VALUES ($1, 'approve', $2, $4, $4), ($1, 'complete', $2, $4, $4), ($3, 'receive', $2, $4, $4)")
                .bind(id)
                .bind(payload("approve"))
                .bind(next)
                .bind(&hash)
                .execute(&mut *tx)
                .await
                .expect("log");
            sqlx::query("UPDATE bench_transfers SET state = 'completed' WHERE id = $1")
                .bind(transfer)
                .execute(&mut *tx)
                .await
                .expect("transfer");
            tx.commit().await.expect("commit");
        }
        ids.len() as f64 / t.elapsed().as_secs_f64()
    }};
}

/// One round of engine transfers: request by the outgoing committee, approval by the incoming one.
async fn engine_transfers(e: &AnyEngine, rids: &[String]) -> f64 {
    let actor = Actor {
        name: "bench".into(),
        role: Some("committee_admin".into()),
        ..Default::default()
    };
    let request = RelationCommand::RequestTransfer {
        date: d(2026, 8, 1),
        to: "E-B1".into(),
        destination: Destination::Employment,
        initiator: Initiator::Outgoing,
        org: Some("UNI".into()),
    };
    let approve = RelationCommand::Approve {
        date: d(2026, 8, 3),
        org: "E".into(),
    };
    let t = Instant::now();
    for r in rids {
        with_engine!(e, e => e.relation(&actor, r, &request).await).expect("request_transfer");
        let out = with_engine!(e, e => e.relation(&actor, r, &approve).await).expect("approve");
        assert_eq!(out.branch, "E-B1", "the transfer completed");
    }
    rids.len() as f64 / t.elapsed().as_secs_f64()
}

struct Figures {
    graduate: f64,
    graduate_raw: [f64; 2],
    transfers: Vec<f64>,
    transfers_raw: Vec<f64>,
}

async fn run(url: &str) {
    let e = AnyEngine::connect(url)
        .await
        .expect("connect")
        .with_today(d(2026, 11, 30));
    with_engine!(&e, e => e.import_org_csv(ORGS.as_bytes(), false).await).expect("orgs");
    let g = with_engine!(&e, e => e.mark_graduating("G", d(2026, 7, 1)).await).expect("mark");
    let t = Instant::now();
    let actor = Actor {
        name: "bench".into(),
        role: Some("committee_admin".into()),
        ..Default::default()
    };
    let rids: Vec<String> = (0..TRANSFERS).map(|i| person(i * 37 % MEMBERS).0).collect();
    let mut f = Figures {
        graduate: 0.0,
        graduate_raw: [0.0; 2],
        transfers: Vec::new(),
        transfers_raw: Vec::new(),
    };
    let per_round = TRANSFERS / ROUNDS;
    macro_rules! measure {
        ($pool:expr, $db:ty, $begin:expr, $id:literal, $bytes:literal, $seq:literal) => {{
            seed_members!($pool, $db, g.id, MEMBERS);
            eprintln!(
                "{}: seeded {MEMBERS} members in {:.1} s",
                e.backend(),
                t.elapsed().as_secs_f64()
            );
            raw!(tables, $pool, $id, $bytes, $seq);
            f.graduate_raw[0] = raw!(graduate, $pool, $db, $begin);
            let t = Instant::now();
            let report = with_engine!(&e, e => e.graduate(&actor, "G", d(2026, 7, 1), &|_, _| {}).await)
                .expect("graduate");
            f.graduate = MEMBERS as f64 / t.elapsed().as_secs_f64();
            assert_eq!(report.graduated, MEMBERS);
            raw!(tables, $pool, $id, $bytes, $seq);
            f.graduate_raw[1] = raw!(graduate, $pool, $db, $begin);
            // Fresh statistics, as autovacuum would gather within a minute of the bulk change: without them
            // PostgreSQL plans the relation lookups of the transfers against an empty `instances` table.
            sqlx::query("ANALYZE").execute(&$pool).await.expect("analyze");
            let ids: Vec<(Uuid, Uuid)> =
                sqlx::query_as("SELECT id, person_id FROM bench_instances LIMIT 2000")
                    .fetch_all(&$pool)
                    .await
                    .expect("ids");
            for round in 0..ROUNDS {
                let slice = round * per_round..(round + 1) * per_round;
                f.transfers.push(engine_transfers(&e, &rids[slice.clone()]).await);
                f.transfers_raw.push(raw!(transfers, $pool, $begin, &ids[slice]));
            }
        }};
    }
    match &e {
        AnyEngine::Sqlite(_) => {
            let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
            let opts = opts
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(std::time::Duration::from_secs(30));
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .expect("raw pool");
            measure!(
                pool,
                sqlx::Sqlite,
                pool.begin_with("BEGIN IMMEDIATE"),
                "BLOB",
                "BLOB",
                "INTEGER"
            );
        }
        AnyEngine::Postgres(_) => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .expect("raw pool");
            measure!(
                pool,
                sqlx::Postgres,
                pool.begin(),
                "UUID",
                "BYTEA",
                "BIGSERIAL"
            );
        }
    }
    let raw_grad = (f.graduate_raw[0] + f.graduate_raw[1]) / 2.0;
    println!(
        "{:8} graduate {MEMBERS}: engine {:7.0} members/s  raw sqlx same rows {:7.0} members/s (before {:.0}, after {:.0})  ratio {:.2}",
        e.backend(),
        f.graduate,
        raw_grad,
        f.graduate_raw[0],
        f.graduate_raw[1],
        f.graduate / raw_grad
    );
    let (a, b) = (median(f.transfers.clone()), median(f.transfers_raw.clone()));
    println!(
        "{:8} transfers end to end ({TRANSFERS}, request + approve → complete): engine {:6.0}/s  raw sqlx same shape {:6.0}/s  ratio {:.2}  (rounds: engine {:?}, raw {:?})",
        e.backend(),
        a,
        b,
        a / b,
        f.transfers.iter().map(|r| r.round()).collect::<Vec<_>>(),
        f.transfers_raw.iter().map(|r| r.round()).collect::<Vec<_>>()
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
        let name = format!("tuanji_bench_relation_{}", std::process::id());
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
