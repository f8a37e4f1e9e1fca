//! Transition coverage of `workflows/standing.v1.toml` (团籍 League standing; STYLE.md, after Temporal
//! sdk-core): one given/when/then test per declared transition `(from, command)`, on both backends, and
//! [`every_standing_transition_is_covered`], which fails when a transition of standing v1 in
//! `tuanji_workflow::builtin()` is missing from [`COVERED`] or [`COVERED`] names one that v1 does not declare.
//! (`tests/tests/transitions.rs` covers the other machines and skips standing.)
//!
//! Given: a member brought to the `from` state — a legacy member of [`NON_GRADUATING`] (member since
//! 2025-05-04, dues tracked from the import month 2026-11), the one imported on probation until 2027-05-03, a
//! Party member (`join_party` on 2026-11-03), or a member of [`PARTY_BRANCH`] recommended to the Party on
//! 2026-03-20 through the party_recommendation machine (valid until 2028-03-20). When: the standing command,
//! or the admission, roster import, Party recommendation or standing sweep that issues it (the sweep's
//! transitions — `age_out`, `end_probation` at expiry, `end_recommendation` at expiry, `flag_lapse` — run
//! through `Engine::standing_sweep`, on an engine whose today is later where the date must be). Then: the
//! state reached; the member's log gains exactly the standing entry `(standing, from, command, to)` (after the
//! entry of the machine that issued it, if any) with its role, actor, effective date, rule codes and the
//! step and flags it recorded; `members.standing` and `members.probation_until` agree with the instance; and
//! the standing view shows what the step changed.
//!
//! The harness's today is 2026-11-30.

use tuanji_domain::dues::YearMonth;
use tuanji_domain::Date;
use tuanji_engine::admission::AdmissionCommand;
use tuanji_engine::evaluation::EvaluationCommand as E;
use tuanji_engine::party::PartyCommand as P;
use tuanji_engine::standing::{StandingCommand as S, StandingOutcome, StandingSweepReport};
use tuanji_engine::{with_engine, Actor, AnyEngine};
use tuanji_store::{LogRow, Store, StoreTx};
use tuanji_tests::*;
use tuanji_workflow::evaluation::Grade;
use tuanji_workflow::standing::{
    Appeal, BranchMeeting, Decision, DuesCategory, LapseGround, Membership, Post, PostKind,
    RecommendationEnd, RemovalReason, StandingStep,
};

/// Every standing v1 transition the tests below exercise: `(workflow, from, command)`.
const COVERED: &[(&str, &str, &str)] = &[
    ("standing", "new", "import_member"),
    ("standing", "new", "open"),
    ("standing", "member", "import_probation"),
    ("standing", "member", "put_on_probation"),
    ("standing", "recommended_for_party", "put_on_probation"),
    ("standing", "party_member", "put_on_probation"),
    ("standing", "on_probation", "end_probation"),
    ("standing", "member", "expel"),
    ("standing", "on_probation", "expel"),
    ("standing", "recommended_for_party", "expel"),
    ("standing", "party_member", "expel"),
    ("standing", "member", "record_appeal"),
    ("standing", "member", "decide_appeal"),
    ("standing", "on_probation", "record_appeal"),
    ("standing", "on_probation", "decide_appeal"),
    ("standing", "recommended_for_party", "record_appeal"),
    ("standing", "recommended_for_party", "decide_appeal"),
    ("standing", "party_member", "record_appeal"),
    ("standing", "party_member", "decide_appeal"),
    ("standing", "expelled", "record_appeal"),
    ("standing", "expelled", "decide_appeal"),
    ("standing", "expelled", "reinstate"),
    ("standing", "member", "age_out"),
    ("standing", "on_probation", "age_out"),
    ("standing", "recommended_for_party", "age_out"),
    ("standing", "party_member", "age_out"),
    ("standing", "member", "withdraw"),
    ("standing", "on_probation", "withdraw"),
    ("standing", "recommended_for_party", "withdraw"),
    ("standing", "party_member", "withdraw"),
    ("standing", "member", "remove"),
    ("standing", "on_probation", "remove"),
    ("standing", "recommended_for_party", "remove"),
    ("standing", "party_member", "remove"),
    ("standing", "member", "record_death"),
    ("standing", "on_probation", "record_death"),
    ("standing", "recommended_for_party", "record_death"),
    ("standing", "party_member", "record_death"),
    ("standing", "member", "recommend"),
    ("standing", "recommended_for_party", "end_recommendation"),
    ("standing", "on_probation", "end_recommendation"),
    ("standing", "member", "join_party"),
    ("standing", "recommended_for_party", "join_party"),
    ("standing", "member", "record_dues"),
    ("standing", "on_probation", "record_dues"),
    ("standing", "recommended_for_party", "record_dues"),
    ("standing", "party_member", "record_dues"),
    ("standing", "member", "record_life"),
    ("standing", "on_probation", "record_life"),
    ("standing", "recommended_for_party", "record_life"),
    ("standing", "party_member", "record_life"),
    ("standing", "member", "assign_post"),
    ("standing", "recommended_for_party", "assign_post"),
    ("standing", "party_member", "assign_post"),
    ("standing", "member", "end_post"),
    ("standing", "on_probation", "end_post"),
    ("standing", "recommended_for_party", "end_post"),
    ("standing", "party_member", "end_post"),
    ("standing", "member", "flag_lapse"),
    ("standing", "on_probation", "flag_lapse"),
    ("standing", "recommended_for_party", "flag_lapse"),
];

#[test]
fn every_standing_transition_is_covered() {
    let registry = tuanji_workflow::builtin();
    let def = registry
        .get("standing", 1)
        .expect("standing v1 is built in");
    let declared: Vec<(String, String, String)> = def
        .transitions
        .iter()
        .map(|t| (def.name.clone(), t.from.clone(), t.command.clone()))
        .collect();
    let missing: Vec<_> = declared
        .iter()
        .filter(|(w, f, c)| !COVERED.contains(&(w.as_str(), f.as_str(), c.as_str())))
        .collect();
    assert!(
        missing.is_empty(),
        "standing transitions without a test: {missing:?}"
    );
    for (w, f, c) in COVERED {
        assert_eq!(*w, "standing", "COVERED lists standing transitions only");
        assert!(
            def.transition(f, c).is_ok(),
            "COVERED names ({w}, {f}, {c}), which standing v1 does not declare"
        );
    }
    let mut unique = COVERED.to_vec();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), COVERED.len(), "COVERED has duplicates");
    assert_eq!(COVERED.len(), declared.len());
    assert_eq!(declared.len(), 61);
}

// ====================================================================== helpers

/// The actor of the harness's commands.
const TESTER: &str = "tester";
/// The actor of the sweep.
const SWEEP: &str = "sweep";
/// The standing machine's terminal states.
const TERMINAL: &[&str] = &["aged_out", "withdrawn", "removed", "expelled", "deceased"];
/// The Party organisation of the `join_party` tests.
const PARTY_ORG: &str = "中共北京市第八十中学支部委员会";

/// A log entry as these tests compare it: `(workflow, from_state, command, to_state)`.
type Entry = (String, String, String, String);

fn entry(workflow: &str, from: &str, command: &str, to: &str) -> Entry {
    (
        workflow.to_owned(),
        from.to_owned(),
        command.to_owned(),
        to.to_owned(),
    )
}

fn entry_of(r: &LogRow) -> Entry {
    entry(&r.workflow, &r.from_state, &r.command, &r.to_state)
}

fn ym(y: i32, m: u32) -> YearMonth {
    YearMonth::new(y, m).expect("a month")
}

/// The rule codes a standing command checks: its guards', flags' and actions' codes, from the transition
/// table of `workflows/standing.v1.toml` (the same for every `from`).
fn codes(command: &str) -> Vec<String> {
    let c: &[&str] = match command {
        "import_member" => &["IMP_LEGACY_AGE", "ID_UNIQUE", "ADM_NUMBER_REQUIRED"],
        "put_on_probation" | "end_probation" => &["STD_PROBATION"],
        "expel" | "record_appeal" | "decide_appeal" | "reinstate" => &["STD_EXPEL"],
        "age_out" | "assign_post" | "end_post" => &["STD_AGE_OUT"],
        "withdraw" => &["STD_WITHDRAW"],
        "remove" => &["STD_LAPSE", "EVL_UNQUALIFIED"],
        "recommend" | "end_recommendation" => &["PTY_VALIDITY"],
        "record_dues" => &["DUE_STUDENT"],
        "flag_lapse" => &["STD_LAPSE"],
        "open" | "import_probation" | "record_death" | "join_party" | "record_life" => &[],
        other => panic!("no standing command {other}"),
    };
    c.iter().map(|s| (*s).to_owned()).collect()
}

/// A branch general meeting on `date` that passed: 5 entitled (the members of [`NON_GRADUATING`] not on
/// probation), 5 present, 4 yes, 1 no.
fn meeting(date: Date) -> BranchMeeting {
    BranchMeeting {
        date,
        entitled: 5,
        present: 5,
        yes: 4,
        no: 1,
        abstain: 0,
    }
}

