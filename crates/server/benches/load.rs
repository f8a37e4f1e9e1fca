//! Load test of the HTTP API (issue 6): admission steps and transfer approvals from 16 concurrent tasks for
//! `TUANJI_LOAD_SECONDS` seconds (default 30), in-process against the engine and over HTTP on loopback, on a fresh
//! database per backend. Run with `cargo bench -p tuanji-server --bench load`; add
//! `TUANJI_BENCH_POSTGRES_URL=postgres://…/postgres` for PostgreSQL (the bench creates a database
//! `tuanji_bench_load_<pid>` on that server and drops it afterwards).
//!
//! The mix, 1:1, each task alternating (half the tasks start with each kind), every operation on a fresh target:
//! - `record_talk` (谈话) on an applicant who has just applied, by the branch secretary (团支部书记) of `S001-G1`;
//! - `approve` by the school committee (`S001`, 基层团委) of a graduate's member-initiated transfer request
//!   (组织关系转接) to the university branch `U001-B1` (the outgoing side's approval; the university's is left).
//!
//! Phases, each on its own targets:
//! - A, in-process: 16 tokio tasks call `Engine::step` / `Engine::relation` directly, as the actor the server builds
//!   from the same bearer tokens (same grants, same access checks).
//! - B, HTTP: `tuanji_server::serve` on `127.0.0.1:0` in this process; 16 client tasks, one reqwest client (one
//!   kept-alive connection) each, bearer tokens, an `Idempotency-Key` on every request. On top of the command, each
//!   request authenticates its token (one read), claims and completes its idempotency key (two writes) and reads
//!   the instance version for the `ETag`.
//! - C, HTTP against the real server binary (`tuanji serve`, a child process on the same database) when it is built
//!   (`cargo build --release -p tuanji-cli`; or name it with `TUANJI_LOAD_SERVER_BIN`): the same load, and the
//!   child's own resident memory.
//!
//! Every operation must succeed (200 over HTTP): anything else is printed and the bench exits with status 1.
//! Targets are seeded before each phase (graduates with plain SQL and `Engine::graduate`, applications and transfer
//! requests through the engine); how many is calibrated from the seeding rate, and a phase that runs out fails.

#[path = "../../engine/benches/common/mod.rs"]
mod common;

use common::{d, person, CHUNK};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tuanji_domain::check_character;
use tuanji_engine::access::Role;
use tuanji_engine::admission::{AdmissionCommand, Application};
use tuanji_engine::relation::RelationCommand;
use tuanji_engine::{with_engine, Actor, AnyEngine};
use tuanji_workflow::relation::{Destination, Initiator};
use uuid::Uuid;

/// Concurrent tasks (and HTTP connections).
const TASKS: usize = 16;
/// Targets of the calibration batch (per kind).
const CALIBRATION: usize = 400;
/// Phase A targets per kind = seconds × calibrated seeding rate (pairs/s) × this.
const HEADROOM: f64 = 3.0;

/// The organisation tree: the school of the test suite (SCHOOL_ORGS_CSV) with one non-graduating branch for
/// applicants and four graduating classes (one per seeding batch), and the university of RELATION_ORGS_CSV.
const ORGS: &str = "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
    CYLC,共青团中央,central,,,,,\n\
    110105,共青团北京市朝阳区委员会,county,CYLC,,,,\n\
    S001,共青团北京市第八十中学委员会,basic_committee,110105,true,,,\n\
    S001-G1,高一(2)班团支部,branch,S001,,senior_high,false,\n\
    S001-GK,高三(1)班团支部,branch,S001,,senior_high,true,50\n\
    S001-GA,高三(2)班团支部,branch,S001,,senior_high,true,50\n\
    S001-GB,高三(3)班团支部,branch,S001,,senior_high,true,50\n\
    S001-GC,高三(4)班团支部,branch,S001,,senior_high,true,50\n\
    U001,共青团北京大学委员会,basic_committee,110105,true,university,,\n\
    U001-B1,本科2026级1班团支部,branch,U001,,university,,\n";
