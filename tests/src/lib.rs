//! The end-to-end test harness of Tuanji: one story per rule, told against each backend (SQLite and
//! PostgreSQL), like atuin's `tests-database` and crates.io's `TestApp`.
//!
//! - [`TestApp::new`] opens an engine on a fresh database: a temporary SQLite file, or a new PostgreSQL
//!   database `tuanji_t_<uuid>` created through the admin URL in `TUANJI_TEST_POSTGRES_URL`.
//! - Builder steps: [`TestApp::with_school`] (an organisation tree and legacy members per branch),
//!   [`TestApp::with_quota`] (development numbers for a committee).
//! - [`TestApp::advance`] runs an applicant through the standard 2026 procedure up to a [`Stage`].
//! - [`both_backends!`] writes one test body once and expands it to a `sqlite` and a `postgres` test.
//!
//! "Today" is fixed at [`TODAY`] (2026-11-30, a date in China Standard Time) for every engine.

pub mod http;

use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tempfile::TempDir;
use tuanji_domain::{check_character, Date, RuleViolation};
use tuanji_engine::admission::{AdmissionCommand, Application, StepOutcome};
use tuanji_engine::orgs::OrgImportReport;
use tuanji_engine::query::{MemberView, ReplayReport};
use tuanji_engine::quota::QuotaReport;
use tuanji_engine::relation::{
    GraduationReport, RelationCommand, RelationOutcome, SweepReport, TransferView,
};
use tuanji_engine::roster::RosterReport;
use tuanji_engine::{with_engine, Actor, AnyEngine, Engine, EngineError, EngineResult};
use tuanji_store::{BranchCounts, LogRow, Store, StoreTx};
use tuanji_store_postgres::PgStore;
use tuanji_store_sqlite::SqliteStore;

pub use tuanji_engine;

/// Environment variable with the PostgreSQL admin URL, e.g. `postgres://postgres:tuanji@127.0.0.1:5432/postgres`.
pub const POSTGRES_URL_ENV: &str = "TUANJI_TEST_POSTGRES_URL";

/// Environment variable that turns a missing PostgreSQL into a failure (`1`), as in CI.
pub const REQUIRE_POSTGRES_ENV: &str = "TUANJI_REQUIRE_POSTGRES";

/// Prefix of the databases the tests create.
pub const DB_PREFIX: &str = "tuanji_t_";

/// Leftover test databases older than this are dropped when a test starts (best effort).
pub const LEFTOVER_AGE: Duration = Duration::from_secs(30 * 60);

/// The code of the root, 共青团中央.
pub const ROOT: &str = "CYLC";
/// The county committee (共青团北京市朝阳区委员会).
pub const COUNTY: &str = "110105";
/// The school's basic-level committee (基层团委): approves activists and admissions.
pub const SCHOOL: &str = "S001";
/// Another school's committee: approves admissions, but not over [`SCHOOL`]'s branches.
pub const OTHER_SCHOOL: &str = "S002";
/// Junior-high graduating branch (初三毕业班), class of [`JUNIOR_CLASS_SIZE`]; 5 legacy members.
pub const JUNIOR: &str = "S001-J9";
/// Senior-high graduating branch (高三毕业班), class of [`SENIOR_CLASS_SIZE`]; 3 legacy members.
pub const SENIOR: &str = "S001-G3";
/// A non-graduating senior-high branch (no class cap): 5 members in good standing and 1 on probation.
pub const NON_GRADUATING: &str = "S001-G1";
/// Students in the junior-high graduating class.
pub const JUNIOR_CLASS_SIZE: u32 = 20;
/// Students in the senior-high graduating class.
pub const SENIOR_CLASS_SIZE: u32 = 10;

/// The organisation tree of [`TestApp::with_school`], as an organisation CSV.
pub const SCHOOL_ORGS_CSV: &str =
    "code,name,kind,parent,approves_admissions,school_level,graduating,class_size
CYLC,共青团中央,central,,,,,
110105,共青团北京市朝阳区委员会,county,CYLC,,,,
S001,共青团北京市第八十中学委员会,basic_committee,110105,true,,,
S001-J9,初三(1)班团支部,branch,S001,,junior_high,true,20
S001-G3,高三(1)班团支部,branch,S001,,senior_high,true,10
S001-G1,高一(2)班团支部,branch,S001,,senior_high,false,
S002,共青团北京市第九十四中学委员会,basic_committee,110105,true,,,
";

/// Organisations added by [`TestApp::with_relation_orgs`] (after [`SCHOOL_ORGS_CSV`]): the school's
/// mobile-member branch, a university with a branch, a street committee with a branch, and an employer's
/// committee with a branch.
pub const RELATION_ORGS_CSV: &str =
    "code,name,kind,parent,approves_admissions,school_level,graduating,class_size,mobile_members
S001-M,流动团员团支部,branch,S001,,,,,true
U001,共青团北京大学委员会,basic_committee,110105,true,university,,,
U001-B1,本科2026级1班团支部,branch,U001,,university,,,
T001,共青团朝阳区某街道委员会,township,110105,,,,,
T001-B1,某社区团支部,branch,T001,,,,,
E001,共青团某公司委员会,basic_committee,110105,true,,,,
E001-B1,某公司研发部团支部,branch,E001,,,,,
";
/// The school's mobile-member branch (流动团员团支部) of [`RELATION_ORGS_CSV`].
pub const MOBILE: &str = "S001-M";
/// A university committee (a school organisation).
pub const UNIVERSITY: &str = "U001";
/// A branch of [`UNIVERSITY`].
pub const UNIVERSITY_BRANCH: &str = "U001-B1";
/// A street (township-level) committee: not a school organisation.
pub const STREET: &str = "T001";
/// A branch of [`STREET`].
pub const STREET_BRANCH: &str = "T001-B1";
/// An employer's committee.
pub const EMPLOYER: &str = "E001";
/// A branch of [`EMPLOYER`].
pub const EMPLOYER_BRANCH: &str = "E001-B1";
/// The graduation date [`TestApp::with_graduates`] uses for [`SENIOR`].
pub const GRADUATION: (i32, u32, u32) = (2026, 7, 1);

