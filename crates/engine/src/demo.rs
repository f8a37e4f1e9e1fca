//! `tuanji demo`: the national tree, two schools under a real county (海淀区, 110108), quotas, a generated
//! roster of applicants, and the whole admission procedure with realistic 2026 dates, including the refusals a
//! real year brings (under-age applicants, bad check digits, missing class hours, early meetings, objections,
//! a failed vote, class caps, an exhausted quota) and one annulled admission.
//!
//! Then graduation and organisation-relation transfers (组织关系转接, DOMAIN.md "Organisation relation and
//! transfer (§3, §4)"), with receiving organisations created under real districts of the national tree
//! ([`UNIVERSITY`] 北京大学 under 海淀区, [`EMPLOYER`] under 朝阳区 110105) and a real street committee of the
//! tree ([`TOWNSHIP`], 中关村街道) with one branch. The published scenario (the demo test models it):
//!
//! - Last year's graduating class [`LAST_YEAR_CLASS`] (2026届, [`LAST_YEAR_MEMBERS`] members admitted
//!   2024-05-04) graduates on 2026-05-29. Its member `j` (roster order):
//!   0–5 further study at [`UNIVERSITY_BRANCH`] (the school committee requests on 2026-07-10, the university
//!   approves on 2026-08-28); 6 the same, rejected by the university and requested again (approved 2026-09-07);
//!   7–10 a job at [`EMPLOYER_BRANCH`] (the member requests, the class branch and the employer approve);
//!   11 the same, rejected by the employer, then sent to [`TOWNSHIP`], which approves and assigns
//!   [`TOWNSHIP_BRANCH`] (TRF_BRANCH_ONLY); 12–13 straight to the township the same way; 14 a transfer to the
//!   township cancelled by the school, then a member-initiated transfer to the employer; 15–16 no job yet:
//!   retained at the school's mobile-member branch [`MOBILE_BRANCH`] (TRF_RETENTION); 17 a transfer to the
//!   township requested 2026-09-15 that nobody answers (overdue after 30 days and escalated to 海淀区 by the
//!   sweep, TRF_TIMEOUT); 18 never heard of again (lost contact at the sweep: 6 months since graduation,
//!   TRF_LOST_CONTACT); 19 contacted on 2026-10-20, still pending transfer.
//! - After admission the six senior-high graduating classes (高三) graduate on 2026-11-24. Their members in
//!   order (class by class, the five legacy members first, then the admitted ones in admission order; the
//!   annulled one is not a member), numbered `g` from 0, by `g % 10`: 0 further study at the university
//!   (approved 2026-11-27); 1 a job at the employer (member-initiated, both sides approve); 2 employment with
//!   the township, which assigns its branch; 3 no job yet, retained at the mobile-member branch; 4 a university
//!   transfer rejected and requested again (approved 2026-11-30); 5 a member-initiated transfer the class has
//!   approved and the employer not yet (open); 6 a transfer to the employer cancelled by the school, then
//!   retained at the class for study abroad; 7–9 still pending transfer.
//! - The sweep runs as of [`SWEEP_DATE`]. Then deletions are attempted (TRF_NO_DELETE) on every graduate with
//!   `g % 10` 5 or 7 and on last year's members 15, 17 and 18, and an annulment on the first admitted
//!   graduate with `g % 10` 8: every one is refused.
//!
//! Then League standing (团籍) and dues (团费), DOMAIN.md "Standing (§2)" ([`StandingSummary`]):
//!
//! - The employer's branch [`EMPLOYER_BRANCH`] registers [`EMPLOYEES`] older members from its company
//!   register on [`EMPLOYER_REGISTER_DATE`] (2026-03-02; members since 2013-05-04), born in 1998 and 1999, so
//!   that some turn 28 during the year (STD_AGE_OUT). Employee 2 takes the branch secretary post on
//!   2026-04-01 and is kept on past 28; employees 2, 4 and 5 attend organisational life every month from March
//!   to November and pay salaried dues (3.00 yuan a month) for 2026-03 to 2026-11 on 2026-11-20.
//! - Every legacy member of the twelve non-graduating classes pays reduced dues (0.20 yuan a month) for two
//!   months from the current month on [`SWEEP_DATE`] (their dues are tracked from the import month).
//! - Probation (留团察看, STD_PROBATION): legacy member 0 of 高二(1)–(3) for 6 months from 2026-05-20 (over on
//!   2026-11-20), of 高二(4)–(6) for 12 months from 2026-11-10; each decided by the class's branch meeting and
//!   approved by the senior-high committee. A 9-month probation is refused (STD_PROBATION).
//! - Withdrawal (退团, STD_WITHDRAW): legacy member 1 of 初二(1) asks in writing on 2026-10-30; the branch
//!   meeting agrees on 2026-11-06, recorded with the junior-high committee on 2026-11-09.
//! - The standing sweep as of [`SWEEP_DATE`]: employees 0, 1 and 3 age out on their 28th birthdays, the three
//!   6-month probations end on 2026-11-20; no lapse is flagged.
//!
//! Then the annual evaluation (团员教育评议) of [`EVALUATION_YEAR`] and Party recommendation (推优入党), DOMAIN.md
//! "Evaluation and dues (§7, §8)" and "Party recommendation (§5)" ([`EvaluationSummary`], [`PartySummary`]).
//! The six senior-high non-graduating classes 高二(1)–(6) are numbered `n` from 1; their five legacy members
//! (admitted 2025-05-04, born January to May 2008, member 4 on probation) are `m0`–`m4`:
//!
//! - Each class records its 2025 round in January 2026 (5 members on the meeting date, at least 4 present,
//!   every member graded, at most one excellent: EVL_GRADES) and the senior-high committee approves all six on
//!   2026-01-20. Refused first (EVL_GRADES): 高二(2)'s round with two excellent of five, and 高二(5)'s meeting
//!   with 3 of 5 present (it meets again the next day). 高二(6) amends a grade before the approval.
//!   高二(2)'s `m3` is graded unqualified, re-evaluated basically qualified on 2026-05-12 (EVL_UNQUALIFIED), and
//!   the round closes; 高二(1) and (3) close on 2026-01-25 with nobody pending; (4)–(6) stay approved.
//! - Recommendations (each nominated by the branch; voted at the branch general meeting by secret ballot, the
//!   voting-entitled members on the date present but one in ten, one abstaining and the others for, PTY_MEETING;
//!   publicised for 5 working days; recommended by the senior-high committee): 高二(1) `m1` (nominated 2026-09-07, voted 09-10, publicised 09-11, recommended
//!   09-21) is accepted by the Party on 2026-11-16 (standing `party_member`); 高二(2) `m1` the same, declined
//!   on 2026-11-16 (standing back to `member`); 高二(3) `m1` and 高二(5) `m3` the same, still recommended;
//!   高二(4) `m2` cancelled during publicity on 2026-09-15 (an objection upheld).
//! - 高二(1) `m2`, nominated with `m1`, is refused at the vote of 2026-09-10 (PTY_SHARE: 5 members, at most 1
//!   recommendation under way); once `m1` is accepted the branch votes again on 2026-11-17, publicises from
//!   11-18 and recommends on 11-26. Also refused: nominating 高二(2) `m3` (EVL_GRADES: basically qualified
//!   after re-evaluation, qualified required) and 高二(3) `m4` (STD_PROBATION).
//! - 高二(6) `m1` is nominated on 2026-11-20, voted 11-24 and in publicity from 11-25 (to 12-01); `m3` is
//!   nominated on 2026-11-27.
//!
//! Deterministic for a seed: the same seed gives the same summary (except timings).

use crate::admission::AdmissionCommand;
use crate::evaluation::EvaluationCommand;
use crate::orgs::Progress;
use crate::party::PartyCommand;
use crate::quota::QuotaReport;
use crate::relation::{RelationCommand, SweepReport};
use crate::standing::{StandingCommand, StandingSweepReport};
use crate::{Actor, Engine, EngineError, EngineResult};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;
use tuanji_domain::dues::{format_yuan, YearMonth};
use tuanji_domain::{check_character, Date, RuleCode, SchoolLevel};
use tuanji_import::generator::{generate, to_roster_csv, GeneratorConfig};
use tuanji_store::{Store, StoreTx, TransferFilter};
use tuanji_workflow::evaluation::Grade;
use tuanji_workflow::relation::{Destination, Initiator, RetentionReason};
use tuanji_workflow::standing::{BranchMeeting, Decision, DuesCategory, PostKind};

