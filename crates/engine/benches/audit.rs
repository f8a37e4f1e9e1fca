//! Benchmark of log verification (issue 5's closing figures). Run with `cargo bench -p tuanji-engine --bench audit`;
//! add `TUANJI_BENCH_POSTGRES_URL=postgres://…/db` for PostgreSQL (a fresh database `tuanji_bench_audit_<pid>` is
//! created on that server and dropped). `TUANJI_BENCH_ENTRIES` sets the log size (default 1,000,000, even).
//!
//! The log: `ENTRIES / 2` legacy members seeded into one graduating branch with plain SQL, then graduated by the
//! engine (`open` + `graduate` per member: `ENTRIES` hash-chained entries, every one `canonical_v2`).
//!
//! Figures, in the same run on the same data:
//! 1. `Engine::audit_verify`: every leaf recomputed from the row, the chain, the Merkle root, the checkpoint, and
//!    the replay of every entry through the workflow tables against the stored instances — entries per second.
//! 2. Reading alone: the same rows read in the same batches through the store, nothing checked.
//! 3. Raw SHA-256 on the same bytes: one SHA-256 over each entry's leaf preimage (`0x00 ‖ canonical_v2`), in
//!    memory — the machine's hashing speed on exactly what verification must hash at least once.
//! 4. Storage: bytes of the `transition_log` table with its indexes (SQLite `dbstat`, PostgreSQL
//!    `pg_total_relation_size`) per entry.

mod common;

use sha2::{Digest, Sha256};
use std::time::Instant;
use tuanji_engine::{with_engine, Actor, AnyEngine};
use tuanji_store::{LogFilter, Store, StoreTx};

const ORGS: &str = "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
    CYLC,共青团中央,central,,,,,\n\
    C,共青团北京市海淀区委员会,county,CYLC,,,,\n\
    UNI,某大学团委,basic_committee,C,true,university,false,\n\
    G,2026届毕业生团总支,branch,UNI,false,university,true,\n";

/// Rows read per batch (as the verifier reads).
const BATCH: i64 = 10_000;