/// The branch meeting on `date`, approved by `org` the same day.
fn decision(date: Date, org: &str) -> Decision {
    Decision {
        meeting: meeting(date),
        approved_by: org.to_owned(),
        approved_on: date,
    }
}

/// The entitled members of [`PARTY_BRANCH`] as [`party_branch`] builds it (10 in good standing).
const PARTY_ENTITLED: u32 = 10;

/// A meeting of `entitled` members on `date`, all present, all but one for; approved by `org` the same day.
fn decision_n(date: Date, org: &str, entitled: u32) -> Decision {
    Decision {
        meeting: BranchMeeting {
            date,
            entitled,
            present: entitled,
            yes: entitled - 1,
            no: 1,
            abstain: 0,
        },
        approved_by: org.to_owned(),
        approved_on: date,
    }
}

/// The decision of a meeting of the branch a member in `from` belongs to in these tests: [`PARTY_BRANCH`] for
/// `recommended_for_party`, else [`NON_GRADUATING`].
fn decision_from(from: &str, date: Date, org: &str) -> Decision {
    if from == "recommended_for_party" {
        decision_n(date, org, PARTY_ENTITLED)
    } else {
        decision(date, org)
    }
}

/// The entry that ends a held recommendation after a standing change (the recommendation's `cancel`).
fn cancelled() -> Entry {
    entry("party_recommendation", "recommended", "cancel", "cancelled")
}

/// The engine of `app` with today = `today`.
fn at(app: &TestApp, today: Date) -> AnyEngine {
    app.engine().clone().with_today(today)
}

/// What one standing transition must have written.
struct Then {
    /// The state before.
    from: &'static str,
    /// The state reached.
    to: &'static str,
    /// The role logged.
    role: &'static str,
    /// The actor logged.
    actor: &'static str,
    /// The step the entry records.
    step: StandingStep,
    /// The flags the entry records (rule code, message).
    flags: Vec<(String, String)>,
    /// Entries written after it in the same transaction (a held recommendation ended with the standing change).
    after: Vec<Entry>,
}

impl Then {
    /// A step by the harness actor, without flags.
    fn by(from: &'static str, to: &'static str, role: &'static str, step: StandingStep) -> Then {
        Then {
            from,
            to,
            role,
            actor: TESTER,
            step,
            flags: Vec::new(),
            after: Vec::new(),
        }
    }

    /// The same, followed by `after` in the same transaction when the member held a recommendation (`from` is
    /// `recommended_for_party`).
    fn ending_recommendation(mut self, after: Vec<Entry>) -> Then {
        if self.from == "recommended_for_party" {
            self.after = after;
        }
        self
    }

    /// A step of the sweep (role system_admin).
    fn swept(from: &'static str, to: &'static str, step: StandingStep) -> Then {
        Then {
            from,
            to,
            role: "system_admin",
            actor: SWEEP,
            step,
            flags: Vec::new(),
            after: Vec::new(),
        }
    }
}

/// The step and flags a standing entry recorded (the roster import's payload is the bare membership).
fn recorded(e: &LogRow) -> (StandingStep, Vec<(String, String)>) {
    let payload = e.payload_value().expect("the payload");
    let step = payload.get("step").unwrap_or(&payload);
    let step = StandingStep::from_log(&e.command, step).expect("a standing step");
    let flags = payload
        .get("flags")
        .and_then(|f| f.as_array())
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["code"].as_str().expect("a code").to_owned(),
                        f["message"].as_str().expect("a message").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (step, flags)
}

/// Given: `who` is in `from` (instance and `members.standing`). Returns the length of the member's log.
async fn given(app: &TestApp, who: &str, from: &str) -> usize {
    assert_eq!(
        app.standing_state(who).await,
        from,
        "given: the member is in `{from}`"
    );
    app.log(Some(who)).await.len()
}

/// Given: `who` has no standing yet (not a member, or not registered at all). Returns the log length.
async fn given_new(app: &TestApp, who: &str) -> usize {
    match app.member_view(who).await {
        Ok(v) => {
            assert_eq!(v.member, None, "given: no membership yet");
            let log = app.log(Some(who)).await;
            assert!(log.iter().all(|e| e.workflow != "standing"));
            log.len()
        }
        Err(_) => 0,
    }
}

/// Then: the member's log gained exactly `alongside` and then the standing entry of `t`, which records its
/// role, actor, effective date, rule codes, step and flags; the instance and `members.standing` are in
/// `t.to`, `members.probation_until` agrees with the instance, and the view's end of membership is the step
/// exactly when `t.to` is terminal. Returns the standing entry.
async fn then_logged(
    app: &TestApp,
    who: &str,
    before: usize,
    alongside: &[Entry],
    t: &Then,
) -> LogRow {
    let command = t.step.command();
    assert!(
        COVERED.contains(&("standing", t.from, command)),
        "add (standing, {}, {command}) to COVERED",
        t.from
    );
    let log = app.log(Some(who)).await;
    let mut want = alongside.to_vec();
    want.push(entry("standing", t.from, command, t.to));
    want.extend(t.after.iter().cloned());
    assert_eq!(log[before..].iter().map(entry_of).collect::<Vec<_>>(), want);
    let e = log[log.len() - 1 - t.after.len()].clone();
    assert_eq!(
        (
            e.workflow_version,
            e.role.as_str(),
            e.actor.as_str(),
            e.effective_date
        ),
        (1, t.role, t.actor, t.step.date())
    );
    assert_eq!(e.rule_code_list().expect("rule codes"), codes(command));
    assert_eq!(recorded(&e), (t.step.clone(), t.flags.clone()));
    let to = match t.after.last() {
        Some((w, _, _, to)) if w == "standing" => to.as_str(),
        _ => t.to,
    };
    assert_eq!(app.standing_state(who).await, to);
    let view = expect_ok(app.standing_show(who).await, "standing show");
    assert_eq!(view.instance, Some(e.instance_id));
    let member = expect_ok(app.member_view(who).await, "member view")
        .member
        .expect("a member row");
    assert_eq!(
        member.probation_until, view.probation_until,
        "members.probation_until follows the instance"
    );
    let ended = match (t.from, t.to) {
        // An appeal after the expulsion keeps it on record.
        ("expelled", "expelled") => view.ended.clone().filter(|(c, _)| c == "expel"),
        _ => TERMINAL
            .contains(&t.to)
            .then(|| (command.to_owned(), t.step.date())),
    };
    assert_eq!(view.ended, ended);
    e
}

/// `Engine::standing` on `engine` as the harness actor in `role` (None: the transition's first role).
async fn run(engine: &AnyEngine, who: &str, role: Option<&str>, cmd: &S) -> StandingOutcome {
    let a = Actor {
        name: TESTER.into(),
        role: role.map(str::to_owned),
        ..Default::default()
    };
    expect_ok(
        with_engine!(engine, e => e.standing(&a, who, cmd).await),
        cmd.command(),
    )
}

/// Given `who` in `t.from`, when `cmd` on `engine` (as `role`), then the outcome goes `t.from` → `t.to`
/// with the command's rule codes and `t.flags`, and [`then_logged`] holds with nothing alongside.
async fn case(
    app: &TestApp,
    engine: &AnyEngine,
    who: &str,
    role: Option<&str>,
    cmd: S,
    t: Then,
) -> LogRow {
    let before = given(app, who, t.from).await;
    let out = run(engine, who, role, &cmd).await;
    assert_eq!((out.from.as_str(), out.to.as_str()), (t.from, t.to));
    assert_eq!(out.rule_codes, codes(cmd.command()));
    assert_eq!(out.flags, t.flags);
    let after = t.after.len();
    let e = then_logged(app, who, before, &[], &t).await;
    assert_eq!(out.logged[0], (cmd.command().to_owned(), e.seq));
    assert_eq!(out.logged.len(), 1 + after);
    e
}

/// Given `who` in `t.from`, when the standing sweep for `as_of` runs on `engine` (actor `sweep`, role
/// system_admin), then [`then_logged`] holds. Returns the sweep's report.
async fn sweep_case(
    app: &TestApp,
    engine: &AnyEngine,
    as_of: Date,
    who: &str,
    t: Then,
) -> StandingSweepReport {
    let before = given(app, who, t.from).await;
    let sweeper = Actor {
        name: SWEEP.into(),
        role: Some("system_admin".into()),
        ..Default::default()
    };
    let r = expect_ok(
        with_engine!(engine, e => e.standing_sweep(&sweeper, as_of, &|_, _, _| {}).await),
        "standing sweep",
    );
    then_logged(app, who, before, &[], &t).await;
    r
}