/// The date every engine of the harness takes as today: 2026-11-30.
pub const TODAY: (i32, u32, u32) = (2026, 11, 30);

/// A calendar date (China Standard Time). Panics on an invalid date: test data only.
pub fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd_opt(y, m, day).unwrap_or_else(|| panic!("invalid test date {y}-{m}-{day}"))
}

/// [`TODAY`] as a date.
pub fn today() -> Date {
    d(TODAY.0, TODAY.1, TODAY.2)
}

/// A valid 18-character resident ID: region `region` (6 digits), birth date, 3-digit sequence `seq`
/// (odd = male), and the ISO 7064 MOD 11-2 check character.
pub fn resident_id(region: &str, birth: Date, seq: u32) -> String {
    let first17 = format!("{region}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let check = check_character(&first17).unwrap_or_else(|| panic!("not 17 digits: {first17}"));
    format!("{first17}{check}")
}

/// The same first 17 characters with a wrong check character (ID_CHECKSUM).
pub fn with_wrong_check(rid: &str) -> String {
    let (first17, check) = rid.split_at(17);
    let wrong = if check == "1" { '2' } else { '1' };
    format!("{first17}{wrong}")
}

/// A test database backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `TUANJI_TEST_POSTGRES_URL`.
    Postgres,
}

impl Backend {
    /// `"sqlite"` or `"postgres"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The procedure's steps in order, as [`TestApp::advance`] runs them with the standard 2026 dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Nothing recorded yet.
    None,
    /// `apply` on 2026-03-02.
    Applied,
    /// `record_talk` on 2026-03-10.
    Talked,
    /// `approve_activist` by [`SCHOOL`] on 2026-04-10.
    Activist,
    /// `assign_mentors` on 2026-04-13: the branch's first legacy member.
    Mentored,
    /// 8 `record_class` of 45 minutes, 2026-04-20 … 2026-06-15 (all before 06-30).
    Trained,
    /// `determine_target` on 2026-07-13.
    Target,
    /// `prereview` by [`SCHOOL`] on 2026-09-07.
    Prereviewed,
    /// `publicise` on 2026-09-28 (ends 2026-10-09).
    Publicised,
    /// `submit_form` on 2026-10-12, opinions 2026-10-13, sponsors: the branch's 2nd and 3rd legacy members.
    FormSubmitted,
    /// `hold_meeting` on 2026-10-16, every entitled member present and voting yes (state `branch_approved`).
    BranchApproved,
    /// `approve` by [`SCHOOL`] on 2026-10-23 (state `admitted`).
    Admitted,
    /// `record_oath` on 2026-11-04.
    Oath,
    /// `file_archive` on 2026-11-10 (a small PDF).
    Archived,
}

impl Stage {
    /// Every stage after [`Stage::None`], in order.
    pub const ALL: [Stage; 13] = [
        Stage::Applied,
        Stage::Talked,
        Stage::Activist,
        Stage::Mentored,
        Stage::Trained,
        Stage::Target,
        Stage::Prereviewed,
        Stage::Publicised,
        Stage::FormSubmitted,
        Stage::BranchApproved,
        Stage::Admitted,
        Stage::Oath,
        Stage::Archived,
    ];

    /// Log entries written by this stage's commands.
    pub fn entries(self) -> usize {
        match self {
            Stage::None => 0,
            Stage::Trained => CLASS_DATES.len(),
            _ => 1,
        }
    }
}

/// The dates of the 8 League classes of [`Stage::Trained`].
pub const CLASS_DATES: [(u32, u32); 8] = [
    (4, 20),
    (4, 27),
    (5, 11),
    (5, 18),
    (5, 25),
    (6, 1),
    (6, 8),
    (6, 15),
];

/// A small valid PDF (starts with `%PDF-`).
pub fn small_pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// An applicant the harness created: resident ID, branch, and how far [`TestApp::advance`] took them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    /// The resident ID (full: test data only).
    pub rid: String,
    /// Branch code.
    pub branch: String,
    /// Birth date.
    pub birth: Date,
    /// The last stage run.
    pub stage: Stage,
}

/// Row counts of the main tables: what a refused command or a failed import must leave unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// `persons`.
    pub persons: i64,
    /// `instances`.
    pub instances: i64,
    /// `members`.
    pub members: i64,
    /// `development_numbers`.
    pub numbers: i64,
    /// `transition_log`.
    pub log: i64,
    /// `organisations`.
    pub orgs: i64,
    /// Sum of `quota_allocations.used`.
    pub numbers_used: i64,
}

/// The state of one applicant plus the table counts, for "nothing was written" checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The latest admission instance's state and version, if any.
    pub instance: Option<(String, i64)>,
    /// The person's member row standing, if a member.
    pub member: Option<String>,
    /// Table counts.
    pub counts: Counts,
}

/// The legacy members of a branch created by [`TestApp::with_school`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BranchMembers {
    /// Members in good standing (resident IDs).
    pub good: Vec<String>,
    /// Members on probation (留团察看).
    pub on_probation: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct School {
    junior: BranchMembers,
    senior: BranchMembers,
    non_graduating: BranchMembers,
}

#[derive(Clone)]
enum RawPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

struct Resources {
    backend: Backend,
    _dir: Option<TempDir>,
    pg: Option<(String, String)>,
    next_seq: AtomicU32,
    next_legacy_serial: AtomicU32,
}