/// The county the demo schools belong to: 北京市海淀区.
pub const DEMO_COUNTY: &str = "110108";
/// The demo's junior-high school committee.
pub const JUNIOR_COMMITTEE: &str = "110108-JH";
/// The demo's senior-high school committee.
pub const SENIOR_COMMITTEE: &str = "110108-SH";
/// Students per demo class.
pub const CLASS_SIZE: u32 = 50;
/// Most applicants the demo accepts (the classes hold 50 students each; more only exercises the refusals).
pub const MAX_DEMO_APPLICANTS: usize = 100_000;
/// Numbers allocated to the junior-high committee for 2026.
pub const JUNIOR_QUOTA: i64 = 120;
/// Numbers allocated to the senior-high committee for 2026.
pub const SENIOR_QUOTA: i64 = 300;
/// The senior-high school's mobile-member branch (流动团员团支部, TRF_RETENTION).
pub const MOBILE_BRANCH: &str = "110108-SH-M";
/// Last year's graduating class of the senior-high school (2026届高三（1）班), graduated on 2026-05-29.
pub const LAST_YEAR_CLASS: &str = "110108-SH-P1";
/// Members of [`LAST_YEAR_CLASS`].
pub const LAST_YEAR_MEMBERS: usize = 20;
/// A university committee (a school organisation) under 海淀区: 共青团北京大学委员会.
pub const UNIVERSITY: &str = "110108-PKU";
/// The freshmen branch of [`UNIVERSITY`].
pub const UNIVERSITY_BRANCH: &str = "110108-PKU-B1";
/// An employer's committee under 朝阳区 (110105).
pub const EMPLOYER: &str = "110105-E01";
/// A branch of [`EMPLOYER`].
pub const EMPLOYER_BRANCH: &str = "110105-E01-B1";
/// A street committee of the national tree: 共青团中关村街道委员会 (海淀区).
pub const TOWNSHIP: &str = "110108011";
/// The community branch the demo creates under [`TOWNSHIP`]; the township assigns it (TRF_BRANCH_ONLY).
pub const TOWNSHIP_BRANCH: &str = "110108011-B1";
/// Organisations the demo creates besides the national tree: 2 school committees, 24 classes, and for the
/// relation part the mobile-member branch, last year's class, the university and its branch, the employer and
/// its branch, and the township's branch.
pub const DEMO_ORGS: i64 = 2 + 24 + 7;
/// Members the employer's branch registers from its company register (see the module documentation).
pub const EMPLOYEES: usize = 6;
/// The day the employer's register is imported: 2026-03-02.
pub const EMPLOYER_REGISTER_DATE: (i32, u32, u32) = (2026, 3, 2);
/// Birth dates of the [`EMPLOYEES`]: 0, 1 and 3 turn 28 before [`SWEEP_DATE`]; 2 holds a post.
const EMPLOYEE_BIRTHS: [(i32, u32, u32); EMPLOYEES] = [
    (1998, 5, 10),
    (1998, 7, 20),
    (1998, 8, 15),
    (1998, 9, 30),
    (1998, 12, 10),
    (1999, 3, 10),
];
/// The date of the demo's sweep (TRF_TIMEOUT, TRF_LOST_CONTACT): 2026-11-30, the last day the demo uses.
pub const SWEEP_DATE: (i32, u32, u32) = (2026, 11, 30);
/// The year of the demo's annual evaluation rounds (held in January 2026).
pub const EVALUATION_YEAR: i32 = 2025;
/// Evaluation rounds the demo records: one per senior-high non-graduating class (高二(1)–(6)).
pub const EVALUATION_ROUNDS: usize = 6;
/// The grades of the legacy members `m0`–`m4` of 高二(1)–(6) as each round is recorded (高二(6)'s `m4` is
/// amended to qualified before the approval; 高二(2)'s `m3` is re-evaluated basically qualified).
const ROUND_GRADES: [[Grade; 5]; EVALUATION_ROUNDS] = {
    use Grade::{BasicallyQualified as B, Excellent as E, Qualified as Q, Unqualified as U};
    [
        [Q, E, Q, Q, B],
        [Q, Q, E, U, B],
        [Q, E, Q, Q, Q],
        [Q, Q, E, Q, B],
        [Q, Q, Q, E, Q],
        [Q, E, Q, Q, B],
    ]
};
/// Members present at each class's evaluation meeting (of 5).
const ROUND_PRESENT: [u32; EVALUATION_ROUNDS] = [5, 5, 4, 5, 5, 5];

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Roster seed.
    pub seed: u64,
    /// Applicants on the generated roster (before the roster's bad rows are taken out).
    pub applicants: usize,
    /// The GB/T 2260 tables (`data/china-division`).
    pub data_dir: PathBuf,
}

/// Members and cap of one class branch at the end of the demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassStatus {
    /// Branch code.
    pub branch: String,
    /// `junior_high` / `senior_high`.
    pub school_level: String,
    /// A graduating class.
    pub graduating: bool,
    /// Students.
    pub class_size: u32,
    /// Members (in good standing or on probation).
    pub members: i64,
    /// Members allowed by ADM_CLASS_CAP, for graduating classes.
    pub cap: Option<u32>,
}

/// Transfers (组织关系转接) at the end of the demo, by state of the `transfers` projection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TransferCounts {
    /// Open (waiting on an approval or a branch assignment); overdue ones included.
    pub open: i64,
    /// Completed: the relation moved.
    pub completed: i64,
    /// Rejected by a counter-party.
    pub rejected: i64,
    /// Cancelled by the initiator.
    pub cancelled: i64,
    /// Open and marked overdue by the sweep (TRF_TIMEOUT); also counted in `open`.
    pub overdue: i64,
}

/// What the standing part of the demo did (团籍 and 团费).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandingSummary {
    /// Members put on probation (STD_PROBATION).
    pub probations: usize,
    /// Withdrawals (STD_WITHDRAW).
    pub withdrawals: usize,
    /// League posts assigned (STD_AGE_OUT keeps their holders on).
    pub posts: usize,
    /// Organisational life recorded (member-months, STD_LAPSE).
    pub life_records: usize,
    /// Dues payments recorded (DUE_STUDENT).
    pub dues_payments: usize,
    /// Total dues paid, in fen.
    pub dues_paid_fen: u64,
    /// Total dues paid, in yuan (`"105.00"`).
    pub dues_paid_yuan: String,
    /// Standing commands refused, by rule code.
    pub refused: BTreeMap<String, usize>,
    /// The standing sweep as of [`SWEEP_DATE`].
    pub sweep: StandingSweepReport,
    /// Members per standing state at the end of the demo (members with a standing instance).
    pub states: BTreeMap<String, i64>,
    /// Log entries written by the standing part (the employer's register included).
    pub transitions: i64,
    /// Seconds for the standing part.
    pub seconds: f64,
}

/// What the annual evaluation part of the demo did (团员教育评议, EVL_GRADES, EVL_UNQUALIFIED).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationSummary {
    /// The evaluated year ([`EVALUATION_YEAR`]).
    pub year: i32,
    /// Rounds recorded (one per branch and year).
    pub rounds: usize,
    /// Rounds amended before their approval.
    pub amendments: usize,
    /// Rounds approved by the superior committee.
    pub approvals: usize,
    /// Unqualified members re-evaluated (EVL_UNQUALIFIED).
    pub reevaluations: usize,
    /// Members per grade that stands at the end of the demo (the re-evaluation's if any), over every round:
    /// `{"excellent": 5, "qualified": 19, …}` (every grade listed).
    pub grades: BTreeMap<String, usize>,
    /// Evaluation commands refused, by rule code.
    pub refused: BTreeMap<String, usize>,
    /// Rounds per state at the end of the demo (`recorded`, `approved`, `closed`).
    pub states: BTreeMap<String, i64>,
    /// Log entries written by the evaluation part.
    pub transitions: i64,
    /// Seconds for the evaluation part.
    pub seconds: f64,
}

/// What the Party recommendation part of the demo did (推优入党, PTY_*).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartySummary {
    /// Members nominated by their branch.
    pub nominations: usize,
    /// Branch general meetings that passed a nomination (secret ballot, PTY_MEETING).
    pub votes: usize,
    /// Members recommended to the Party organisation (PTY_VALIDITY: valid 24 months).
    pub recommendations: usize,
    /// Party recommendation commands refused, by rule code.
    pub refused: BTreeMap<String, usize>,
    /// Recommendations per state at the end of the demo (`nominated`, `branch_voted`, `publicised`,
    /// `recommended`, `accepted_by_party`, `declined`, `expired`, `cancelled`).
    pub states: BTreeMap<String, i64>,
    /// Log entries written by the Party part, the standing entries that follow `recommend`, `accept` and
    /// `decline` included.
    pub transitions: i64,
    /// Seconds for the Party part.
    pub seconds: f64,
}

/// What the demo did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoSummary {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Roster seed.
    pub seed: u64,
    /// Applicants on the generated roster.
    pub roster_rows: usize,
    /// Organisations in the tree after the demo.
    pub organisations: i64,
    /// Seconds to import the national tree.
    pub org_import_seconds: f64,
    /// Applicants who became members (annulled ones excluded).
    pub admitted: i64,
    /// Refusals by rule code: roster rows refused and commands refused during the procedure.
    pub refused: BTreeMap<String, usize>,
    /// Overdue flags raised, by rule code.
    pub flagged: BTreeMap<String, usize>,
    /// Admission instances by final state.
    pub states: BTreeMap<String, i64>,
    /// Quotas of the two school committees.
    pub quotas: Vec<QuotaReport>,
    /// Class-cap status per class at the end of admission (before graduation).
    pub classes: Vec<ClassStatus>,
    /// Commands that changed state during the procedure (log entries).
    pub transitions: i64,
    /// Seconds for the admission procedure (applications to archive).
    pub procedure_seconds: f64,
    /// Admissions (approvals) per second of procedure time.
    pub admissions_per_second: f64,
    /// Transitions per second of procedure time.
    pub transitions_per_second: f64,
    /// Members moved to `graduated_pending_transfer` (毕业待转接) by `graduate`: last year's class and the
    /// six senior-high graduating classes.
    pub members_graduated: usize,
    /// Transfers by state at the end of the demo.
    pub transfers: TransferCounts,
    /// Relation instances (one per stay of a member at a branch) by state at the end of the demo.
    pub relation_states: BTreeMap<String, i64>,
    /// What the sweep as of [`SWEEP_DATE`] did.
    pub sweep: SweepReport,
    /// Deletions (and annulments) attempted on graduates pending transfer or with an open transfer.
    pub deletion_attempts: usize,
    /// Those refused with TRF_NO_DELETE.
    pub deletions_refused: usize,
    /// Log entries written by the relation part (graduations, transfers, retentions, contacts, sweep).
    pub relation_transitions: i64,
    /// Seconds for the relation part (organisations and last year's class included).
    pub relation_seconds: f64,
    /// League standing and dues; its `states` are read at the end of the demo, after the Party part.
    pub standing: StandingSummary,
    /// Annual evaluation rounds.
    pub evaluation: EvaluationSummary,
    /// Party recommendations.
    pub party: PartySummary,
    /// Seconds for the whole demo.
    pub wall_seconds: f64,
}

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd_opt(y, m, day).unwrap_or(Date::MIN)
}