fn entries() -> usize {
    std::env::var("TUANJI_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Reads the whole log through the store in batches; returns (seconds, leaf preimages).
async fn read_all<S: Store>(store: &S) -> (f64, Vec<Vec<u8>>) {
    let t = Instant::now();
    let mut tx = store.begin_read().await.expect("begin");
    let mut after = 0;
    let mut rows = Vec::new();
    loop {
        let batch = tx
            .log(&LogFilter {
                after_seq: Some(after),
                limit: Some(BATCH),
                ..LogFilter::default()
            })
            .await
            .expect("log");
        let Some(last) = batch.last() else { break };
        after = last.seq;
        rows.extend(batch);
    }
    let secs = t.elapsed().as_secs_f64();
    let preimages = rows
        .iter()
        .map(|row| {
            let codes = row.rule_code_list().expect("codes");
            let salt = row.salt32().expect("salt").expect("canonical_v2");
            let mut bytes = vec![0u8];
            bytes.extend(tuanji_audit::canonical(&tuanji_audit::LogEntry {
                seq: row.seq,
                entry_id: row.entry_id,
                instance_id: row.instance_id,
                person_id: row.person_id,
                org_id: row.org_id,
                workflow: &row.workflow,
                workflow_version: row.workflow_version,
                definition_sha256: &row.definition_sha256,
                from_state: &row.from_state,
                to_state: &row.to_state,
                command: &row.command,
                actor: &row.actor,
                role: &row.role,
                rule_codes: &codes,
                payload_json: &row.payload,
                effective_date: row.effective_date,
                recorded_at: row.recorded_at,
                idempotency_key: row.idempotency_key.as_deref(),
                personal: tuanji_audit::Personal::Open {
                    salt: &salt,
                    personal_json: row.personal.as_deref(),
                },
            }));
            assert_eq!(
                Sha256::digest(&bytes).as_slice(),
                row.leaf_hash.as_slice(),
                "preimage of seq {}",
                row.seq
            );
            bytes
        })
        .collect();
    (secs, preimages)
}

async fn run(url: &str) {
    let n = entries();
    let members = n / 2;
    let e = AnyEngine::connect(url)
        .await
        .expect("connect")
        .with_today(common::d(2026, 11, 30));
    with_engine!(&e, e => e.import_org_csv(ORGS.as_bytes(), false).await).expect("orgs");
    let g =
        with_engine!(&e, e => e.mark_graduating("G", common::d(2026, 7, 1)).await).expect("mark");
    let t = Instant::now();
    match &e {
        AnyEngine::Sqlite(_) => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("raw pool");
            seed_members!(pool, sqlx::Sqlite, g.id, members);
            pool.close().await;
        }
        AnyEngine::Postgres(_) => {
            let pool = sqlx::PgPool::connect(url).await.expect("raw pool");
            seed_members!(pool, sqlx::Postgres, g.id, members);
            pool.close().await;
        }
    }
    let actor = Actor {
        name: "bench".into(),
        role: Some("committee_admin".into()),
        ..Default::default()
    };
    let report =
        with_engine!(&e, e => e.graduate(&actor, "G", common::d(2026, 7, 1), &|_, _| {}).await)
            .expect("graduate");
    assert_eq!(report.graduated, members);
    eprintln!(
        "{}: {n} entries written in {:.0} s",
        e.backend(),
        t.elapsed().as_secs_f64()
    );
    let size = with_engine!(&e, e => { let mut tx = e.store().begin_read().await.expect("tx"); tx.log_size().await })
        .expect("size") as usize;
    assert_eq!(size, n);

    // Reading alone, then verification, then reading again (the page cache is warm for all three).
    let (read1, _) = with_engine!(&e, e => read_all(e.store()).await);
    let t = Instant::now();
    let v = with_engine!(&e, e => e.audit_verify(None, &|_, _| {}).await).expect("verify");
    let verify = t.elapsed().as_secs_f64();
    assert_eq!((v.fault, v.entries as usize), (None, n));
    let (read2, preimages) = with_engine!(&e, e => read_all(e.store()).await);

    // Raw SHA-256 over the same leaf preimages, in memory: best of three passes.
    let bytes: usize = preimages.iter().map(Vec::len).sum();
    let mut sha = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut acc = 0u8;
        for p in &preimages {
            acc ^= Sha256::digest(p)[0];
        }
        std::hint::black_box(acc);
        sha = sha.min(t.elapsed().as_secs_f64());
    }

    let stored: i64 = match &e {
        AnyEngine::Sqlite(_) => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("raw pool");
            let v = sqlx::query_scalar(
                "SELECT SUM(pgsize) FROM dbstat WHERE name IN \
                 (SELECT name FROM sqlite_schema WHERE tbl_name = 'transition_log' AND type IN ('table', 'index')) \
                 OR name LIKE 'sqlite_autoindex_transition_log%'",
            )
            .fetch_one(&pool)
            .await
            .expect("dbstat");
            pool.close().await;
            v
        }
        AnyEngine::Postgres(_) => {
            let pool = sqlx::PgPool::connect(url).await.expect("raw pool");
            sqlx::query("VACUUM ANALYZE transition_log")
                .execute(&pool)
                .await
                .expect("vacuum");
            let v = sqlx::query_scalar("SELECT pg_total_relation_size('transition_log')")
                .fetch_one(&pool)
                .await
                .expect("size");
            pool.close().await;
            v
        }
    };

    let rate = |secs: f64| n as f64 / secs;
    let read = read1.min(read2);
    println!(
        "{:8} verify {n} entries: {:8.0} entries/s ({verify:.1} s)  reading alone {:8.0} entries/s  raw SHA-256 on the same bytes {:9.0} entries/s ({:.0} MB/s, {:.0} bytes/entry)  verify/raw SHA-256 {:.3}  verify/read {:.2}",
        e.backend(),
        rate(verify),
        rate(read),
        rate(sha),
        bytes as f64 / sha / 1e6,
        bytes as f64 / n as f64,
        rate(verify) / rate(sha),
        rate(verify) / rate(read),
    );
    println!(
        "{:8} storage: transition_log with indexes {stored} bytes = {:.0} bytes/entry",
        e.backend(),
        stored as f64 / n as f64
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
        let name = format!("tuanji_bench_audit_{}", std::process::id());
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