/// The report of a sweep for `as_of` over `examined` live members that wrote only `entries` of one kind.
fn report(
    as_of: Date,
    examined: usize,
    f: impl FnOnce(&mut StandingSweepReport),
) -> StandingSweepReport {
    let mut r = StandingSweepReport {
        as_of: Some(as_of),
        examined,
        ..StandingSweepReport::default()
    };
    f(&mut r);
    r
}

/// The `dues_payments` projection of the person of `e`: `(month, fen, paid on, category)`.
async fn dues_rows(app: &TestApp, e: &LogRow) -> Vec<(String, i64, Date, String)> {
    let person = e.person_id.expect("a person");
    let rows = with_engine!(app.engine(), eng => {
        let mut tx = eng.store().begin_read().await.expect("a read transaction");
        tx.dues_of(person).await.expect("dues")
    });
    rows.into_iter()
        .map(|r| (r.month, r.amount_fen, r.paid_on, r.category))
        .collect()
}

// ------------------------------------------------------------------ givens

/// A member of [`NON_GRADUATING`] in good standing (legacy, born 2009-03-01, member since 2025-05-04).
fn a_member(app: &TestApp) -> String {
    app.members(NON_GRADUATING).good[0].clone()
}

/// The member of [`NON_GRADUATING`] imported on probation until 2027-05-03.
fn on_probation(app: &TestApp) -> String {
    app.members(NON_GRADUATING).on_probation[0].clone()
}

/// A member of [`NON_GRADUATING`] born `birth`, admitted 2016-05-04, registered today (dues tracked from
/// 2026-11), on probation until `probation` if given.
async fn member_born(app: &TestApp, birth: Date, probation: Option<&str>) -> String {
    let rid = app.new_rid(birth);
    let csv = format!(
        "姓名,公民身份号码,入团日期,团员编号,留团察看至\n团员,{rid},2016-05-04,,{}\n",
        probation.unwrap_or("")
    );
    expect_ok(
        app.import_roster(NON_GRADUATING, csv.as_bytes(), false)
            .await,
        "a legacy member",
    );
    rid
}

/// `who` joins the Party on 2026-11-03 (`join_party`): a Party member.
async fn joins_party(app: &TestApp, who: &str) {
    expect_ok(
        app.standing(
            who,
            None,
            &S::JoinParty {
                date: d(2026, 11, 3),
                party_org: PARTY_ORG.into(),
            },
        )
        .await,
        "join_party",
    );
}

/// Probation of `months` months from `date`, decided by the branch meeting that day and approved by `org`.
fn probation(date: Date, months: u32, org: &str) -> S {
    S::PutOnProbation {
        date,
        months,
        decision: decision(date, org),
        reason: "违反团的纪律".into(),
    }
}

/// `who` put on probation for 6 months from `date`, approved by [`SCHOOL`].
async fn put_on_probation(app: &TestApp, who: &str, date: Date) {
    expect_ok(
        app.standing(who, None, &probation(date, 6, SCHOOL)).await,
        "put_on_probation",
    );
}

/// The ten members of [`PARTY_BRANCH`]: `first` is born `birth` (member since 2020-05-04) if given, else
/// like the others (born 2004-06-01, members since 2022-05-04).
async fn party_branch(app: &TestApp, birth: Option<Date>) -> Vec<String> {
    match birth {
        None => app.with_party_branch(10, 0).await.good,
        Some(b) => {
            let rest = app.with_party_branch(9, 0).await.good;
            let first = app.with_party_member(b, d(2020, 5, 4)).await;
            std::iter::once(first).chain(rest).collect()
        }
    }
}

/// The evaluation round of `year` for `members`, recorded on {year}-12-20 (8 present; everyone qualified but
/// `unqualified`) and approved by [`SCHOOL`] on {year+1}-01-10.
async fn round(app: &TestApp, members: &[String], year: i32, unqualified: Option<&str>) {
    let grades = members
        .iter()
        .map(|m| {
            let g = if Some(m.as_str()) == unqualified {
                Grade::Unqualified
            } else {
                Grade::Qualified
            };
            (m.clone(), g)
        })
        .collect();
    expect_ok(
        app.evaluation(
            PARTY_BRANCH,
            year,
            None,
            &E::Record {
                date: d(year, 12, 20),
                present: 8,
                grades,
            },
        )
        .await,
        "evaluation record",
    );
    expect_ok(
        app.evaluation(
            PARTY_BRANCH,
            year,
            None,
            &E::Approve {
                date: d(year + 1, 1, 10),
                org: SCHOOL.into(),
            },
        )
        .await,
        "evaluation approve",
    );
}

/// The Party recommendation of `year` up to publicity: nominated on 03-01, voted on 03-08 (9 present, 8 yes),
/// publicised from 03-11.
fn up_to_publicity(year: i32) -> Vec<P> {
    vec![
        P::Nominate {
            date: d(year, 3, 1),
        },
        P::Vote {
            date: d(year, 3, 8),
            entitled: None,
            present: 9,
            yes: 8,
            no: 1,
            abstain: 0,
        },
        P::Publicise {
            date: d(year, 3, 11),
        },
    ]
}

/// The recommendation of `year` by [`SCHOOL`] on {year}-03-20.
fn recommend(year: i32) -> P {
    P::Recommend {
        date: d(year, 3, 20),
        org: SCHOOL.into(),
    }
}

/// A member of [`PARTY_BRANCH`] (born `birth` if given), graded qualified in the round of `year - 1` and
/// recommended to the Party on {year}-03-20 (valid until {year+2}-03-20): `recommended_for_party`.
async fn recommended(app: &TestApp, year: i32, birth: Option<Date>) -> String {
    let m = party_branch(app, birth).await;
    round(app, &m, year - 1, None).await;
    let who = m[0].clone();
    for cmd in up_to_publicity(year).into_iter().chain([recommend(year)]) {
        expect_ok(app.party(&who, None, &cmd).await, cmd.command());
    }
    who
}

// ====================================================================== creating commands

// Given a person not yet registered, when the roster import registers them as a member admitted on
// 2023-05-04, then `new` → `member` by `import_member`, dues tracked from the import month.
both_backends!(standing_new_import_member, |app| async move {
    let app = app.with_school().await;
    let who = app.new_rid(d(2008, 5, 1));
    let before = given_new(&app, &who).await;
    let counts = app.counts().await;
    let csv = format!(
        "姓名,公民身份号码,入团日期,团员编号,留团察看至\n甲,{who},2023-05-04,202300000001,\n"
    );
    let r = expect_ok(
        app.import_roster(SENIOR, csv.as_bytes(), false).await,
        "roster",
    );
    assert_eq!((r.members, r.applicants), (1, 0));
    let membership = Membership {
        membership_date: d(2023, 5, 4),
        number: Some("202300000001".into()),
        probation_until: None,
        dues_from: Some(ym(2026, 11)),
    };
    then_logged(
        &app,
        &who,
        before,
        &[],
        &Then::by(
            "new",
            "member",
            "branch_secretary",
            StandingStep::ImportMember { membership },
        ),
    )
    .await;
    let after = app.counts().await;
    assert_eq!(
        (after.log, after.members, after.instances),
        (counts.log + 1, counts.members + 1, counts.instances + 1)
    );
    let v = expect_ok(app.standing_show(&who).await, "show");
    assert_eq!(v.dues.from, Some(ym(2026, 11)));
    assert_eq!(app.branch_counts(SENIOR).await.members, 4);
});

// Given an applicant of NON_GRADUATING whose branch meeting (2026-10-16) approved them, when the school
// committee approves the admission on 2026-10-23, then the admission reaches `admitted` and, right after its
// entry, the standing opens: `new` → `member` by `open`, effective on the membership date with the new
// development number, dues tracked from the membership month.
both_backends!(standing_new_open, |app| async move {
    let app = app.with_school().await.with_quota(SCHOOL, 2026, 5).await;
    let a = app
        .applicant_at(NON_GRADUATING, Stage::BranchApproved)
        .await;
    let before = given_new(&app, &a.rid).await;
    let out = expect_ok(
        app.step(
            &a.rid,
            &AdmissionCommand::Approve {
                date: d(2026, 10, 23),
                committee: SCHOOL.into(),
            },
        )
        .await,
        "approve",
    );
    assert_eq!(out.to, "admitted");
    let member = expect_ok(app.member_view(&a.rid).await, "member view")
        .member
        .expect("a member row");
    let number = member
        .development_number
        .clone()
        .expect("a development number");
    assert!(number.starts_with("2026"), "{number}");
    let since = d(2026, 10, 16);
    assert_eq!(member.membership_date, since);
    let e = then_logged(
        &app,
        &a.rid,
        before,
        &[entry("admission", "branch_approved", "approve", "admitted")],
        &Then::by(
            "new",
            "member",
            "system_admin",
            StandingStep::Open {
                date: since,
                membership: Membership {
                    membership_date: since,
                    number: Some(number),
                    probation_until: None,
                    dues_from: None,
                },
            },
        ),
    )
    .await;
    assert_eq!(e.seq, out.seq + 1);
    let v = expect_ok(app.standing_show(&a.rid).await, "show");
    assert_eq!(v.dues.from, Some(ym(2026, 10)));
});