struct Branch {
    code: String,
    level: SchoolLevel,
    graduating: bool,
    committee: &'static str,
    /// Resident IDs of its legacy members: 0..4 in good standing, 4 on probation.
    members: Vec<String>,
}

/// What the relation part of the demo did.
struct RelationPart {
    members_graduated: usize,
    transfers: TransferCounts,
    relation_states: BTreeMap<String, i64>,
    sweep: SweepReport,
    deletion_attempts: usize,
    deletions_refused: usize,
    transitions: i64,
    seconds: f64,
}

/// Who acts in the relation part of the demo.
struct Cast {
    /// The senior-high school committee's administrator: the outgoing organisation.
    school: Actor,
    /// A class branch secretary: the outgoing side of member-initiated transfers.
    secretary: Actor,
    /// A graduate acting in their own name.
    graduate: Actor,
    /// The receiving committees' administrator (university, employer, street committee).
    receiving: Actor,
    /// The sweep.
    system: Actor,
}

/// A transfer requested by the outgoing school committee.
fn outgoing(date: Date, to: &str, destination: Destination) -> RelationCommand {
    RelationCommand::RequestTransfer {
        date,
        to: to.to_owned(),
        destination,
        initiator: Initiator::Outgoing,
        org: Some(SENIOR_COMMITTEE.to_owned()),
    }
}

/// A transfer requested by the graduate.
fn by_member(date: Date, to: &str, destination: Destination) -> RelationCommand {
    RelationCommand::RequestTransfer {
        date,
        to: to.to_owned(),
        destination,
        initiator: Initiator::Member,
        org: None,
    }
}

fn approve(date: Date, org: &str) -> RelationCommand {
    RelationCommand::Approve {
        date,
        org: org.to_owned(),
    }
}