/// Where applicants apply.
const APPLICANT_BRANCH: &str = "S001-G1";
/// The school committee (approves the outgoing side of the transfers).
const SCHOOL: &str = "S001";
/// The branch the graduates ask to move to.
const UNIVERSITY_BRANCH: &str = "U001-B1";

/// `record_talk` over HTTP.
const TALK_JSON: &str = r#"{"command":"record_talk","date":"2026-03-10","by":"王老师"}"#;
/// `approve` by the school committee over HTTP.
const APPROVE_JSON: &str = r#"{"command":"approve","date":"2026-08-03","org":"S001"}"#;

/// Applicant `i`'s resident ID (region 110105, born from 2010-09-01, 1,000 per day: 15 or older on 2026-03-02).
fn applicant(i: usize) -> String {
    let birth = d(2010, 9, 1) + chrono::Days::new((i / 1000) as u64);
    let first17 = format!("110105{}{:03}", birth.format("%Y%m%d"), i % 1000);
    let check = check_character(&first17).expect("17 digits");
    format!("{first17}{check}")
}

/// A plain-SQL pool on the bench database (seeding graduates).
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Seeds members `person(from..from + n)` into branch `$branch` (its id) with multi-row INSERTs in one transaction
/// (as `seed_members!` of the engine benches, from an offset).
macro_rules! seed_graduates {
    ($pool:expr, $db:ty, $branch:expr, $from:expr, $n:expr) => {{
        let mut tx = $pool.begin().await.expect("begin");
        let ids: Vec<usize> = ($from..$from + $n).collect();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<(Uuid, String, tuanji_domain::Date, &str)> = chunk
                .iter()
                .map(|&i| {
                    let (rid, birth, sex) = person(i);
                    (Uuid::now_v7(), rid, birth, sex)
                })
                .collect();
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO persons (id, resident_id, name, sex, birth_date) ",
            );
            q.push_values(rows.iter(), |mut b, r| {
                b.push_bind(r.0)
                    .push_bind(r.1.clone())
                    .push_bind("毕业生")
                    .push_bind(r.3)
                    .push_bind(r.2);
            });
            q.build().execute(&mut *tx).await.expect("persons");
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO members (person_id, branch_id, membership_date, standing, source) ",
            );
            q.push_values(rows.iter(), |mut b, r| {
                b.push_bind(r.0)
                    .push_bind($branch)
                    .push_bind(d(2025, 5, 4))
                    .push_bind("member")
                    .push_bind("legacy");
            });
            q.build().execute(&mut *tx).await.expect("members");
        }
        tx.commit().await.expect("commit seed");
    }};
}

/// Targets handed out once each, in order.
struct Pool {
    items: Vec<String>,
    next: AtomicUsize,
}

impl Pool {
    fn new(items: Vec<String>) -> Arc<Pool> {
        Arc::new(Pool {
            items,
            next: AtomicUsize::new(0),
        })
    }

    fn take(&self) -> Option<String> {
        self.items
            .get(self.next.fetch_add(1, Ordering::Relaxed))
            .cloned()
    }
}

/// The two kinds of operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Talk,
    Approve,
}

/// What one operation returned: the HTTP status (none in-process) and success or what went wrong.
type Outcome = (Option<u16>, Result<(), String>);
/// One operation of task `usize` on a target.
type Op =
    Arc<dyn Fn(usize, Kind, String) -> Pin<Box<dyn Future<Output = Outcome> + Send>> + Send + Sync>;