// Given a person not yet registered, when the roster import registers them with 留团察看至 2027-01-31, then
// after `import_member` the probation is recorded: `member` → `on_probation` by `import_probation`.
both_backends!(standing_member_import_probation, |app| async move {
    let app = app.with_school().await;
    let who = app.new_rid(d(2008, 6, 1));
    let before = given_new(&app, &who).await;
    let csv = format!(
        "姓名,公民身份号码,入团日期,团员编号,留团察看至\n乙,{who},2023-05-04,202300000002,2027-01-31\n"
    );
    expect_ok(
        app.import_roster(SENIOR, csv.as_bytes(), false).await,
        "roster",
    );
    let membership = Membership {
        membership_date: d(2023, 5, 4),
        number: Some("202300000002".into()),
        probation_until: Some(d(2027, 1, 31)),
        dues_from: Some(ym(2026, 11)),
    };
    then_logged(
        &app,
        &who,
        before,
        &[entry("standing", "new", "import_member", "member")],
        &Then::by(
            "member",
            "on_probation",
            "branch_secretary",
            StandingStep::ImportProbation { membership },
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(&who).await, "show");
    assert_eq!(v.probation_until, Some(d(2027, 1, 31)));
    // No vote while on probation: 3 members, 3 entitled before; 4 and 3 after.
    let counts = app.branch_counts(SENIOR).await;
    assert_eq!((counts.members, counts.entitled), (4, 3));
});

// ====================================================================== probation

// Given a member, when probation of 6 months from 2026-11-02 is decided by the branch and approved by the
// school committee, then `member` → `on_probation` until 2027-05-02.
both_backends!(standing_member_put_on_probation, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    let date = d(2026, 11, 2);
    case(
        &app,
        app.engine(),
        &who,
        None,
        probation(date, 6, SCHOOL),
        Then::by(
            "member",
            "on_probation",
            "committee_admin",
            StandingStep::PutOnProbation {
                date,
                months: 6,
                decision: decision(date, SCHOOL),
                reason: "违反团的纪律".into(),
                until: d(2027, 5, 2),
            },
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(&who).await, "show");
    assert_eq!(v.probation_until, Some(d(2027, 5, 2)));
});

/// Probation of `months` months from `date` for a member of [`PARTY_BRANCH`] (its 10 entitled members).
fn party_branch_probation(date: Date, months: u32) -> S {
    S::PutOnProbation {
        date,
        months,
        decision: decision_n(date, SCHOOL, PARTY_ENTITLED),
        reason: "违反团的纪律".into(),
    }
}

// Given a member recommended to the Party (valid until 2028-03-20), when probation of 12 months from
// 2026-11-02 is approved, then `recommended_for_party` → `on_probation` until 2027-11-02, and the recommendation
// ends with it in the same transaction (its `cancel`, then the standing's `end_recommendation`).
both_backends!(
    standing_recommended_for_party_put_on_probation,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        let date = d(2026, 11, 2);
        case(
            &app,
            app.engine(),
            &who,
            None,
            party_branch_probation(date, 12),
            Then::by(
                "recommended_for_party",
                "on_probation",
                "committee_admin",
                StandingStep::PutOnProbation {
                    date,
                    months: 12,
                    decision: decision_n(date, SCHOOL, PARTY_ENTITLED),
                    reason: "违反团的纪律".into(),
                    until: d(2027, 11, 2),
                },
            )
            .ending_recommendation(vec![
                cancelled(),
                entry(
                    "standing",
                    "on_probation",
                    "end_recommendation",
                    "on_probation",
                ),
            ]),
        )
        .await;
        let v = expect_ok(app.standing_show(&who).await, "show");
        assert_eq!(v.probation_until, Some(d(2027, 11, 2)));
        assert_eq!(v.recommendation, None);
    }
);

// Given a member recommended to the Party, when put on probation from 2026-11-02, then after the recommendation's
// `cancel` the standing lets go of it: `on_probation` → `on_probation` by `end_recommendation` (cancelled).
both_backends!(standing_on_probation_end_recommendation, |app| async move {
    let app = app.with_school().await;
    let who = recommended(&app, 2026, None).await;
    let date = d(2026, 11, 2);
    let before = given(&app, &who, "recommended_for_party").await;
    run(app.engine(), &who, None, &party_branch_probation(date, 6)).await;
    let e = then_logged(
        &app,
        &who,
        before,
        &[
            entry(
                "standing",
                "recommended_for_party",
                "put_on_probation",
                "on_probation",
            ),
            cancelled(),
        ],
        &Then::by(
            "on_probation",
            "on_probation",
            "committee_admin",
            StandingStep::EndRecommendation {
                date,
                reason: RecommendationEnd::Cancelled,
            },
        ),
    )
    .await;
    assert_eq!(e.rule_code_list().expect("codes"), ["PTY_VALIDITY"]);
    assert_eq!(app.verify_fault().await, None);
});

// Given a Party member, when probation of 6 months from 2026-11-04 is approved, then `party_member` →
// `on_probation` until 2027-05-04; the Party membership stays on record.
both_backends!(standing_party_member_put_on_probation, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    let date = d(2026, 11, 4);
    case(
        &app,
        app.engine(),
        &who,
        None,
        probation(date, 6, SCHOOL),
        Then::by(
            "party_member",
            "on_probation",
            "committee_admin",
            StandingStep::PutOnProbation {
                date,
                months: 6,
                decision: decision(date, SCHOOL),
                reason: "违反团的纪律".into(),
                until: d(2027, 5, 4),
            },
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(&who).await, "show");
    assert_eq!(v.party, Some((d(2026, 11, 3), PARTY_ORG.to_owned())));
});

// Given a member put on probation from 2026-05-10 for 6 months (until 2026-11-10), when the standing sweep
// for today runs, then rights return on the end date: `on_probation` → `history` = `member`, effective
// 2026-11-10.
both_backends!(standing_on_probation_end_probation, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    put_on_probation(&app, &who, d(2026, 5, 10)).await;
    let r = sweep_case(
        &app,
        app.engine(),
        today(),
        &who,
        Then::swept(
            "on_probation",
            "member",
            StandingStep::EndProbation {
                date: d(2026, 11, 10),
                back_to: "member".into(),
            },
        ),
    )
    .await;
    assert_eq!(
        r,
        report(today(), 14, |r| {
            r.probation_ended = 1;
            r.entries = 1;
        })
    );
    let v = expect_ok(app.standing_show(&who).await, "show");
    assert_eq!(v.probation_until, None);
});

// `history` after a recommendation ended by the probation: given a member recommended on 2026-03-20 (until
// 2028-03-20) and put on probation from 2026-05-10 until 2026-11-10 (which cancelled the recommendation), when
// the sweep for today runs, then `on_probation` → `member`: the recommendation is not held again.
both_backends!(
    standing_on_probation_end_probation_after_a_cancelled_recommendation_returns_to_member,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        expect_ok(
            app.standing(&who, None, &party_branch_probation(d(2026, 5, 10), 6))
                .await,
            "put_on_probation",
        );
        let r = sweep_case(
            &app,
            app.engine(),
            today(),
            &who,
            Then::swept(
                "on_probation",
                "member",
                StandingStep::EndProbation {
                    date: d(2026, 11, 10),
                    back_to: "member".into(),
                },
            ),
        )
        .await;
        assert_eq!(
            r,
            report(today(), 24, |r| {
                r.probation_ended = 1;
                r.entries = 1;
            })
        );
        let v = expect_ok(app.standing_show(&who).await, "show");
        assert_eq!(v.recommendation, None);
        assert_eq!(app.verify_fault().await, None);
    }
);

// `history` for a Party member: given a Party member put on probation from 2026-05-10 (joined the Party
// 2026-05-01), when the sweep for today runs, then `on_probation` → `party_member`.
both_backends!(
    standing_on_probation_end_probation_returns_to_party_member,
    |app| async move {
        let app = app.with_school().await;
        let who = a_member(&app);
        expect_ok(
            app.standing(
                &who,
                None,
                &S::JoinParty {
                    date: d(2026, 5, 1),
                    party_org: PARTY_ORG.into(),
                },
            )
            .await,
            "join_party",
        );
        put_on_probation(&app, &who, d(2026, 5, 10)).await;
        sweep_case(
            &app,
            app.engine(),
            today(),
            &who,
            Then::swept(
                "on_probation",
                "party_member",
                StandingStep::EndProbation {
                    date: d(2026, 11, 10),
                    back_to: "party_member".into(),
                },
            ),
        )
        .await;
        assert_eq!(app.verify_fault().await, None);
    }
);

// ====================================================================== expulsion and appeals

/// Expulsion on 2026-11-20 of a member in `from`, decided by the branch that day and approved by the county
/// committee.
fn expel(from: &str) -> S {
    S::Expel {
        date: d(2026, 11, 20),
        decision: decision_from(from, d(2026, 11, 20), COUNTY),
        reason: "严重违纪".into(),
    }
}