fn reject(date: Date, org: &str, reason: &str) -> RelationCommand {
    RelationCommand::Reject {
        date,
        org: org.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The school committee withdraws the transfer it requested.
fn cancel(date: Date, reason: &str) -> RelationCommand {
    RelationCommand::Cancel {
        date,
        org: Some(SENIOR_COMMITTEE.to_owned()),
        reason: reason.to_owned(),
    }
}

/// Keeps the graduate at the school (TRF_RETENTION): the mobile-member branch for `NoJob`.
fn retain(date: Date, reason: RetentionReason) -> RelationCommand {
    RelationCommand::Retain {
        date,
        reason,
        branch: None,
    }
}

/// A refusal the demo stages: counted in `refused` under its rule code, which must be `code`; an acceptance or
/// another error is an error of the demo.
fn staged<T>(
    r: EngineResult<T>,
    code: RuleCode,
    refused: &mut BTreeMap<String, usize>,
    what: &str,
) -> EngineResult<()> {
    match r {
        Err(EngineError::Rule(v)) if v.code == code => {
            *refused.entry(v.code.as_str().to_owned()).or_insert(0) += 1;
            Ok(())
        }
        Err(EngineError::Rule(v)) => Err(EngineError::Input(format!(
            "the demo's {what} was refused with {} instead of {code}: {}",
            v.code.as_str(),
            v.message
        ))),
        Err(e) => Err(e),
        Ok(_) => Err(EngineError::Input(format!(
            "the demo's {what} was accepted"
        ))),
    }
}

/// A valid resident ID for a legacy member: region, birth date and a sequence number.
fn legacy_id(region: &str, birth: Date, seq: u32) -> String {
    let first17 = format!("{region}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let check = check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// The generator settings of the demo roster: `cfg.applicants` applicants of seed `cfg.seed` from five real
/// counties, applying 2–20 March 2026, spread over `classes` round-robin; every 25th is 13 years old on the
/// application date and every 100th has a wrong check character.
pub fn roster_config(cfg: &DemoConfig, classes: &[String]) -> GeneratorConfig {
    GeneratorConfig {
        seed: cfg.seed,
        applicants: cfg.applicants,
        county_codes: ["110108", "110105", "130104", "320102", "440106"]
            .map(String::from)
            .to_vec(),
        application_window: (d(2026, 3, 2), d(2026, 3, 20)),
        classes: classes.to_vec(),
        under_age_every: 25,
        bad_checksum_every: 100,
    }
}

impl<S: Store> Engine<S> {
    /// Runs the demo on an empty database. Errors: [`EngineError::Input`] if the database already holds
    /// organisations; any store error.
    pub async fn demo(
        &self,
        cfg: &DemoConfig,
        progress: Progress<'_>,
    ) -> EngineResult<DemoSummary> {
        let wall = Instant::now();
        if !(1..=MAX_DEMO_APPLICANTS).contains(&cfg.applicants) {
            return Err(EngineError::Input(format!(
                "the demo takes 1 to {MAX_DEMO_APPLICANTS} applicants; got {}",
                cfg.applicants
            )));
        }
        {
            let mut tx = self.store().begin_read().await?;
            let n = tx.org_count().await?;
            if n > 0 {
                return Err(EngineError::Input(format!(
                    "the demo needs an empty database; this one has {n} organisations (use a new --database-url)"
                )));
            }
        }
        let t = Instant::now();
        self.import_national_tree(&cfg.data_dir, progress).await?;
        let org_import_seconds = t.elapsed().as_secs_f64();

        // Two schools under 海淀区, 12 classes each: 6 graduating (初三 / 高三) and 6 not.
        let mut csv = String::from(
            "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n",
        );
        csv.push_str(&format!("{JUNIOR_COMMITTEE},海淀区实验初级中学团委,basic_committee,{DEMO_COUNTY},true,junior_high,false,\n"));
        csv.push_str(&format!("{SENIOR_COMMITTEE},海淀区实验高级中学团委,basic_committee,{DEMO_COUNTY},true,senior_high,false,\n"));
        let mut branches = Vec::new();
        for (committee, level, grad_name, other_name) in [
            (JUNIOR_COMMITTEE, SchoolLevel::JuniorHigh, "初三", "初二"),
            (SENIOR_COMMITTEE, SchoolLevel::SeniorHigh, "高三", "高二"),
        ] {
            for (graduating, grade) in [(true, grad_name), (false, other_name)] {
                for class in 1..=6 {
                    let code = format!("{committee}-{}{class}", if graduating { "G" } else { "N" });
                    csv.push_str(&format!(
                        "{code},{grade}（{class}）班团支部,branch,{committee},false,{},{graduating},{CLASS_SIZE}\n",
                        level.as_str()
                    ));
                    branches.push(Branch {
                        code,
                        level,
                        graduating,
                        committee,
                        members: Vec::new(),
                    });
                }
            }
        }
        self.import_org_csv(csv.as_bytes(), false).await?;
        let secretary = Actor {
            name: "demo-branch-secretary".into(),
            role: Some("branch_secretary".into()),
            ..Default::default()
        };
        let committee_admin = Actor {
            name: "demo-committee-admin".into(),
            role: Some("committee_admin".into()),
            ..Default::default()
        };

        // Five members per class admitted in 2025 (one now on probation): sponsors, mentors and voters.
        let mut legacy_serial = 90_000_001u32;
        for (bi, b) in branches.iter_mut().enumerate() {
            let born_year = match (b.level, b.graduating) {
                (SchoolLevel::JuniorHigh, true) => 2010,
                (SchoolLevel::JuniorHigh, false) => 2011,
                (_, true) => 2007,
                (_, false) => 2008,
            };
            let mut roster = String::from("姓名,公民身份号码,入团日期,团员编号,留团察看至\n");
            for k in 0..5u32 {
                let birth = d(born_year, 1 + k, 3 + bi as u32);
                let rid = legacy_id(DEMO_COUNTY, birth, 500 + bi as u32 * 10 + k);
                // One member per class is on probation (留团察看) for a few more months.
                let probation = if k == 4 {
                    tuanji_domain::add_months(self.today(), 4).to_string()
                } else {
                    String::new()
                };
                roster.push_str(&format!(
                    "团员{bi}-{k},{rid},2025-05-04,2025{legacy_serial:08},{probation}\n"
                ));
                legacy_serial += 1;
                b.members.push(rid);
            }
            self.import_roster(&committee_admin, &b.code, roster.as_bytes(), false)
                .await?;
        }
        for (org, count) in [
            (JUNIOR_COMMITTEE, JUNIOR_QUOTA),
            (SENIOR_COMMITTEE, SENIOR_QUOTA),
        ] {
            self.allocate_quota(org, 2026, count, Some(DEMO_COUNTY), d(2026, 1, 15))
                .await?;
        }

        // The roster: generated applicants, one file per class as schools send them.
        let generated = generate(&roster_config(
            cfg,
            &branches.iter().map(|b| b.code.clone()).collect::<Vec<_>>(),
        ));
        let mut refused: BTreeMap<String, usize> = BTreeMap::new();
        let mut flagged: BTreeMap<String, usize> = BTreeMap::new();
        let procedure = Instant::now();
        let log_before = self.log_len().await?;
        let mut applicants: Vec<(usize, String, Date)> = Vec::new(); // (branch index, resident ID, application date)
        for (bi, b) in branches.iter().enumerate() {
            let mut rows: Vec<_> = generated
                .iter()
                .filter(|g| g.class == b.code)
                .cloned()
                .collect();
            while !rows.is_empty() {
                let bytes = to_roster_csv(&rows);
                match self.import_roster(&secretary, &b.code, &bytes, false).await {
                    Ok(_) => break,
                    Err(EngineError::Rows(errors)) => {
                        // The school takes the refused rows out and sends the roster again.
                        let bad: Vec<usize> = errors.iter().map(|e| e.line).collect();
                        if !bad.iter().any(|&line| line >= 2) {
                            return Err(EngineError::Rows(errors));
                        }
                        for e in &errors {
                            let code = e.code.map_or("INPUT".to_owned(), |c| c.as_str().to_owned());
                            *refused.entry(code).or_insert(0) += 1;
                        }
                        rows = rows
                            .into_iter()
                            .enumerate()
                            .filter(|(i, _)| !bad.contains(&(i + 2)))
                            .map(|(_, r)| r)
                            .collect();
                    }
                    Err(other) => return Err(other),
                }
            }
            applicants.extend(
                rows.iter()
                    .map(|r| (bi, r.resident_id.clone(), r.application_date)),
            );
        }

        // Runs a step; a refusal is counted by rule code and returned as `false`.
        let mut run = async |actor: &Actor,
                             who: &str,
                             cmd: AdmissionCommand|
               -> EngineResult<bool> {
            match self.step(actor, who, &cmd).await {
                Ok(out) => {
                    for (code, _) in out.flags {
                        *flagged.entry(code).or_insert(0) += 1;
                    }
                    Ok(true)
                }
                Err(EngineError::Rule(v)) => {
                    tracing::debug!(command = cmd.command(), code = v.code.as_str(), message = %v.message, "demo step refused");
                    *refused.entry(v.code.as_str().to_owned()).or_insert(0) += 1;
                    Ok(false)
                }
                Err(e) => Err(e),
            }
        };
        let cmd_date = |i: usize, base: Date| base + chrono::Days::new((i % 3) as u64);
        let mut alive: Vec<bool> = vec![true; applicants.len()];

        let total = 3 * applicants.len() as u64;
        // Phase 1: talk, activist, mentors, classes, determination, pre-review, publicity, form.
        for (i, (bi, rid, app_date)) in applicants.iter().enumerate() {
            progress("admission steps", i as u64, total);
            let b = &branches[*bi];
            let app_date = *app_date;
            let talk = if i % 31 == 3 {
                app_date + chrono::Days::new(40)
            } else {
                app_date + chrono::Days::new(7)
            };
            run(
                &secretary,
                rid,
                AdmissionCommand::RecordTalk {
                    date: talk,
                    by: "支部书记".into(),
                },
            )
            .await?;
            run(
                &committee_admin,
                rid,
                AdmissionCommand::ApproveActivist {
                    date: d(2026, 5, 6),
                    committee: b.committee.into(),
                },
            )
            .await?;
            run(
                &secretary,
                rid,
                AdmissionCommand::AssignMentors {
                    date: d(2026, 5, 6),
                    members: vec![b.members[i % 4].clone()],
                    party_members: vec![],
                },
            )
            .await?;
            let classes = if i % 37 == 5 { 7 } else { 8 };
            for w in 0..classes {
                let date = d(2026, 5, 11) + chrono::Days::new(7 * w);
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::RecordClass {
                        date,
                        minutes: 90,
                        topic: format!("团课第{}讲", w + 1),
                    },
                )
                .await?;
            }
            if i % 41 == 7 {
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::DetermineTarget {
                        date: d(2026, 7, 20),
                    },
                )
                .await?;
            }
            if !run(
                &secretary,
                rid,
                AdmissionCommand::DetermineTarget {
                    date: cmd_date(i, d(2026, 8, 31)),
                },
            )
            .await?
            {
                // Missing class hours: one more class in September, then the determination.
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::RecordClass {
                        date: d(2026, 9, 3),
                        minutes: 90,
                        topic: "补课".into(),
                    },
                )
                .await?;
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::DetermineTarget {
                        date: d(2026, 9, 4),
                    },
                )
                .await?;
            }
            run(
                &committee_admin,
                rid,
                AdmissionCommand::Prereview {
                    date: d(2026, 9, 7),
                    committee: b.committee.into(),
                },
            )
            .await?;
            run(
                &secretary,
                rid,
                AdmissionCommand::Publicise {
                    date: d(2026, 9, 28),
                },
            )
            .await?;
            if i % 43 == 11 || i % 47 == 13 {
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::RecordObjection {
                        date: d(2026, 9, 30),
                        text: "群众来信反映".into(),
                    },
                )
                .await?;
                if i % 43 == 11 {
                    run(
                        &secretary,
                        rid,
                        AdmissionCommand::ResolveObjection {
                            date: d(2026, 10, 8),
                            resolution: "经核实，反映问题不属实".into(),
                        },
                    )
                    .await?;
                }
            }
            let good = vec![
                b.members[(i + 1) % 4].clone(),
                b.members[(i + 2) % 4].clone(),
            ];
            if i % 59 == 19 {
                let with_probation = vec![b.members[4].clone(), b.members[(i + 2) % 4].clone()];
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::SubmitForm {
                        date: d(2026, 10, 8),
                        sponsors: with_probation,
                        opinion_date: d(2026, 10, 8),
                    },
                )
                .await?;
            }
            // Most branches fill in the form after publicity; some during it (and then try to meet too early).
            let (form, opinions) = if i % 29 == 2 {
                (d(2026, 10, 8), d(2026, 10, 8))
            } else {
                (d(2026, 10, 12), d(2026, 10, 13))
            };
            run(
                &secretary,
                rid,
                AdmissionCommand::SubmitForm {
                    date: form,
                    sponsors: good,
                    opinion_date: opinions,
                },
            )
            .await?;
        }

        // Phase 2: branch general meetings (all before any approval: 4 entitled members per class).
        for (i, (_, rid, _)) in applicants.iter().enumerate() {
            progress("branch meetings", (applicants.len() + i) as u64, total);
            if i % 29 == 2 {
                // The last day of publicity (2026-10-09, after the National Day holiday) is still publicity.
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::HoldMeeting {
                        date: d(2026, 10, 9),
                        present: 4,
                        yes: 4,
                    },
                )
                .await?;
            }
            let yes = if i % 53 == 17 { 2 } else { 4 };
            if !run(
                &secretary,
                rid,
                AdmissionCommand::HoldMeeting {
                    date: d(2026, 10, 16),
                    present: 4,
                    yes,
                },
            )
            .await?
            {
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::Reject {
                        date: d(2026, 10, 16),
                        reason: "支部大会未通过".into(),
                    },
                )
                .await?;
                alive[i] = false;
            }
        }

        // Phase 3: approval by the school committee (numbers, class caps), oath, archive.
        let pdf = b"%PDF-1.4\n% Tuanji demo application form\n%%EOF\n".to_vec();
        let mut admitted_ids = Vec::new();
        for (i, (bi, rid, _)) in applicants.iter().enumerate() {
            progress("approvals", (2 * applicants.len() + i) as u64, total);
            if !alive[i] {
                continue;
            }
            let b = &branches[*bi];
            if run(
                &committee_admin,
                rid,
                AdmissionCommand::Approve {
                    date: d(2026, 10, 23),
                    committee: b.committee.into(),
                },
            )
            .await?
            {
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::RecordOath {
                        date: d(2026, 11, 4),
                    },
                )
                .await?;
                let filed = if i % 67 == 23 {
                    d(2026, 11, 30)
                } else {
                    d(2026, 11, 10)
                };
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::FileArchive {
                        date: filed,
                        pdf: pdf.clone(),
                    },
                )
                .await?;
                admitted_ids.push((*bi, rid.clone()));
            }
        }
        // One admission annulled: its number is voided for good.
        let annulled = admitted_ids
            .iter()
            .find(|(bi, _)| branches[*bi].level == SchoolLevel::SeniorHigh)
            .map(|(_, rid)| rid.clone());
        if let Some(rid) = &annulled {
            run(
                &committee_admin,
                rid,
                AdmissionCommand::Annul {
                    date: d(2026, 11, 20),
                    reason: "发现入团材料弄虚作假".into(),
                },
            )
            .await?;
        }
        let procedure_seconds = procedure.elapsed().as_secs_f64();
        let transitions = self.log_len().await? - log_before;

        let mut tx = self.store().begin_read().await?;
        let states: BTreeMap<String, i64> = tx
            .instance_state_counts("admission")
            .await?
            .into_iter()
            .collect();
        let admitted = states.get("admitted").copied().unwrap_or(0);
        let mut classes = Vec::new();
        for b in &branches {
            let org = self.org_in(&mut tx, &b.code).await?;
            let counts = tx.branch_counts(org.id).await?;
            let cap_percent = match b.level {
                SchoolLevel::JuniorHigh => self.policy.junior_high_cap_percent,
                _ => self.policy.senior_high_cap_percent,
            };
            classes.push(ClassStatus {
                branch: b.code.clone(),
                school_level: b.level.as_str().to_owned(),
                graduating: b.graduating,
                class_size: CLASS_SIZE,
                members: counts.members,
                cap: b.graduating.then_some(CLASS_SIZE * cap_percent / 100),
            });
        }
        drop(tx);
        let quotas = vec![
            self.quota(JUNIOR_COMMITTEE, 2026).await?,
            self.quota(SENIOR_COMMITTEE, 2026).await?,
        ];
        let approvals = quotas.iter().map(|q| q.used).sum::<i64>() as f64;

        // Graduation and transfers: the senior-high graduating classes, class by class, legacy members first.
        let graduating: Vec<(String, Vec<String>)> = branches
            .iter()
            .enumerate()
            .filter(|(_, b)| b.graduating && b.level == SchoolLevel::SeniorHigh)
            .map(|(bi, b)| {
                let admitted = admitted_ids
                    .iter()
                    .filter(|(i, rid)| *i == bi && Some(rid) != annulled.as_ref())
                    .map(|(_, rid)| rid.clone());
                (
                    b.code.clone(),
                    b.members.iter().cloned().chain(admitted).collect(),
                )
            })
            .collect();
        let admitted_set: HashSet<&str> = admitted_ids.iter().map(|(_, r)| r.as_str()).collect();
        let rel = self
            .demo_relations(&graduating, &admitted_set, progress)
            .await?;
        let mut standing = self.demo_standing(&branches, progress).await?;
        let senior: Vec<&Branch> = branches
            .iter()
            .filter(|b| !b.graduating && b.level == SchoolLevel::SeniorHigh)
            .collect();
        let evaluation = self.demo_evaluation(&senior, progress).await?;
        let party = self.demo_party(&senior, progress).await?;
        // Recommended and accepted members changed standing after the standing part.
        standing.states = self.standing_counts().await?.into_iter().collect();
        let organisations = {
            let mut tx = self.store().begin_read().await?;
            tx.org_count().await?
        };
        Ok(DemoSummary {
            backend: self.store().backend().to_owned(),
            seed: cfg.seed,
            roster_rows: cfg.applicants,
            organisations,
            org_import_seconds,
            admitted,
            refused,
            flagged,
            states,
            quotas,
            classes,
            transitions,
            procedure_seconds,
            admissions_per_second: approvals / procedure_seconds.max(1e-9),
            transitions_per_second: transitions as f64 / procedure_seconds.max(1e-9),
            members_graduated: rel.members_graduated,
            transfers: rel.transfers,
            relation_states: rel.relation_states,
            sweep: rel.sweep,
            deletion_attempts: rel.deletion_attempts,
            deletions_refused: rel.deletions_refused,
            relation_transitions: rel.transitions,
            relation_seconds: rel.seconds,
            standing,
            evaluation,
            party,
            wall_seconds: wall.elapsed().as_secs_f64(),
        })
    }

    /// The relation part of the demo (see the module documentation for the scenario): receiving
    /// organisations, last year's class, graduation of `graduating` (class code, members in order), transfers,
    /// retentions, the sweep and the refused deletions. `admitted` holds the resident IDs admitted this year.
    async fn demo_relations(
        &self,
        graduating: &[(String, Vec<String>)],
        admitted: &HashSet<&str>,
        progress: Progress<'_>,
    ) -> EngineResult<RelationPart> {
        let started = Instant::now();
        let cast = Cast {
            school: Actor {
                name: "demo-committee-admin".into(),
                role: Some("committee_admin".into()),
                ..Default::default()
            },
            secretary: Actor {
                name: "demo-branch-secretary".into(),
                role: Some("branch_secretary".into()),
                ..Default::default()
            },
            graduate: Actor {
                name: "demo-graduate".into(),
                role: Some("member".into()),
                ..Default::default()
            },
            receiving: Actor {
                name: "demo-receiving-committee-admin".into(),
                role: Some("committee_admin".into()),
                ..Default::default()
            },
            system: Actor {
                name: "demo-sweep".into(),
                role: Some("system_admin".into()),
                ..Default::default()
            },
        };

        // Where graduates go, and last year's class with its mobile-member branch.
        let mut csv = String::from(
            "code,name,kind,parent,approves_admissions,school_level,graduating,class_size,mobile_members\n",
        );
        for row in [
            format!("{MOBILE_BRANCH},流动团员团支部,branch,{SENIOR_COMMITTEE},false,,false,,true"),
            format!("{LAST_YEAR_CLASS},2026届高三（1）班团支部,branch,{SENIOR_COMMITTEE},false,senior_high,true,{CLASS_SIZE},false"),
            format!("{UNIVERSITY},共青团北京大学委员会,basic_committee,{DEMO_COUNTY},true,university,false,,false"),
            format!("{UNIVERSITY_BRANCH},2026级本科生第一团支部,branch,{UNIVERSITY},false,university,false,,false"),
            format!("{EMPLOYER},共青团北京某科技有限公司委员会,basic_committee,110105,true,,false,,false"),
            format!("{EMPLOYER_BRANCH},研发中心团支部,branch,{EMPLOYER},false,,false,,false"),
            format!("{TOWNSHIP_BRANCH},中关村街道社区青年团支部,branch,{TOWNSHIP},false,,false,,false"),
        ] {
            csv.push_str(&row);
            csv.push('\n');
        }
        self.import_org_csv(csv.as_bytes(), false).await?;
        let mut roster = String::from("姓名,公民身份号码,入团日期,团员编号,留团察看至\n");
        let mut last_year = Vec::new();
        for j in 0..LAST_YEAR_MEMBERS as u32 {
            let rid = legacy_id(DEMO_COUNTY, d(2007, 1 + j % 12, 10 + j), 900 + j);
            roster.push_str(&format!(
                "毕业生{j},{rid},2024-05-04,2024{:08},\n",
                91_000_001 + j
            ));
            last_year.push(rid);
        }
        self.import_roster(&cast.school, LAST_YEAR_CLASS, roster.as_bytes(), false)
            .await?;
        let log_before = self.log_len().await?;

        // Last year's class graduated in May; its graduates went on over the summer.
        let mut members_graduated = 0;
        let spring = d(2026, 5, 29);
        self.mark_graduating(LAST_YEAR_CLASS, spring).await?;
        members_graduated += self
            .graduate(&cast.school, LAST_YEAR_CLASS, spring, &|done, total| {
                progress("graduation", done, total)
            })
            .await?
            .graduated;
        let grads: Vec<(&str, &str)> = graduating
            .iter()
            .flat_map(|(c, ms)| ms.iter().map(move |m| (c.as_str(), m.as_str())))
            .collect();
        let total = (last_year.len() + grads.len()) as u64;
        for (j, rid) in last_year.iter().enumerate() {
            progress("transfers", j as u64, total);
            match j {
                0..=6 => {
                    let study =
                        outgoing(d(2026, 7, 10), UNIVERSITY_BRANCH, Destination::FurtherStudy);
                    self.rel(&cast.school, rid, study).await?;
                    if j == 6 {
                        let why = "转接材料缺少团员证复印件，请补齐后重新提交";
                        self.rel(
                            &cast.receiving,
                            rid,
                            reject(d(2026, 8, 28), UNIVERSITY, why),
                        )
                        .await?;
                        let again =
                            outgoing(d(2026, 9, 2), UNIVERSITY_BRANCH, Destination::FurtherStudy);
                        self.rel(&cast.school, rid, again).await?;
                        self.rel(&cast.receiving, rid, approve(d(2026, 9, 7), UNIVERSITY))
                            .await?;
                    } else {
                        self.rel(&cast.receiving, rid, approve(d(2026, 8, 28), UNIVERSITY))
                            .await?;
                    }
                }
                7..=10 => {
                    let dates = [d(2026, 7, 20), d(2026, 7, 22), d(2026, 7, 27)];
                    self.to_employer(&cast, LAST_YEAR_CLASS, rid, dates).await?;
                }
                11 => {
                    let job = by_member(d(2026, 7, 20), EMPLOYER_BRANCH, Destination::Employment);
                    self.rel(&cast.graduate, rid, job).await?;
                    let why = "本人未到我单位报到入职";
                    self.rel(&cast.receiving, rid, reject(d(2026, 7, 27), EMPLOYER, why))
                        .await?;
                    let dates = [d(2026, 8, 3), d(2026, 8, 10), d(2026, 8, 10)];
                    self.to_township(&cast, rid, dates).await?;
                }
                12 | 13 => {
                    let dates = [d(2026, 8, 3), d(2026, 8, 10), d(2026, 8, 10)];
                    self.to_township(&cast, rid, dates).await?;
                }
                14 => {
                    let street = outgoing(d(2026, 8, 3), TOWNSHIP, Destination::Employment);
                    self.rel(&cast.school, rid, street).await?;
                    let why = "毕业生已落实工作单位，改转至用人单位团组织";
                    self.rel(&cast.school, rid, cancel(d(2026, 8, 5), why))
                        .await?;
                    let dates = [d(2026, 8, 6), d(2026, 8, 7), d(2026, 8, 10)];
                    self.to_employer(&cast, LAST_YEAR_CLASS, rid, dates).await?;
                }
                15 | 16 => {
                    self.rel(
                        &cast.school,
                        rid,
                        retain(d(2026, 7, 15), RetentionReason::NoJob),
                    )
                    .await?;
                }
                17 => {
                    // Nobody at the street committee ever answers this one.
                    let street = outgoing(d(2026, 9, 15), TOWNSHIP, Destination::Employment);
                    self.rel(&cast.school, rid, street).await?;
                }
                18 => {} // never heard of again
                _ => {
                    let contact = RelationCommand::RecordContact {
                        date: d(2026, 10, 20),
                        reached: true,
                        note: "电话联系本人，正在求职".into(),
                    };
                    self.rel(&cast.secretary, rid, contact).await?;
                }
            }
        }

        // This year's senior-high graduating classes.
        let autumn = d(2026, 11, 24);
        for (code, _) in graduating {
            self.mark_graduating(code, autumn).await?;
            members_graduated += self
                .graduate(&cast.school, code, autumn, &|done, total| {
                    progress("graduation", done, total)
                })
                .await?
                .graduated;
        }
        for (g, (class, rid)) in grads.iter().enumerate() {
            progress("transfers", (last_year.len() + g) as u64, total);
            match g % 10 {
                0 => {
                    let study = outgoing(
                        d(2026, 11, 25),
                        UNIVERSITY_BRANCH,
                        Destination::FurtherStudy,
                    );
                    self.rel(&cast.school, rid, study).await?;
                    self.rel(&cast.receiving, rid, approve(d(2026, 11, 27), UNIVERSITY))
                        .await?;
                }
                1 => {
                    let dates = [d(2026, 11, 25), d(2026, 11, 26), d(2026, 11, 27)];
                    self.to_employer(&cast, class, rid, dates).await?;
                }
                2 => {
                    let dates = [d(2026, 11, 25), d(2026, 11, 26), d(2026, 11, 27)];
                    self.to_township(&cast, rid, dates).await?;
                }
                3 => {
                    self.rel(
                        &cast.school,
                        rid,
                        retain(d(2026, 11, 26), RetentionReason::NoJob),
                    )
                    .await?;
                }
                4 => {
                    let study = outgoing(
                        d(2026, 11, 25),
                        UNIVERSITY_BRANCH,
                        Destination::FurtherStudy,
                    );
                    self.rel(&cast.school, rid, study).await?;
                    let why = "录取信息与转接材料不一致，请核实后重新提交";
                    self.rel(
                        &cast.receiving,
                        rid,
                        reject(d(2026, 11, 26), UNIVERSITY, why),
                    )
                    .await?;
                    let again = outgoing(
                        d(2026, 11, 27),
                        UNIVERSITY_BRANCH,
                        Destination::FurtherStudy,
                    );
                    self.rel(&cast.school, rid, again).await?;
                    self.rel(&cast.receiving, rid, approve(d(2026, 11, 30), UNIVERSITY))
                        .await?;
                }
                5 => {
                    let job = by_member(d(2026, 11, 26), EMPLOYER_BRANCH, Destination::Employment);
                    self.rel(&cast.graduate, rid, job).await?;
                    let org = RelationCommand::Approve {
                        date: d(2026, 11, 27),
                        org: (*class).to_owned(),
                    };
                    self.rel(&cast.secretary, rid, org).await?;
                }
                6 => {
                    let job = outgoing(d(2026, 11, 25), EMPLOYER_BRANCH, Destination::Employment);
                    self.rel(&cast.school, rid, job).await?;
                    let why = "毕业生决定出国留学";
                    self.rel(&cast.school, rid, cancel(d(2026, 11, 26), why))
                        .await?;
                    self.rel(
                        &cast.school,
                        rid,
                        retain(d(2026, 11, 26), RetentionReason::Abroad),
                    )
                    .await?;
                }
                _ => {} // still pending transfer
            }
        }
        progress("transfers", total, total);

        let as_of = d(SWEEP_DATE.0, SWEEP_DATE.1, SWEEP_DATE.2);
        let sweep = self.sweep(&cast.system, as_of, progress).await?;

        // TRF_NO_DELETE: whoever asks, a graduate pending transfer or with an open transfer stays on record.
        let mut targets: Vec<&str> = grads
            .iter()
            .enumerate()
            .filter(|(g, _)| matches!(g % 10, 5 | 7))
            .map(|(_, (_, rid))| *rid)
            .collect();
        targets.extend([15, 17, 18].map(|j| last_year[j].as_str()));
        let askers = [&cast.school, &cast.system, &cast.secretary];
        let (mut deletion_attempts, mut deletions_refused) = (0, 0);
        let mut refused = |r: EngineResult<()>| -> EngineResult<()> {
            deletion_attempts += 1;
            match r {
                Err(EngineError::Rule(v)) if v.code == RuleCode::TrfNoDelete => {
                    deletions_refused += 1;
                    Ok(())
                }
                Err(e) => Err(e),
                Ok(()) => Ok(()),
            }
        };
        for (k, rid) in targets.iter().enumerate() {
            let delete = RelationCommand::Delete {
                date: as_of,
                reason: "学生已毕业离校，删除团员信息".into(),
            };
            refused(self.rel(askers[k % askers.len()], rid, delete).await)?;
        }
        // Annulling an admission removes a member too.
        let annul_target = grads
            .iter()
            .enumerate()
            .find(|(g, (_, rid))| g % 10 == 8 && admitted.contains(rid))
            .map(|(_, (_, rid))| *rid);
        if let Some(rid) = annul_target {
            let annul = AdmissionCommand::Annul {
                date: as_of,
                reason: "毕业生团员信息清理".into(),
            };
            refused(self.step(&cast.school, rid, &annul).await.map(|_| ()))?;
        }
        let transitions = self.log_len().await? - log_before;

        let mut tx = self.store().begin_read().await?;
        let mut transfers = TransferCounts::default();
        for (state, n) in tx.transfer_state_counts().await? {
            match state.as_str() {
                "open" => transfers.open = n,
                "completed" => transfers.completed = n,
                "rejected" => transfers.rejected = n,
                "cancelled" => transfers.cancelled = n,
                _ => {}
            }
        }
        transfers.overdue = tx
            .transfers(&TransferFilter {
                path_prefix: "/".into(),
                overdue: true,
                ..TransferFilter::default()
            })
            .await?
            .len() as i64;
        let relation_states = tx
            .instance_state_counts("relation")
            .await?
            .into_iter()
            .collect();
        Ok(RelationPart {
            members_graduated,
            transfers,
            relation_states,
            sweep,
            deletion_attempts,
            deletions_refused,
            transitions,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// The standing part of the demo (see the module documentation): the employer's register, posts,
    /// organisational life, dues, probations, a withdrawal and the standing sweep.
    async fn demo_standing(
        &self,
        branches: &[Branch],
        progress: Progress<'_>,
    ) -> EngineResult<StandingSummary> {
        let started = Instant::now();
        let log_before = self.log_len().await?;
        let secretary = Actor {
            name: "demo-branch-secretary".into(),
            role: Some("branch_secretary".into()),
            ..Default::default()
        };
        let committee = Actor {
            name: "demo-committee-admin".into(),
            role: Some("committee_admin".into()),
            ..Default::default()
        };
        let system = Actor {
            name: "demo-sweep".into(),
            role: Some("system_admin".into()),
            ..Default::default()
        };
        let mut summary = StandingSummary {
            probations: 0,
            withdrawals: 0,
            posts: 0,
            life_records: 0,
            dues_payments: 0,
            dues_paid_fen: 0,
            dues_paid_yuan: String::new(),
            refused: BTreeMap::new(),
            sweep: StandingSweepReport::default(),
            states: BTreeMap::new(),
            transitions: 0,
            seconds: 0.0,
        };
        // The employer's register, imported in March: some of its members turn 28 this year.
        let mut roster = String::from("姓名,公民身份号码,入团日期,团员编号,留团察看至\n");
        let employees: Vec<String> = EMPLOYEE_BIRTHS
            .iter()
            .enumerate()
            .map(|(i, &(y, m, day))| legacy_id("110105", d(y, m, day), 700 + i as u32))
            .collect();
        for (i, rid) in employees.iter().enumerate() {
            roster.push_str(&format!("职工团员{i},{rid},2013-05-04,,\n"));
        }
        let (y, m, day) = EMPLOYER_REGISTER_DATE;
        self.clone()
            .with_today(d(y, m, day))
            .import_roster(&committee, EMPLOYER_BRANCH, roster.as_bytes(), false)
            .await?;
        let post = StandingCommand::AssignPost {
            date: d(2026, 4, 1),
            post: PostKind::Secretary,
            org: EMPLOYER_BRANCH.to_owned(),
        };
        self.standing(&committee, &employees[2], &post).await?;
        summary.posts += 1;
        for month in 3..=11 {
            for k in [2, 4, 5] {
                let life = StandingCommand::RecordLife {
                    date: d(2026, month, 15),
                    note: "主题团日".into(),
                };
                self.standing(&secretary, &employees[k], &life).await?;
                summary.life_records += 1;
            }
        }
        let first =
            YearMonth::new(2026, 3).map_err(|e| EngineError::Input(format!("month {}", e.0)))?;
        for k in [2, 4, 5] {
            let dues = StandingCommand::RecordDues {
                date: d(2026, 11, 20),
                first,
                months: 9,
                amount_fen: 2700,
                category: DuesCategory::Salaried,
            };
            self.standing(&secretary, &employees[k], &dues).await?;
            summary.dues_payments += 1;
            summary.dues_paid_fen += 2700;
        }
        progress("standing", 1, 4);

        // Students' dues: the legacy members of the non-graduating classes, two months from this month.
        let as_of = d(SWEEP_DATE.0, SWEEP_DATE.1, SWEEP_DATE.2);
        let this_month = YearMonth::of(self.today());
        for b in branches.iter().filter(|b| !b.graduating) {
            for rid in &b.members {
                let dues = StandingCommand::RecordDues {
                    date: as_of,
                    first: this_month,
                    months: 2,
                    amount_fen: 40,
                    category: DuesCategory::Reduced,
                };
                self.standing(&secretary, rid, &dues).await?;
                summary.dues_payments += 1;
                summary.dues_paid_fen += 40;
            }
        }
        summary.dues_paid_yuan = format_yuan(summary.dues_paid_fen);
        progress("standing", 2, 4);

        // Probation in the senior-high non-graduating classes, decided by the branch, approved by the school.
        let senior: Vec<&Branch> = branches
            .iter()
            .filter(|b| !b.graduating && b.level == SchoolLevel::SeniorHigh)
            .collect();
        for (i, b) in senior.iter().enumerate() {
            let (date, months) = if i < 3 {
                (d(2026, 5, 20), 6)
            } else {
                (d(2026, 11, 10), 12)
            };
            if i == 3 {
                // A 9-month probation is not one the Constitution knows.
                let wrong = StandingCommand::PutOnProbation {
                    date,
                    months: 9,
                    decision: self.demo_decision(b, date).await?,
                    reason: "多次无故不参加组织生活".into(),
                };
                match self.standing(&committee, &b.members[0], &wrong).await {
                    Err(EngineError::Rule(v)) => {
                        *summary
                            .refused
                            .entry(v.code.as_str().to_owned())
                            .or_insert(0) += 1;
                    }
                    Err(e) => return Err(e),
                    Ok(_) => {
                        return Err(EngineError::Input(
                            "the demo's 9-month probation was accepted".into(),
                        ))
                    }
                }
            }
            let cmd = StandingCommand::PutOnProbation {
                date,
                months,
                decision: self.demo_decision(b, date).await?,
                reason: "多次无故不参加组织生活".into(),
            };
            self.standing(&committee, &b.members[0], &cmd).await?;
            summary.probations += 1;
        }
        // A withdrawal in 初二(1).
        if let Some(b) = branches
            .iter()
            .find(|b| !b.graduating && b.level == SchoolLevel::JuniorHigh)
        {
            let mut decision = self.demo_decision(b, d(2026, 11, 6)).await?;
            decision.approved_on = d(2026, 11, 9);
            let cmd = StandingCommand::Withdraw {
                date: d(2026, 11, 9),
                request_date: d(2026, 10, 30),
                decision,
            };
            self.standing(&committee, &b.members[1], &cmd).await?;
            summary.withdrawals += 1;
        }
        progress("standing", 3, 4);

        summary.sweep = self.standing_sweep(&system, as_of, progress).await?;
        summary.states = self.standing_counts().await?.into_iter().collect();
        summary.transitions = self.log_len().await? - log_before;
        summary.seconds = started.elapsed().as_secs_f64();
        progress("standing", 4, 4);
        Ok(summary)
    }

    /// The evaluation part of the demo (see the module documentation): the [`EVALUATION_YEAR`] rounds of the
    /// `senior` non-graduating classes (高二(1)–(6), in order), their approval, a re-evaluation and closings.
    async fn demo_evaluation(
        &self,
        senior: &[&Branch],
        progress: Progress<'_>,
    ) -> EngineResult<EvaluationSummary> {
        let started = Instant::now();
        let log_before = self.log_len().await?;
        let secretary = Actor {
            name: "demo-branch-secretary".into(),
            role: Some("branch_secretary".into()),
            ..Default::default()
        };
        let committee = Actor {
            name: "demo-committee-admin".into(),
            role: Some("committee_admin".into()),
            ..Default::default()
        };
        let year = EVALUATION_YEAR;
        let mut summary = EvaluationSummary {
            year,
            rounds: 0,
            amendments: 0,
            approvals: 0,
            reevaluations: 0,
            grades: BTreeMap::new(),
            refused: BTreeMap::new(),
            states: BTreeMap::new(),
            transitions: 0,
            seconds: 0.0,
        };
        let total = senior.len() as u64;
        for (i, b) in senior.iter().take(EVALUATION_ROUNDS).enumerate() {
            progress("evaluation", i as u64, total);
            let grades_of = |grades: &[Grade; 5]| -> Vec<(String, Grade)> {
                b.members
                    .iter()
                    .cloned()
                    .zip(grades.iter().copied())
                    .collect()
            };
            let date = d(2026, 1, 12 + i as u32 / 2);
            let record = |date: Date, present: u32, grades: Vec<(String, Grade)>| {
                EvaluationCommand::Record {
                    date,
                    present,
                    grades,
                }
            };
            match i {
                1 => {
                    // Two excellent of five: more than 30 %.
                    let mut too_many = ROUND_GRADES[i];
                    too_many[1] = Grade::Excellent;
                    let r = self
                        .evaluation(
                            &secretary,
                            &b.code,
                            year,
                            &record(date, 5, grades_of(&too_many)),
                        )
                        .await;
                    staged(
                        r,
                        RuleCode::EvlGrades,
                        &mut summary.refused,
                        "round with 2 of 5 excellent",
                    )?;
                }
                4 => {
                    // 3 of 5 present is not more than 2/3: the branch meets again the next day.
                    let r = self
                        .evaluation(
                            &secretary,
                            &b.code,
                            year,
                            &record(date, 3, grades_of(&ROUND_GRADES[i])),
                        )
                        .await;
                    staged(
                        r,
                        RuleCode::EvlGrades,
                        &mut summary.refused,
                        "meeting with 3 of 5 present",
                    )?;
                }
                _ => {}
            }
            let date = if i == 4 {
                date + chrono::Days::new(1)
            } else {
                date
            };
            let round = record(date, ROUND_PRESENT[i], grades_of(&ROUND_GRADES[i]));
            self.evaluation(&secretary, &b.code, year, &round).await?;
            summary.rounds += 1;
            if i == 5 {
                // m4's grade corrected before the approval.
                let mut corrected = ROUND_GRADES[i];
                corrected[4] = Grade::Qualified;
                let amend = EvaluationCommand::Amend {
                    date,
                    present: ROUND_PRESENT[i],
                    grades: grades_of(&corrected),
                };
                self.evaluation(&secretary, &b.code, year, &amend).await?;
                summary.amendments += 1;
            }
            let approve = EvaluationCommand::Approve {
                date: d(2026, 1, 20),
                org: b.committee.to_owned(),
            };
            self.evaluation(&committee, &b.code, year, &approve).await?;
            summary.approvals += 1;
            match i {
                0 | 2 => {
                    let close = EvaluationCommand::Close {
                        date: d(2026, 1, 25),
                    };
                    self.evaluation(&secretary, &b.code, year, &close).await?;
                }
                1 => {
                    // The unqualified member, re-evaluated after the 3 months EVL_UNQUALIFIED requires.
                    let again = EvaluationCommand::Reevaluate {
                        date: d(2026, 5, 12),
                        member: b.members[3].clone(),
                        grade: Grade::BasicallyQualified,
                    };
                    self.evaluation(&secretary, &b.code, year, &again).await?;
                    summary.reevaluations += 1;
                    let close = EvaluationCommand::Close {
                        date: d(2026, 5, 12),
                    };
                    self.evaluation(&secretary, &b.code, year, &close).await?;
                }
                _ => {}
            }
            let view = self.evaluation_show(&b.code, year).await?;
            for (grade, n) in view.counts {
                *summary.grades.entry(grade).or_insert(0) += n;
            }
        }
        progress("evaluation", total, total);
        summary.states = self.evaluation_state_counts().await?.into_iter().collect();
        summary.transitions = self.log_len().await? - log_before;
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// The Party recommendation part of the demo (see the module documentation), in the `senior`
    /// non-graduating classes (高二(1)–(6), in order) graded by [`Self::demo_evaluation`].
    async fn demo_party(
        &self,
        senior: &[&Branch],
        progress: Progress<'_>,
    ) -> EngineResult<PartySummary> {
        let started = Instant::now();
        let log_before = self.log_len().await?;
        let secretary = Actor {
            name: "demo-branch-secretary".into(),
            role: Some("branch_secretary".into()),
            ..Default::default()
        };
        let committee = Actor {
            name: "demo-committee-admin".into(),
            role: Some("committee_admin".into()),
            ..Default::default()
        };
        let mut summary = PartySummary {
            nominations: 0,
            votes: 0,
            recommendations: 0,
            refused: BTreeMap::new(),
            states: BTreeMap::new(),
            transitions: 0,
            seconds: 0.0,
        };
        if senior.len() < EVALUATION_ROUNDS {
            return Err(EngineError::Input(
                "the demo's Party part needs six senior-high non-graduating classes".into(),
            ));
        }
        let member = |n: usize, k: usize| senior[n - 1].members[k].as_str();
        let class = |n: usize| senior[n - 1];
        let party = "中共北京市海淀区实验高级中学委员会";
        // Nominated 09-07, voted 09-10, publicised from 09-11 (to 09-17), recommended 09-21.
        let autumn = [
            d(2026, 9, 7),
            d(2026, 9, 10),
            d(2026, 9, 11),
            d(2026, 9, 21),
        ];

        // 高二(1) m1, and m2 with it: the branch's share (5 members, 20 %) is one recommendation under way.
        self.demo_nominate(&secretary, member(1, 1), autumn[0], &mut summary)
            .await?;
        self.demo_nominate(&secretary, member(1, 2), autumn[0], &mut summary)
            .await?;
        self.demo_vote(&secretary, class(1), member(1, 1), autumn[1], &mut summary)
            .await?;
        let vote = self.demo_ballot(class(1), autumn[1]).await?;
        let r = self.party(&secretary, member(1, 2), &vote).await;
        staged(
            r,
            RuleCode::PtyShare,
            &mut summary.refused,
            "second vote in a branch of 5",
        )?;
        self.demo_through(
            &secretary,
            &committee,
            class(1),
            member(1, 1),
            autumn,
            &mut summary,
        )
        .await?;
        // Refused nominations: a last grade below qualified, and a member on probation.
        let r = self
            .party(
                &secretary,
                member(2, 3),
                &PartyCommand::Nominate { date: autumn[0] },
            )
            .await;
        staged(
            r,
            RuleCode::EvlGrades,
            &mut summary.refused,
            "nomination of a basically qualified member",
        )?;
        let r = self
            .party(
                &secretary,
                member(3, 4),
                &PartyCommand::Nominate { date: autumn[0] },
            )
            .await;
        staged(
            r,
            RuleCode::StdProbation,
            &mut summary.refused,
            "nomination of a member on probation",
        )?;
        progress("party recommendations", 1, 4);

        for (n, k) in [(2, 1), (3, 1), (5, 3)] {
            self.demo_nominate(&secretary, member(n, k), autumn[0], &mut summary)
                .await?;
            self.demo_vote(&secretary, class(n), member(n, k), autumn[1], &mut summary)
                .await?;
            self.demo_through(
                &secretary,
                &committee,
                class(n),
                member(n, k),
                autumn,
                &mut summary,
            )
            .await?;
        }
        // 高二(4) m2: an objection during publicity is upheld.
        self.demo_nominate(&secretary, member(4, 2), autumn[0], &mut summary)
            .await?;
        self.demo_vote(&secretary, class(4), member(4, 2), autumn[1], &mut summary)
            .await?;
        let publicise = PartyCommand::Publicise { date: autumn[2] };
        self.party(&secretary, member(4, 2), &publicise).await?;
        let cancel = PartyCommand::Cancel {
            date: d(2026, 9, 15),
            reason: "公示期间收到群众反映，经核实情况属实，暂缓推荐".into(),
        };
        self.party(&secretary, member(4, 2), &cancel).await?;
        progress("party recommendations", 2, 4);

        // The Party's answers in November.
        let accept = PartyCommand::Accept {
            date: d(2026, 11, 16),
            party_org: party.into(),
        };
        self.party(&committee, member(1, 1), &accept).await?;
        let decline = PartyCommand::Decline {
            date: d(2026, 11, 16),
            party_org: party.into(),
            reason: "经党组织考察，暂不列为入党积极分子，继续培养".into(),
        };
        self.party(&committee, member(2, 1), &decline).await?;
        // 高二(1)'s share is free again: m2 is voted, publicised from 11-18 (to 11-24), recommended 11-26.
        self.demo_vote(
            &secretary,
            class(1),
            member(1, 2),
            d(2026, 11, 17),
            &mut summary,
        )
        .await?;
        let again = [
            d(2026, 11, 17),
            d(2026, 11, 17),
            d(2026, 11, 18),
            d(2026, 11, 26),
        ];
        self.demo_through(
            &secretary,
            &committee,
            class(1),
            member(1, 2),
            again,
            &mut summary,
        )
        .await?;
        progress("party recommendations", 3, 4);

        // 高二(6): m1 in publicity (from 11-25 to 12-01), m3 just nominated.
        self.demo_nominate(&secretary, member(6, 1), d(2026, 11, 20), &mut summary)
            .await?;
        self.demo_vote(
            &secretary,
            class(6),
            member(6, 1),
            d(2026, 11, 24),
            &mut summary,
        )
        .await?;
        let publicise = PartyCommand::Publicise {
            date: d(2026, 11, 25),
        };
        self.party(&secretary, member(6, 1), &publicise).await?;
        self.demo_nominate(&secretary, member(6, 3), d(2026, 11, 27), &mut summary)
            .await?;

        summary.states = self.party_state_counts().await?.into_iter().collect();
        summary.transitions = self.log_len().await? - log_before;
        summary.seconds = started.elapsed().as_secs_f64();
        progress("party recommendations", 4, 4);
        Ok(summary)
    }

    /// A nomination of the demo on `date`.
    async fn demo_nominate(
        &self,
        secretary: &Actor,
        member: &str,
        date: Date,
        summary: &mut PartySummary,
    ) -> EngineResult<()> {
        self.party(secretary, member, &PartyCommand::Nominate { date })
            .await?;
        summary.nominations += 1;
        Ok(())
    }

    /// A branch general meeting of the demo that passes the nomination of `member` on `date`.
    async fn demo_vote(
        &self,
        secretary: &Actor,
        branch: &Branch,
        member: &str,
        date: Date,
        summary: &mut PartySummary,
    ) -> EngineResult<()> {
        let vote = self.demo_ballot(branch, date).await?;
        self.party(secretary, member, &vote).await?;
        summary.votes += 1;
        Ok(())
    }

    /// Publicity from `dates[2]` and the senior-high committee's recommendation on `dates[3]` of a member
    /// whose nomination has passed the branch's vote.
    async fn demo_through(
        &self,
        secretary: &Actor,
        committee: &Actor,
        branch: &Branch,
        member: &str,
        dates: [Date; 4],
        summary: &mut PartySummary,
    ) -> EngineResult<()> {
        let publicise = PartyCommand::Publicise { date: dates[2] };
        self.party(secretary, member, &publicise).await?;
        let recommend = PartyCommand::Recommend {
            date: dates[3],
            org: branch.committee.to_owned(),
        };
        self.party(committee, member, &recommend).await?;
        summary.recommendations += 1;
        Ok(())
    }

    /// The secret ballot of a branch general meeting on `date` that passes (PTY_MEETING): the branch's
    /// voting-entitled members on the date (membership started, standing `member`, `recommended_for_party`
    /// or `party_member`, as the engine counts them) present but one in ten, one abstaining, the others for.
    async fn demo_ballot(&self, branch: &Branch, date: Date) -> EngineResult<PartyCommand> {
        const ENTITLED: &[&str] = &["member", "recommended_for_party", "party_member"];
        let mut tx = self.store().begin_read().await?;
        let org = self.org_in(&mut tx, &branch.code).await?;
        let entitled = tx
            .members_of_branch(org.id)
            .await?
            .iter()
            .filter(|m| m.membership_date <= date && ENTITLED.contains(&m.standing.as_str()))
            .count();
        let entitled = u32::try_from(entitled).unwrap_or(u32::MAX);
        let present = entitled - entitled / 10;
        Ok(PartyCommand::Vote {
            date,
            entitled: Some(entitled),
            present,
            yes: present.saturating_sub(1),
            no: 0,
            abstain: u32::from(present > 0),
        })
    }

    /// A standing decision of `branch`'s general meeting on `date`, approved by its committee the same day: the
    /// branch's voting-entitled members on the date (as the engine counts them) vote as in [`Self::demo_ballot`].
    async fn demo_decision(&self, branch: &Branch, date: Date) -> EngineResult<Decision> {
        let PartyCommand::Vote {
            entitled,
            present,
            yes,
            no,
            abstain,
            ..
        } = self.demo_ballot(branch, date).await?
        else {
            return Err(EngineError::Input("the demo's ballot is not a vote".into()));
        };
        Ok(Decision {
            meeting: BranchMeeting {
                date,
                entitled: entitled.unwrap_or(0),
                present,
                yes,
                no,
                abstain,
            },
            approved_by: branch.committee.to_owned(),
            approved_on: date,
        })
    }

    /// A relation command of the demo; any refusal is an error (the scenario is built not to meet one).
    async fn rel(&self, actor: &Actor, member: &str, cmd: RelationCommand) -> EngineResult<()> {
        self.relation(actor, member, &cmd).await.map(|_| ())
    }

    /// A member-initiated transfer to the employer's branch: requested, approved by the class branch, then
    /// by the employer's committee (TRF_INITIATOR, both sides) on the three `dates`.
    async fn to_employer(
        &self,
        cast: &Cast,
        class: &str,
        member: &str,
        dates: [Date; 3],
    ) -> EngineResult<()> {
        let job = by_member(dates[0], EMPLOYER_BRANCH, Destination::Employment);
        self.rel(&cast.graduate, member, job).await?;
        let outgoing_side = RelationCommand::Approve {
            date: dates[1],
            org: class.to_owned(),
        };
        self.rel(&cast.secretary, member, outgoing_side).await?;
        self.rel(&cast.receiving, member, approve(dates[2], EMPLOYER))
            .await
    }

    /// A transfer to the street committee requested by the school: approved by the committee, which then
    /// assigns its branch (TRF_BRANCH_ONLY), on the three `dates`.
    async fn to_township(&self, cast: &Cast, member: &str, dates: [Date; 3]) -> EngineResult<()> {
        let job = outgoing(dates[0], TOWNSHIP, Destination::Employment);
        self.rel(&cast.school, member, job).await?;
        self.rel(&cast.receiving, member, approve(dates[1], TOWNSHIP))
            .await?;
        let assign = RelationCommand::AssignBranch {
            date: dates[2],
            org: TOWNSHIP.into(),
            branch: TOWNSHIP_BRANCH.into(),
        };
        self.rel(&cast.receiving, member, assign).await
    }

    /// Entries in the transition log.
    async fn log_len(&self) -> EngineResult<i64> {
        let mut tx = self.store().begin_read().await?;
        Ok(tx.log_size().await?)
    }
}