/// One test's engine on its own fresh database. Cheap to clone (clones share the database); the original is
/// closed with [`TestApp::finish`].
#[derive(Clone)]
pub struct TestApp {
    engine: AnyEngine,
    raw: RawPool,
    res: Arc<Resources>,
    school: Option<Arc<School>>,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("backend", &self.res.backend)
            .finish_non_exhaustive()
    }
}

/// The actor of the harness's commands.
pub fn actor() -> Actor {
    Actor::new("tester")
}

/// The rule violation of a refused command; panics (with the outcome) when it was accepted or refused otherwise.
#[track_caller]
pub fn expect_rule<T: std::fmt::Debug>(r: EngineResult<T>, code: &str) -> RuleViolation {
    match r {
        Err(EngineError::Rule(v)) => {
            assert_eq!(v.code.as_str(), code, "refused with another rule: {v}");
            v
        }
        Err(other) => panic!("expected a {code} refusal, got error {other:?}"),
        Ok(v) => panic!("expected a {code} refusal, but the command was accepted: {v:?}"),
    }
}

/// The value of an accepted command; panics with the error otherwise.
#[track_caller]
pub fn expect_ok<T>(r: EngineResult<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what} was refused: {e} ({e:?})"),
    }
}

async fn admin_pool(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_ENV}: {e}"))
}

