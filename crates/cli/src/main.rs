//! `tuanji`: the command-line tool of Tuanji (团籍), the League membership register.
//!
//! Exit status: 0 on success, 1 when a rule or the input refused the command (the rule code is printed),
//! 2 on usage errors, 3 when the system failed (database, workflow files).

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tuanji_domain::dues::{format_yuan, YearMonth};
use tuanji_engine::access::Role;
use tuanji_engine::admission::{AdmissionCommand, Application};
use tuanji_engine::audit::{check_proof, InclusionProof, Signer};
use tuanji_engine::demo::DemoConfig;
use tuanji_engine::export::{ExportFormat, LogQuery};
use tuanji_engine::principals::{BindingView, PrincipalView, TokenView};
use tuanji_engine::relation::{RelationCommand, RelationOutcome, TransferView};
use tuanji_engine::standing::{
    parse_yuan, post_name, DuesView, StandingCommand, StandingOutcome, StandingSweepReport,
    StandingView,
};
use tuanji_engine::{with_engine, Actor, AnyEngine, EngineError, DEFAULT_DATABASE_URL};
use tuanji_workflow::relation::{Destination, Initiator, RetentionReason};
use tuanji_workflow::standing::{
    BranchMeeting, Decision, DuesCategory, LapseGround, PostKind, RemovalReason,
};
use tuanji_workflow::Registry;

/// Standard output failed: a closed pipe (`tuanji log | head`) ends the program quietly; anything else (a full
/// disk) is a failure.
fn output_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write the output: {e}");
    std::process::exit(3);
}

/// `println!` that ends the program quietly when standard output is closed (`tuanji log | head`).
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            output_failed(e);
        }
    }};
}

/// `print!`, likewise.
macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($arg)*) {
            output_failed(e);
        }
    }};
}

/// The GB/T 2260 tables shipped in the repository.
const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/china-division");