fn expelled(from: &str) -> StandingStep {
    StandingStep::Expel {
        date: d(2026, 11, 20),
        decision: decision_from(from, d(2026, 11, 20), COUNTY),
        reason: "严重违纪".into(),
    }
}

/// Given `who` in `from`, when expelled with county approval, then `from` → `expelled` (and a held
/// recommendation is cancelled).
async fn expel_case(app: &TestApp, who: &str, from: &'static str) {
    case(
        app,
        app.engine(),
        who,
        None,
        expel(from),
        Then::by(from, "expelled", "committee_admin", expelled(from))
            .ending_recommendation(vec![cancelled()]),
    )
    .await;
}

// Given a member, when expelled (county approval, 2026-11-20), then `member` → `expelled`.
both_backends!(standing_member_expel, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    expel_case(&app, &who, "member").await;
});

// Given a member on probation, when expelled, then `on_probation` → `expelled`.
both_backends!(standing_on_probation_expel, |app| async move {
    let app = app.with_school().await;
    let who = on_probation(&app);
    expel_case(&app, &who, "on_probation").await;
});

// Given a member recommended to the Party, when expelled, then `recommended_for_party` → `expelled`.
both_backends!(standing_recommended_for_party_expel, |app| async move {
    let app = app.with_school().await;
    let who = recommended(&app, 2026, None).await;
    expel_case(&app, &who, "recommended_for_party").await;
});

// Given a Party member, when expelled, then `party_member` → `expelled`.
both_backends!(standing_party_member_expel, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    expel_case(&app, &who, "party_member").await;
});

/// `who` (in `member`) expelled on 2026-11-20, then lodging an appeal against it on 2026-11-22 if `appeal`.
async fn expelled_member(app: &TestApp, who: &str, appeal: bool) {
    run(app.engine(), who, None, &expel("member")).await;
    if appeal {
        run(app.engine(), who, Some("member"), &appeal_after_expulsion()).await;
    }
}

/// The member's appeal against the expulsion, lodged with the county committee on 2026-11-22.
fn appeal_after_expulsion() -> S {
    S::RecordAppeal {
        date: d(2026, 11, 22),
        to_org: COUNTY.into(),
        summary: "对开除团籍不服".into(),
    }
}

// Given an expelled member, when they appeal against the expulsion, then `expelled` → `expelled`, the appeal
// pending and the expulsion still on record (STD_EXPEL: the appeal is not withheld).
both_backends!(standing_expelled_record_appeal, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    expelled_member(&app, &who, false).await;
    case(
        &app,
        app.engine(),
        &who,
        Some("member"),
        appeal_after_expulsion(),
        Then::by(
            "expelled",
            "expelled",
            "member",
            StandingStep::RecordAppeal {
                date: d(2026, 11, 22),
                to_org: COUNTY.into(),
                summary: "对开除团籍不服".into(),
            },
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(&who).await, "show");
    assert_eq!(v.appeals.len(), 1);
    assert_eq!(v.ended, Some(("expel".to_owned(), d(2026, 11, 20))));
});

// Given an expelled member whose appeal is pending, when the county committee dismisses it on 2026-11-25, then
// `expelled` → `expelled`.
both_backends!(standing_expelled_decide_appeal, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    expelled_member(&app, &who, true).await;
    case(
        &app,
        app.engine(),
        &who,
        None,
        S::DecideAppeal {
            date: d(2026, 11, 25),
            org: COUNTY.into(),
            upheld: false,
        },
        Then::by(
            "expelled",
            "expelled",
            "committee_admin",
            StandingStep::DecideAppeal {
                date: d(2026, 11, 25),
                org: COUNTY.into(),
                upheld: false,
            },
        ),
    )
    .await;
});

// Given an expelled member whose appeal is pending, when the county committee upholds it on 2026-11-25, then the
// decision (`expelled` → `expelled`) and `reinstate` (`expelled` → `history` = `member`) are logged together;
// the member is in good standing again and the verifier replays both.
both_backends!(standing_expelled_reinstate, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    expelled_member(&app, &who, true).await;
    let before = given(&app, &who, "expelled").await;
    let out = run(
        app.engine(),
        &who,
        None,
        &S::DecideAppeal {
            date: d(2026, 11, 25),
            org: COUNTY.into(),
            upheld: true,
        },
    )
    .await;
    assert_eq!((out.from.as_str(), out.to.as_str()), ("expelled", "member"));
    assert_eq!(out.rule_codes, codes("reinstate"));
    let e = then_logged(
        &app,
        &who,
        before,
        &[entry("standing", "expelled", "decide_appeal", "expelled")],
        &Then::by(
            "expelled",
            "member",
            "committee_admin",
            StandingStep::Reinstate {
                date: d(2026, 11, 25),
                back_to: "member".into(),
            },
        ),
    )
    .await;
    assert_eq!(out.logged.last(), Some(&("reinstate".to_owned(), e.seq)));
    assert_eq!(app.verify_fault().await, None);
});

/// The member's appeal to the county committee, lodged on 2026-11-10.
fn appeal() -> S {
    S::RecordAppeal {
        date: d(2026, 11, 10),
        to_org: COUNTY.into(),
        summary: "对处分不服".into(),
    }
}

/// Given `who` in `state`, when the member lodges an appeal (in the role `member`), then `state` → `state`
/// with the appeal pending.
async fn record_appeal_case(app: &TestApp, who: &str, state: &'static str) {
    case(
        app,
        app.engine(),
        who,
        Some("member"),
        appeal(),
        Then::by(
            state,
            state,
            "member",
            StandingStep::RecordAppeal {
                date: d(2026, 11, 10),
                to_org: COUNTY.into(),
                summary: "对处分不服".into(),
            },
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(who).await, "show");
    assert_eq!(
        v.appeals,
        vec![Appeal {
            lodged_on: d(2026, 11, 10),
            to_org: COUNTY.into(),
            summary: "对处分不服".into(),
            decided: None,
        }]
    );
}

/// Given `who` in `state` with the appeal of 2026-11-10 pending, when the county committee rejects it on
/// 2026-11-15, then `state` → `state` with the appeal decided.
async fn decide_appeal_case(app: &TestApp, who: &str, state: &'static str) {
    expect_ok(app.standing(who, Some("member"), &appeal()).await, "appeal");
    case(
        app,
        app.engine(),
        who,
        None,
        S::DecideAppeal {
            date: d(2026, 11, 15),
            org: COUNTY.into(),
            upheld: false,
        },
        Then::by(
            state,
            state,
            "committee_admin",
            StandingStep::DecideAppeal {
                date: d(2026, 11, 15),
                org: COUNTY.into(),
                upheld: false,
            },
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(who).await, "show");
    assert_eq!(
        v.appeals
            .iter()
            .map(|a| a.decided.clone())
            .collect::<Vec<_>>(),
        vec![Some((d(2026, 11, 15), COUNTY.to_owned(), false))]
    );
}

// Given a member, when they appeal to the county committee, then `member` → `member`, appeal pending.
both_backends!(standing_member_record_appeal, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    record_appeal_case(&app, &who, "member").await;
});

// Given a member with a pending appeal, when the county committee decides it, then `member` → `member`.
both_backends!(standing_member_decide_appeal, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    decide_appeal_case(&app, &who, "member").await;
});

// Given a member on probation, when they appeal, then `on_probation` → `on_probation`, appeal pending.
both_backends!(standing_on_probation_record_appeal, |app| async move {
    let app = app.with_school().await;
    let who = on_probation(&app);
    record_appeal_case(&app, &who, "on_probation").await;
});

// Given a member on probation with a pending appeal, when it is decided, then `on_probation` → `on_probation`.
both_backends!(standing_on_probation_decide_appeal, |app| async move {
    let app = app.with_school().await;
    let who = on_probation(&app);
    decide_appeal_case(&app, &who, "on_probation").await;
});

// Given a member recommended to the Party, when they appeal, then `recommended_for_party` →
// `recommended_for_party`, appeal pending.
both_backends!(
    standing_recommended_for_party_record_appeal,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        record_appeal_case(&app, &who, "recommended_for_party").await;
    }
);

// Given a member recommended to the Party with a pending appeal, when it is decided, then
// `recommended_for_party` → `recommended_for_party`.
both_backends!(
    standing_recommended_for_party_decide_appeal,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        decide_appeal_case(&app, &who, "recommended_for_party").await;
    }
);

// Given a Party member, when they appeal, then `party_member` → `party_member`, appeal pending.
both_backends!(standing_party_member_record_appeal, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    record_appeal_case(&app, &who, "party_member").await;
});

// Given a Party member with a pending appeal, when it is decided, then `party_member` → `party_member`.
both_backends!(standing_party_member_decide_appeal, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    decide_appeal_case(&app, &who, "party_member").await;
});

// ====================================================================== age-out