/// Drops `tuanji_t_*` databases that older runs left behind (created more than [`LEFTOVER_AGE`] ago, read
/// from the UUID v7 in the name). Best effort: errors are ignored.
async fn drop_leftovers(admin: &PgPool) {
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'tuanji\\_t\\_%'",
    )
    .fetch_all(admin)
    .await
    {
        Ok(n) => n,
        Err(_) => return,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    for name in names {
        let Some(hex) = name.strip_prefix(DB_PREFIX) else {
            continue;
        };
        let Ok(id) = uuid::Uuid::parse_str(hex) else {
            continue;
        };
        let Some(ts) = id.get_timestamp() else {
            continue;
        };
        let (secs, _) = ts.to_unix();
        if now.as_secs().saturating_sub(secs) > LEFTOVER_AGE.as_secs() {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(admin)
                .await;
        }
    }
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

static LEFTOVERS: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

impl TestApp {
    /// An engine on a fresh, empty database of `backend`. Panics when the backend is unavailable.
    pub async fn new(backend: Backend) -> TestApp {
        match TestApp::try_new(backend).await {
            Some(app) => app,
            None => panic!("{POSTGRES_URL_ENV} is not set"),
        }
    }

    /// Like [`TestApp::new`], but `None` (after printing "skipped: …") for PostgreSQL when
    /// `TUANJI_TEST_POSTGRES_URL` is unset — unless `TUANJI_REQUIRE_POSTGRES=1`, which panics instead.
    pub async fn try_new(backend: Backend) -> Option<TestApp> {
        let res;
        let engine;
        let raw;
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("t.db");
                let url = format!("sqlite://{}", path.display());
                let store = SqliteStore::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("open {url}: {e}"));
                engine = AnyEngine::Sqlite(
                    Engine::new(store)
                        .expect("the shipped workflows load")
                        .with_today(today()),
                );
                let opts = SqliteConnectOptions::from_str(&url)
                    .expect("a SQLite URL")
                    .read_only(true);
                raw = RawPool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .connect_with(opts)
                        .await
                        .expect("a raw SQLite reader"),
                );
                res = Resources {
                    backend,
                    _dir: Some(dir),
                    pg: None,
                    next_seq: AtomicU32::new(1),
                    next_legacy_serial: AtomicU32::new(1),
                };
            }
            Backend::Postgres => {
                let admin_url = match std::env::var(POSTGRES_URL_ENV) {
                    Ok(u) if !u.trim().is_empty() => u,
                    _ => {
                        if std::env::var(REQUIRE_POSTGRES_ENV).as_deref() == Ok("1") {
                            panic!("{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_URL_ENV} is not set");
                        }
                        println!("skipped: {POSTGRES_URL_ENV} not set");
                        return None;
                    }
                };
                let admin = admin_pool(&admin_url).await;
                LEFTOVERS.get_or_init(|| drop_leftovers(&admin)).await;
                let name = format!("{DB_PREFIX}{}", uuid::Uuid::now_v7().simple());
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
                admin.close().await;
                let url = with_database(&admin_url, &name);
                let store = PgStore::connect(&url, 10)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {name}: {e}"));
                engine = AnyEngine::Postgres(
                    Engine::new(store)
                        .expect("the shipped workflows load")
                        .with_today(today()),
                );
                let opts = PgConnectOptions::from_str(&url).expect("a PostgreSQL URL");
                raw = RawPool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(1)
                        .connect_with(opts)
                        .await
                        .expect("a raw PostgreSQL connection"),
                );
                res = Resources {
                    backend,
                    _dir: None,
                    pg: Some((admin_url, name)),
                    next_seq: AtomicU32::new(1),
                    next_legacy_serial: AtomicU32::new(1),
                };
            }
        }
        Some(TestApp {
            engine,
            raw,
            res: Arc::new(res),
            school: None,
        })
    }

    /// Closes the engine and, for PostgreSQL, drops the test database. Call it once, at the end of the test.
    pub async fn finish(self) {
        with_engine!(&self.engine, e => e.store().close().await);
        match &self.raw {
            RawPool::Sqlite(p) => p.close().await,
            RawPool::Postgres(p) => p.close().await,
        }
        if let Some((admin_url, name)) = &self.res.pg {
            let admin = admin_pool(admin_url).await;
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&admin)
                .await;
            admin.close().await;
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.res.backend
    }

    /// The engine (clone it to run commands from spawned tasks).
    pub fn engine(&self) -> &AnyEngine {
        &self.engine
    }

    // ------------------------------------------------------------------ builder

    /// Imports [`SCHOOL_ORGS_CSV`] (root → county → school committee → three branches, plus another school)
    /// and a legacy-member roster per branch (入团日期 2025-05-04, 团员编号 of 2025): [`JUNIOR`] 5 members,
    /// [`SENIOR`] 3 members, [`NON_GRADUATING`] 5 members in good standing and 1 on probation until 2027-05-03.
    pub async fn with_school(mut self) -> TestApp {
        expect_ok(
            self.import_org_csv(SCHOOL_ORGS_CSV.as_bytes(), false).await,
            "the school organisation CSV",
        );
        let mut school = School::default();
        for (branch, good, probation, birth) in [
            (JUNIOR, 5, 0, d(2011, 3, 1)),
            (SENIOR, 3, 0, d(2008, 3, 1)),
            (NON_GRADUATING, 5, 1, d(2009, 3, 1)),
        ] {
            let mut csv = String::from("姓名,公民身份号码,入团日期,团员编号,留团察看至\n");
            let mut members = BranchMembers::default();
            for i in 0..good + probation {
                let rid = self.new_rid(birth);
                let serial = self.res.next_legacy_serial.fetch_add(1, Ordering::Relaxed);
                let number = format!("2025{serial:08}");
                let until = if i >= good { "2027-05-03" } else { "" };
                csv.push_str(&format!("团员{i},{rid},2025-05-04,{number},{until}\n"));
                if i >= good {
                    members.on_probation.push(rid);
                } else {
                    members.good.push(rid);
                }
            }
            expect_ok(
                self.import_roster(branch, csv.as_bytes(), false).await,
                "a legacy-member roster",
            );
            match branch {
                JUNIOR => school.junior = members,
                SENIOR => school.senior = members,
                _ => school.non_graduating = members,
            }
        }
        self.school = Some(Arc::new(school));
        self
    }

    /// Adds [`RELATION_ORGS_CSV`] (call after [`TestApp::with_school`]).
    pub async fn with_relation_orgs(self) -> TestApp {
        expect_ok(
            self.import_org_csv(RELATION_ORGS_CSV.as_bytes(), false)
                .await,
            "the relation organisation CSV",
        );
        self
    }

    /// [`TestApp::with_school`], [`TestApp::with_relation_orgs`], then [`SENIOR`] marked graduating and
    /// graduated on [`GRADUATION`]: its 3 members are `graduated_pending_transfer`.
    pub async fn with_graduates(self) -> TestApp {
        let app = self.with_school().await.with_relation_orgs().await;
        let on = d(GRADUATION.0, GRADUATION.1, GRADUATION.2);
        expect_ok(
            app.mark_graduating(SENIOR, on).await,
            "marking the senior class graduating",
        );
        let r = expect_ok(
            app.graduate(SENIOR, on).await,
            "graduating the senior class",
        );
        assert_eq!(r.graduated, 3, "the senior class has 3 members");
        app
    }

    /// Allocates `count` development numbers of `year` to `org`, granted by its parent on 2026-01-05.
    pub async fn with_quota(self, org: &str, year: i32, count: i64) -> TestApp {
        expect_ok(
            self.allocate_quota(org, year, count, None, d(2026, 1, 5))
                .await,
            "a quota allocation",
        );
        self
    }

    /// The legacy members of `branch` created by [`TestApp::with_school`].
    pub fn members(&self, branch: &str) -> BranchMembers {
        let school = self.school.as_ref().expect("call with_school() first");
        match branch {
            JUNIOR => school.junior.clone(),
            SENIOR => school.senior.clone(),
            NON_GRADUATING => school.non_graduating.clone(),
            other => panic!("no legacy members in {other}"),
        }
    }

    /// A fresh valid resident ID (region 110105) for someone born on `birth`, unique within this test.
    pub fn new_rid(&self, birth: Date) -> String {
        resident_id(
            "110105",
            birth,
            self.res.next_seq.fetch_add(1, Ordering::Relaxed),
        )
    }

    // ------------------------------------------------------------------ the procedure

    /// A new applicant of `branch` born on 2011-09-01 (14 on 2026-03-02), not yet applied.
    pub fn applicant(&self, branch: &str) -> Applicant {
        self.applicant_born(branch, d(2011, 9, 1))
    }

    /// A new applicant of `branch` born on `birth`, not yet applied.
    pub fn applicant_born(&self, branch: &str, birth: Date) -> Applicant {
        Applicant {
            rid: self.new_rid(birth),
            branch: branch.to_owned(),
            birth,
            stage: Stage::None,
        }
    }

    /// A new applicant of `branch` (born 2011-09-01) taken up to `stage`.
    pub async fn applicant_at(&self, branch: &str, stage: Stage) -> Applicant {
        let mut a = self.applicant(branch);
        self.advance(&mut a, stage).await;
        a
    }

    /// The application of `a` dated `date`.
    pub fn application(a: &Applicant, date: Date) -> Application {
        Application {
            branch: a.branch.clone(),
            resident_id: a.rid.clone(),
            name: "李明".into(),
            ethnicity: Some("汉族".into()),
            class: Some("初三(1)班".into()),
            date,
        }
    }

    /// The commands of `stage` for `a`, with the standard dates (see [`Stage`]). The meeting has every
    /// entitled member of the branch present and voting yes.
    pub async fn commands(&self, a: &Applicant, stage: Stage) -> Vec<AdmissionCommand> {
        match stage {
            Stage::None | Stage::Applied => Vec::new(),
            Stage::Talked => vec![AdmissionCommand::RecordTalk {
                date: d(2026, 3, 10),
                by: "王老师".into(),
            }],
            Stage::Activist => vec![AdmissionCommand::ApproveActivist {
                date: d(2026, 4, 10),
                committee: SCHOOL.into(),
            }],
            Stage::Mentored => vec![AdmissionCommand::AssignMentors {
                date: d(2026, 4, 13),
                members: vec![self.members(&a.branch).good[0].clone()],
                party_members: Vec::new(),
            }],
            Stage::Trained => CLASS_DATES
                .iter()
                .enumerate()
                .map(|(i, (m, day))| AdmissionCommand::RecordClass {
                    date: d(2026, *m, *day),
                    minutes: 45,
                    topic: format!("团课 {}", i + 1),
                })
                .collect(),
            Stage::Target => vec![AdmissionCommand::DetermineTarget {
                date: d(2026, 7, 13),
            }],
            Stage::Prereviewed => vec![AdmissionCommand::Prereview {
                date: d(2026, 9, 7),
                committee: SCHOOL.into(),
            }],
            Stage::Publicised => vec![AdmissionCommand::Publicise {
                date: d(2026, 9, 28),
            }],
            Stage::FormSubmitted => {
                let m = self.members(&a.branch);
                vec![AdmissionCommand::SubmitForm {
                    date: d(2026, 10, 12),
                    sponsors: vec![m.good[1].clone(), m.good[2].clone()],
                    opinion_date: d(2026, 10, 13),
                }]
            }
            Stage::BranchApproved => {
                let entitled = self.branch_counts(&a.branch).await.entitled as u32;
                vec![AdmissionCommand::HoldMeeting {
                    date: d(2026, 10, 16),
                    present: entitled,
                    yes: entitled,
                }]
            }
            Stage::Admitted => vec![AdmissionCommand::Approve {
                date: d(2026, 10, 23),
                committee: SCHOOL.into(),
            }],
            Stage::Oath => vec![AdmissionCommand::RecordOath {
                date: d(2026, 11, 4),
            }],
            Stage::Archived => vec![AdmissionCommand::FileArchive {
                date: d(2026, 11, 10),
                pdf: small_pdf(),
            }],
        }
    }

    /// Runs `a` through every stage after `a.stage` up to `to`; panics if any step is refused.
    pub async fn advance(&self, a: &mut Applicant, to: Stage) {
        for stage in Stage::ALL {
            if stage <= a.stage || stage > to {
                continue;
            }
            if stage == Stage::Applied {
                expect_ok(
                    self.apply(&TestApp::application(a, d(2026, 3, 2))).await,
                    "apply",
                );
            }
            for cmd in self.commands(a, stage).await {
                let what = format!("{stage:?} ({})", cmd.command());
                expect_ok(self.step(&a.rid, &cmd).await, &what);
            }
            a.stage = stage;
        }
    }

    // ------------------------------------------------------------------ engine calls

    /// `Engine::apply` as the harness actor.
    pub async fn apply(&self, app: &Application) -> EngineResult<StepOutcome> {
        with_engine!(&self.engine, e => e.apply(&actor(), app).await)
    }

    /// `Engine::step` as the harness actor, for the person `who` (resident ID, number or instance id).
    pub async fn step(&self, who: &str, cmd: &AdmissionCommand) -> EngineResult<StepOutcome> {
        with_engine!(&self.engine, e => e.step(&actor(), who, cmd).await)
    }

    /// `Engine::relation` as the harness actor in `role` (None: the transition's first role).
    pub async fn relation(
        &self,
        who: &str,
        role: Option<&str>,
        cmd: &RelationCommand,
    ) -> EngineResult<RelationOutcome> {
        let a = Actor {
            name: "tester".into(),
            role: role.map(str::to_owned),
            ..Default::default()
        };
        with_engine!(&self.engine, e => e.relation(&a, who, cmd).await)
    }

    /// `Engine::mark_graduating`.
    pub async fn mark_graduating(
        &self,
        branch: &str,
        on: Date,
    ) -> EngineResult<tuanji_store::OrgRow> {
        with_engine!(&self.engine, e => e.mark_graduating(branch, on).await)
    }

    /// `Engine::graduate` as the harness actor.
    pub async fn graduate(&self, branch: &str, on: Date) -> EngineResult<GraduationReport> {
        with_engine!(&self.engine, e => e.graduate(&actor(), branch, on, &|_, _| {}).await)
    }

    /// `Engine::sweep` as the actor `sweep` (role system_admin).
    pub async fn sweep(&self, as_of: Date) -> EngineResult<SweepReport> {
        let a = Actor {
            name: "sweep".into(),
            role: Some("system_admin".into()),
            ..Default::default()
        };
        with_engine!(&self.engine, e => e.sweep(&a, as_of, &|_, _, _| {}).await)
    }

    /// `Engine::transfer_list`.
    pub async fn transfer_list(
        &self,
        org: &str,
        outgoing: bool,
        incoming: bool,
        overdue: bool,
        open: bool,
    ) -> EngineResult<Vec<TransferView>> {
        with_engine!(&self.engine, e => e.transfer_list(org, outgoing, incoming, overdue, open).await)
    }

    /// `Engine::transfer_show`: the relation state and the member's transfers.
    pub async fn transfer_show(&self, who: &str) -> EngineResult<(String, Vec<TransferView>)> {
        with_engine!(&self.engine, e => e.transfer_show(who).await)
    }

    /// `Engine::import_org_csv`.
    pub async fn import_org_csv(
        &self,
        bytes: &[u8],
        dry_run: bool,
    ) -> EngineResult<OrgImportReport> {
        with_engine!(&self.engine, e => e.import_org_csv(bytes, dry_run).await)
    }

    /// `Engine::import_roster` as the harness actor.
    pub async fn import_roster(
        &self,
        branch: &str,
        bytes: &[u8],
        dry_run: bool,
    ) -> EngineResult<RosterReport> {
        with_engine!(&self.engine, e => e.import_roster(&actor(), branch, bytes, dry_run).await)
    }

    /// `Engine::allocate_quota`.
    pub async fn allocate_quota(
        &self,
        org: &str,
        year: i32,
        count: i64,
        by: Option<&str>,
        date: Date,
    ) -> EngineResult<QuotaReport> {
        with_engine!(&self.engine, e => e.allocate_quota(org, year, count, by, date).await)
    }

    /// `Engine::quota`.
    pub async fn quota(&self, org: &str, year: i32) -> QuotaReport {
        expect_ok(
            with_engine!(&self.engine, e => e.quota(org, year).await),
            "quota",
        )
    }

    /// `Engine::log`, all of it or one person's.
    pub async fn log(&self, who: Option<&str>) -> Vec<LogRow> {
        expect_ok(
            with_engine!(&self.engine, e => e.log(who, None).await),
            "log",
        )
    }

    /// `Engine::replay_admission`.
    pub async fn replay(&self, who: &str) -> ReplayReport {
        expect_ok(
            with_engine!(&self.engine, e => e.replay_admission(who).await),
            "replay",
        )
    }

    /// `Engine::standing` as the actor `tester` in `role` (None: the transition's first role).
    pub async fn standing(
        &self,
        who: &str,
        role: Option<&str>,
        cmd: &tuanji_engine::standing::StandingCommand,
    ) -> EngineResult<tuanji_engine::standing::StandingOutcome> {
        let a = Actor {
            name: "tester".into(),
            role: role.map(str::to_owned),
            ..Default::default()
        };
        with_engine!(&self.engine, e => e.standing(&a, who, cmd).await)
    }

    /// `Engine::standing_show`.
    pub async fn standing_show(
        &self,
        who: &str,
    ) -> EngineResult<tuanji_engine::standing::StandingView> {
        with_engine!(&self.engine, e => e.standing_show(who).await)
    }

    /// `Engine::standing_sweep` as the actor `sweep` (role system_admin).
    pub async fn standing_sweep(
        &self,
        as_of: Date,
    ) -> EngineResult<tuanji_engine::standing::StandingSweepReport> {
        let a = Actor {
            name: "sweep".into(),
            role: Some("system_admin".into()),
            ..Default::default()
        };
        with_engine!(&self.engine, e => e.standing_sweep(&a, as_of, &|_, _, _| {}).await)
    }

    /// The member's standing state (`members.standing` and the instance agree; panics otherwise).
    pub async fn standing_state(&self, who: &str) -> String {
        let v = expect_ok(self.standing_show(who).await, "standing show");
        let m = expect_ok(self.member_view(who).await, "member show");
        let projected = m.member.map(|m| m.standing).unwrap_or_default();
        assert_eq!(
            projected, v.state,
            "members.standing follows the standing state"
        );
        v.state
    }

    /// `Engine::member_view`.
    pub async fn member_view(&self, who: &str) -> EngineResult<MemberView> {
        with_engine!(&self.engine, e => e.member_view(who).await)
    }

    /// The state and version of the person's latest admission instance.
    pub async fn instance(&self, who: &str) -> (String, i64) {
        let v = expect_ok(self.member_view(who).await, "member view");
        let a = v.admission.expect("an admission instance");
        (a.state, a.version)
    }

    /// Member counts of a branch.
    pub async fn branch_counts(&self, code: &str) -> BranchCounts {
        with_engine!(&self.engine, e => branch_counts(e, code).await)
    }

    /// Row counts of the main tables, read with a separate connection.
    pub async fn counts(&self) -> Counts {
        let q = |table: &str| match table {
            "numbers_used" => {
                "SELECT CAST(COALESCE(SUM(used), 0) AS BIGINT) FROM quota_allocations".to_owned()
            }
            t => format!("SELECT COUNT(*) FROM {t}"),
        };
        let mut out = [0i64; 7];
        let tables = [
            "persons",
            "instances",
            "members",
            "development_numbers",
            "transition_log",
            "organisations",
            "numbers_used",
        ];
        for (slot, table) in out.iter_mut().zip(tables) {
            let sql = q(table);
            *slot = match &self.raw {
                RawPool::Sqlite(p) => sqlx::query_scalar::<_, i64>(&sql).fetch_one(p).await,
                RawPool::Postgres(p) => sqlx::query_scalar::<_, i64>(&sql).fetch_one(p).await,
            }
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        Counts {
            persons: out[0],
            instances: out[1],
            members: out[2],
            numbers: out[3],
            log: out[4],
            orgs: out[5],
            numbers_used: out[6],
        }
    }

    /// Every resident ID stored in `persons`, sorted (to check the stored form, e.g. an uppercase `X`).
    pub async fn stored_resident_ids(&self) -> Vec<String> {
        let sql = "SELECT resident_id FROM persons ORDER BY resident_id";
        match &self.raw {
            RawPool::Sqlite(p) => sqlx::query_scalar::<_, String>(sql).fetch_all(p).await,
            RawPool::Postgres(p) => sqlx::query_scalar::<_, String>(sql).fetch_all(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The status and voided date of a development number in the ledger.
    pub async fn number_status(&self, number: &str) -> Option<(String, Option<Date>)> {
        let sql = "SELECT status, voided_on FROM development_numbers WHERE number = $1";
        match &self.raw {
            RawPool::Sqlite(p) => {
                sqlx::query_as::<_, (String, Option<Date>)>(sql)
                    .bind(number)
                    .fetch_optional(p)
                    .await
            }
            RawPool::Postgres(p) => {
                sqlx::query_as::<_, (String, Option<Date>)>(sql)
                    .bind(number)
                    .fetch_optional(p)
                    .await
            }
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs one SQL statement on a writable connection that bypasses the engine (SQLite: a new connection to
    /// the test file; PostgreSQL: the harness's own connection), to check what the database itself refuses,
    /// e.g. the triggers that forbid `DELETE FROM members` (TRF_NO_DELETE). Returns the rows affected, or the
    /// database's error message.
    pub async fn raw_execute(&self, sql: &str) -> Result<u64, String> {
        match (&self.raw, &self.res._dir) {
            (RawPool::Postgres(p), _) => sqlx::query(sql)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string()),
            (RawPool::Sqlite(_), Some(dir)) => {
                use sqlx::Connection;
                let opts = SqliteConnectOptions::new()
                    .filename(dir.path().join("t.db"))
                    .busy_timeout(Duration::from_secs(5));
                let mut conn = sqlx::SqliteConnection::connect_with(&opts)
                    .await
                    .map_err(|e| e.to_string())?;
                let r = sqlx::query(sql)
                    .execute(&mut conn)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err(|e| e.to_string());
                let _ = conn.close().await;
                r
            }
            (RawPool::Sqlite(_), None) => Err("no SQLite file".into()),
        }
    }

    /// The applied migration versions, in order.
    pub async fn applied_migrations(&self) -> Vec<i64> {
        let sql = "SELECT version FROM _sqlx_migrations ORDER BY version";
        match &self.raw {
            RawPool::Sqlite(p) => sqlx::query_scalar::<_, i64>(sql).fetch_all(p).await,
            RawPool::Postgres(p) => sqlx::query_scalar::<_, i64>(sql).fetch_all(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The applicant's instance and member standing plus the table counts.
    pub async fn snapshot(&self, who: &str) -> Snapshot {
        let view = self.member_view(who).await.ok();
        Snapshot {
            instance: view
                .as_ref()
                .and_then(|v| v.admission.as_ref())
                .map(|a| (a.state.clone(), a.version)),
            member: view
                .as_ref()
                .and_then(|v| v.member.as_ref())
                .map(|m| m.standing.clone()),
            counts: self.counts().await,
        }
    }

    /// Runs `cmd` for `who`, expects the refusal `code`, and checks that nothing was written.
    #[track_caller]
    pub fn refuse<'a>(
        &'a self,
        who: &'a str,
        cmd: AdmissionCommand,
        code: &'a str,
    ) -> impl Future<Output = RuleViolation> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let before = self.snapshot(who).await;
            let r = self.step(who, &cmd).await;
            let v = match r {
                Err(EngineError::Rule(v)) if v.code.as_str() == code => v,
                other => panic!(
                    "{caller}: expected {code} for {}, got {other:?}",
                    cmd.command()
                ),
            };
            assert_eq!(
                self.snapshot(who).await,
                before,
                "{caller}: a refused {} wrote something",
                cmd.command()
            );
            v
        }
    }

    /// Runs `cmd` for `who` and expects it accepted.
    #[track_caller]
    pub fn accept<'a>(
        &'a self,
        who: &'a str,
        cmd: AdmissionCommand,
    ) -> impl Future<Output = StepOutcome> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            match self.step(who, &cmd).await {
                Ok(o) => o,
                Err(e) => panic!("{caller}: {} was refused: {e} ({e:?})", cmd.command()),
            }
        }
    }

    // ------------------------------------------------------------------ audit

    /// `Engine::audit_keygen`: a signing key `name` whose private key is written to `out` (mode 0600);
    /// returns the public key (C2SP vkey text).
    pub async fn audit_keygen(&self, name: &str, out: &std::path::Path) -> EngineResult<String> {
        with_engine!(&self.engine, e => e.audit_keygen(name, out).await)
    }

    /// `Engine::audit_checkpoint`: a signed checkpoint of the log as it is now, with the key in `key_file`.
    pub async fn audit_checkpoint(
        &self,
        key_file: &std::path::Path,
        reason: &str,
    ) -> EngineResult<tuanji_store::CheckpointRow> {
        with_engine!(&self.engine, e => e.audit_checkpoint(key_file, reason).await)
    }

    /// `Engine::audit_verify` against the auditor's `trusted` checkpoint (note text, vkey text), if any,
    /// without progress output.
    pub async fn audit_verify(
        &self,
        trusted: Option<(&str, &str)>,
    ) -> EngineResult<tuanji_engine::audit::VerifyReport> {
        with_engine!(&self.engine, e => e.audit_verify(trusted, &|_, _| {}).await)
    }

    /// `Engine::audit_prove`: the inclusion proof of entry `seq` against the latest checkpoint covering it.
    pub async fn audit_prove(
        &self,
        seq: i64,
    ) -> EngineResult<tuanji_engine::audit::InclusionProof> {
        with_engine!(&self.engine, e => e.audit_prove(seq).await)
    }
}

async fn branch_counts<S: Store>(e: &Engine<S>, code: &str) -> BranchCounts {
    let mut tx = e.store().begin_read().await.expect("a read transaction");
    let org = tx
        .org_by_code(code)
        .await
        .expect("org lookup")
        .unwrap_or_else(|| panic!("no organisation {code}"));
    tx.branch_counts(org.id).await.expect("branch counts")
}

/// The Party-recommendation branch of [`TestApp::with_party_branch`]: under the school committee [`SCHOOL`].
pub const PARTY_BRANCH: &str = "S001-T1";
/// Birth date of the members of [`PARTY_BRANCH`]: 22 full years old on [`TODAY`].
pub const PARTY_BIRTH: (i32, u32, u32) = (2004, 6, 1);
/// Membership date of the members of [`PARTY_BRANCH`]: four years of membership on [`TODAY`].
pub const PARTY_SINCE: (i32, u32, u32) = (2022, 5, 4);

/// Evaluation and Party recommendation helpers (issue 4).
impl TestApp {
    /// Adds [`PARTY_BRANCH`] (a teachers' branch under [`SCHOOL`]; call after [`TestApp::with_school`]) with
    /// `good` members in good standing and `probation` members on probation until 2027-05-03, all born
    /// [`PARTY_BIRTH`] and members since [`PARTY_SINCE`]. Returns their resident IDs.
    pub async fn with_party_branch(&self, good: usize, probation: usize) -> BranchMembers {
        expect_ok(
            self.import_org_csv(
                format!(
                    "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
                     {PARTY_BRANCH},青年教师团支部,branch,{SCHOOL},,,,\n"
                )
                .as_bytes(),
                false,
            )
            .await,
            "the Party-recommendation branch",
        );
        let birth = d(PARTY_BIRTH.0, PARTY_BIRTH.1, PARTY_BIRTH.2);
        let mut csv = String::from("姓名,公民身份号码,入团日期,团员编号,留团察看至\n");
        let mut members = BranchMembers::default();
        for i in 0..good + probation {
            let rid = self.new_rid(birth);
            let serial = self.res.next_legacy_serial.fetch_add(1, Ordering::Relaxed);
            let until = if i >= good { "2027-05-03" } else { "" };
            csv.push_str(&format!(
                "教师{i},{rid},2022-05-04,2022{serial:08},{until}\n"
            ));
            if i >= good {
                members.on_probation.push(rid);
            } else {
                members.good.push(rid);
            }
        }
        expect_ok(
            self.import_roster(PARTY_BRANCH, csv.as_bytes(), false)
                .await,
            "the Party-recommendation roster",
        );
        members
    }

    /// Imports one more member into [`PARTY_BRANCH`], born `birth`, member since `since` (on or after 2017,
    /// with a legacy development number of that year). Returns the resident ID.
    pub async fn with_party_member(&self, birth: Date, since: Date) -> String {
        use chrono::Datelike;
        let rid = self.new_rid(birth);
        let serial = self.res.next_legacy_serial.fetch_add(1, Ordering::Relaxed);
        let csv = format!(
            "姓名,公民身份号码,入团日期,团员编号\n教师X,{rid},{since},{}{serial:08}\n",
            since.year()
        );
        expect_ok(
            self.import_roster(PARTY_BRANCH, csv.as_bytes(), false)
                .await,
            "one more member",
        );
        rid
    }

    /// `Engine::evaluation` as the actor `tester` in `role` (None: the transition's first role).
    pub async fn evaluation(
        &self,
        branch: &str,
        year: i32,
        role: Option<&str>,
        cmd: &tuanji_engine::evaluation::EvaluationCommand,
    ) -> EngineResult<tuanji_engine::evaluation::EvaluationOutcome> {
        let a = Actor {
            name: "tester".into(),
            role: role.map(str::to_owned),
            ..Default::default()
        };
        with_engine!(&self.engine, e => e.evaluation(&a, branch, year, cmd).await)
    }

    /// `Engine::evaluation_show`.
    pub async fn evaluation_show(
        &self,
        branch: &str,
        year: i32,
    ) -> EngineResult<tuanji_engine::evaluation::EvaluationView> {
        with_engine!(&self.engine, e => e.evaluation_show(branch, year).await)
    }

    /// `Engine::last_grade`.
    pub async fn last_grade(
        &self,
        who: &str,
    ) -> EngineResult<Option<(i32, tuanji_workflow::evaluation::Grade)>> {
        with_engine!(&self.engine, e => e.last_grade(who).await)
    }

    /// `Engine::party` as the actor `tester` in `role` (None: the transition's first role).
    pub async fn party(
        &self,
        who: &str,
        role: Option<&str>,
        cmd: &tuanji_engine::party::PartyCommand,
    ) -> EngineResult<tuanji_engine::party::PartyOutcome> {
        let a = Actor {
            name: "tester".into(),
            role: role.map(str::to_owned),
            ..Default::default()
        };
        with_engine!(&self.engine, e => e.party(&a, who, cmd).await)
    }

    /// `Engine::party_show`.
    pub async fn party_show(
        &self,
        who: &str,
    ) -> EngineResult<Vec<tuanji_engine::party::PartyView>> {
        with_engine!(&self.engine, e => e.party_show(who).await)
    }

    /// `Engine::party_list`.
    pub async fn party_list(
        &self,
        branch: &str,
        state: Option<&str>,
    ) -> EngineResult<Vec<tuanji_engine::party::PartyView>> {
        with_engine!(&self.engine, e => e.party_list(branch, state).await)
    }

    /// `Engine::audit_verify` without a trusted checkpoint: the fault found, if any (`None`: the log verifies and
    /// replaying it rebuilds every stored instance).
    pub async fn verify_fault(&self) -> Option<String> {
        let r = with_engine!(&self.engine, e => e.audit_verify(None, &|_, _| {}).await)
            .expect("audit verify runs");
        r.fault.map(|f| format!("{f:?}"))
    }
}

/// Runs one test body against `backend`: a fresh [`TestApp`], the body (in its own task, so a panic still
/// lets the database be dropped), then [`TestApp::finish`]. Skips PostgreSQL when it is not configured.
pub async fn run_case<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(app) = TestApp::try_new(backend).await else {
        return;
    };
    let result = tokio::spawn(body(app.clone())).await;
    app.finish().await;
    if let Err(e) = result {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

/// Expands one test body into a module `$name` with two tests, `$name::sqlite` and `$name::postgres`:
///
/// ```ignore
/// both_backends!(adm_age_min_refuses_13_year_old, |app| async move {
///     let app = app.with_school().await;
///     // …
/// });
/// ```
///
/// Attributes before the name (e.g. `#[ignore = "…"]`) go on both tests. The PostgreSQL test prints
/// "skipped: TUANJI_TEST_POSTGRES_URL not set" and passes when the variable is unset, unless
/// `TUANJI_REQUIRE_POSTGRES=1`.
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* $name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::run_case($crate::Backend::Sqlite, |$app: $crate::TestApp| $body).await
            }

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::run_case($crate::Backend::Postgres, |$app: $crate::TestApp| $body).await
            }
        }
    };
}