/// The figures of one phase.
#[derive(Default)]
struct Tally {
    /// Latency of each successful operation, µs.
    all: Vec<u64>,
    talk: Vec<u64>,
    approve: Vec<u64>,
    /// Failed operations (first few kept in `errors`).
    failed: u64,
    errors: Vec<String>,
    statuses: BTreeMap<u16, u64>,
    /// Whether a task found no fresh target left.
    ran_out: bool,
    elapsed: Duration,
    /// Peak resident memory during the phase, KiB.
    rss_peak: Option<u64>,
}

impl Tally {
    fn ops_per_s(&self) -> f64 {
        self.all.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn ok(&self) -> bool {
        self.failed == 0 && !self.ran_out
    }
}

/// The `q`-th percentile (0–100) of sorted figures, in milliseconds.
fn pct(sorted: &[u64], q: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[(sorted.len() * q / 100).min(sorted.len() - 1)] as f64 / 1000.0
}

/// VmRSS of `/proc/{pid}/status` (`self` for this process), KiB.
fn vmrss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Samples `pid`'s VmRSS every 100 ms until `stop`; the peak, KiB.
fn sample_rss(pid: String, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Option<u64>> {
    tokio::spawn(async move {
        let mut peak = None;
        loop {
            peak = peak.max(vmrss_kib(&pid));
            if stop.load(Ordering::Relaxed) {
                return peak;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// Runs `op` from [`TASKS`] tasks for `seconds`, alternating the kinds, each on a fresh target; samples the
/// resident memory of `rss_pid` meanwhile.
async fn load(
    seconds: u64,
    talks: Arc<Pool>,
    approvals: Arc<Pool>,
    op: Op,
    rss_pid: &str,
) -> Tally {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_rss(rss_pid.to_owned(), stop.clone());
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let (talks, approvals, op) = (talks.clone(), approvals.clone(), op.clone());
        handles.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let mut n = task;
            while Instant::now() < deadline {
                let kind = if n % 2 == 0 {
                    Kind::Talk
                } else {
                    Kind::Approve
                };
                n += 1;
                let Some(target) = (match kind {
                    Kind::Talk => talks.take(),
                    Kind::Approve => approvals.take(),
                }) else {
                    t.ran_out = true;
                    break;
                };
                let began = Instant::now();
                let (status, res) = op(task, kind, target).await;
                let us = began.elapsed().as_micros() as u64;
                if let Some(s) = status {
                    *t.statuses.entry(s).or_default() += 1;
                }
                match res {
                    Ok(()) => {
                        t.all.push(us);
                        match kind {
                            Kind::Talk => t.talk.push(us),
                            Kind::Approve => t.approve.push(us),
                        }
                    }
                    Err(e) => {
                        t.failed += 1;
                        if t.errors.len() < 5 {
                            t.errors.push(e);
                        }
                    }
                }
            }
            t
        }));
    }
    let mut total = Tally::default();
    for h in handles {
        let t = h.await.expect("load task");
        total.all.extend(t.all);
        total.talk.extend(t.talk);
        total.approve.extend(t.approve);
        total.failed += t.failed;
        total.errors.extend(t.errors);
        for (s, c) in t.statuses {
            *total.statuses.entry(s).or_default() += c;
        }
        total.ran_out |= t.ran_out;
    }
    total.elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    total.rss_peak = sampler.await.expect("sampler");
    total.all.sort_unstable();
    total.talk.sort_unstable();
    total.approve.sort_unstable();
    total
}

/// The in-process operation: the engine's command as the caller's actor.
fn engine_op(e: AnyEngine, secretary: Actor, committee: Actor) -> Op {
    let talk = AdmissionCommand::RecordTalk {
        date: d(2026, 3, 10),
        by: "王老师".into(),
    };
    let approve = RelationCommand::Approve {
        date: d(2026, 8, 3),
        org: SCHOOL.into(),
    };
    Arc::new(move |_, kind, target| {
        let (e, secretary, committee, talk, approve) = (
            e.clone(),
            secretary.clone(),
            committee.clone(),
            talk.clone(),
            approve.clone(),
        );
        Box::pin(async move {
            let res = match kind {
                Kind::Talk => with_engine!(&e, e => e.step(&secretary, &target, &talk).await)
                    .map_err(|err| format!("record_talk: {err}"))
                    .and_then(|o| {
                        (o.to == "applicant")
                            .then_some(())
                            .ok_or_else(|| format!("record_talk ended in {}", o.to))
                    }),
                Kind::Approve => {
                    with_engine!(&e, e => e.relation(&committee, &target, &approve).await)
                        .map_err(|err| format!("approve: {err}"))
                        .and_then(|o| {
                            (o.to == "transfer_requested")
                                .then_some(())
                                .ok_or_else(|| format!("approve ended in {}", o.to))
                        })
                }
            };
            (None, res)
        })
    })
}

/// The HTTP operation: one client (one kept-alive connection) per task, a bearer token per kind, a fresh
/// `Idempotency-Key` per request; only 200 counts as success.
fn http_op(base: String, secretary: String, committee: String, phase: &'static str) -> Op {
    let clients: Arc<Vec<reqwest::Client>> = Arc::new(
        (0..TASKS)
            .map(|_| {
                reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .tcp_nodelay(true)
                    .build()
                    .expect("a client")
            })
            .collect(),
    );
    let counter = Arc::new(AtomicU64::new(0));
    Arc::new(move |task, kind, target| {
        let client = clients[task].clone();
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let (url, token, body) = match kind {
            Kind::Talk => (
                format!("{base}/api/v1/applications/{target}/steps"),
                secretary.clone(),
                TALK_JSON,
            ),
            Kind::Approve => (
                format!("{base}/api/v1/members/{target}/relation"),
                committee.clone(),
                APPROVE_JSON,
            ),
        };
        Box::pin(async move {
            let sent = client
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .header("idempotency-key", format!("load-{phase}-{n}"))
                .body(body)
                .send()
                .await;
            match sent {
                Err(e) => (None, Err(format!("transport: {e}"))),
                Ok(r) => {
                    let status = r.status().as_u16();
                    let text = r.text().await.unwrap_or_default();
                    if status == 200 {
                        (Some(status), Ok(()))
                    } else {
                        let short: String = text.chars().take(300).collect();
                        (Some(status), Err(format!("{status}: {short}")))
                    }
                }
            }
        })
    })
}

/// What the phases share: the engine, the raw pool, counters of used applicants and graduates, and the trusted
/// actor of the seeding.
struct Ctx {
    e: AnyEngine,
    raw: Raw,
    next_applicant: AtomicUsize,
    next_graduate: AtomicUsize,
}

/// Seeds `n` targets of each kind: `n` applications at [`APPLICANT_BRANCH`], and `n` members of the graduating
/// `branch` (plain SQL), graduated on 2026-07-01, each with a member-initiated transfer request to
/// [`UNIVERSITY_BRANCH`] dated 2026-08-01. Returns both pools and the time the engine calls took (applications
/// and requests, from [`TASKS`] tasks).
async fn seed(ctx: &Arc<Ctx>, branch: &str, n: usize) -> (Vec<String>, Vec<String>, Duration) {
    let from = ctx.next_graduate.fetch_add(n, Ordering::Relaxed);
    let b = with_engine!(&ctx.e, e => e.mark_graduating(branch, d(2026, 7, 1)).await)
        .expect("mark graduating");
    match &ctx.raw {
        Raw::Sqlite(p) => seed_graduates!(p, sqlx::Sqlite, b.id, from, n),
        Raw::Postgres(p) => seed_graduates!(p, sqlx::Postgres, b.id, from, n),
    }
    let trusted = Actor::new("bench");
    let report =
        with_engine!(&ctx.e, e => e.graduate(&trusted, branch, d(2026, 7, 1), &|_, _| {}).await)
            .expect("graduate");
    assert_eq!(report.graduated, n, "every seeded member graduated");
    let graduates: Vec<String> = (from..from + n).map(|i| person(i).0).collect();
    let first = ctx.next_applicant.fetch_add(n, Ordering::Relaxed);
    let applicants: Vec<String> = (first..first + n).map(applicant).collect();
    let (apps, grads) = (Pool::new(applicants.clone()), Pool::new(graduates.clone()));
    let t = Instant::now();
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let (ctx, apps, grads) = (ctx.clone(), apps.clone(), grads.clone());
        handles.push(tokio::spawn(async move {
            let trusted = Actor::new("bench");
            let member = Actor::with_role("bench", "member");
            let request = RelationCommand::RequestTransfer {
                date: d(2026, 8, 1),
                to: UNIVERSITY_BRANCH.into(),
                destination: Destination::FurtherStudy,
                initiator: Initiator::Member,
                org: None,
            };
            let mut k = task;
            loop {
                k += 1;
                let mut progressed = false;
                for turn in [k % 2, (k + 1) % 2] {
                    if turn == 0 {
                        if let Some(rid) = apps.take() {
                            let app = Application {
                                branch: APPLICANT_BRANCH.into(),
                                resident_id: rid,
                                name: "申请人".into(),
                                ethnicity: Some("汉族".into()),
                                class: Some("高一(2)班".into()),
                                date: d(2026, 3, 2),
                            };
                            with_engine!(&ctx.e, e => e.apply(&trusted, &app).await)
                                .expect("apply");
                            progressed = true;
                            break;
                        }
                    } else if let Some(rid) = grads.take() {
                        with_engine!(&ctx.e, e => e.relation(&member, &rid, &request).await)
                            .expect("request_transfer");
                        progressed = true;
                        break;
                    }
                }
                if !progressed {
                    break;
                }
            }
        }));
    }
    for h in handles {
        h.await.expect("seeding task");
    }
    (applicants, graduates, t.elapsed())
}

/// A principal holding `role` on `target`, its token, and the actor the server makes of it.
async fn principal(e: &AnyEngine, name: &str, role: Role, target: &str) -> (String, Actor) {
    with_engine!(e, e => async {
        e.principal_add(name).await.expect("principal");
        e.grant(name, role, target).await.expect("grant");
        let token = e.token_create(name, "load").await.expect("token").1;
        let actor = e.authenticate(&token).await.expect("authenticated").actor();
        (token, actor)
    }.await)
}

/// The server binary for phase C, if built.
fn server_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TUANJI_LOAD_SERVER_BIN") {
        return Some(PathBuf::from(p));
    }
    let mut candidates = Vec::new();
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("release/tuanji"));
    }
    candidates.push(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/release/tuanji"
    )));
    // A binary built before `serve` existed does not count.
    candidates.into_iter().find(|p| {
        p.is_file()
            && std::process::Command::new(p)
                .args(["serve", "--help"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    })
}

/// The real server as a child process (stopped with SIGTERM when dropped).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// Starts `bin serve` on a free loopback port over `url`; waits until `/healthz` answers.
async fn start_child(bin: &PathBuf, url: &str) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("TUANJI_DATABASE_URL", url)
        .env_remove("TUANJI_AUDIT_KEY")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let child = Child(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return (child, base);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server binary did not answer /healthz within 10 s");
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn row(label: &str, t: &Tally) {
    println!(
        "  {label:<26} {:>8} {:>9.1} {:>8.2} {:>8.2}   {:>7.2} {:>7.2}   {:>7.2} {:>7.2} {:>7}",
        t.all.len(),
        t.ops_per_s(),
        pct(&t.all, 50),
        pct(&t.all, 99),
        pct(&t.talk, 50),
        pct(&t.talk, 99),
        pct(&t.approve, 50),
        pct(&t.approve, 99),
        t.failed + u64::from(t.ran_out),
    );
}

fn problems(label: &str, t: &Tally) {
    if !t.statuses.is_empty() {
        println!("  {label}: statuses {:?}", t.statuses);
    }
    if t.ran_out {
        println!("  {label}: RAN OUT of seeded targets before the end (raise HEADROOM)");
    }
    for e in &t.errors {
        println!("  {label}: ERROR {e}");
    }
}

/// One backend: setup, the three phases, the table. Returns whether every operation succeeded.
async fn run(url: &str, seconds: u64) -> bool {
    let e = AnyEngine::connect(url)
        .await
        .expect("connect")
        .with_today(d(2026, 11, 30));
    let backend = e.backend();
    with_engine!(&e, e => e.import_org_csv(ORGS.as_bytes(), false).await).expect("orgs");
    with_engine!(&e, e => e.allocate_quota(SCHOOL, 2026, 100, None, d(2026, 1, 5)).await)
        .expect("quota");
    let (sec_token, sec_actor) =
        principal(&e, "secretary", Role::BranchSecretary, APPLICANT_BRANCH).await;
    let (com_token, com_actor) = principal(&e, "committee", Role::CommitteeAdmin, SCHOOL).await;
    let raw = match &e {
        AnyEngine::Sqlite(_) => {
            let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
            let opts = opts
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30));
            Raw::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(opts)
                    .await
                    .expect("raw pool"),
            )
        }
        AnyEngine::Postgres(_) => Raw::Postgres(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .expect("raw pool"),
        ),
    };
    let ctx = Arc::new(Ctx {
        e: e.clone(),
        raw,
        next_applicant: AtomicUsize::new(0),
        next_graduate: AtomicUsize::new(0),
    });

    // Calibration: the seeding rate tells how many targets a phase can use.
    let (mut talks, mut approvals, took) = seed(&ctx, "S001-GK", CALIBRATION).await;
    let pairs_per_s = CALIBRATION as f64 / took.as_secs_f64();
    let need_a = (seconds as f64 * pairs_per_s * HEADROOM).ceil() as usize;
    eprintln!(
        "{backend}: seeding {pairs_per_s:.0} application + transfer request pairs/s; {need_a} more targets per kind for the in-process phase"
    );
    let (t2, a2, _) = seed(&ctx, "S001-GA", need_a).await;
    talks.extend(t2);
    approvals.extend(a2);
    if let Raw::Postgres(p) = &ctx.raw {
        sqlx::query("ANALYZE").execute(p).await.expect("analyze");
    }

    // Phase A: in-process.
    eprintln!("{backend}: phase A, in-process, {seconds} s");
    let a = load(
        seconds,
        Pool::new(talks),
        Pool::new(approvals),
        engine_op(e.clone(), sec_actor, com_actor),
        "self",
    )
    .await;

    // Targets for the HTTP phases: what the in-process phase used, with room to spare.
    let need_http = (a.talk.len().max(a.approve.len()) as f64 * 1.3) as usize + 200;
    eprintln!("{backend}: seeding {need_http} targets per kind for the HTTP phase");
    let (talks_b, approvals_b, _) = seed(&ctx, "S001-GB", need_http).await;
    if let Raw::Postgres(p) = &ctx.raw {
        sqlx::query("ANALYZE").execute(p).await.expect("analyze");
    }

    // Phase B: HTTP, the server in this process.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tuanji_server::serve(e.clone(), listener, async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_idle = vmrss_kib("self");
    eprintln!("{backend}: phase B, HTTP in this process, {seconds} s");
    let b = load(
        seconds,
        Pool::new(talks_b),
        Pool::new(approvals_b),
        http_op(base, sec_token.clone(), com_token.clone(), "b"),
        "self",
    )
    .await;
    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("the server stopped cleanly");

    // Phase C: HTTP against the server binary.
    let c = match server_binary() {
        None => {
            eprintln!("{backend}: phase C skipped: build the server with `cargo build --release -p tuanji-cli` (or set TUANJI_LOAD_SERVER_BIN)");
            None
        }
        Some(bin) => {
            eprintln!("{backend}: seeding {need_http} targets per kind for the server binary");
            let (talks_c, approvals_c, _) = seed(&ctx, "S001-GC", need_http).await;
            if let Raw::Postgres(p) = &ctx.raw {
                sqlx::query("ANALYZE").execute(p).await.expect("analyze");
            }
            let (child, base) = start_child(&bin, url).await;
            let pid = child.0.id().to_string();
            tokio::time::sleep(Duration::from_millis(300)).await;
            let idle = vmrss_kib(&pid);
            eprintln!(
                "{backend}: phase C, HTTP to {} (pid {pid}), {seconds} s",
                bin.display()
            );
            let c = load(
                seconds,
                Pool::new(talks_c),
                Pool::new(approvals_c),
                http_op(base, sec_token, com_token, "c"),
                &pid,
            )
            .await;
            drop(child);
            Some((c, idle))
        }
    };

    println!();
    println!(
        "{backend}: {TASKS} tasks × {seconds} s, record_talk : approve (transfer, school side) = 1:1, every operation on a fresh target"
    );
    println!(
        "  {:<26} {:>8} {:>9} {:>8} {:>8}   {:>15}   {:>15} {:>7}",
        "", "ops", "ops/s", "p50 ms", "p99 ms", "talk p50/p99", "approve p50/p99", "errors"
    );
    row("A in-process (engine)", &a);
    row("B HTTP (server in process)", &b);
    if let Some((c, _)) = &c {
        row("C HTTP (tuanji serve)", c);
    }
    println!(
        "  HTTP ÷ in-process (B/A): throughput {:.2}, p50 latency {:.2}×, p99 latency {:.2}×",
        b.ops_per_s() / a.ops_per_s(),
        pct(&b.all, 50) / pct(&a.all, 50),
        pct(&b.all, 99) / pct(&a.all, 99)
    );
    if let Some((c, _)) = &c {
        println!(
            "  HTTP ÷ in-process (C/A): throughput {:.2}, p50 latency {:.2}×, p99 latency {:.2}×",
            c.ops_per_s() / a.ops_per_s(),
            pct(&c.all, 50) / pct(&a.all, 50),
            pct(&c.all, 99) / pct(&a.all, 99)
        );
    }
    println!(
        "  RSS of this process (engine + server + 16 clients + seeded target lists): in-process phase peak {}; server started, idle {}; HTTP load peak {}",
        mib(a.rss_peak),
        mib(rss_idle),
        mib(b.rss_peak)
    );
    if let Some((c, idle)) = &c {
        println!(
            "  RSS of tuanji serve (child process, server only): idle {}; under load peak {}",
            mib(*idle),
            mib(c.rss_peak)
        );
    }
    problems("A", &a);
    problems("B", &b);
    if let Some((c, _)) = &c {
        problems("C", c);
    }
    drop(e);
    match &ctx.raw {
        Raw::Sqlite(p) => p.close().await,
        Raw::Postgres(p) => p.close().await,
    }
    a.ok() && b.ok() && c.as_ref().is_none_or(|(c, _)| c.ok())
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("TUANJI_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ok = run(
        &format!("sqlite://{}", dir.path().join("load.db").display()),
        seconds,
    )
    .await;
    if let Ok(admin) = std::env::var("TUANJI_BENCH_POSTGRES_URL") {
        use sqlx::Executor;
        let name = format!("tuanji_bench_load_{}", std::process::id());
        let pool = sqlx::PgPool::connect(&admin).await.expect("connect admin");
        pool.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        ok &= run(&format!("{base}/{name}"), seconds).await;
        pool.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
            .await
            .expect("drop database");
        pool.close().await;
    }
    if !ok {
        eprintln!("load: some operations failed (see above)");
        std::process::exit(1);
    }
}