/// The date the age-out sweeps run: after the 28th birthday (2027-01-15) of the members born 1999-01-15.
fn after_birthday() -> Date {
    d(2027, 2, 1)
}

/// Given `who` (born 1999-01-15) in `from`, when the standing sweep for 2027-02-01 runs on an engine whose
/// today is that day, then `from` → `aged_out`, effective on the 28th birthday; the sweep wrote nothing else
/// over `examined` live members.
async fn age_out_case(app: &TestApp, who: &str, from: &'static str, examined: usize) {
    let later = at(app, after_birthday());
    let r = sweep_case(
        app,
        &later,
        after_birthday(),
        who,
        Then::swept(
            from,
            "aged_out",
            StandingStep::AgeOut {
                date: d(2027, 1, 15),
            },
        )
        .ending_recommendation(vec![cancelled()]),
    )
    .await;
    assert_eq!(
        r,
        report(after_birthday(), examined, |r| {
            r.aged_out = 1;
            r.entries = if from == "recommended_for_party" {
                2
            } else {
                1
            };
        })
    );
}

// Given a member born 1999-01-15 (27 today), when the sweep runs after their 28th birthday, then `member` →
// `aged_out` on 2027-01-15.
both_backends!(standing_member_age_out, |app| async move {
    let app = app.with_school().await;
    let who = member_born(&app, d(1999, 1, 15), None).await;
    age_out_case(&app, &who, "member", 15).await;
});

// Given a member born 1999-01-15 on probation until 2027-05-03, when the sweep runs after their 28th
// birthday, then `on_probation` → `aged_out` on 2027-01-15.
both_backends!(standing_on_probation_age_out, |app| async move {
    let app = app.with_school().await;
    let who = member_born(&app, d(1999, 1, 15), Some("2027-05-03")).await;
    age_out_case(&app, &who, "on_probation", 15).await;
});

// Given a member born 1999-01-15 recommended to the Party at 27 (on 2026-03-20, valid until 2028-03-20),
// when the sweep runs after their 28th birthday, then `recommended_for_party` → `aged_out` on 2027-01-15.
both_backends!(standing_recommended_for_party_age_out, |app| async move {
    let app = app.with_school().await;
    let who = recommended(&app, 2026, Some(d(1999, 1, 15))).await;
    age_out_case(&app, &who, "recommended_for_party", 24).await;
});

// Given a Party member born 1999-01-15, when the sweep runs after their 28th birthday, then `party_member` →
// `aged_out` on 2027-01-15 (Party members leave the League at 28 too).
both_backends!(standing_party_member_age_out, |app| async move {
    let app = app.with_school().await;
    let who = member_born(&app, d(1999, 1, 15), None).await;
    joins_party(&app, &who).await;
    age_out_case(&app, &who, "party_member", 15).await;
});

// ====================================================================== withdrawal, removal, death

/// Given `who` in `from`, when the written request of 2026-11-01 is granted by the branch meeting of
/// 2026-11-20 and recorded with the school committee, then `from` → `withdrawn`.
async fn withdraw_case(app: &TestApp, who: &str, from: &'static str) {
    let date = d(2026, 11, 20);
    case(
        app,
        app.engine(),
        who,
        None,
        S::Withdraw {
            date,
            request_date: d(2026, 11, 1),
            decision: decision_from(from, date, SCHOOL),
        },
        Then::by(
            from,
            "withdrawn",
            "branch_secretary",
            StandingStep::Withdraw {
                date,
                request_date: d(2026, 11, 1),
                decision: decision_from(from, date, SCHOOL),
            },
        )
        .ending_recommendation(vec![cancelled()]),
    )
    .await;
}

// Given a member, when their withdrawal is decided, then `member` → `withdrawn`.
both_backends!(standing_member_withdraw, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    withdraw_case(&app, &who, "member").await;
});

// Given a member on probation, when their withdrawal is decided, then `on_probation` → `withdrawn`.
both_backends!(standing_on_probation_withdraw, |app| async move {
    let app = app.with_school().await;
    let who = on_probation(&app);
    withdraw_case(&app, &who, "on_probation").await;
});

// Given a member recommended to the Party, when their withdrawal is decided, then `recommended_for_party` →
// `withdrawn`.
both_backends!(standing_recommended_for_party_withdraw, |app| async move {
    let app = app.with_school().await;
    let who = recommended(&app, 2026, None).await;
    withdraw_case(&app, &who, "recommended_for_party").await;
});

// Given a Party member, when their withdrawal is decided, then `party_member` → `withdrawn`.
both_backends!(standing_party_member_withdraw, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    withdraw_case(&app, &who, "party_member").await;
});

/// The date of the lapse removals: months after six months without dues or organisational life from 2026-11.
fn after_lapse() -> Date {
    d(2027, 6, 15)
}

/// Given `who` in `from`, 6 months without dues (or, for a Party member, organisational life) since 2026-11,
/// when the branch meeting of 2027-06-10 removes them (approved by the school committee) on an engine whose
/// today is 2027-06-15, then `from` → `removed`.
async fn remove_lapse_case(app: &TestApp, who: &str, from: &'static str) {
    let date = d(2027, 6, 10);
    case(
        app,
        &at(app, after_lapse()),
        who,
        None,
        S::Remove {
            date,
            reason: RemovalReason::Lapse,
            decision: decision_from(from, date, SCHOOL),
        },
        Then::by(
            from,
            "removed",
            "committee_admin",
            StandingStep::Remove {
                date,
                reason: RemovalReason::Lapse,
                decision: decision_from(from, date, SCHOOL),
            },
        )
        .ending_recommendation(vec![cancelled()]),
    )
    .await;
}

// Given a member of PARTY_BRANCH graded unqualified in the 2025 round (approved 2026-01-10), unqualified again
// on re-evaluation (2026-04-20) and advised to withdraw (2026-05-01), when the branch meeting of 2026-11-20
// removes them (EVL_UNQUALIFIED), then `member` → `removed`.
both_backends!(standing_member_remove, |app| async move {
    let app = app.with_school().await;
    let m = party_branch(&app, None).await;
    let who = m[9].clone();
    round(&app, &m, 2025, Some(&who)).await;
    for cmd in [
        E::Reevaluate {
            date: d(2026, 4, 20),
            member: who.clone(),
            grade: Grade::Unqualified,
        },
        E::AdviseWithdrawal {
            date: d(2026, 5, 1),
            member: who.clone(),
        },
    ] {
        expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &cmd).await,
            cmd.command(),
        );
    }
    let date = d(2026, 11, 20);
    case(
        &app,
        app.engine(),
        &who,
        None,
        S::Remove {
            date,
            reason: RemovalReason::Unqualified,
            decision: decision_n(date, SCHOOL, PARTY_ENTITLED),
        },
        Then::by(
            "member",
            "removed",
            "committee_admin",
            StandingStep::Remove {
                date,
                reason: RemovalReason::Unqualified,
                decision: decision_n(date, SCHOOL, PARTY_ENTITLED),
            },
        ),
    )
    .await;
    // The audit verifier replays the removal and the evaluation round it rests on.
    assert_eq!(app.verify_fault().await, None);
});

// Given a member on probation with no dues paid since 2026-11, when removed for the lapse on 2027-06-10, then
// `on_probation` → `removed`.
both_backends!(standing_on_probation_remove, |app| async move {
    let app = app.with_school().await;
    let who = on_probation(&app);
    remove_lapse_case(&app, &who, "on_probation").await;
});

// Given a member recommended to the Party with no dues paid since 2026-11, when removed for the lapse on
// 2027-06-10, then `recommended_for_party` → `removed`.
both_backends!(standing_recommended_for_party_remove, |app| async move {
    let app = app.with_school().await;
    let who = recommended(&app, 2026, None).await;
    remove_lapse_case(&app, &who, "recommended_for_party").await;
});

// Given a Party member (owing no League dues after joining) with no organisational life since 2026-11, when
// removed for the lapse on 2027-06-10, then `party_member` → `removed`.
both_backends!(standing_party_member_remove, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    let v = expect_ok(
        with_engine!(&at(&app, after_lapse()), e => e.standing_show(&who).await),
        "show",
    );
    assert_eq!(v.dues.lapse, Some((LapseGround::Life, ym(2026, 11))));
    remove_lapse_case(&app, &who, "party_member").await;
});

/// Given `who` in `from`, when `org` records their death on 2026-11-25, then `from` → `deceased`.
async fn death_case(app: &TestApp, who: &str, from: &'static str, org: &str) {
    case(
        app,
        app.engine(),
        who,
        None,
        S::RecordDeath {
            date: d(2026, 11, 25),
            recorded_by: org.into(),
        },
        Then::by(
            from,
            "deceased",
            "branch_secretary",
            StandingStep::RecordDeath {
                date: d(2026, 11, 25),
                recorded_by: org.into(),
            },
        )
        .ending_recommendation(vec![cancelled()]),
    )
    .await;
}