#[derive(Parser)]
#[command(
    name = "tuanji",
    version,
    about = "Tuanji (团籍): the Communist Youth League membership register"
)]
struct Cli {
    /// Database URL: sqlite://FILE (created by commands that write; read commands refuse a missing file) or
    /// postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, env = "TUANJI_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// Who is acting (recorded in the transition log).
    #[arg(long, env = "TUANJI_ACTOR", default_value = "cli", global = true)]
    actor: String,
    /// Role to act in (branch_secretary, committee_admin, …); default: the first role the step allows.
    #[arg(long = "as", global = true)]
    role: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create the database (if missing) and apply migrations.
    Init,
    /// Serve the HTTP API (/api/v1, OpenAPI at /api/openapi.json, docs at /api/docs, /metrics) until Ctrl-C or
    /// SIGTERM, then finish the requests in flight. Callers need a token: `tuanji token create`.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCmd),
    /// Development-number quotas.
    #[command(subcommand)]
    Quota(QuotaCmd),
    /// Rosters of applicants and existing members.
    #[command(subcommand)]
    Roster(RosterCmd),
    /// The admission procedure (团员发展), one subcommand per step.
    #[command(subcommand)]
    Admission(AdmissionCmd),
    /// Members: record, contact, report-in, retention, suspension, deletion.
    #[command(subcommand)]
    Member(MemberCmd),
    /// Organisation-relation transfers (组织关系转接).
    #[command(subcommand)]
    Transfer(TransferCmd),
    /// Annual evaluation (团员教育评议): a branch's round for a year.
    #[command(subcommand)]
    Evaluation(EvaluationCmd),
    /// Party recommendation (推优入党).
    #[command(subcommand)]
    Party(PartyCmd),
    /// Graduate every member of a graduating branch (one transaction): each moves to graduated_pending_transfer.
    Graduate {
        /// Branch code (marked graduating with `org mark-graduating`).
        #[arg(long)]
        branch: String,
        /// Graduation date (YYYY-MM-DD).
        #[arg(long, value_parser = date)]
        on: NaiveDate,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Deadlines and lost contact as of a date: overdue transfers escalated, retentions flagged, lost contact
    /// marked; then standing: age-out on the 28th birthday (STD_AGE_OUT), probations ended, six-month lapses
    /// flagged (STD_LAPSE). Running it twice for the same date changes nothing the second time.
    Sweep {
        /// The date swept (YYYY-MM-DD, not after today).
        #[arg(long, value_parser = date)]
        as_of: NaiveDate,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// League standing (团籍): probation, expulsion and appeals, withdrawal, removal, death, Party entry,
    /// organisational life, League posts, age-out.
    #[command(subcommand)]
    Standing(StandingCmd),
    /// League dues (团费), amounts in yuan: record payments, show arrears (DUE_STUDENT).
    #[command(subcommand)]
    Dues(DuesCmd),
    /// The transition log, oldest first.
    Log {
        #[command(flatten)]
        select: Select,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The tamper-evident log for auditors: keys, signed checkpoints, verification, proofs, export.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Workflow files.
    #[command(subcommand)]
    Workflows(WorkflowsCmd),
    /// Principals of the HTTP API and their role bindings on the organisation tree (bootstrap:
    /// `tuanji principal add admin --role system_admin --org CYLC`).
    #[command(subcommand)]
    Principal(PrincipalCmd),
    /// API bearer tokens: create (shown once), revoke, list.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Run the demo on an empty database: national tree, two schools, 1,000 applicants, the whole procedure.
    Demo {
        /// Roster seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Applicants on the generated roster.
        #[arg(long, default_value_t = 1000)]
        applicants: usize,
        /// Directory of the GB/T 2260 tables.
        #[arg(long, default_value = DATA_DIR)]
        data: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A selection of the transition log; every condition given must hold.
#[derive(Args, Clone)]
struct Select {
    /// Only this person (resident ID, development number or instance id).
    #[arg(long)]
    member: Option<String>,
    /// Only entries of this organisation's subtree (code).
    #[arg(long)]
    org: Option<String>,
    /// Only this workflow (admission, relation, standing, audit).
    #[arg(long)]
    workflow: Option<String>,
    /// Only this command (e.g. approve).
    #[arg(long)]
    command: Option<String>,
    /// Only entries that checked this rule code (e.g. TRF_NO_DELETE).
    #[arg(long)]
    rule: Option<String>,
    /// Only this actor.
    #[arg(long)]
    actor_is: Option<String>,
    /// Effective on or after this date.
    #[arg(long, value_parser = date)]
    from: Option<NaiveDate>,
    /// Effective on or before this date.
    #[arg(long, value_parser = date)]
    to: Option<NaiveDate>,
    /// At most this many entries (oldest first).
    #[arg(long)]
    limit: Option<i64>,
}

impl Select {
    fn query(&self) -> LogQuery {
        LogQuery {
            member: self.member.clone(),
            org: self.org.clone(),
            workflow: self.workflow.clone(),
            command: self.command.clone(),
            rule: self.rule.clone(),
            actor: self.actor_is.clone(),
            from: self.from,
            to: self.to,
            limit: self.limit,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportArg {
    /// One JSON object per line.
    Jsonl,
    /// CSV, UTF-8 with BOM (opens in Excel).
    Csv,
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Create a signing key: the private key goes to --out (mode 0600), the public key is stored and printed.
    Keygen {
        /// Key name (no spaces or `+`), e.g. 海淀区团委-audit or haidian-audit.
        #[arg(long)]
        name: String,
        /// Private key file to create (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Take a signed checkpoint of the log now.
    Checkpoint {
        /// Private key file.
        #[arg(long, env = "TUANJI_AUDIT_KEY")]
        key: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the stored checkpoints.
    Checkpoints {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify the whole log: leaves, chain, checkpoints and signatures, a trusted checkpoint, and a replay of every
    /// transition against the workflow tables and the stored records. Exit 1 at the first fault.
    Verify {
        /// A checkpoint the auditor kept (its signed text).
        #[arg(long, requires = "key")]
        trusted: Option<PathBuf>,
        /// File holding the public key the trusted checkpoint is signed with (what `audit keygen` prints).
        #[arg(long, requires = "trusted")]
        key: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write an inclusion proof of entry --seq against the latest checkpoint covering it.
    Prove {
        /// Entry.
        #[arg(long)]
        seq: i64,
        /// Output file (default: standard output); an existing file is kept unless --force.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing --out file.
        #[arg(long)]
        force: bool,
    },
    /// Check an inclusion proof offline with the public key file (no database needed).
    CheckProof {
        /// The proof file.
        file: PathBuf,
        /// File holding the public key (what `audit keygen` prints).
        #[arg(long)]
        key: PathBuf,
    },
    /// Export a selection of the log with its hashes; ID numbers masked unless --unmasked (which is logged).
    Export {
        #[command(flatten)]
        select: Select,
        /// Format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportArg,
        /// Output file (default: standard output); an existing file is kept unless --force.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing --out file.
        #[arg(long)]
        force: bool,
        /// Full resident ID numbers (auditor or system_admin; recorded in the log).
        #[arg(long)]
        unmasked: bool,
    },
}

#[derive(Subcommand)]
enum OrgCmd {
    /// Import organisations: a CSV file (code,name,kind,parent[,approves_admissions,school_level,graduating,
    /// class_size]), or `national` for the national committee tree from the GB/T 2260 tables.
    Import {
        /// CSV file, or `national`.
        file: String,
        /// Directory of the GB/T 2260 tables (with `national`).
        #[arg(long, default_value = DATA_DIR)]
        data: PathBuf,
        /// Check everything, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Mark a branch as graduating (毕业班) with its graduation date.
    MarkGraduating {
        /// Branch code.
        #[arg(long)]
        branch: String,
        /// Graduation date.
        #[arg(long, value_parser = date)]
        on: NaiveDate,
    },
    /// List organisations (a subtree with --under).
    List {
        /// Code of the subtree's root.
        #[arg(long)]
        under: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum QuotaCmd {
    /// Allocate COUNT numbers of YEAR to a committee.
    Allocate {
        /// Receiving committee.
        #[arg(long)]
        org: String,
        /// Admission year.
        #[arg(long)]
        year: i32,
        /// Numbers to allocate.
        #[arg(long)]
        count: i64,
        /// Allocating superior (default: the parent).
        #[arg(long)]
        by: Option<String>,
        /// Date of the decision (default: today).
        #[arg(long, value_parser = date)]
        date: Option<NaiveDate>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a committee's quota for a year.
    Show {
        /// Committee code.
        #[arg(long)]
        org: String,
        /// Year.
        #[arg(long)]
        year: i32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RosterCmd {
    /// Import a roster CSV (UTF-8 with or without BOM, or GB18030/GBK) into a branch. One bad row: nothing imported.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Branch code.
        #[arg(long)]
        branch: String,
        /// Check every row, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct On {
    /// Applicant: resident ID, development number or admission instance id.
    applicant: String,
    /// Effective date (YYYY-MM-DD, China Standard Time).
    #[arg(long, value_parser = date)]
    date: NaiveDate,
}

#[derive(Subcommand)]
enum AdmissionCmd {
    /// Receive a written application.
    Apply {
        /// Branch code.
        #[arg(long)]
        branch: String,
        /// Resident ID (公民身份号码).
        #[arg(long)]
        id: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// 民族.
        #[arg(long)]
        ethnicity: Option<String>,
        /// Class (班级).
        #[arg(long)]
        class: Option<String>,
        /// Application date.
        #[arg(long, value_parser = date)]
        date: NaiveDate,
    },
    /// Record the talk with the applicant.
    Talk {
        #[command(flatten)]
        on: On,
        /// Who talked with the applicant.
        #[arg(long)]
        by: String,
    },
    /// Approve as activist (basic-level committee).
    ApproveActivist {
        #[command(flatten)]
        on: On,
        /// Approving committee code.
        #[arg(long)]
        committee: String,
    },
    /// Assign 1–2 mentors.
    Mentors {
        #[command(flatten)]
        on: On,
        /// A member mentor (resident ID or development number); repeatable.
        #[arg(long)]
        mentor: Vec<String>,
        /// A Party-member mentor, by name; repeatable.
        #[arg(long)]
        party_mentor: Vec<String>,
    },
    /// Record a League class attended.
    Class {
        #[command(flatten)]
        on: On,
        /// Length in minutes.
        #[arg(long)]
        minutes: u32,
        /// Topic.
        #[arg(long, default_value = "")]
        topic: String,
    },
    /// Determine as development target.
    DetermineTarget {
        #[command(flatten)]
        on: On,
    },
    /// Pre-review by the committee with approval authority.
    Prereview {
        #[command(flatten)]
        on: On,
        /// Committee code.
        #[arg(long)]
        committee: String,
    },
    /// Start publicity (--date is the first day).
    Publicise {
        #[command(flatten)]
        on: On,
    },
    /// Record an objection raised during publicity.
    Object {
        #[command(flatten)]
        on: On,
        /// The objection.
        #[arg(long)]
        text: String,
    },
    /// Resolve the oldest open objection.
    ResolveObjection {
        #[command(flatten)]
        on: On,
        /// The resolution.
        #[arg(long)]
        resolution: String,
    },
    /// Submit the application form with two sponsors (--date: the form's date).
    Form {
        #[command(flatten)]
        on: On,
        /// A sponsor (resident ID or development number); give two.
        #[arg(long)]
        sponsor: Vec<String>,
        /// Date of the sponsors' opinions.
        #[arg(long, value_parser = date)]
        opinion_date: NaiveDate,
    },
    /// Record the branch general meeting that passed the admission.
    Meeting {
        #[command(flatten)]
        on: On,
        /// Voting-entitled members present.
        #[arg(long)]
        present: u32,
        /// Yes votes.
        #[arg(long)]
        yes: u32,
    },
    /// Approve the admission (consumes a development number).
    Approve {
        #[command(flatten)]
        on: On,
        /// Approving committee code.
        #[arg(long)]
        committee: String,
    },
    /// Record the oath.
    Oath {
        #[command(flatten)]
        on: On,
    },
    /// File the application form PDF in the archive (≤ 20 MB).
    Archive {
        #[command(flatten)]
        on: On,
        /// The PDF file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Annul an admission (the number is voided for good).
    Annul {
        #[command(flatten)]
        on: On,
        /// Reason.
        #[arg(long)]
        reason: String,
    },
    /// Reject the application.
    Reject {
        #[command(flatten)]
        on: On,
        /// Reason.
        #[arg(long)]
        reason: String,
    },
    /// The applicant withdraws.
    Withdraw {
        #[command(flatten)]
        on: On,
        /// Reason.
        #[arg(long)]
        reason: String,
    },
    /// Replay the applicant's log and compare it with the stored record.
    Replay {
        /// Applicant.
        applicant: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum MemberCmd {
    /// Show a person's record (resident ID, development number or instance id).
    Show {
        /// Who.
        who: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record a contact with the member (--reached) or an unanswered attempt (TRF_LOST_CONTACT).
    Contact {
        #[command(flatten)]
        m: Who,
        /// The member was reached (default: an unanswered attempt).
        #[arg(long)]
        reached: bool,
        /// How and by whom.
        #[arg(long)]
        note: String,
    },
    /// The member reports in to a branch (TRF_REPORT_IN); the branch then accepts or declines.
    ReportIn {
        #[command(flatten)]
        m: Who,
        /// Branch reported to.
        #[arg(long)]
        branch: String,
    },
    /// The branch accepts a report-in: the relation moves there.
    AcceptReportIn {
        #[command(flatten)]
        m: Who,
        /// Accepting organisation (the branch or above).
        #[arg(long)]
        org: String,
    },
    /// The branch declines a report-in.
    DeclineReportIn {
        #[command(flatten)]
        m: Who,
        /// Declining organisation.
        #[arg(long)]
        org: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Keep a graduate at the school (TRF_RETENTION): no job yet (mobile-member branch) or study abroad.
    Retain {
        #[command(flatten)]
        m: Who,
        /// Why.
        #[arg(long, value_enum)]
        reason: RetainArg,
        /// The mobile-member branch, when the school has several.
        #[arg(long)]
        branch: Option<String>,
    },
    /// Suspend (停止团籍) a lost-contact member after verification (branch meeting, basic-level approval).
    Suspend {
        #[command(flatten)]
        m: Who,
        /// Date of the branch meeting.
        #[arg(long, value_parser = date)]
        meeting_date: NaiveDate,
        /// Approving basic-level committee.
        #[arg(long)]
        committee: String,
    },
    /// Delete a member: a logged tombstone with a reason; refused while graduated pending transfer or in a
    /// transfer (TRF_NO_DELETE).
    Delete {
        #[command(flatten)]
        m: Who,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args)]
struct Who {
    /// Member: resident ID, development number or instance id.
    member: String,
    /// Effective date (YYYY-MM-DD, China Standard Time).
    #[arg(long, value_parser = date)]
    date: NaiveDate,
}

#[derive(Clone, Copy, ValueEnum)]
enum RetainArg {
    /// No job yet: the school's mobile-member branch, 6 months, at most 12.
    NoJob,
    /// Study abroad: kept at the school.
    Abroad,
}

#[derive(Clone, Copy, ValueEnum)]
enum DestinationArg {
    /// A job: the employer's branch or the township/street committee.
    Employment,
    /// Further study: a school organisation only (TRF_FURTHER_STUDY).
    FurtherStudy,
    /// Any other move.
    Move,
}

#[derive(Clone, Copy, ValueEnum)]
enum InitiatorArg {
    /// The member.
    Member,
    /// The outgoing organisation.
    Outgoing,
    /// The incoming organisation.
    Incoming,
}

#[derive(Subcommand)]
enum TransferCmd {
    /// Request a transfer to an organisation (a branch, or a committee that assigns one).
    Request {
        #[command(flatten)]
        m: Who,
        /// Receiving organisation code.
        #[arg(long)]
        to: String,
        /// Where the member goes.
        #[arg(long, value_enum)]
        destination: DestinationArg,
        /// Who initiates.
        #[arg(long, value_enum, default_value = "member")]
        initiator: InitiatorArg,
        /// The initiating organisation (for --initiator outgoing / incoming).
        #[arg(long)]
        org: Option<String>,
    },
    /// Approve as a counter-party; the transfer completes when every side has approved and a branch is known.
    Approve {
        #[command(flatten)]
        m: Who,
        /// Approving organisation.
        #[arg(long)]
        org: String,
    },
    /// Refuse as a counter-party.
    Reject {
        #[command(flatten)]
        m: Who,
        /// Refusing organisation.
        #[arg(long)]
        org: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Withdraw a transfer (its initiator).
    Cancel {
        #[command(flatten)]
        m: Who,
        /// The initiating organisation (omit when the member cancels their own request).
        #[arg(long)]
        org: Option<String>,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// The receiving committee names the branch (TRF_BRANCH_ONLY).
    AssignBranch {
        #[command(flatten)]
        m: Who,
        /// The committee.
        #[arg(long)]
        org: String,
        /// The branch.
        #[arg(long)]
        branch: String,
    },
    /// A member's transfers.
    Show {
        /// Member: resident ID, development number or instance id.
        member: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Transfers touching an organisation's subtree, oldest first, with who acts next.
    List {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// Only open overdue transfers.
        #[arg(long)]
        overdue: bool,
        /// Only open transfers.
        #[arg(long)]
        open: bool,
        /// Only transfers into the subtree.
        #[arg(long, conflicts_with = "outgoing")]
        incoming: bool,
        /// Only transfers out of the subtree.
        #[arg(long)]
        outgoing: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum WorkflowsCmd {
    /// Validate every workflow file of a directory.
    Check {
        /// Directory of workflow files.
        #[arg(default_value = "workflows")]
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a workflow as a Mermaid state diagram.
    Graph {
        /// Workflow name, e.g. admission.
        name: String,
        /// Version (default: the latest).
        #[arg(long)]
        version: Option<u32>,
    },
}

fn date(s: &str) -> Result<NaiveDate, String> {
    let t = s.trim();
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(format!(
            "`{s}` is not a date: use YYYY-MM-DD, e.g. 2026-10-16"
        ));
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date: use YYYY-MM-DD, e.g. 2026-10-16"))
}

/// A failure to report: message, optional rule code, exit status.
struct Failure {
    code: Option<String>,
    message: String,
    status: u8,
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        let status = e.exit_code() as u8;
        match e {
            EngineError::Rule(v) => Failure {
                code: Some(v.code.as_str().into()),
                message: v.message,
                status,
            },
            EngineError::Rows(rows) => {
                let mut msg = format!("{} bad row(s); nothing was imported:", rows.len());
                for r in &rows {
                    msg.push_str(&format!(
                        "\n  line {}{}{}: {}",
                        r.line,
                        r.column
                            .as_ref()
                            .map(|c| format!(", column {c}"))
                            .unwrap_or_default(),
                        r.code
                            .map(|c| format!(" [{}]", c.as_str()))
                            .unwrap_or_default(),
                        r.reason
                    ));
                }
                Failure {
                    code: None,
                    message: msg,
                    status,
                }
            }
            other => Failure {
                code: None,
                message: other.to_string(),
                status,
            },
        }
    }
}

fn input(message: impl Into<String>) -> Failure {
    Failure {
        code: None,
        message: message.into(),
        status: 1,
    }
}

fn print_json<T: Serialize>(v: &T) -> Result<(), Failure> {
    let s = serde_json::to_string_pretty(v).map_err(|e| Failure {
        code: None,
        message: e.to_string(),
        status: 3,
    })?;
    println!("{s}");
    Ok(())
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

fn progress_bar(message: &str) -> ProgressBar {
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(message.to_owned());
    pb
}

fn show(pb: &ProgressBar, what: &str, done: u64, total: u64) {
    if pb.message() != what {
        pb.set_message(what.to_owned());
    }
    pb.set_length(total);
    pb.set_position(done);
}

/// Largest file the CLI reads (rosters, organisation CSVs, PDFs): 64 MB.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A regular file of at most 64 MB, or why not.
fn check_file(path: &Path) -> Result<(), Failure> {
    let meta = std::fs::metadata(path)
        .map_err(|e| input(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(input(format!("{} is not a regular file", path.display())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(input(format!(
            "{} has {} bytes; files of at most 64 MB are read",
            path.display(),
            meta.len()
        )));
    }
    Ok(())
}

/// An output file written whole or not at all: a temporary file in the target's directory, renamed onto the
/// target when complete (removed if anything fails first). An existing target is kept unless `force`.
struct OutFile<'a> {
    path: &'a Path,
    force: bool,
    file: tempfile::NamedTempFile,
}

impl<'a> OutFile<'a> {
    fn create(path: &'a Path, force: bool) -> Result<Self, Failure> {
        if !force && path.exists() {
            return Err(input(format!(
                "{} exists: give another --out or --force to replace it",
                path.display()
            )));
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let file = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| input(format!("cannot write {}: {e}", path.display())))?;
        Ok(OutFile { path, force, file })
    }

    fn error(&self, e: std::io::Error) -> Failure {
        input(format!("cannot write {}: {e}", self.path.display()))
    }

    fn persist(self) -> Result<(), Failure> {
        let (path, force) = (self.path, self.force);
        let done = if force {
            self.file.persist(path).map(drop)
        } else {
            self.file.persist_noclobber(path).map(drop)
        };
        done.map_err(|e| input(format!("cannot write {}: {}", path.display(), e.error)))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    check_file(path)?;
    std::fs::read(path).map_err(|e| input(format!("cannot read {}: {e}", path.display())))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        // Errors, and the engine's warnings (a failed automatic checkpoint), unless TUANJI_LOG says otherwise.
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TUANJI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error,tuanji_engine=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            match f.code {
                Some(code) => eprintln!("refused [{code}]: {}", f.message),
                None => eprintln!("error: {}", f.message),
            }
            ExitCode::from(f.status)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // Commands that need no database.
    if let Cmd::Workflows(w) = &cli.cmd {
        return workflows(w);
    }
    if let Cmd::Audit(AuditCmd::CheckProof { file, key }) = &cli.cmd {
        let proof: InclusionProof = serde_json::from_slice(&read(file)?)
            .map_err(|e| input(format!("{} is not an inclusion proof: {e}", file.display())))?;
        let vkey = String::from_utf8(read(key)?)
            .map_err(|_| input(format!("{} is not UTF-8 text", key.display())))?;
        let cp = check_proof(&proof, &vkey)?;
        println!(
            "ok: entry {} ({} `{}` {} → {}, effective {}) is in the log of {} entries signed by {} (root {})",
            proof.entry.seq,
            proof.entry.workflow,
            proof.entry.command,
            proof.entry.from_state,
            proof.entry.to_state,
            proof.entry.effective_date,
            cp.size,
            proof.key_name, // equal to the name of the key that verified it (check_proof refuses otherwise)
            hex::encode(cp.root)
        );
        return Ok(());
    }
    // Reading from a SQLite file that does not exist is a mistake (a typo in the path), not a new database.
    let reads = matches!(
        cli.cmd,
        Cmd::Org(OrgCmd::List { .. })
            | Cmd::Quota(QuotaCmd::Show { .. })
            | Cmd::Member(MemberCmd::Show { .. })
            | Cmd::Transfer(TransferCmd::Show { .. } | TransferCmd::List { .. })
            | Cmd::Evaluation(EvaluationCmd::Show { .. })
            | Cmd::Party(PartyCmd::Show { .. } | PartyCmd::List { .. })
            | Cmd::Log { .. }
            | Cmd::Audit(
                AuditCmd::Checkpoints { .. }
                    | AuditCmd::Verify { .. }
                    | AuditCmd::Prove { .. }
                    | AuditCmd::Export { .. }
            )
            | Cmd::Admission(AdmissionCmd::Replay { .. })
            | Cmd::Standing(StandingCmd::Show { .. })
            | Cmd::Dues(DuesCmd::Show { .. })
            | Cmd::Principal(PrincipalCmd::List { .. })
            | Cmd::Token(TokenCmd::List { .. })
    );
    if let Some(path) = tuanji_store_sqlite::file_path(&cli.database_url) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(input(format!(
                    "no directory {} for the database {}",
                    dir.display(),
                    path.display()
                )));
            }
        }
        if reads && !path.exists() {
            return Err(input(format!(
                "no database at {}: run `tuanji init` (or an import) first, or give --database-url",
                path.display()
            )));
        }
    }
    // Check the input file before the database is opened (and, for SQLite, created).
    match &cli.cmd {
        Cmd::Org(OrgCmd::Import { file, .. }) if file != "national" => check_file(Path::new(file))?,
        Cmd::Roster(RosterCmd::Import { file, .. })
        | Cmd::Admission(AdmissionCmd::Archive { file, .. }) => check_file(file)?,
        _ => {}
    }
    let mut engine = AnyEngine::connect(&cli.database_url).await?;
    // Automatic checkpoints when a signing key is configured.
    if let Ok(path) = std::env::var("TUANJI_AUDIT_KEY") {
        if !path.trim().is_empty() && !matches!(cli.cmd, Cmd::Audit(_)) {
            let every = env_number("TUANJI_CHECKPOINT_EVERY")?.or(Some(10_000));
            let minutes = env_number("TUANJI_CHECKPOINT_MINUTES")?.or(Some(60));
            engine = engine.with_signer(Signer::from_file(Path::new(&path), every, minutes)?);
        }
    }
    if let Cmd::Serve { listen } = cli.cmd {
        return serve(engine, listen).await;
    }
    let actor = Actor {
        name: cli.actor.clone(),
        role: cli.role.clone(),
        ..Default::default()
    };
    let done = with_engine!(&engine, e => dispatch(e, &actor, cli.cmd, &cli.database_url).await);
    // Closing checkpoints SQLite's write-ahead log: `tuanji.db` alone then holds everything.
    engine.close().await;
    done
}

/// `tuanji serve`: the HTTP API on `listen` until Ctrl-C or SIGTERM.
async fn serve(engine: AnyEngine, listen: std::net::SocketAddr) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| input(format!("cannot listen on {listen}: {e}")))?;
    let bound = listener.local_addr().unwrap_or(listen);
    eprintln!(
        "serving the Tuanji API on http://{bound}/api/v1 ({} database; docs at http://{bound}/api/docs); Ctrl-C stops",
        engine.backend()
    );
    let shutdown = async {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            if let Ok(mut s) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                s.recv().await;
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = term => {},
        }
        eprintln!("stopping: finishing the requests in flight");
    };
    let served = tuanji_server::serve(engine.clone(), listener, shutdown)
        .await
        .map_err(|e| input(format!("the server failed: {e}")));
    engine.close().await;
    served
}

/// A whole number from an environment variable, if set.
fn env_number(var: &str) -> Result<Option<i64>, Failure> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| input(format!("{var}={v:?} is not a whole number"))),
        _ => Ok(None),
    }
}

fn workflows(cmd: &WorkflowsCmd) -> Result<(), Failure> {
    match cmd {
        WorkflowsCmd::Check { dir, json } => match Registry::load_dir(dir) {
            Ok(reg) if reg.is_empty() => Err(input(format!(
                "no workflow files (*.toml) in {}",
                dir.display()
            ))),
            Ok(reg) => {
                let files: Vec<_> = reg
                    .iter()
                    .map(|d| {
                        serde_json::json!({
                            "file": d.file, "name": d.name, "version": d.version, "states": d.states.len(),
                            "transitions": d.transitions.len(), "sha256": d.sha256,
                        })
                    })
                    .collect();
                if *json {
                    return print_json(
                        &serde_json::json!({ "ok": true, "files": files, "errors": [] }),
                    );
                }
                for d in reg.iter() {
                    println!(
                        "ok  {} ({} v{}, {} states, {} transitions, sha256 {})",
                        d.file,
                        d.name,
                        d.version,
                        d.states.len(),
                        d.transitions.len(),
                        &d.sha256[..16]
                    );
                }
                Ok(())
            }
            Err(errors) => {
                if *json {
                    let list: Vec<_> = errors
                        .iter()
                        .map(|e| serde_json::json!({ "file": e.file, "line": e.line, "rule": e.rule.map(|r| r.as_str()), "message": e.message }))
                        .collect();
                    print_json(&serde_json::json!({ "ok": false, "files": [], "errors": list }))?;
                } else {
                    for e in &errors {
                        eprintln!("{e}");
                    }
                }
                Err(input(format!(
                    "{} error(s) in {}",
                    errors.len(),
                    dir.display()
                )))
            }
        },
        WorkflowsCmd::Graph { name, version } => {
            let reg = tuanji_workflow::builtin();
            let def = match version {
                Some(v) => reg.get(name, *v),
                None => reg.latest(name),
            }
            .ok_or_else(|| {
                input(format!(
                    "no workflow `{name}`{}",
                    version.map(|v| format!(" v{v}")).unwrap_or_default()
                ))
            })?;
            print!("{}", def.mermaid());
            Ok(())
        }
    }
}

async fn dispatch<S: tuanji_store::Store>(
    e: &tuanji_engine::Engine<S>,
    actor: &Actor,
    cmd: Cmd,
    url: &str,
) -> Result<(), Failure> {
    match cmd {
        Cmd::Init => {
            println!("database ready: {} ({})", url, e.store().backend());
        }
        Cmd::Workflows(_) | Cmd::Serve { .. } => {}
        Cmd::Org(OrgCmd::Import {
            file,
            data,
            dry_run,
            json,
        }) => {
            let report = if file == "national" {
                if dry_run {
                    return Err(input("--dry-run is not available for the national tree"));
                }
                let pb = progress_bar("organisations");
                let report = e
                    .import_national_tree(&data, &|what, done, total| show(&pb, what, done, total))
                    .await;
                pb.finish_and_clear();
                report?
            } else {
                e.import_org_csv(&read(Path::new(&file))?, dry_run).await?
            };
            if json {
                print_json(&report)?;
            } else {
                println!(
                    "{} organisation(s) {}",
                    report.inserted,
                    if dry_run {
                        "would be inserted"
                    } else {
                        "inserted"
                    }
                );
                for (kind, n) in &report.by_kind {
                    println!("  {kind}: {n}");
                }
            }
        }
        Cmd::Org(OrgCmd::List { under, json }) => {
            let orgs = e.list_orgs(under.as_deref()).await?;
            if json {
                print_json(&orgs)?;
            } else {
                let mut t = table(&[
                    "code",
                    "name",
                    "kind",
                    "depth",
                    "approves",
                    "school level",
                    "graduating",
                    "class size",
                ]);
                for o in &orgs {
                    t.add_row(vec![
                        o.code.clone(),
                        o.name.clone(),
                        o.kind.clone(),
                        o.depth.to_string(),
                        o.approves_admissions.to_string(),
                        o.school_level.clone().unwrap_or_default(),
                        o.graduating.to_string(),
                        o.class_size.map(|n| n.to_string()).unwrap_or_default(),
                    ]);
                }
                println!("{t}\n{} organisation(s)", orgs.len());
            }
        }
        Cmd::Quota(QuotaCmd::Allocate {
            org,
            year,
            count,
            by,
            date,
            json,
        }) => {
            let report = e
                .allocate_quota(
                    &org,
                    year,
                    count,
                    by.as_deref(),
                    date.unwrap_or_else(|| e.today()),
                )
                .await?;
            if json {
                print_json(&report)?;
            } else {
                print_quota(&report);
            }
        }
        Cmd::Quota(QuotaCmd::Show { org, year, json }) => {
            let report = e.quota(&org, year).await?;
            if json {
                print_json(&report)?;
            } else {
                print_quota(&report);
            }
        }
        Cmd::Roster(RosterCmd::Import {
            file,
            branch,
            dry_run,
            json,
        }) => {
            let report = e
                .import_roster(actor, &branch, &read(&file)?, dry_run)
                .await?;
            if json {
                print_json(&report)?;
            } else {
                println!(
                    "{} applicant(s) and {} member(s) {} {} ({})",
                    report.applicants,
                    report.members,
                    if dry_run {
                        "would be imported into"
                    } else {
                        "imported into"
                    },
                    report.branch,
                    report.encoding
                );
            }
        }
        Cmd::Admission(AdmissionCmd::Apply {
            branch,
            id,
            name,
            ethnicity,
            class,
            date,
        }) => {
            let out = e
                .apply(
                    actor,
                    &Application {
                        branch,
                        resident_id: id,
                        name,
                        ethnicity,
                        class,
                        date,
                    },
                )
                .await?;
            print_step(&out);
        }
        Cmd::Admission(AdmissionCmd::Replay { applicant, json }) => {
            let r = e.replay_admission(&applicant).await?;
            if json {
                print_json(&r)?;
            } else {
                println!(
                    "{} entries replayed: {}",
                    r.entries,
                    if r.matches {
                        "the projection matches"
                    } else {
                        "MISMATCH"
                    }
                );
                for d in &r.differences {
                    println!("  {d}");
                }
            }
            if !r.matches {
                return Err(input("the replayed log does not match the stored record"));
            }
        }
        Cmd::Admission(step) => {
            let (who, cmd) = admission_command(step)?;
            let out = e.step(actor, &who, &cmd).await?;
            print_step(&out);
        }
        Cmd::Org(OrgCmd::MarkGraduating { branch, on }) => {
            let b = e.mark_graduating(&branch, on).await?;
            println!("{} {} graduates on {on}", b.code, b.name);
        }
        Cmd::Graduate { branch, on, json } => {
            let pb = progress_bar("members");
            let r = e
                .graduate(actor, &branch, on, &|done, total| {
                    show(&pb, "members", done, total)
                })
                .await;
            pb.finish_and_clear();
            let r = r?;
            if json {
                print_json(&r)?;
            } else {
                println!(
                    "{} member(s) of {} graduated on {}: graduated_pending_transfer (log seq {})",
                    r.graduated, r.branch, r.date, r.last_seq
                );
                for (state, n) in &r.skipped {
                    println!("  left as they were: {n} in `{state}`");
                }
            }
        }
        Cmd::Sweep { as_of, json } => {
            let pb = progress_bar("sweep");
            let full = e
                .sweep_all(actor, as_of, &|what, done, total| {
                    show(&pb, what, done, total)
                })
                .await;
            pb.finish_and_clear();
            let full = full?;
            let r = &full.relation;
            if json {
                print_json(&full)?;
            } else {
                let entries = r.entries + full.standing.entries;
                println!(
                    "sweep as of {as_of}: {entries} log entr{} written",
                    if entries == 1 { "y" } else { "ies" }
                );
                println!(
                    "  transfers overdue and escalated [TRF_TIMEOUT]: {}",
                    r.overdue
                );
                println!(
                    "  overdue transfers approved by policy [TRF_TIMEOUT]: {}",
                    r.auto_approved
                );
                println!(
                    "  retentions past the first limit [TRF_RETENTION]: {}",
                    r.retention_flagged
                );
                println!(
                    "  retentions past the longest allowed [TRF_RETENTION]: {}",
                    r.retention_exceeded
                );
                println!(
                    "  members marked lost contact [TRF_LOST_CONTACT]: {}",
                    r.lost_contact
                );
                println!(
                    "  lost-contact members due for a suspension decision: {}",
                    r.suspension_due
                );
                println!(
                    "  Party recommendations expired [PTY_VALIDITY]: {}",
                    r.recommendations_expired
                );
                print_standing_sweep(&full.standing);
            }
        }
        Cmd::Transfer(TransferCmd::Show { member, json }) => {
            let (state, list) = e.transfer_show(&member).await?;
            if json {
                print_json(&serde_json::json!({ "relation": state, "transfers": list }))?;
            } else {
                println!("relation: {state}");
                print_transfers(&list);
            }
        }
        Cmd::Transfer(TransferCmd::List {
            org,
            overdue,
            open,
            incoming,
            outgoing,
            json,
        }) => {
            let list = e
                .transfer_list(&org, outgoing, incoming, overdue, open)
                .await?;
            if json {
                print_json(&list)?;
            } else {
                print_transfers(&list);
            }
        }
        Cmd::Transfer(t) => {
            let (who, cmd) = transfer_command(t)?;
            let out = e.relation(actor, &who, &cmd).await?;
            print_relation(&out);
        }
        Cmd::Member(MemberCmd::Show { who, json }) => {
            let v = e.member_view(&who).await?;
            if json {
                print_json(&v)?;
            } else {
                println!(
                    "{}  {}  {}  born {}",
                    v.resident_id, v.name, v.sex, v.birth_month
                );
                println!("branch: {}", v.branch);
                match &v.member {
                    Some(m) => println!(
                        "member since {} ({}), number {}, {}{}",
                        m.membership_date,
                        m.source,
                        m.development_number.as_deref().unwrap_or("-"),
                        m.standing,
                        m.oath_date
                            .map(|d| format!(", oath {d}"))
                            .unwrap_or_default()
                    ),
                    None => println!("not a member"),
                }
                if let Some(a) = &v.admission {
                    println!(
                        "admission {} ({}): state {}, version {}",
                        a.id, a.workflow, a.state, a.version
                    );
                }
                if let Some(r) = &v.relation {
                    println!(
                        "relation {}: {} at {} since {}{}{}",
                        r.id,
                        r.state,
                        r.data.branch,
                        r.data.since.map_or_else(|| "-".into(), |d| d.to_string()),
                        r.data
                            .graduated_on
                            .map(|d| format!(", graduated {d}"))
                            .unwrap_or_default(),
                        r.data
                            .from_branch
                            .as_ref()
                            .map(|b| format!(", came from {b}"))
                            .unwrap_or_default()
                    );
                }
                if let Some(m) = v.member.as_ref().filter(|m| m.deleted_on.is_some()) {
                    println!(
                        "deleted on {} ({}); the record is kept",
                        m.deleted_on.map_or_else(String::new, |d| d.to_string()),
                        m.deletion_reason.as_deref().unwrap_or("")
                    );
                }
            }
        }
        Cmd::Member(m) => {
            let (who, cmd) = member_command(m)?;
            let out = e.relation(actor, &who, &cmd).await?;
            print_relation(&out);
        }
        Cmd::Audit(cmd) => audit(e, actor, cmd).await?,
        Cmd::Evaluation(cmd) => evaluation_cmd(e, actor, cmd).await?,
        Cmd::Party(cmd) => party_cmd(e, actor, cmd).await?,
        Cmd::Log { select, json } => {
            let rows = e.log_query(&select.query()).await?;
            if json {
                // rule_codes and payload are stored as JSON text: show them as JSON, not as strings.
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    let mut v = serde_json::to_value(r).map_err(|e| Failure {
                        code: None,
                        message: e.to_string(),
                        status: 3,
                    })?;
                    for field in ["rule_codes", "payload"] {
                        let text = v[field].as_str().unwrap_or("null").to_owned();
                        v[field] =
                            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
                    }
                    out.push(v);
                }
                print_json(&out)?;
            } else {
                let mut t = table(&[
                    "seq",
                    "effective",
                    "workflow",
                    "command",
                    "from → to",
                    "actor (role)",
                    "rules",
                ]);
                for r in &rows {
                    t.add_row(vec![
                        r.seq.to_string(),
                        r.effective_date.to_string(),
                        format!("{} v{}", r.workflow, r.workflow_version),
                        r.command.clone(),
                        format!("{} → {}", r.from_state, r.to_state),
                        format!("{} ({})", r.actor, r.role),
                        r.rule_codes
                            .trim_matches(|c| c == '[' || c == ']')
                            .replace('"', ""),
                    ]);
                }
                println!(
                    "{t}\n{} entr{}",
                    rows.len(),
                    if rows.len() == 1 { "y" } else { "ies" }
                );
            }
        }
        Cmd::Standing(cmd) => standing_cmd(e, actor, cmd).await?,
        Cmd::Dues(cmd) => dues_cmd(e, actor, cmd).await?,
        Cmd::Principal(cmd) => principal_cmd(e, cmd).await?,
        Cmd::Token(cmd) => token_cmd(e, cmd).await?,
        Cmd::Demo {
            seed,
            applicants,
            data,
            json,
        } => {
            let pb = progress_bar("organisations");
            let summary = e
                .demo(
                    &DemoConfig {
                        seed,
                        applicants,
                        data_dir: data,
                    },
                    &|what, done, total| show(&pb, what, done, total),
                )
                .await;
            pb.finish_and_clear();
            let s = summary?;
            if json {
                print_json(&s)?;
            } else {
                print_demo(&s);
            }
        }
    }
    Ok(())
}

async fn audit<S: tuanji_store::Store>(
    e: &tuanji_engine::Engine<S>,
    actor: &Actor,
    cmd: AuditCmd,
) -> Result<(), Failure> {
    match cmd {
        AuditCmd::Keygen { name, out } => {
            let vkey = e.audit_keygen(&name, &out).await?;
            // Only the public key on standard output, so `> auditor.pub` captures exactly it.
            eprintln!(
                "private key written to {} (mode 0600); keep it outside the database",
                out.display()
            );
            eprintln!("public key (give it to auditors):");
            println!("{vkey}");
        }
        AuditCmd::Checkpoint { key, json } => {
            let c = e.audit_checkpoint(&key, "on_demand").await?;
            if json {
                print_json(&c)?;
            } else {
                // Only the signed note on standard output, so `> checkpoint.txt` is a file `--trusted` reads.
                eprintln!("checkpoint {} of {} entries:", c.id, c.size);
                print!("{}", c.note);
            }
        }
        AuditCmd::Checkpoints { json } => {
            let list = e.audit_checkpoints().await?;
            if json {
                print_json(&list)?;
            } else {
                let mut t = table(&["id", "size", "root", "key", "reason", "taken (UTC)"]);
                for c in &list {
                    t.add_row(vec![
                        c.id.to_string(),
                        c.size.to_string(),
                        hex::encode(&c.root),
                        c.key_name.clone(),
                        c.reason.clone(),
                        c.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    ]);
                }
                println!("{t}\n{} checkpoint(s)", list.len());
            }
        }
        AuditCmd::Verify { trusted, key, json } => {
            let texts = match (&trusted, &key) {
                (Some(t), Some(k)) => Some((
                    String::from_utf8(read(t)?)
                        .map_err(|_| input("the trusted checkpoint is not UTF-8"))?,
                    String::from_utf8(read(k)?).map_err(|_| input("the key file is not UTF-8"))?,
                )),
                _ => None,
            };
            let pb = progress_bar("entries");
            let r = e
                .audit_verify(
                    texts.as_ref().map(|(t, k)| (t.as_str(), k.as_str())),
                    &|done, total| show(&pb, "entries", done, total),
                )
                .await;
            pb.finish_and_clear();
            let r = r?;
            if json {
                print_json(&r)?;
            } else {
                println!(
                    "{} entries, {} checkpoint(s), {} record(s) replayed; root {}",
                    r.entries, r.checkpoints, r.instances, r.root
                );
            }
            if let Some(f) = &r.fault {
                return Err(Failure {
                    code: None,
                    message: format!(
                        "verification failed at {}: {}: {}",
                        match (f.seq, f.checkpoint) {
                            (Some(s), Some(c)) => format!("seq {s} (checkpoint {c})"),
                            (Some(s), None) => format!("seq {s}"),
                            (None, Some(c)) => format!("checkpoint {c}"),
                            (None, None) => "the stored records".into(),
                        },
                        serde_json::to_value(f.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        f.detail
                    ),
                    status: 1,
                });
            }
            if !json {
                println!("ok: the log verifies");
            }
        }
        AuditCmd::Prove { seq, out, force } => {
            let p = e.audit_prove(seq).await?;
            let text = serde_json::to_string_pretty(&p).map_err(|e| input(e.to_string()))?;
            match out {
                Some(path) => {
                    let mut f = OutFile::create(&path, force)?;
                    std::io::Write::write_all(&mut f.file, format!("{text}\n").as_bytes())
                        .map_err(|e| f.error(e))?;
                    f.persist()?;
                    println!(
                        "inclusion proof of entry {seq} in {} entries written to {}",
                        p.size,
                        path.display()
                    );
                }
                None => println!("{text}"),
            }
        }
        AuditCmd::CheckProof { .. } => {}
        AuditCmd::Export {
            select,
            format,
            out,
            force,
            unmasked,
        } => {
            let format = match format {
                ExportArg::Jsonl => ExportFormat::JsonLines,
                ExportArg::Csv => ExportFormat::Csv,
            };
            let n = match &out {
                Some(path) => {
                    let mut f = OutFile::create(path, force)?;
                    let n = e
                        .audit_export(actor, &select.query(), format, unmasked, &mut f.file)
                        .await?;
                    f.persist()?;
                    n
                }
                None => {
                    let mut buf = Vec::new();
                    let n = e
                        .audit_export(actor, &select.query(), format, unmasked, &mut buf)
                        .await?;
                    print!("{}", String::from_utf8_lossy(&buf));
                    n
                }
            };
            if let Some(path) = out {
                println!(
                    "{n} entr{} exported to {}",
                    if n == 1 { "y" } else { "ies" },
                    path.display()
                );
            }
        }
    }
    Ok(())
}

fn transfer_command(t: TransferCmd) -> Result<(String, RelationCommand), Failure> {
    use RelationCommand as C;
    Ok(match t {
        TransferCmd::Request {
            m,
            to,
            destination,
            initiator,
            org,
        } => (
            m.member,
            C::RequestTransfer {
                date: m.date,
                to,
                destination: match destination {
                    DestinationArg::Employment => Destination::Employment,
                    DestinationArg::FurtherStudy => Destination::FurtherStudy,
                    DestinationArg::Move => Destination::Move,
                },
                initiator: match initiator {
                    InitiatorArg::Member => Initiator::Member,
                    InitiatorArg::Outgoing => Initiator::Outgoing,
                    InitiatorArg::Incoming => Initiator::Incoming,
                },
                org,
            },
        ),
        TransferCmd::Approve { m, org } => (m.member, C::Approve { date: m.date, org }),
        TransferCmd::Reject { m, org, reason } => (
            m.member,
            C::Reject {
                date: m.date,
                org,
                reason,
            },
        ),
        TransferCmd::Cancel { m, org, reason } => (
            m.member,
            C::Cancel {
                date: m.date,
                org,
                reason,
            },
        ),
        TransferCmd::AssignBranch { m, org, branch } => (
            m.member,
            C::AssignBranch {
                date: m.date,
                org,
                branch,
            },
        ),
        TransferCmd::Show { .. } | TransferCmd::List { .. } => {
            return Err(input("not a relation command"))
        }
    })
}

fn member_command(c: MemberCmd) -> Result<(String, RelationCommand), Failure> {
    use RelationCommand as C;
    Ok(match c {
        MemberCmd::Contact { m, reached, note } => (
            m.member,
            C::RecordContact {
                date: m.date,
                reached,
                note,
            },
        ),
        MemberCmd::ReportIn { m, branch } => (
            m.member,
            C::ReportIn {
                date: m.date,
                branch,
            },
        ),
        MemberCmd::AcceptReportIn { m, org } => (m.member, C::AcceptReportIn { date: m.date, org }),
        MemberCmd::DeclineReportIn { m, org, reason } => (
            m.member,
            C::DeclineReportIn {
                date: m.date,
                org,
                reason,
            },
        ),
        MemberCmd::Retain { m, reason, branch } => (
            m.member,
            C::Retain {
                date: m.date,
                reason: match reason {
                    RetainArg::NoJob => RetentionReason::NoJob,
                    RetainArg::Abroad => RetentionReason::Abroad,
                },
                branch,
            },
        ),
        MemberCmd::Suspend {
            m,
            meeting_date,
            committee,
        } => (
            m.member,
            C::Suspend {
                date: m.date,
                meeting_date,
                committee,
            },
        ),
        MemberCmd::Delete { m, reason } => (
            m.member,
            C::Delete {
                date: m.date,
                reason,
            },
        ),
        MemberCmd::Show { .. } => return Err(input("not a relation command")),
    })
}

// ------------------------------------------------------------------ standing and dues

/// A branch general meeting's decision and its approval, given as flags (STD_PROBATION, STD_EXPEL,
/// STD_WITHDRAW, STD_LAPSE): the secret-ballot counts must add up (`yes + no + abstain = present ≤ entitled`),
/// more than half of the entitled present and voting yes.
#[derive(Args)]
struct Decided {
    /// Member: resident ID, development number or instance id.
    member: String,
    /// Date of the branch general meeting (支部大会, YYYY-MM-DD).
    #[arg(long, value_parser = date)]
    meeting: NaiveDate,
    /// Voting-entitled members of the branch (应到会有表决权的团员): its members in good standing, not on
    /// probation, on the meeting date (default: the branch's count; a number given must equal it).
    #[arg(long)]
    entitled: Option<u32>,
    /// Entitled members present.
    #[arg(long)]
    present: u32,
    /// Yes votes.
    #[arg(long)]
    yes: u32,
    /// No votes.
    #[arg(long)]
    no: u32,
    /// Abstentions.
    #[arg(long, default_value_t = 0)]
    abstain: u32,
    /// The approving (or recording) organisation, by code: a committee above the member's branch.
    #[arg(long)]
    approved_by: String,
    /// Date of the approval (default: the meeting date).
    #[arg(long, value_parser = date)]
    approved_on: Option<NaiveDate>,
    /// Effective date (default: the approval date).
    #[arg(long, value_parser = date)]
    effective: Option<NaiveDate>,
}

impl Decided {
    /// The effective date and the decision.
    fn decision(&self) -> Result<(NaiveDate, Decision), Failure> {
        let approved_on = self.approved_on.unwrap_or(self.meeting);
        if approved_on < self.meeting {
            return Err(input(format!(
                "--approved-on {approved_on} is before --meeting {}: the branch meeting decides first",
                self.meeting
            )));
        }
        let effective = self.effective.unwrap_or(approved_on);
        // Summed wide: three u32 counts cannot overflow a u64.
        let ballot = u64::from(self.yes) + u64::from(self.no) + u64::from(self.abstain);
        if ballot != u64::from(self.present) {
            return Err(input(format!(
                "--yes {} + --no {} + --abstain {} = {ballot}, not --present {}: every member present votes",
                self.yes, self.no, self.abstain, self.present
            )));
        }
        if let Some(entitled) = self.entitled.filter(|e| self.present > *e) {
            return Err(input(format!(
                "--present {} is more than --entitled {entitled}",
                self.present
            )));
        }
        Ok((
            effective,
            Decision {
                meeting: BranchMeeting {
                    date: self.meeting,
                    // 0: not given; the engine takes the branch's count.
                    entitled: self.entitled.unwrap_or(0),
                    present: self.present,
                    yes: self.yes,
                    no: self.no,
                    abstain: self.abstain,
                },
                approved_by: self.approved_by.trim().to_owned(),
                approved_on,
            },
        ))
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum PostArg {
    /// Branch secretary (团支部书记).
    Secretary,
    /// Deputy secretary (副书记).
    DeputySecretary,
    /// Committee member (委员).
    CommitteeMember,
}

impl From<PostArg> for PostKind {
    fn from(p: PostArg) -> Self {
        match p {
            PostArg::Secretary => PostKind::Secretary,
            PostArg::DeputySecretary => PostKind::DeputySecretary,
            PostArg::CommitteeMember => PostKind::CommitteeMember,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum RemovalArg {
    /// 自行脱团: 6 consecutive months without dues or organisational life (STD_LAPSE).
    Lapse,
    /// Still unqualified after re-evaluation, advised to withdraw and refused (EVL_UNQUALIFIED).
    Unqualified,
}

#[derive(Clone, Copy, ValueEnum)]
enum AppealOutcome {
    /// The appeal is upheld: the expulsion does not stand.
    Upheld,
    /// The appeal is dismissed.
    Dismissed,
}

#[derive(Clone, Copy, ValueEnum)]
enum DuesCategoryArg {
    /// Students, the unemployed and members on relief: 0.20 yuan a month (DUE_STUDENT).
    Reduced,
    /// Members with a salary.
    Salaried,
}

/// A post at an organisation from a date.
#[derive(Args)]
struct PostArgs {
    #[command(flatten)]
    m: Who,
    /// The post.
    #[arg(long, value_enum)]
    post: PostArg,
    /// The organisation (code).
    #[arg(long)]
    org: String,
}

#[derive(Subcommand)]
enum StandingCmd {
    /// Probation (留团察看) for 6 or 12 months (STD_PROBATION): branch meeting, a committee above the branch.
    PutOnProbation {
        #[command(flatten)]
        d: Decided,
        /// Months of probation (6 or 12).
        #[arg(long)]
        months: u32,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Rights restored at the end of probation (恢复团员权利); the sweep records it on the end date too.
    EndProbation {
        #[command(flatten)]
        m: Who,
    },
    /// Expulsion (开除团籍, STD_EXPEL): branch meeting, county-level approval, no undecided appeal.
    Expel {
        #[command(flatten)]
        d: Decided,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// The member's appeal (申诉), never withheld.
    RecordAppeal {
        #[command(flatten)]
        m: Who,
        /// The organisation appealed to (code).
        #[arg(long)]
        to: String,
        /// What is appealed.
        #[arg(long)]
        summary: String,
    },
    /// The decision on the pending appeal.
    DecideAppeal {
        #[command(flatten)]
        m: Who,
        /// The deciding organisation (code).
        #[arg(long)]
        org: String,
        /// Upheld or dismissed.
        #[arg(long, value_enum)]
        outcome: AppealOutcome,
    },
    /// Voluntary withdrawal (退团, STD_WITHDRAW): written request, branch meeting, recorded with the superior.
    Withdraw {
        #[command(flatten)]
        d: Decided,
        /// Date of the written request (on or before the meeting).
        #[arg(long, value_parser = date)]
        request_date: NaiveDate,
    },
    /// Removal (除名): a 6-month lapse (STD_LAPSE) or an unqualified member who refused to withdraw.
    Remove {
        #[command(flatten)]
        d: Decided,
        /// Grounds.
        #[arg(long, value_enum)]
        reason: RemovalArg,
    },
    /// Death, recorded by an organisation.
    RecordDeath {
        #[command(flatten)]
        m: Who,
        /// The recording organisation (code).
        #[arg(long)]
        recorded_by: String,
    },
    /// Admitted to the Party (预备党员); League membership continues until 28 (STD_AGE_OUT).
    JoinParty {
        #[command(flatten)]
        m: Who,
        /// The Party organisation (free text).
        #[arg(long)]
        party_org: String,
    },
    /// Organisational life attended (组织生活) in the month of --date (STD_LAPSE).
    RecordLife {
        #[command(flatten)]
        m: Who,
        /// What.
        #[arg(long)]
        note: String,
    },
    /// A League post taken (团内职务): the holder is not aged out at 28 (STD_AGE_OUT).
    AssignPost(PostArgs),
    /// A League post ended (no longer held from --date).
    EndPost(PostArgs),
    /// Age-out (超龄离团, STD_AGE_OUT) when due; `tuanji sweep` records it on the 28th birthday.
    AgeOut {
        #[command(flatten)]
        m: Who,
    },
    /// A member's standing: state, probation, posts, age-out date, appeals, Party, lapse and dues.
    Show {
        /// Member: resident ID, development number or instance id.
        member: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DuesCmd {
    /// Record dues (团费) paid for whole months; amounts in yuan (DUE_STUDENT: 0.20 yuan a month for students).
    Record {
        /// Member: resident ID, development number or instance id.
        member: String,
        /// The first month paid for (YYYY-MM).
        #[arg(long, value_parser = year_month)]
        from: YearMonth,
        /// Consecutive months paid for (1–120).
        #[arg(long, default_value_t = 1)]
        months: u32,
        /// Amount paid, in yuan (e.g. 0.40).
        #[arg(long)]
        amount: String,
        /// The member's dues category.
        #[arg(long, value_enum, default_value = "reduced")]
        category: DuesCategoryArg,
        /// Payment date (YYYY-MM-DD; default: today).
        #[arg(long, value_parser = date)]
        date: Option<NaiveDate>,
    },
    /// A member's dues on today: months paid and arrears (months and yuan).
    Show {
        /// Member: resident ID, development number or instance id.
        member: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn year_month(s: &str) -> Result<YearMonth, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a month: use YYYY-MM, e.g. 2026-09"))
}

/// The engine command of a standing subcommand (not `show`).
fn standing_command(cmd: StandingCmd) -> Result<(String, StandingCommand), Failure> {
    use StandingCommand as C;
    Ok(match cmd {
        StandingCmd::PutOnProbation { d, months, reason } => {
            let (date, decision) = d.decision()?;
            (
                d.member,
                C::PutOnProbation {
                    date,
                    months,
                    decision,
                    reason,
                },
            )
        }
        StandingCmd::EndProbation { m } => (m.member, C::EndProbation { date: m.date }),
        StandingCmd::Expel { d, reason } => {
            let (date, decision) = d.decision()?;
            (
                d.member,
                C::Expel {
                    date,
                    decision,
                    reason,
                },
            )
        }
        StandingCmd::RecordAppeal { m, to, summary } => (
            m.member,
            C::RecordAppeal {
                date: m.date,
                to_org: to,
                summary,
            },
        ),
        StandingCmd::DecideAppeal { m, org, outcome } => (
            m.member,
            C::DecideAppeal {
                date: m.date,
                org,
                upheld: matches!(outcome, AppealOutcome::Upheld),
            },
        ),
        StandingCmd::Withdraw { d, request_date } => {
            let (date, decision) = d.decision()?;
            (
                d.member,
                C::Withdraw {
                    date,
                    request_date,
                    decision,
                },
            )
        }
        StandingCmd::Remove { d, reason } => {
            let (date, decision) = d.decision()?;
            let reason = match reason {
                RemovalArg::Lapse => RemovalReason::Lapse,
                RemovalArg::Unqualified => RemovalReason::Unqualified,
            };
            (
                d.member,
                C::Remove {
                    date,
                    reason,
                    decision,
                },
            )
        }
        StandingCmd::RecordDeath { m, recorded_by } => (
            m.member,
            C::RecordDeath {
                date: m.date,
                recorded_by,
            },
        ),
        StandingCmd::JoinParty { m, party_org } => (
            m.member,
            C::JoinParty {
                date: m.date,
                party_org,
            },
        ),
        StandingCmd::RecordLife { m, note } => (m.member, C::RecordLife { date: m.date, note }),
        StandingCmd::AssignPost(p) => (
            p.m.member,
            C::AssignPost {
                date: p.m.date,
                post: p.post.into(),
                org: p.org,
            },
        ),
        StandingCmd::EndPost(p) => (
            p.m.member,
            C::EndPost {
                date: p.m.date,
                post: p.post.into(),
                org: p.org,
            },
        ),
        StandingCmd::AgeOut { m } => (m.member, C::AgeOut { date: m.date }),
        StandingCmd::Show { .. } => return Err(input("`standing show` is not a command")),
    })
}

async fn standing_cmd<S: tuanji_store::Store>(
    e: &tuanji_engine::Engine<S>,
    actor: &Actor,
    cmd: StandingCmd,
) -> Result<(), Failure> {
    if let StandingCmd::Show { member, json } = &cmd {
        let v = e.standing_show(member).await?;
        if *json {
            return print_json(&v);
        }
        print_standing(&v);
        return Ok(());
    }
    let (who, cmd) = standing_command(cmd)?;
    let out = e.standing(actor, &who, &cmd).await?;
    print_standing_outcome(&out);
    Ok(())
}

async fn dues_cmd<S: tuanji_store::Store>(
    e: &tuanji_engine::Engine<S>,
    actor: &Actor,
    cmd: DuesCmd,
) -> Result<(), Failure> {
    match cmd {
        DuesCmd::Show { member, json } => {
            let v = e.dues_show(&member).await?;
            if json {
                return print_json(&v);
            }
            print_dues(&v);
        }
        DuesCmd::Record {
            member,
            from,
            months,
            amount,
            category,
            date,
        } => {
            let amount_fen = parse_yuan(&amount).map_err(|e| input(format!("--amount: {e}")))?;
            let category = match category {
                DuesCategoryArg::Reduced => DuesCategory::Reduced,
                DuesCategoryArg::Salaried => DuesCategory::Salaried,
            };
            let cmd = StandingCommand::RecordDues {
                date: date.unwrap_or_else(|| e.today()),
                first: from,
                months,
                amount_fen,
                category,
            };
            let out = e.standing(actor, &member, &cmd).await?;
            print_standing_outcome(&out);
            let v = e.dues_show(&member).await?;
            println!(
                "dues: {} yuan paid for {} month(s); arrears {} yuan",
                v.paid_yuan,
                v.months_paid.len(),
                v.arrears_yuan
            );
        }
    }
    Ok(())
}

fn print_standing_outcome(out: &StandingOutcome) {
    let logged: Vec<String> = out
        .logged
        .iter()
        .map(|(c, seq)| format!("{c} (seq {seq})"))
        .collect();
    println!(
        "{}: {} → {} (logged: {}; rules checked: {})",
        out.member,
        out.from,
        out.to,
        logged.join(", "),
        out.rule_codes.join(", ")
    );
    for (code, msg) in &out.flags {
        println!("flagged [{code}]: {msg}");
    }
}

fn months_list(months: &[YearMonth]) -> String {
    months
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn lapse_ground(g: LapseGround) -> &'static str {
    match g {
        LapseGround::Dues => "dues",
        LapseGround::Life => "organisational life",
    }
}

fn print_dues(v: &DuesView) {
    let category = match v.category {
        DuesCategory::Reduced => "reduced",
        DuesCategory::Salaried => "salaried",
    };
    println!(
        "dues of {} on {} ({category}, {} yuan a month) [DUE_STUDENT]",
        v.member,
        v.as_of,
        format_yuan(v.monthly_fen)
    );
    match v.from {
        Some(from) if from <= v.through => println!("owed from {from} through {}", v.through),
        Some(from) => println!("owed from {from}; nothing owed yet"),
        None => println!("owed: the first month is unknown"),
    }
    println!(
        "paid: {} month(s), {} yuan{}",
        v.months_paid.len(),
        v.paid_yuan,
        if v.months_paid.is_empty() {
            String::new()
        } else {
            format!(" ({})", months_list(&v.months_paid))
        }
    );
    println!(
        "arrears: {} month(s), {} yuan{}",
        v.arrears_months.len(),
        v.arrears_yuan,
        if v.arrears_months.is_empty() {
            String::new()
        } else {
            format!(" ({})", months_list(&v.arrears_months))
        }
    );
    if let Some((ground, since)) = v.lapse {
        println!(
            "lapse [STD_LAPSE]: no {} since {since}; the branch may decide a removal",
            lapse_ground(ground)
        );
    }
}

fn print_standing(v: &StandingView) {
    println!(
        "{}: {} (member since {}, born {})",
        v.member, v.state, v.membership_date, v.birth_month
    );
    match v.age_out_month {
        Some(m) => println!("ages out in {m} [STD_AGE_OUT]"),
        None => println!("ages out when the League post held ends [STD_AGE_OUT]"),
    }
    if let Some(u) = v.probation_until {
        println!("on probation until {u} [STD_PROBATION]");
    }
    for p in &v.posts {
        println!(
            "post: {} at {} from {}{}",
            post_name(p.post),
            p.org,
            p.from,
            p.until.map(|u| format!(" until {u}")).unwrap_or_default()
        );
    }
    for a in &v.appeals {
        let decided = match &a.decided {
            Some((d, org, true)) => format!("upheld by {org} on {d}"),
            Some((d, org, false)) => format!("dismissed by {org} on {d}"),
            None => "pending".to_owned(),
        };
        println!(
            "appeal lodged {} to {}: {} ({decided})",
            a.lodged_on, a.to_org, a.summary
        );
    }
    if let Some((d, org)) = &v.party {
        println!("Party member since {d} ({org})");
    }
    if let Some((id, d, until)) = &v.recommendation {
        println!("recommended for the Party on {d} ({id}), valid until {until} [PTY_VALIDITY]");
    }
    if let Some((d, ground, since)) = v.lapse_flag {
        println!(
            "lapse flagged on {d} [STD_LAPSE]: no {} since {since}",
            lapse_ground(ground)
        );
    }
    if let Some((cmd, d)) = &v.ended {
        println!("membership ended: {cmd} effective {d}");
    }
    print_dues(&v.dues);
}

fn print_standing_sweep(s: &StandingSweepReport) {
    println!("  standing: {} live member(s) examined", s.examined);
    println!("  members aged out [STD_AGE_OUT]: {}", s.aged_out);
    println!("  probations ended [STD_PROBATION]: {}", s.probation_ended);
    println!(
        "  held recommendations ended at their end of validity [PTY_VALIDITY]: {}",
        s.recommendation_expired
    );
    println!(
        "  six-month lapses flagged, dues [STD_LAPSE]: {}",
        s.lapse_dues
    );
    println!(
        "  six-month lapses flagged, organisational life [STD_LAPSE]: {}",
        s.lapse_life
    );
}

fn print_relation(out: &RelationOutcome) {
    let logged: Vec<String> = out
        .logged
        .iter()
        .map(|(c, seq)| format!("{c} (seq {seq})"))
        .collect();
    println!(
        "{}: {} → {} at {} (logged: {}; rules checked: {})",
        out.member,
        out.from,
        out.to,
        out.branch,
        logged.join(", "),
        out.rule_codes.join(", ")
    );
    for (code, msg) in &out.flags {
        println!("flagged [{code}]: {msg}");
    }
    if let Some(t) = &out.transfer {
        print_transfers(std::slice::from_ref(t));
    }
}

fn print_transfers(list: &[TransferView]) {
    let mut t = table(&[
        "requested",
        "member",
        "state",
        "from",
        "to",
        "initiator",
        "destination",
        "waiting on",
        "due",
        "overdue",
    ]);
    for v in list {
        t.add_row(vec![
            v.requested_on.to_string(),
            v.member.clone(),
            match v.closed_on {
                Some(d) => format!("{} {d}", v.state),
                None => v.state.clone(),
            },
            v.from_branch.clone(),
            match &v.to_branch {
                Some(b) if b != &v.to_org => format!("{} → {b}", v.to_org),
                _ => v.to_org.clone(),
            },
            v.initiator.clone(),
            v.destination.clone(),
            v.waiting_on.clone().unwrap_or_else(|| "-".into()),
            v.due_on.to_string(),
            v.overdue_on.map_or_else(|| "-".into(), |d| d.to_string()),
        ]);
    }
    println!(
        "{t}\n{} transfer{}",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    );
}

fn admission_command(step: AdmissionCmd) -> Result<(String, AdmissionCommand), Failure> {
    use AdmissionCmd as A;
    use AdmissionCommand as C;
    Ok(match step {
        A::Talk { on, by } => (on.applicant, C::RecordTalk { date: on.date, by }),
        A::ApproveActivist { on, committee } => (
            on.applicant,
            C::ApproveActivist {
                date: on.date,
                committee,
            },
        ),
        A::Mentors {
            on,
            mentor,
            party_mentor,
        } => (
            on.applicant,
            C::AssignMentors {
                date: on.date,
                members: mentor,
                party_members: party_mentor,
            },
        ),
        A::Class { on, minutes, topic } => (
            on.applicant,
            C::RecordClass {
                date: on.date,
                minutes,
                topic,
            },
        ),
        A::DetermineTarget { on } => (on.applicant, C::DetermineTarget { date: on.date }),
        A::Prereview { on, committee } => (
            on.applicant,
            C::Prereview {
                date: on.date,
                committee,
            },
        ),
        A::Publicise { on } => (on.applicant, C::Publicise { date: on.date }),
        A::Object { on, text } => (
            on.applicant,
            C::RecordObjection {
                date: on.date,
                text,
            },
        ),
        A::ResolveObjection { on, resolution } => (
            on.applicant,
            C::ResolveObjection {
                date: on.date,
                resolution,
            },
        ),
        A::Form {
            on,
            sponsor,
            opinion_date,
        } => (
            on.applicant,
            C::SubmitForm {
                date: on.date,
                sponsors: sponsor,
                opinion_date,
            },
        ),
        A::Meeting { on, present, yes } => (
            on.applicant,
            C::HoldMeeting {
                date: on.date,
                present,
                yes,
            },
        ),
        A::Approve { on, committee } => (
            on.applicant,
            C::Approve {
                date: on.date,
                committee,
            },
        ),
        A::Oath { on } => (on.applicant, C::RecordOath { date: on.date }),
        A::Archive { on, file } => {
            let size = std::fs::metadata(&file)
                .map_err(|e| input(format!("cannot read {}: {e}", file.display())))?
                .len();
            // Refuse before reading a huge file into memory; the engine checks the policy's limit exactly.
            if size > 64 * 1024 * 1024 {
                return Err(Failure {
                    code: Some("ADM_ARCHIVE".into()),
                    message: format!(
                        "{} has {size} bytes; the application form PDF may have at most 20 MB",
                        file.display()
                    ),
                    status: 1,
                });
            }
            (
                on.applicant,
                C::FileArchive {
                    date: on.date,
                    pdf: read(&file)?,
                },
            )
        }
        A::Annul { on, reason } => (
            on.applicant,
            C::Annul {
                date: on.date,
                reason,
            },
        ),
        A::Reject { on, reason } => (
            on.applicant,
            C::Reject {
                date: on.date,
                reason,
            },
        ),
        A::Withdraw { on, reason } => (
            on.applicant,
            C::Withdraw {
                date: on.date,
                reason,
            },
        ),
        A::Apply { .. } | A::Replay { .. } => return Err(input("not a step")),
    })
}

fn print_step(out: &tuanji_engine::admission::StepOutcome) {
    println!(
        "{} → {} (log seq {}; rules checked: {})",
        out.from,
        out.to,
        out.seq,
        out.rule_codes.join(", ")
    );
    if let Some(n) = &out.number {
        println!("development number: {n}");
    }
    if let Some(end) = out.publicity_end {
        println!("publicity ends on {end} (inclusive)");
    }
    for (code, msg) in &out.flags {
        println!("flagged [{code}]: {msg}");
    }
}

fn print_quota(q: &tuanji_engine::quota::QuotaReport) {
    println!(
        "{} {} — {}: allocated {}, used {} (voided {}), left {}",
        q.org, q.name, q.year, q.allocated, q.used, q.voided, q.left
    );
    let mut t = table(&["first", "last", "count", "used", "allocated by", "date"]);
    for a in &q.allocations {
        t.add_row(vec![
            a.first.clone(),
            a.last.clone(),
            a.count.to_string(),
            a.used.to_string(),
            a.allocated_by.clone(),
            a.effective_date.to_string(),
        ]);
    }
    if !q.allocations.is_empty() {
        println!("{t}");
    }
}

fn print_demo(s: &tuanji_engine::demo::DemoSummary) {
    println!(
        "Tuanji demo on {} (seed {}, {} applicants on the roster)",
        s.backend, s.seed, s.roster_rows
    );
    println!(
        "organisations: {} (national tree imported in {:.2} s)",
        s.organisations, s.org_import_seconds
    );
    println!("admitted: {}", s.admitted);
    let mut t = table(&["refused by rule", "count"]);
    for (code, n) in &s.refused {
        t.add_row(vec![code.clone(), n.to_string()]);
    }
    println!("{t}");
    let mut t = table(&["flagged (overdue)", "count"]);
    for (code, n) in &s.flagged {
        t.add_row(vec![code.clone(), n.to_string()]);
    }
    println!("{t}");
    let mut t = table(&["admission state", "instances"]);
    for (state, n) in &s.states {
        t.add_row(vec![state.clone(), n.to_string()]);
    }
    println!("{t}");
    let mut t = table(&["committee", "allocated", "used", "voided", "left"]);
    for q in &s.quotas {
        t.add_row(vec![
            format!("{} {}", q.org, q.name),
            q.allocated.to_string(),
            q.used.to_string(),
            q.voided.to_string(),
            q.left.to_string(),
        ]);
    }
    println!("{t}");
    let mut t = table(&["class", "level", "graduating", "size", "members", "cap"]);
    for c in &s.classes {
        t.add_row(vec![
            c.branch.clone(),
            c.school_level.clone(),
            c.graduating.to_string(),
            c.class_size.to_string(),
            c.members.to_string(),
            c.cap.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
        ]);
    }
    println!("{t}");
    println!(
        "procedure: {} transitions in {:.2} s ({:.0} transitions/s, {:.1} admissions/s)",
        s.transitions, s.procedure_seconds, s.transitions_per_second, s.admissions_per_second
    );
    println!("graduated: {} members", s.members_graduated);
    let tr = &s.transfers;
    let mut t = table(&["transfers", "count"]);
    for (state, n) in [
        ("open", tr.open),
        ("  of which overdue", tr.overdue),
        ("completed", tr.completed),
        ("rejected", tr.rejected),
        ("cancelled", tr.cancelled),
    ] {
        t.add_row(vec![state.to_owned(), n.to_string()]);
    }
    println!("{t}");
    let mut t = table(&["relation state", "stays"]);
    for (state, n) in &s.relation_states {
        t.add_row(vec![state.clone(), n.to_string()]);
    }
    println!("{t}");
    let w = &s.sweep;
    println!(
        "sweep as of {}: {} overdue and escalated, {} lost contact, {} retentions flagged, {} log entries",
        w.as_of.map(|d| d.to_string()).unwrap_or_default(),
        w.overdue,
        w.lost_contact,
        w.retention_flagged + w.retention_exceeded,
        w.entries
    );
    println!(
        "deletions refused (TRF_NO_DELETE): {} of {} attempts",
        s.deletions_refused, s.deletion_attempts
    );
    println!(
        "relations: {} transitions in {:.2} s; wall time {:.2} s",
        s.relation_transitions, s.relation_seconds, s.wall_seconds
    );
    let st = &s.standing;
    println!(
        "standing: {} probation(s) [STD_PROBATION], {} withdrawal(s) [STD_WITHDRAW], {} post(s), {} organisational life record(s)",
        st.probations, st.withdrawals, st.posts, st.life_records
    );
    println!(
        "dues: {} payment(s), {} yuan [DUE_STUDENT]",
        st.dues_payments, st.dues_paid_yuan
    );
    for (code, n) in &st.refused {
        println!("  standing refused [{code}]: {n}");
    }
    println!(
        "standing sweep as of {}: {} aged out [STD_AGE_OUT], {} probation(s) ended, {} lapse(s) flagged [STD_LAPSE]",
        st.sweep.as_of.map_or_else(String::new, |d| d.to_string()),
        st.sweep.aged_out,
        st.sweep.probation_ended,
        st.sweep.lapse_dues + st.sweep.lapse_life
    );
    let states: Vec<String> = st.states.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "members by standing: {}; {} transitions in {:.2} s",
        states.join(", "),
        st.transitions,
        st.seconds
    );
    let ev = &s.evaluation;
    let states: Vec<String> = ev.states.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "evaluation {}: {} round(s), {} amended, {} approved, {} re-evaluated [EVL_UNQUALIFIED]; rounds by state: {}; {} transitions in {:.2} s",
        ev.year,
        ev.rounds,
        ev.amendments,
        ev.approvals,
        ev.reevaluations,
        states.join(", "),
        ev.transitions,
        ev.seconds
    );
    for (code, n) in &ev.refused {
        println!("  evaluation refused [{code}]: {n}");
    }
    let pt = &s.party;
    let states: Vec<String> = pt.states.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "party recommendation: {} nominated, {} voted, {} recommended; recommendations by state: {}; {} transitions in {:.2} s",
        pt.nominations,
        pt.votes,
        pt.recommendations,
        states.join(", "),
        pt.transitions,
        pt.seconds
    );
    for (code, n) in &pt.refused {
        println!("  party refused [{code}]: {n}");
    }
}

// ------------------------------------------------------------------ evaluation and Party recommendation

/// Grades given on the command line or in a file, for `evaluation record|amend`.
#[derive(clap::Args)]
struct GradesArg {
    /// Branch code.
    #[arg(long)]
    branch: String,
    /// Evaluation year.
    #[arg(long)]
    year: i32,
    /// Meeting date (YYYY-MM-DD).
    #[arg(long, value_parser = date)]
    date: NaiveDate,
    /// Members present at the meeting (more than 2/3 of the branch, EVL_GRADES).
    #[arg(long)]
    present: u32,
    /// A CSV of grades: a member column (公民身份号码, 团员编号, resident_id or member) and a grade column
    /// (等次 or grade: excellent/优秀, qualified/合格, basically_qualified/基本合格, unqualified/不合格).
    #[arg(long)]
    grades: Option<PathBuf>,
    /// One member's grade, MEMBER=GRADE (repeatable; added to --grades).
    #[arg(long = "grade", value_name = "MEMBER=GRADE")]
    grade: Vec<String>,
}

impl GradesArg {
    fn list(&self) -> Result<Vec<(String, tuanji_workflow::evaluation::Grade)>, Failure> {
        let mut out = match &self.grades {
            Some(file) => tuanji_engine::evaluation::parse_grades_csv(&read(file)?)?,
            None => Vec::new(),
        };
        for g in &self.grade {
            let (m, grade) = g
                .split_once('=')
                .ok_or_else(|| input(format!("--grade `{g}`: use MEMBER=GRADE")))?;
            let grade = tuanji_engine::evaluation::parse_grade(grade)
                .map_err(|m| input(format!("--grade: {m}")))?;
            out.push((m.trim().to_owned(), grade));
        }
        if out.is_empty() {
            return Err(input(
                "give the grades with --grades FILE or --grade MEMBER=GRADE",
            ));
        }
        Ok(out)
    }
}

/// The round a command addresses.
#[derive(clap::Args)]
struct RoundArg {
    /// Branch code.
    #[arg(long)]
    branch: String,
    /// Evaluation year.
    #[arg(long)]
    year: i32,
    /// Effective date (YYYY-MM-DD).
    #[arg(long, value_parser = date)]
    date: NaiveDate,
}

#[derive(Subcommand)]
enum EvaluationCmd {
    /// The branch records its round: attendance and each member's grade (EVL_GRADES).
    Record(GradesArg),
    /// Correct the round before approval (replaces attendance and grades).
    Amend(GradesArg),
    /// The superior committee approves the round.
    Approve {
        #[command(flatten)]
        r: RoundArg,
        /// Approving committee code.
        #[arg(long)]
        org: String,
    },
    /// Re-evaluate an unqualified member 3–6 months after the approval (EVL_UNQUALIFIED).
    Reevaluate {
        #[command(flatten)]
        r: RoundArg,
        /// Member: resident ID, development number or instance id.
        #[arg(long)]
        member: String,
        /// The new grade.
        #[arg(long)]
        grade: String,
    },
    /// Advise a member still unqualified to withdraw (劝退).
    AdviseWithdrawal {
        #[command(flatten)]
        r: RoundArg,
        /// Member.
        #[arg(long)]
        member: String,
    },
    /// Close the round once no unqualified member is pending.
    Close {
        #[command(flatten)]
        r: RoundArg,
    },
    /// A branch's round for a year.
    Show {
        /// Branch code.
        #[arg(long)]
        branch: String,
        /// Evaluation year.
        #[arg(long)]
        year: i32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PartyCmd {
    /// The branch committee nominates a member (推优入党).
    Nominate {
        #[command(flatten)]
        m: Who,
    },
    /// The branch general meeting's secret ballot (PTY_MEETING).
    Vote {
        #[command(flatten)]
        m: Who,
        /// Voting-entitled members (default: the branch's members not on probation).
        #[arg(long)]
        entitled: Option<u32>,
        /// Entitled members present.
        #[arg(long)]
        present: u32,
        /// Yes votes.
        #[arg(long)]
        yes: u32,
        /// No votes.
        #[arg(long)]
        no: u32,
        /// Abstentions.
        #[arg(long)]
        abstain: u32,
    },
    /// Publicity (公示) from the date for the policy's working days.
    Publicise {
        #[command(flatten)]
        m: Who,
    },
    /// The basic-level committee recommends the member to the Party (valid 2 years).
    Recommend {
        #[command(flatten)]
        m: Who,
        /// Recommending committee code.
        #[arg(long)]
        org: String,
    },
    /// The Party organisation took the member on.
    Accept {
        #[command(flatten)]
        m: Who,
        /// The Party organisation.
        #[arg(long)]
        party_org: String,
    },
    /// The Party organisation declined.
    Decline {
        #[command(flatten)]
        m: Who,
        /// The Party organisation.
        #[arg(long)]
        party_org: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// The nomination goes no further.
    Cancel {
        #[command(flatten)]
        m: Who,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// A member's recommendations.
    Show {
        /// Member: resident ID, development number or instance id.
        member: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A branch's recommendations.
    List {
        /// Branch code.
        #[arg(long)]
        branch: String,
        /// Only this state (nominated, branch_voted, publicised, recommended, accepted_by_party, declined,
        /// expired, cancelled).
        #[arg(long)]
        state: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn print_round(v: &tuanji_engine::evaluation::EvaluationView) {
    println!(
        "{} {} round {}: {} (meeting {}, {} of {} present){}{}",
        v.branch,
        v.year,
        v.id,
        v.state,
        v.meeting_date.map_or_else(|| "-".into(), |d| d.to_string()),
        v.present,
        v.members,
        v.approved
            .as_ref()
            .map(|(d, o)| format!(", approved {d} by {o}"))
            .unwrap_or_default(),
        v.closed_on
            .map(|d| format!(", closed {d}"))
            .unwrap_or_default()
    );
    let counts: Vec<String> = v.counts.iter().map(|(g, n)| format!("{g} {n}")).collect();
    println!("  {}", counts.join(", "));
    for g in &v.grades {
        println!(
            "  {}  {}{}{}",
            g.member,
            g.grade,
            g.reevaluation
                .map(|(d, r)| format!(", re-evaluated {r} on {d}"))
                .unwrap_or_default(),
            g.advised_on
                .map(|d| format!(", advised to withdraw on {d}"))
                .unwrap_or_default()
        );
    }
    if !v.pending.is_empty() {
        println!("  pending [EVL_UNQUALIFIED]: {}", v.pending.join(", "));
    }
}

fn print_recommendation(v: &tuanji_engine::party::PartyView) {
    println!(
        "{}  {}  {} at {}{}{}{}",
        v.id,
        v.member,
        v.state,
        v.branch,
        v.meeting
            .map(|m| format!(
                ", meeting {} ({} entitled, {} present: {} yes, {} no, {} abstaining)",
                m.date, m.entitled, m.present, m.yes, m.no, m.abstain
            ))
            .unwrap_or_default(),
        v.publicity
            .map(|(a, b)| format!(", publicity {a}..{b}"))
            .unwrap_or_default(),
        v.valid_until
            .map(|u| format!(", valid until {u} (exclusive)"))
            .unwrap_or_default()
    );
}

async fn evaluation_cmd<S: tuanji_store::Store>(
    e: &tuanji_engine::Engine<S>,
    actor: &Actor,
    cmd: EvaluationCmd,
) -> Result<(), Failure> {
    use tuanji_engine::evaluation::{parse_grade, EvaluationCommand as C};
    let (branch, year, c) = match cmd {
        EvaluationCmd::Show { branch, year, json } => {
            let v = e.evaluation_show(&branch, year).await?;
            if json {
                print_json(&v)?;
            } else {
                print_round(&v);
            }
            return Ok(());
        }
        EvaluationCmd::Record(g) => {
            let grades = g.list()?;
            (
                g.branch,
                g.year,
                C::Record {
                    date: g.date,
                    present: g.present,
                    grades,
                },
            )
        }
        EvaluationCmd::Amend(g) => {
            let grades = g.list()?;
            (
                g.branch,
                g.year,
                C::Amend {
                    date: g.date,
                    present: g.present,
                    grades,
                },
            )
        }
        EvaluationCmd::Approve { r, org } => (r.branch, r.year, C::Approve { date: r.date, org }),
        EvaluationCmd::Reevaluate { r, member, grade } => {
            let grade = parse_grade(&grade).map_err(input)?;
            (
                r.branch,
                r.year,
                C::Reevaluate {
                    date: r.date,
                    member,
                    grade,
                },
            )
        }
        EvaluationCmd::AdviseWithdrawal { r, member } => (
            r.branch,
            r.year,
            C::AdviseWithdrawal {
                date: r.date,
                member,
            },
        ),
        EvaluationCmd::Close { r } => (r.branch, r.year, C::Close { date: r.date }),
    };
    let out = e.evaluation(actor, &branch, year, &c).await?;
    println!(
        "{} {}: {} → {} (log seq {}) [{}]",
        c.command(),
        out.round.branch,
        out.from,
        out.to,
        out.seq,
        out.rule_codes.join(", ")
    );
    for (code, m) in &out.flags {
        println!("  flagged [{code}]: {m}");
    }
    print_round(&out.round);
    Ok(())
}

async fn party_cmd<S: tuanji_store::Store>(
    e: &tuanji_engine::Engine<S>,
    actor: &Actor,
    cmd: PartyCmd,
) -> Result<(), Failure> {
    use tuanji_engine::party::PartyCommand as C;
    let (m, c) = match cmd {
        PartyCmd::Show { member, json } => {
            let list = e.party_show(&member).await?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("no Party recommendation on record");
            } else {
                list.iter().for_each(print_recommendation);
            }
            return Ok(());
        }
        PartyCmd::List {
            branch,
            state,
            json,
        } => {
            let list = e.party_list(&branch, state.as_deref()).await?;
            if json {
                print_json(&list)?;
            } else {
                list.iter().for_each(print_recommendation);
                println!("{} recommendation(s)", list.len());
            }
            return Ok(());
        }
        PartyCmd::Nominate { m } => (m.member, C::Nominate { date: m.date }),
        PartyCmd::Vote {
            m,
            entitled,
            present,
            yes,
            no,
            abstain,
        } => (
            m.member,
            C::Vote {
                date: m.date,
                entitled,
                present,
                yes,
                no,
                abstain,
            },
        ),
        PartyCmd::Publicise { m } => (m.member, C::Publicise { date: m.date }),
        PartyCmd::Recommend { m, org } => (m.member, C::Recommend { date: m.date, org }),
        PartyCmd::Accept { m, party_org } => (
            m.member,
            C::Accept {
                date: m.date,
                party_org,
            },
        ),
        PartyCmd::Decline {
            m,
            party_org,
            reason,
        } => (
            m.member,
            C::Decline {
                date: m.date,
                party_org,
                reason,
            },
        ),
        PartyCmd::Cancel { m, reason } => (
            m.member,
            C::Cancel {
                date: m.date,
                reason,
            },
        ),
    };
    let out = e.party(actor, &m, &c).await?;
    println!(
        "{} {}: {} → {} (log seq {}) [{}]{}",
        c.command(),
        out.recommendation.member,
        out.from,
        out.to,
        out.seq,
        out.rule_codes.join(", "),
        out.standing
            .as_ref()
            .map(|s| format!("; standing {s}"))
            .unwrap_or_default()
    );
    print_recommendation(&out.recommendation);
    Ok(())
}

/// A role name, for clap. (Role flags have the id `binding_role`: `role` is the global `--as`.)
fn role_arg(s: &str) -> Result<Role, String> {
    Role::parse(s).map_err(|e| e.to_string())
}

/// The target of a role binding: `--org CODE` for every role but `member`, `--member REF` for `member`.
#[derive(Args)]
struct BindingArgs {
    /// Organisation code the binding is on; the binding covers its subtree (every role but member).
    #[arg(long, conflicts_with = "member")]
    org: Option<String>,
    /// The member a `member` binding covers: resident ID or development number.
    #[arg(long)]
    member: Option<String>,
}

impl BindingArgs {
    /// The engine's target for `role`, or a usage failure naming the flag the role needs.
    fn target(&self, role: Role) -> Result<String, Failure> {
        match (role, &self.org, &self.member) {
            (Role::Member, None, Some(m)) => Ok(m.clone()),
            (Role::Member, _, _) => Err(input(
                "the member role needs --member REF (resident ID or development number)",
            )),
            (_, Some(o), None) => Ok(o.clone()),
            (r, _, _) => Err(input(format!("the {r} role needs --org CODE"))),
        }
    }
}

#[derive(Subcommand)]
enum PrincipalCmd {
    /// Create a principal (a person or system that calls the HTTP API), optionally with a first role binding.
    Add {
        /// Unique name, 1–50 characters; recorded as the actor of its commands.
        name: String,
        /// Role to grant at once: system_admin, committee_admin, branch_secretary, auditor or member.
        #[arg(long = "role", id = "binding_role", value_parser = role_arg)]
        role: Option<Role>,
        #[command(flatten)]
        target: BindingArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give a principal a role over an organisation's subtree (`--org`), or over a member's own record
    /// (`--role member --member REF`).
    Grant {
        /// Principal name.
        name: String,
        /// system_admin, committee_admin, branch_secretary (on a branch), auditor or member.
        #[arg(long = "role", id = "binding_role", value_parser = role_arg)]
        role: Role,
        #[command(flatten)]
        target: BindingArgs,
    },
    /// Take a role binding back (same arguments as grant).
    Ungrant {
        /// Principal name.
        name: String,
        /// The role of the binding.
        #[arg(long = "role", id = "binding_role", value_parser = role_arg)]
        role: Role,
        #[command(flatten)]
        target: BindingArgs,
    },
    /// Disable a principal: its tokens stop working at once.
    Disable {
        /// Principal name.
        name: String,
    },
    /// Enable a disabled principal again.
    Enable {
        /// Principal name.
        name: String,
    },
    /// Every principal with its bindings (member ID numbers masked) and active tokens.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API bearer token: standard output is exactly the token, shown this once (only its argon2id hash
    /// is stored).
    Create {
        /// Principal name.
        principal: String,
        /// Free text, at most 100 characters (the device or system using it).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a token: requests with it are refused from now on.
    Revoke {
        /// Token id (the 32 hex digits after `tj_`, or the UUID `token list` shows).
        token_id: String,
    },
    /// A principal's tokens, revoked ones too (never a secret or hash).
    List {
        /// Principal name.
        principal: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn binding_text(b: &BindingView) -> String {
    match &b.member {
        Some(m) => format!("member {m} (branch {})", b.org_code),
        None => format!("{} over {}", b.role, b.org_code),
    }
}

fn print_principal(p: &PrincipalView) {
    println!(
        "principal `{}` ({}){}: {} active token(s)",
        p.name,
        p.id,
        if p.disabled_at.is_some() {
            ", disabled"
        } else {
            ""
        },
        p.tokens
    );
    for b in &p.bindings {
        println!("  {}", binding_text(b));
    }
}

fn print_tokens(list: &[TokenView]) {
    let mut t = table(&[
        "id",
        "principal",
        "label",
        "created (UTC)",
        "last used",
        "revoked (UTC)",
    ]);
    for v in list {
        t.add_row(vec![
            v.id.simple().to_string(),
            v.principal.clone(),
            v.label.clone(),
            v.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            v.last_used_on.map(|d| d.to_string()).unwrap_or_default(),
            v.revoked_at
                .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
        ]);
    }
    println!("{t}\n{} token(s)", list.len());
}

async fn principal_cmd<S: tuanji_store::Store>(
    e: &tuanji_engine::Engine<S>,
    cmd: PrincipalCmd,
) -> Result<(), Failure> {
    match cmd {
        PrincipalCmd::Add {
            name,
            role,
            target,
            json,
        } => {
            // Check the binding's flags before anything is written.
            let binding = role.map(|r| target.target(r).map(|t| (r, t))).transpose()?;
            if binding.is_none() && (target.org.is_some() || target.member.is_some()) {
                return Err(input("--org and --member need --role"));
            }
            let mut p = e.principal_add(&name).await?;
            if let Some((role, target)) = binding {
                match e.grant(&p.name, role, &target).await {
                    Ok(b) => p.bindings.push(b),
                    Err(err) => {
                        let mut f = Failure::from(err);
                        f.message = format!(
                            "{} (the principal `{}` was created without this binding: fix it and run `tuanji principal grant`)",
                            f.message, p.name
                        );
                        return Err(f);
                    }
                }
            }
            if json {
                print_json(&p)?;
            } else {
                print_principal(&p);
            }
        }
        PrincipalCmd::Grant { name, role, target } => {
            let b = e.grant(&name, role, &target.target(role)?).await?;
            println!("granted to `{}`: {}", name.trim(), binding_text(&b));
        }
        PrincipalCmd::Ungrant { name, role, target } => {
            let b = e.ungrant(&name, role, &target.target(role)?).await?;
            println!("taken from `{}`: {}", name.trim(), binding_text(&b));
        }
        PrincipalCmd::Disable { name } => print_principal(&e.principal_disable(&name).await?),
        PrincipalCmd::Enable { name } => print_principal(&e.principal_enable(&name).await?),
        PrincipalCmd::List { json } => {
            let list = e.principal_list().await?;
            if json {
                print_json(&list)?;
            } else {
                let mut t = table(&["name", "id", "bindings", "active tokens", "disabled"]);
                for p in &list {
                    t.add_row(vec![
                        p.name.clone(),
                        p.id.to_string(),
                        p.bindings
                            .iter()
                            .map(binding_text)
                            .collect::<Vec<_>>()
                            .join("\n"),
                        p.tokens.to_string(),
                        if p.disabled_at.is_some() { "yes" } else { "" }.to_owned(),
                    ]);
                }
                println!("{t}\n{} principal(s)", list.len());
            }
        }
    }
    Ok(())
}

async fn token_cmd<S: tuanji_store::Store>(
    e: &tuanji_engine::Engine<S>,
    cmd: TokenCmd,
) -> Result<(), Failure> {
    match cmd {
        TokenCmd::Create { principal, label } => {
            let (v, token) = e.token_create(&principal, &label).await?;
            // Only the token on standard output, so `> token.txt` captures exactly it.
            eprintln!(
                "token {} for `{}`: shown this once, keep it secret (only its hash is stored)",
                v.id.simple(),
                v.principal
            );
            println!("{token}");
        }
        TokenCmd::Revoke { token_id } => {
            let id = uuid::Uuid::parse_str(token_id.trim()).map_err(|_| {
                input(format!(
                    "`{}` is not a token id: give the 32 hex digits after tj_ (as `tuanji token list` shows)",
                    token_id.trim()
                ))
            })?;
            let v = e.token_revoke(id).await?;
            println!(
                "token {} of `{}` revoked at {} UTC",
                v.id.simple(),
                v.principal,
                v.revoked_at
                    .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default()
            );
        }
        TokenCmd::List { principal, json } => {
            let list = e.tokens(&principal).await?;
            if json {
                print_json(&list)?;
            } else {
                print_tokens(&list);
            }
        }
    }
    Ok(())
}