// Given a member, when the branch records their death, then `member` → `deceased`.
both_backends!(standing_member_record_death, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    death_case(&app, &who, "member", NON_GRADUATING).await;
});

// Given a member on probation, when the branch records their death, then `on_probation` → `deceased`.
both_backends!(standing_on_probation_record_death, |app| async move {
    let app = app.with_school().await;
    let who = on_probation(&app);
    death_case(&app, &who, "on_probation", NON_GRADUATING).await;
});

// Given a member recommended to the Party, when the branch records their death, then
// `recommended_for_party` → `deceased`.
both_backends!(
    standing_recommended_for_party_record_death,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        death_case(&app, &who, "recommended_for_party", PARTY_BRANCH).await;
    }
);

// Given a Party member, when the branch records their death, then `party_member` → `deceased`.
both_backends!(standing_party_member_record_death, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    death_case(&app, &who, "party_member", NON_GRADUATING).await;
});

// ====================================================================== Party

// Given a member of PARTY_BRANCH whose Party recommendation was publicised from 2026-03-11, when the school
// committee recommends them on 2026-03-20, then after the recommendation's entry the standing follows:
// `member` → `recommended_for_party`, valid until 2028-03-20.
both_backends!(standing_member_recommend, |app| async move {
    let app = app.with_school().await;
    let m = party_branch(&app, None).await;
    round(&app, &m, 2025, None).await;
    let who = m[0].clone();
    for cmd in up_to_publicity(2026) {
        expect_ok(app.party(&who, None, &cmd).await, cmd.command());
    }
    let before = given(&app, &who, "member").await;
    let out = expect_ok(app.party(&who, None, &recommend(2026)).await, "recommend");
    assert_eq!(out.standing.as_deref(), Some("recommended_for_party"));
    let id = out.recommendation.id.to_string();
    then_logged(
        &app,
        &who,
        before,
        &[entry(
            "party_recommendation",
            "publicised",
            "recommend",
            "recommended",
        )],
        &Then::by(
            "member",
            "recommended_for_party",
            "committee_admin",
            StandingStep::Recommend {
                date: d(2026, 3, 20),
                recommendation: id.clone(),
                valid_until: d(2028, 3, 20),
            },
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(&who).await, "show");
    assert_eq!(v.recommendation, Some((id, d(2026, 3, 20), d(2028, 3, 20))));
});

// Given a member recommended to the Party on 2024-03-20 (valid until 2026-03-20), when the standing sweep for
// today runs, then the recommendation expires on its end of validity: `recommended_for_party` → `member`,
// effective 2026-03-20.
both_backends!(
    standing_recommended_for_party_end_recommendation,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2024, None).await;
        let r = sweep_case(
            &app,
            app.engine(),
            today(),
            &who,
            Then::swept(
                "recommended_for_party",
                "member",
                StandingStep::EndRecommendation {
                    date: d(2026, 3, 20),
                    reason: RecommendationEnd::Expired,
                },
            ),
        )
        .await;
        assert_eq!(
            r,
            report(today(), 24, |r| {
                r.recommendation_expired = 1;
                r.entries = 1;
            })
        );
        let v = expect_ok(app.standing_show(&who).await, "show");
        assert_eq!(v.recommendation, None);
    }
);

/// Given `who` in `from`, when they join the Party on 2026-11-03, then `from` → `party_member`.
async fn join_party_case(app: &TestApp, who: &str, from: &'static str) {
    let date = d(2026, 11, 3);
    case(
        app,
        app.engine(),
        who,
        None,
        S::JoinParty {
            date,
            party_org: PARTY_ORG.into(),
        },
        Then::by(
            from,
            "party_member",
            "committee_admin",
            StandingStep::JoinParty {
                date,
                party_org: PARTY_ORG.into(),
            },
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(who).await, "show");
    assert_eq!(v.party, Some((date, PARTY_ORG.to_owned())));
    assert_eq!(v.recommendation, None);
}

// Given a member, when they join the Party, then `member` → `party_member`.
both_backends!(standing_member_join_party, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    join_party_case(&app, &who, "member").await;
});

// Given a member recommended to the Party, when they join it, then `recommended_for_party` → `party_member`
// and the recommendation is no longer held.
both_backends!(
    standing_recommended_for_party_join_party,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        let before = given(&app, &who, "recommended_for_party").await;
        // The standing command is refused while the recommendation is open, and changes nothing: the Party's
        // acceptance is recorded on the recommendation, which takes the standing step with it.
        let direct = S::JoinParty {
            date: d(2026, 11, 3),
            party_org: PARTY_ORG.into(),
        };
        match app.standing(&who, None, &direct).await {
            Err(tuanji_engine::EngineError::Input(m)) => assert_eq!(
                m,
                "the member holds a Party recommendation: record the Party's acceptance with `party accept`, \
                 which also records the Party membership and closes the recommendation"
            ),
            other => panic!("expected the input refusal, got {other:?}"),
        }
        assert_eq!(app.log(Some(&who)).await.len(), before);
        let out = expect_ok(
            app.party(
                &who,
                None,
                &P::Accept {
                    date: d(2026, 11, 3),
                    party_org: PARTY_ORG.into(),
                },
            )
            .await,
            "party accept",
        );
        assert_eq!(out.standing.as_deref(), Some("party_member"));
        let log = app.log(Some(&who)).await;
        assert_eq!(
            log[before..].iter().map(entry_of).collect::<Vec<_>>(),
            vec![
                entry(
                    "party_recommendation",
                    "recommended",
                    "accept",
                    "accepted_by_party"
                ),
                entry(
                    "standing",
                    "recommended_for_party",
                    "join_party",
                    "party_member"
                ),
            ]
        );
        let v = expect_ok(app.standing_show(&who).await, "show");
        assert_eq!(v.party, Some((d(2026, 11, 3), PARTY_ORG.to_owned())));
        assert_eq!(v.recommendation, None);
    }
);

// Given a member nominated for the Party (the recommendation open, standing still `member`), when the standing
// command join-party is given, then it is refused and nothing is written: the recommendation would stay open and
// keep counting against the branch's share (PTY_SHARE).
both_backends!(
    standing_member_join_party_refused_while_nominated,
    |app| async move {
        let app = app.with_school().await;
        let m = party_branch(&app, None).await;
        round(&app, &m, 2025, None).await;
        let who = m[0].clone();
        expect_ok(
            app.party(&who, None, &up_to_publicity(2026)[0]).await,
            "nominate",
        );
        let before = given(&app, &who, "member").await;
        let r = app
            .standing(
                &who,
                None,
                &S::JoinParty {
                    date: d(2026, 11, 3),
                    party_org: PARTY_ORG.into(),
                },
            )
            .await;
        assert!(
            matches!(&r, Err(tuanji_engine::EngineError::Input(m)) if m.starts_with("the member holds a Party recommendation")),
            "{r:?}"
        );
        assert_eq!(app.log(Some(&who)).await.len(), before);
    }
);

// ====================================================================== records

/// Given `who` in `state`, when the branch records 0.40 yuan paid on 2026-11-30 for 2026-11 and 2026-12,
/// then `state` → `state` with both months paid (instance and `dues_payments`).
async fn dues_case(app: &TestApp, who: &str, state: &'static str) {
    let date = d(2026, 11, 30);
    let e = case(
        app,
        app.engine(),
        who,
        None,
        S::RecordDues {
            date,
            first: ym(2026, 11),
            months: 2,
            amount_fen: 40,
            category: DuesCategory::Reduced,
        },
        Then::by(
            state,
            state,
            "branch_secretary",
            StandingStep::RecordDues {
                date,
                months: vec![ym(2026, 11), ym(2026, 12)],
                amount_fen: 40,
                category: DuesCategory::Reduced,
            },
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(who).await, "show").dues;
    assert_eq!(
        (v.months_paid, v.paid_fen, v.paid_yuan.as_str()),
        (vec![ym(2026, 11), ym(2026, 12)], 40, "0.40")
    );
    assert_eq!(
        dues_rows(app, &e).await,
        vec![
            ("2026-11".to_owned(), 20, date, "reduced".to_owned()),
            ("2026-12".to_owned(), 20, date, "reduced".to_owned()),
        ]
    );
}

// Given a member, when dues are recorded, then `member` → `member`.
both_backends!(standing_member_record_dues, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    dues_case(&app, &who, "member").await;
});

// Given a member on probation, when dues are recorded, then `on_probation` → `on_probation`.
both_backends!(standing_on_probation_record_dues, |app| async move {
    let app = app.with_school().await;
    let who = on_probation(&app);
    dues_case(&app, &who, "on_probation").await;
});

// Given a member recommended to the Party, when dues are recorded, then `recommended_for_party` →
// `recommended_for_party`.
both_backends!(
    standing_recommended_for_party_record_dues,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        dues_case(&app, &who, "recommended_for_party").await;
    }
);

// Given a Party member, when League dues are recorded, then `party_member` → `party_member`.
both_backends!(standing_party_member_record_dues, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    dues_case(&app, &who, "party_member").await;
});

/// Given `who` in `state`, when organisational life on 2026-11-05 is recorded, then `state` → `state`.
async fn life_case(app: &TestApp, who: &str, state: &'static str) {
    let date = d(2026, 11, 5);
    case(
        app,
        app.engine(),
        who,
        None,
        S::RecordLife {
            date,
            note: "主题团日".into(),
        },
        Then::by(
            state,
            state,
            "branch_secretary",
            StandingStep::RecordLife {
                date,
                note: "主题团日".into(),
            },
        ),
    )
    .await;
}

// Given a member, when organisational life is recorded, then `member` → `member`.
both_backends!(standing_member_record_life, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    life_case(&app, &who, "member").await;
});

// Given a member on probation, when organisational life is recorded, then `on_probation` → `on_probation`.
both_backends!(standing_on_probation_record_life, |app| async move {
    let app = app.with_school().await;
    let who = on_probation(&app);
    life_case(&app, &who, "on_probation").await;
});

// Given a member recommended to the Party, when organisational life is recorded, then
// `recommended_for_party` → `recommended_for_party`.
both_backends!(
    standing_recommended_for_party_record_life,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        life_case(&app, &who, "recommended_for_party").await;
    }
);

// Given a Party member, when organisational life is recorded, then `party_member` → `party_member`.
both_backends!(standing_party_member_record_life, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    life_case(&app, &who, "party_member").await;
});

/// The branch secretary's post at `org`.
fn secretary_step(org: &str, date: Date, end: bool) -> StandingStep {
    if end {
        StandingStep::EndPost {
            date,
            post: PostKind::Secretary,
            org: org.into(),
        }
    } else {
        StandingStep::AssignPost {
            date,
            post: PostKind::Secretary,
            org: org.into(),
        }
    }
}

/// Given `who` in `state`, when they become branch secretary of `org` on 2026-11-20, then `state` → `state`
/// holding the post, with no age-out date while it is held.
async fn assign_post_case(app: &TestApp, who: &str, state: &'static str, org: &str) {
    let date = d(2026, 11, 20);
    case(
        app,
        app.engine(),
        who,
        None,
        S::AssignPost {
            date,
            post: PostKind::Secretary,
            org: org.into(),
        },
        Then::by(
            state,
            state,
            "branch_secretary",
            secretary_step(org, date, false),
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(who).await, "show");
    assert_eq!(
        v.posts,
        vec![Post {
            post: PostKind::Secretary,
            org: org.into(),
            from: date,
            until: None,
        }]
    );
    assert_eq!(v.age_out_month, None);
}

/// Given `who` in `state`, branch secretary of `org` since `from`, when the post ends on 2026-11-25, then
/// `state` → `state` and the age-out date is the 28th birthday `age_out_on` again.
async fn end_post_case(
    app: &TestApp,
    who: &str,
    state: &'static str,
    org: &str,
    from: Date,
    age_out_on: Date,
) {
    let date = d(2026, 11, 25);
    case(
        app,
        app.engine(),
        who,
        None,
        S::EndPost {
            date,
            post: PostKind::Secretary,
            org: org.into(),
        },
        Then::by(
            state,
            state,
            "branch_secretary",
            secretary_step(org, date, true),
        ),
    )
    .await;
    let v = expect_ok(app.standing_show(who).await, "show");
    assert_eq!(
        v.posts,
        vec![Post {
            post: PostKind::Secretary,
            org: org.into(),
            from,
            until: Some(date),
        }]
    );
    assert_eq!(v.age_out_month, Some(YearMonth::of(age_out_on)));
}

/// `who` becomes branch secretary of `org` on `date`.
async fn takes_post(app: &TestApp, who: &str, org: &str, date: Date) {
    expect_ok(
        app.standing(
            who,
            None,
            &S::AssignPost {
                date,
                post: PostKind::Secretary,
                org: org.into(),
            },
        )
        .await,
        "assign_post",
    );
}

// Given a member, when they take a League post, then `member` → `member`.
both_backends!(standing_member_assign_post, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    assign_post_case(&app, &who, "member", NON_GRADUATING).await;
});

// Given a member recommended to the Party, when they take a League post, then `recommended_for_party` →
// `recommended_for_party`.
both_backends!(
    standing_recommended_for_party_assign_post,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        assign_post_case(&app, &who, "recommended_for_party", PARTY_BRANCH).await;
    }
);

// Given a Party member, when they take a League post, then `party_member` → `party_member`.
both_backends!(standing_party_member_assign_post, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    assign_post_case(&app, &who, "party_member", NON_GRADUATING).await;
});

// Given a member holding a post since 2026-11-20, when it ends on 2026-11-25, then `member` → `member`.
both_backends!(standing_member_end_post, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    takes_post(&app, &who, NON_GRADUATING, d(2026, 11, 20)).await;
    end_post_case(
        &app,
        &who,
        "member",
        NON_GRADUATING,
        d(2026, 11, 20),
        d(2037, 3, 1),
    )
    .await;
});

// Given a member who took a post on 2026-11-01 and was put on probation on 2026-11-02, when the post ends on
// 2026-11-25, then `on_probation` → `on_probation`.
both_backends!(standing_on_probation_end_post, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    takes_post(&app, &who, NON_GRADUATING, d(2026, 11, 1)).await;
    put_on_probation(&app, &who, d(2026, 11, 2)).await;
    end_post_case(
        &app,
        &who,
        "on_probation",
        NON_GRADUATING,
        d(2026, 11, 1),
        d(2037, 3, 1),
    )
    .await;
});

// Given a member recommended to the Party holding a post since 2026-11-20, when it ends, then
// `recommended_for_party` → `recommended_for_party`.
both_backends!(standing_recommended_for_party_end_post, |app| async move {
    let app = app.with_school().await;
    let who = recommended(&app, 2026, None).await;
    takes_post(&app, &who, PARTY_BRANCH, d(2026, 11, 20)).await;
    end_post_case(
        &app,
        &who,
        "recommended_for_party",
        PARTY_BRANCH,
        d(2026, 11, 20),
        d(2032, 6, 1),
    )
    .await;
});

// Given a Party member holding a post since 2026-11-20, when it ends, then `party_member` → `party_member`.
both_backends!(standing_party_member_end_post, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    joins_party(&app, &who).await;
    takes_post(&app, &who, NON_GRADUATING, d(2026, 11, 20)).await;
    end_post_case(
        &app,
        &who,
        "party_member",
        NON_GRADUATING,
        d(2026, 11, 20),
        d(2037, 3, 1),
    )
    .await;
});

// ====================================================================== lapse flags

/// The day six months without dues from 2026-11 (2026-11..2027-04) are complete.
fn lapse_day() -> Date {
    d(2027, 5, 1)
}

/// Given `who` in `state`, no dues paid since 2026-11, when the standing sweep for 2027-05-01 runs (on an engine
/// whose today is 2027-06-15), then `state` → `state` with the lapse flagged for the branch; every one of the
/// `examined` members is flagged the same way.
async fn flag_lapse_case(app: &TestApp, who: &str, state: &'static str, examined: usize) {
    let r = sweep_case(
        app,
        &at(app, after_lapse()),
        lapse_day(),
        who,
        Then::swept(
            state,
            state,
            StandingStep::FlagLapse {
                date: lapse_day(),
                ground: LapseGround::Dues,
                since: ym(2026, 11),
            },
        ),
    )
    .await;
    assert_eq!(
        r,
        report(lapse_day(), examined, |r| {
            r.lapse_dues = examined;
            r.entries = examined;
        })
    );
    let v = expect_ok(app.standing_show(who).await, "show");
    assert_eq!(
        v.lapse_flag,
        Some((lapse_day(), LapseGround::Dues, ym(2026, 11)))
    );
}

// Given a member with no dues since 2026-11, when the sweep for 2027-05-01 runs, then `member` → `member`,
// the lapse flagged.
both_backends!(standing_member_flag_lapse, |app| async move {
    let app = app.with_school().await;
    let who = a_member(&app);
    flag_lapse_case(&app, &who, "member", 14).await;
});

// Given a member on probation (until 2027-05-03) with no dues since 2026-11, when the sweep for 2027-05-01
// runs, then `on_probation` → `on_probation`, the lapse flagged.
both_backends!(standing_on_probation_flag_lapse, |app| async move {
    let app = app.with_school().await;
    let who = on_probation(&app);
    flag_lapse_case(&app, &who, "on_probation", 14).await;
});

// Given a member recommended to the Party with no dues since 2026-11, when the sweep for 2027-05-01 runs,
// then `recommended_for_party` → `recommended_for_party`, the lapse flagged.
both_backends!(
    standing_recommended_for_party_flag_lapse,
    |app| async move {
        let app = app.with_school().await;
        let who = recommended(&app, 2026, None).await;
        flag_lapse_case(&app, &who, "recommended_for_party", 24).await;
    }
);
