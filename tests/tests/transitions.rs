//! Transition coverage (STYLE.md, after Temporal sdk-core): one given/when/then test per declared transition of
//! `workflows/admission.v1.toml` and `workflows/relation.v1.toml` (and the evaluation and Party recommendation
//! machines), on both backends, and a test that fails when a transition of `tuanji_workflow::builtin()` is
//! missing from [`COVERED`] or [`COVERED`] names one that does not exist. The standing machine
//! (`workflows/standing.v1.toml`) has its own: `tests/tests/standing_transitions.rs`.
//!
//! Admission. Given: an applicant brought to the `from` state by the standard procedure. When: the command.
//! Then: the outcome goes `from` → `to`, the instance version grows by one, and exactly one log entry records
//! `(workflow, from, command, to)`.
//!
//! Relation (组织关系). Given: a member brought to the `from` state (helpers below: a graduate of the senior
//! class, graduated 2026-07-01; a graduate of the junior class, graduated 2025-07-01 so that 6 months of lost
//! contact and 6 of verification fit before today, 2026-11-30). When: the command (or the graduation or sweep
//! that issues it). Then: the outcome's `from` / `to`, the relation state, and the exact entries the command
//! appended to the member's log: `open` first on a member whose relation was never handled, `complete` and
//! `receive` after an approval, assignment or acceptance that moves the relation.

use tuanji_domain::Date;
use tuanji_engine::admission::AdmissionCommand as C;
use tuanji_engine::relation::{RelationCommand as R, RelationOutcome, SweepReport, TransferView};
use tuanji_store::LogRow;
use tuanji_tests::*;
use tuanji_workflow::relation::{Destination, Initiator, RetentionReason};

/// Every transition the tests below exercise: `(workflow, from, command)`.
const COVERED: &[(&str, &str, &str)] = &[
    ("admission", "new", "apply"),
    ("admission", "applicant", "record_talk"),
    ("admission", "applicant", "approve_activist"),
    ("admission", "activist", "assign_mentors"),
    ("admission", "activist", "record_class"),
    ("admission", "activist", "determine_target"),
    ("admission", "development_target", "prereview"),
    ("admission", "development_target", "publicise"),
    ("admission", "publicised", "record_objection"),
    ("admission", "publicised", "resolve_objection"),
    ("admission", "publicised", "submit_form"),
    ("admission", "publicised", "hold_meeting"),
    ("admission", "branch_approved", "approve"),
    ("admission", "admitted", "record_oath"),
    ("admission", "admitted", "file_archive"),
    ("admission", "admitted", "annul"),
    ("admission", "applicant", "reject"),
    ("admission", "activist", "reject"),
    ("admission", "development_target", "reject"),
    ("admission", "publicised", "reject"),
    ("admission", "branch_approved", "reject"),
    ("admission", "applicant", "withdraw"),
    ("admission", "activist", "withdraw"),
    ("admission", "development_target", "withdraw"),
    ("admission", "publicised", "withdraw"),
    ("admission", "branch_approved", "withdraw"),
    ("audit", "new", "export_unmasked"),
    ("relation", "new", "open"),
    ("relation", "new", "receive"),
    ("relation", "at_branch", "graduate"),
    ("relation", "graduated_pending_transfer", "retain"),
    ("relation", "retained", "flag_retention"),
    ("relation", "at_branch", "request_transfer"),
    ("relation", "graduated_pending_transfer", "request_transfer"),
    ("relation", "retained", "request_transfer"),
    ("relation", "transfer_requested", "approve"),
    ("relation", "transfer_requested", "assign_branch"),
    ("relation", "transfer_requested", "complete"),
    ("relation", "transfer_requested", "reject"),
    ("relation", "transfer_requested", "cancel"),
    ("relation", "transfer_requested", "mark_overdue"),
    ("relation", "graduated_pending_transfer", "record_contact"),
    ("relation", "retained", "record_contact"),
    ("relation", "transfer_requested", "record_contact"),
    ("relation", "lost_contact", "record_contact"),
    ("relation", "suspended", "record_contact"),
    (
        "relation",
        "graduated_pending_transfer",
        "mark_lost_contact",
    ),
    ("relation", "retained", "mark_lost_contact"),
    ("relation", "lost_contact", "suspend"),
    ("relation", "graduated_pending_transfer", "report_in"),
    ("relation", "retained", "report_in"),
    ("relation", "lost_contact", "report_in"),
    ("relation", "suspended", "report_in"),
    ("relation", "reported_in", "accept_report_in"),
    ("relation", "reported_in", "decline_report_in"),
    ("relation", "at_branch", "delete"),
    ("evaluation", "new", "record"),
    ("evaluation", "recorded", "amend"),
    ("evaluation", "recorded", "approve"),
    ("evaluation", "approved", "reevaluate"),
    ("evaluation", "approved", "advise_withdrawal"),
    ("evaluation", "approved", "close"),
    ("party_recommendation", "new", "nominate"),
    ("party_recommendation", "nominated", "vote"),
    ("party_recommendation", "branch_voted", "publicise"),
    ("party_recommendation", "publicised", "recommend"),
    ("party_recommendation", "recommended", "accept"),
    ("party_recommendation", "recommended", "decline"),
    ("party_recommendation", "recommended", "expire"),
    ("party_recommendation", "nominated", "cancel"),
    ("party_recommendation", "branch_voted", "cancel"),
    ("party_recommendation", "publicised", "cancel"),
    ("party_recommendation", "recommended", "cancel"),
];

#[test]
fn every_declared_transition_is_covered() {
    let registry = tuanji_workflow::builtin();
    let mut declared = Vec::new();
    for def in registry.iter() {
        // The standing machine has its own coverage test: tests/tests/standing_transitions.rs.
        if def.name == "standing" {
            continue;
        }
        for t in &def.transitions {
            declared.push((def.name.clone(), t.from.clone(), t.command.clone()));
        }
    }
    let missing: Vec<_> = declared
        .iter()
        .filter(|(w, f, c)| !COVERED.contains(&(w.as_str(), f.as_str(), c.as_str())))
        .collect();
    assert!(
        missing.is_empty(),
        "transitions without a test: {missing:?}"
    );
    for (w, f, c) in COVERED {
        let def = registry
            .latest(w)
            .unwrap_or_else(|| panic!("no workflow {w}"));
        assert!(
            def.transition(f, c).is_ok(),
            "COVERED names ({w}, {f}, {c}), which {w} does not declare"
        );
    }
    let mut unique = COVERED.to_vec();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), COVERED.len(), "COVERED has duplicates");
    assert_eq!(COVERED.len(), declared.len());
}

/// When `cmd` on `a` (in state `from`), then `from` → `to` with one log entry `(workflow, from, command, to)`.
async fn then_transition(
    app: &TestApp,
    a: &Applicant,
    cmd: C,
    from: &str,
    to: &str,
) -> tuanji_engine::admission::StepOutcome {
    let command = cmd.command();
    assert!(
        COVERED.contains(&("admission", from, command)),
        "add (admission, {from}, {command}) to COVERED"
    );
    let (state, version) = app.instance(&a.rid).await;
    assert_eq!(state, from, "given: the applicant is in `{from}`");
    let log_before = app.log(Some(&a.rid)).await.len();
    let out = expect_ok(app.step(&a.rid, &cmd).await, command);
    assert_eq!((out.from.as_str(), out.to.as_str()), (from, to));
    assert_eq!(app.instance(&a.rid).await, (to.to_owned(), version + 1));
    let log = app.log(Some(&a.rid)).await;
    // Reaching `admitted` also opens the member's standing (standing v1 `open`, right after the admission entry).
    let opens_standing = to == "admitted" && from != "admitted";
    assert_eq!(log.len(), log_before + 1 + usize::from(opens_standing));
    if opens_standing {
        let open = log.last().expect("the standing entry");
        assert_eq!(
            (
                open.workflow.as_str(),
                open.from_state.as_str(),
                open.command.as_str(),
                open.to_state.as_str()
            ),
            ("standing", "new", "open", "member")
        );
    }
    let e = &log[log_before];
    assert_eq!(
        (
            e.workflow.as_str(),
            e.from_state.as_str(),
            e.command.as_str(),
            e.to_state.as_str(),
            e.seq
        ),
        ("admission", from, command, to, out.seq)
    );
    out
}

/// `$name`: given an applicant of the non-graduating branch at `$given` (in state `$from`), when `$when`,
/// then `$from` → `$to`.
macro_rules! gwt {
    ($name:ident, given $given:expr, when |$app:ident, $a:ident| $when:expr, then $from:literal => $to:literal) => {
        both_backends!($name, |app| async move {
            let app = app.with_school().await.with_quota(SCHOOL, 2026, 5).await;
            let a = app.applicant_at(NON_GRADUATING, $given).await;
            let cmd = {
                let $app = &app;
                let $a = &a;
                let _ = ($app, $a);
                $when
            };
            then_transition(&app, &a, cmd, $from, $to).await;
        });
    };
}

both_backends!(admission_new_apply, |app| async move {
    let app = app.with_school().await;
    let a = app.applicant(NON_GRADUATING);
    let before = app.counts().await;
    let out = expect_ok(
        app.apply(&TestApp::application(&a, d(2026, 3, 2))).await,
        "apply",
    );
    assert!(COVERED.contains(&("admission", "new", "apply")));
    assert_eq!((out.from.as_str(), out.to.as_str()), ("new", "applicant"));
    assert_eq!(app.instance(&a.rid).await, ("applicant".to_owned(), 1));
    let after = app.counts().await;
    assert_eq!(
        (after.persons, after.instances, after.log),
        (before.persons + 1, before.instances + 1, before.log + 1)
    );
    let log = app.log(Some(&a.rid)).await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (
            log[0].from_state.as_str(),
            log[0].command.as_str(),
            log[0].to_state.as_str()
        ),
        ("new", "apply", "applicant")
    );
});

gwt!(admission_applicant_record_talk, given Stage::Applied,
    when |_app, _a| C::RecordTalk { date: d(2026, 3, 10), by: "王老师".into() },
    then "applicant" => "applicant");

gwt!(admission_applicant_approve_activist, given Stage::Talked,
    when |_app, _a| C::ApproveActivist { date: d(2026, 4, 10), committee: SCHOOL.into() },
    then "applicant" => "activist");

gwt!(admission_activist_assign_mentors, given Stage::Activist,
    when |app, _a| C::AssignMentors { date: d(2026, 4, 13), members: vec![app.members(NON_GRADUATING).good[0].clone()], party_members: vec![] },
    then "activist" => "activist");

gwt!(admission_activist_record_class, given Stage::Mentored,
    when |_app, _a| C::RecordClass { date: d(2026, 4, 20), minutes: 45, topic: "团章".into() },
    then "activist" => "activist");

gwt!(admission_activist_determine_target, given Stage::Trained,
    when |_app, _a| C::DetermineTarget { date: d(2026, 7, 13) },
    then "activist" => "development_target");

gwt!(admission_development_target_prereview, given Stage::Target,
    when |_app, _a| C::Prereview { date: d(2026, 9, 7), committee: SCHOOL.into() },
    then "development_target" => "development_target");

gwt!(admission_development_target_publicise, given Stage::Prereviewed,
    when |_app, _a| C::Publicise { date: d(2026, 9, 28) },
    then "development_target" => "publicised");

gwt!(admission_publicised_record_objection, given Stage::Publicised,
    when |_app, _a| C::RecordObjection { date: d(2026, 10, 8), text: "有异议".into() },
    then "publicised" => "publicised");

both_backends!(admission_publicised_resolve_objection, |app| async move {
    let app = app.with_school().await;
    let a = app.applicant_at(NON_GRADUATING, Stage::Publicised).await;
    expect_ok(
        app.step(
            &a.rid,
            &C::RecordObjection {
                date: d(2026, 10, 8),
                text: "有异议".into(),
            },
        )
        .await,
        "objection",
    );
    let cmd = C::ResolveObjection {
        date: d(2026, 10, 9),
        resolution: "已核实".into(),
    };
    then_transition(&app, &a, cmd, "publicised", "publicised").await;
    let data = expect_ok(app.member_view(&a.rid).await, "view")
        .admission
        .expect("admission")
        .data;
    assert_eq!(data.open_objections(), 0);
    assert_eq!(data.objections[0].resolved_on, Some(d(2026, 10, 9)));
});

gwt!(admission_publicised_submit_form, given Stage::Publicised,
    when |app, _a| {
        let m = app.members(NON_GRADUATING);
        C::SubmitForm { date: d(2026, 10, 12), sponsors: vec![m.good[1].clone(), m.good[2].clone()], opinion_date: d(2026, 10, 13) }
    },
    then "publicised" => "publicised");

gwt!(admission_publicised_hold_meeting, given Stage::FormSubmitted,
    when |_app, _a| C::HoldMeeting { date: d(2026, 10, 16), present: 5, yes: 5 },
    then "publicised" => "branch_approved");

gwt!(admission_branch_approved_approve, given Stage::BranchApproved,
    when |_app, _a| C::Approve { date: d(2026, 10, 23), committee: SCHOOL.into() },
    then "branch_approved" => "admitted");

gwt!(admission_admitted_record_oath, given Stage::Admitted,
    when |_app, _a| C::RecordOath { date: d(2026, 11, 4) },
    then "admitted" => "admitted");

gwt!(admission_admitted_file_archive, given Stage::Oath,
    when |_app, _a| C::FileArchive { date: d(2026, 11, 10), pdf: small_pdf() },
    then "admitted" => "admitted");

gwt!(admission_admitted_annul, given Stage::Archived,
    when |_app, _a| C::Annul { date: d(2026, 11, 20), reason: "材料不实".into() },
    then "admitted" => "annulled");

fn reject() -> C {
    C::Reject {
        date: d(2026, 11, 20),
        reason: "不符合条件".into(),
    }
}

fn withdraw() -> C {
    C::Withdraw {
        date: d(2026, 11, 20),
        reason: "本人申请".into(),
    }
}

gwt!(admission_applicant_reject, given Stage::Applied, when |_app, _a| reject(), then "applicant" => "rejected");
gwt!(admission_activist_reject, given Stage::Activist, when |_app, _a| reject(), then "activist" => "rejected");
gwt!(admission_development_target_reject, given Stage::Target, when |_app, _a| reject(), then "development_target" => "rejected");
gwt!(admission_publicised_reject, given Stage::Publicised, when |_app, _a| reject(), then "publicised" => "rejected");
gwt!(admission_branch_approved_reject, given Stage::BranchApproved, when |_app, _a| reject(), then "branch_approved" => "rejected");
gwt!(admission_applicant_withdraw, given Stage::Applied, when |_app, _a| withdraw(), then "applicant" => "withdrawn");
gwt!(admission_activist_withdraw, given Stage::Activist, when |_app, _a| withdraw(), then "activist" => "withdrawn");
gwt!(admission_development_target_withdraw, given Stage::Target, when |_app, _a| withdraw(), then "development_target" => "withdrawn");
gwt!(admission_publicised_withdraw, given Stage::Publicised, when |_app, _a| withdraw(), then "publicised" => "withdrawn");
gwt!(admission_branch_approved_withdraw, given Stage::BranchApproved, when |_app, _a| withdraw(), then "branch_approved" => "withdrawn");

both_backends!(admission_terminal_states_accept_nothing, |app| async move {
    let app = app.with_school().await;
    let a = app.applicant_at(NON_GRADUATING, Stage::Applied).await;
    expect_ok(app.step(&a.rid, &reject()).await, "reject");
    // Not declared: refused with WF_NOT_ALLOWED, nothing written.
    app.refuse(&a.rid, withdraw(), "WF_NOT_ALLOWED").await;
    app.refuse(
        &a.rid,
        C::RecordTalk {
            date: d(2026, 11, 21),
            by: "王老师".into(),
        },
        "WF_NOT_ALLOWED",
    )
    .await;
});

// ====================================================================== the relation machine (组织关系)

/// A log entry as these tests compare it: `(workflow, from_state, command, to_state)`.
type Entry = (String, String, String, String);

/// A relation log entry `from` → `to` by `command`.
fn rel(from: &str, command: &str, to: &str) -> Entry {
    (
        "relation".to_owned(),
        from.to_owned(),
        command.to_owned(),
        to.to_owned(),
    )
}

/// The graduation date of the junior class in [`with_junior_graduates`]: early enough for 6 months without
/// contact and 6 months of verification before today.
const JUNIOR_GRADUATION: (i32, u32, u32) = (2025, 7, 1);

/// The relation state of `who` (`at_branch` while no relation command has touched the member).
async fn relation_state(app: &TestApp, who: &str) -> String {
    expect_ok(app.transfer_show(who).await, "transfer show").0
}

/// The member's transfers, oldest first.
async fn transfers(app: &TestApp, who: &str) -> Vec<TransferView> {
    expect_ok(app.transfer_show(who).await, "transfer show").1
}

/// Then: the entries appended to `who`'s log after its first `before` entries are exactly `expected`, and
/// each relation entry is a transition named in [`COVERED`]. Returns the appended rows.
async fn then_appended(app: &TestApp, who: &str, before: usize, expected: &[Entry]) -> Vec<LogRow> {
    let log = app.log(Some(who)).await;
    assert!(log.len() >= before, "the log shrank");
    let tail = log[before..].to_vec();
    let got: Vec<Entry> = tail
        .iter()
        .map(|e| {
            (
                e.workflow.clone(),
                e.from_state.clone(),
                e.command.clone(),
                e.to_state.clone(),
            )
        })
        .collect();
    assert_eq!(got, expected, "the entries appended to the member's log");
    for e in &tail {
        // A `history` transition logs the resolved state; COVERED is keyed by (from, command).
        assert!(
            COVERED.contains(&("relation", e.from_state.as_str(), e.command.as_str())),
            "add (relation, {}, {}) to COVERED",
            e.from_state,
            e.command
        );
    }
    tail
}

/// When `cmd` on the member `who` (relation in `from`) in `role`, then the outcome goes `from` → `now`, the
/// relation is in `now`, and the command appended exactly `expected` (its `logged` seqs are those entries).
async fn when_relation(
    app: &TestApp,
    who: &str,
    role: Option<&str>,
    cmd: R,
    from: &str,
    now: &str,
    expected: &[Entry],
) -> RelationOutcome {
    let command = cmd.command();
    assert!(
        COVERED.contains(&("relation", from, command)),
        "add (relation, {from}, {command}) to COVERED"
    );
    assert_eq!(
        relation_state(app, who).await,
        from,
        "given: the member's relation is `{from}`"
    );
    let before = app.log(Some(who)).await.len();
    let out = expect_ok(app.relation(who, role, &cmd).await, command);
    assert_eq!((out.from.as_str(), out.to.as_str()), (from, now));
    assert_eq!(relation_state(app, who).await, now);
    let tail = then_appended(app, who, before, expected).await;
    let logged: Vec<(String, i64)> = tail.iter().map(|e| (e.command.clone(), e.seq)).collect();
    assert_eq!(out.logged, logged);
    out
}

/// When the sweep runs for `as_of`, then `who`'s relation is in `now` and the sweep appended exactly
/// `expected` to `who`'s log.
async fn when_swept(
    app: &TestApp,
    as_of: Date,
    who: &str,
    now: &str,
    expected: &[Entry],
) -> SweepReport {
    let before = app.log(Some(who)).await.len();
    let report = expect_ok(app.sweep(as_of).await, "sweep");
    assert_eq!(report.as_of, Some(as_of));
    assert_eq!(relation_state(app, who).await, now);
    then_appended(app, who, before, expected).await;
    report
}

/// Runs a command that brings the member to the next `given` state; panics when refused.
async fn given(app: &TestApp, who: &str, role: Option<&str>, cmd: R) -> RelationOutcome {
    let what = format!("given: {}", cmd.command());
    expect_ok(app.relation(who, role, &cmd).await, &what)
}

/// The school, the relation organisations and the senior class graduated on [`GRADUATION`]; the first senior
/// graduate (`graduated_pending_transfer`).
async fn senior_graduate(app: TestApp) -> (TestApp, String) {
    let app = app.with_graduates().await;
    let who = app.members(SENIOR).good[0].clone();
    assert_eq!(
        relation_state(&app, &who).await,
        "graduated_pending_transfer"
    );
    (app, who)
}

/// The school and the relation organisations, with the junior class marked graduating and graduated on
/// [`JUNIOR_GRADUATION`]; the first junior graduate (`graduated_pending_transfer`).
async fn junior_graduate(app: TestApp) -> (TestApp, String) {
    let app = app.with_school().await.with_relation_orgs().await;
    let on = d(
        JUNIOR_GRADUATION.0,
        JUNIOR_GRADUATION.1,
        JUNIOR_GRADUATION.2,
    );
    expect_ok(app.mark_graduating(JUNIOR, on).await, "mark graduating");
    let report = expect_ok(app.graduate(JUNIOR, on).await, "graduate the junior class");
    assert_eq!(report.graduated, 5);
    let who = app.members(JUNIOR).good[0].clone();
    (app, who)
}

/// A junior graduate marked lost contact by the sweep of 2026-01-01 (6 months after graduation).
async fn lost_contact_member(app: TestApp) -> (TestApp, String) {
    let (app, who) = junior_graduate(app).await;
    let report = expect_ok(app.sweep(d(2026, 1, 1)).await, "sweep 2026-01-01");
    assert_eq!(report.lost_contact, 5, "the whole junior class");
    assert_eq!(relation_state(&app, &who).await, "lost_contact");
    (app, who)
}

/// An unanswered contact attempt (TRF_LOST_CONTACT verification).
fn attempt(date: Date) -> R {
    R::RecordContact {
        date,
        reached: false,
        note: "电话未接通（团支书）".into(),
    }
}

/// A contact that reached the member.
fn contact(date: Date) -> R {
    R::RecordContact {
        date,
        reached: true,
        note: "电话联系到本人（团支书）".into(),
    }
}

/// A lost-contact member with one unanswered attempt in each month of verification (2026-01-15 … 06-15),
/// suspended on 2026-07-01 after a branch meeting the same day, approved by [`SCHOOL`].
async fn suspended_member(app: TestApp) -> (TestApp, String) {
    let (app, who) = lost_contact_member(app).await;
    for month in 1..=6 {
        given(&app, &who, None, attempt(d(2026, month, 15))).await;
    }
    given(&app, &who, None, suspend()).await;
    assert_eq!(relation_state(&app, &who).await, "suspended");
    (app, who)
}

/// Suspension on 2026-07-01 by [`SCHOOL`] after a branch meeting on 2026-07-01.
fn suspend() -> R {
    R::Suspend {
        date: d(2026, 7, 1),
        meeting_date: d(2026, 7, 1),
        committee: SCHOOL.into(),
    }
}

/// Retention at the school on `date` for `reason` (the mobile-member branch for `no_job`).
fn retain(date: Date, reason: RetentionReason) -> R {
    R::Retain {
        date,
        reason,
        branch: None,
    }
}

/// A senior graduate retained (no job yet) at the mobile-member branch on 2026-07-10.
async fn retained_member(app: TestApp) -> (TestApp, String) {
    let (app, who) = senior_graduate(app).await;
    let out = given(
        &app,
        &who,
        None,
        retain(d(2026, 7, 10), RetentionReason::NoJob),
    )
    .await;
    assert_eq!((out.to.as_str(), out.branch.as_str()), ("retained", MOBILE));
    (app, who)
}

/// The member asks, in their own name, for a transfer on `date` to `to` for further study.
fn request(date: Date, to: &str) -> R {
    R::RequestTransfer {
        date,
        to: to.into(),
        destination: Destination::FurtherStudy,
        initiator: Initiator::Member,
        org: None,
    }
}

/// An approval on `date` by `org`.
fn approve(date: Date, org: &str) -> R {
    R::Approve {
        date,
        org: org.into(),
    }
}

/// A report-in on `date` to [`STREET_BRANCH`].
fn report_in(date: Date) -> R {
    R::ReportIn {
        date,
        branch: STREET_BRANCH.into(),
    }
}

/// The single transfer of `who`.
async fn the_transfer(app: &TestApp, who: &str) -> TransferView {
    let mut all = transfers(app, who).await;
    assert_eq!(all.len(), 1, "one transfer");
    all.remove(0)
}

// ---------------------------------------------------------------------- creating commands

// Given a legacy member whose relation was never handled (no instance; shown as `at_branch`), when the first
// relation command, then `open` (new → at_branch, effective on the membership date) is logged before it, on the
// same new instance; a later command does not open again.
both_backends!(relation_new_open, |app| async move {
    let app = app.with_school().await.with_relation_orgs().await;
    let who = app.members(NON_GRADUATING).good[0].clone();
    let before = app.counts().await;
    when_relation(
        &app,
        &who,
        None,
        request(d(2026, 11, 2), UNIVERSITY_BRANCH),
        "at_branch",
        "transfer_requested",
        &[
            rel("new", "open", "at_branch"),
            rel("at_branch", "request_transfer", "transfer_requested"),
        ],
    )
    .await;
    assert_eq!(app.counts().await.instances, before.instances + 1);
    let log = app.log(Some(&who)).await;
    let (open, req) = (&log[log.len() - 2], &log[log.len() - 1]);
    assert_eq!(
        (open.effective_date, req.effective_date),
        (d(2025, 5, 4), d(2026, 11, 2)),
        "the stay counts from the membership date"
    );
    assert_eq!(open.instance_id, req.instance_id);
    assert_eq!(open.role, "member");
    let cancel = R::Cancel {
        date: d(2026, 11, 3),
        org: None,
        reason: "改变计划".into(),
    };
    when_relation(
        &app,
        &who,
        None,
        cancel,
        "transfer_requested",
        "at_branch",
        &[rel("transfer_requested", "cancel", "at_branch")],
    )
    .await;
    assert_eq!(app.counts().await.instances, before.instances + 1);
});

// Given a graduate whose transfer to a university committee both sides approved (no branch yet), when the
// committee assigns its branch, then the old stay completes (transferred) and `receive` opens a new stay
// (new → at_branch) at that branch, on another instance; the member row moves there.
both_backends!(relation_new_receive, |app| async move {
    let (app, who) = senior_graduate(app).await;
    given(&app, &who, None, request(d(2026, 8, 1), UNIVERSITY)).await;
    given(
        &app,
        &who,
        Some("committee_admin"),
        approve(d(2026, 8, 3), SCHOOL),
    )
    .await;
    let out = given(
        &app,
        &who,
        Some("committee_admin"),
        approve(d(2026, 8, 4), UNIVERSITY),
    )
    .await;
    assert_eq!(
        out.to, "transfer_requested",
        "no branch yet: TRF_BRANCH_ONLY"
    );
    let assign = R::AssignBranch {
        date: d(2026, 8, 5),
        org: UNIVERSITY.into(),
        branch: UNIVERSITY_BRANCH.into(),
    };
    let out = when_relation(
        &app,
        &who,
        None,
        assign,
        "transfer_requested",
        "at_branch",
        &[
            rel("transfer_requested", "assign_branch", "transfer_requested"),
            rel("transfer_requested", "complete", "transferred"),
            rel("new", "receive", "at_branch"),
        ],
    )
    .await;
    assert_eq!(out.branch, UNIVERSITY_BRANCH);
    let log = app.log(Some(&who)).await;
    let (complete, receive) = (&log[log.len() - 2], &log[log.len() - 1]);
    assert_ne!(complete.instance_id, receive.instance_id, "a new stay");
    assert_eq!(receive.effective_date, d(2026, 8, 5));
    let view = expect_ok(app.member_view(&who).await, "view");
    assert_eq!(view.branch, "U001-B1 本科2026级1班团支部");
    let t = the_transfer(&app, &who).await;
    assert_eq!(
        (t.state.as_str(), t.to_branch.as_deref(), t.closed_on),
        ("completed", Some(UNIVERSITY_BRANCH), Some(d(2026, 8, 5)))
    );
});

// ---------------------------------------------------------------------- graduation and retention

// Given the junior class (one member with an `at_branch` stay after a cancelled request, the others never
// handled), when the class graduates, then each is `graduated_pending_transfer`: the first logs `graduate`,
// the others `open` then `graduate`.
both_backends!(relation_at_branch_graduate, |app| async move {
    let app = app.with_school().await.with_relation_orgs().await;
    let m = app.members(JUNIOR).good;
    given(&app, &m[0], None, request(d(2026, 6, 1), UNIVERSITY_BRANCH)).await;
    let cancel = R::Cancel {
        date: d(2026, 6, 2),
        org: None,
        reason: "改变计划".into(),
    };
    given(&app, &m[0], None, cancel).await;
    assert_eq!(relation_state(&app, &m[0]).await, "at_branch");
    let before0 = app.log(Some(&m[0])).await.len();
    let before1 = app.log(Some(&m[1])).await.len();
    expect_ok(
        app.mark_graduating(JUNIOR, d(2026, 7, 1)).await,
        "mark graduating",
    );
    let report = expect_ok(app.graduate(JUNIOR, d(2026, 7, 1)).await, "graduate");
    assert_eq!(
        (report.graduated, report.skipped.clone(), report.date),
        (5, vec![], d(2026, 7, 1))
    );
    then_appended(
        &app,
        &m[0],
        before0,
        &[rel("at_branch", "graduate", "graduated_pending_transfer")],
    )
    .await;
    let tail = then_appended(
        &app,
        &m[1],
        before1,
        &[
            rel("new", "open", "at_branch"),
            rel("at_branch", "graduate", "graduated_pending_transfer"),
        ],
    )
    .await;
    assert_eq!(tail[1].effective_date, d(2026, 7, 1));
    for who in &m {
        assert_eq!(
            relation_state(&app, who).await,
            "graduated_pending_transfer"
        );
    }
});

// Given a graduate, when retained with no job yet, then `retained` at the school's mobile-member branch.
both_backends!(
    relation_graduated_pending_transfer_retain,
    |app| async move {
        let (app, who) = senior_graduate(app).await;
        let out = when_relation(
            &app,
            &who,
            None,
            retain(d(2026, 7, 10), RetentionReason::NoJob),
            "graduated_pending_transfer",
            "retained",
            &[rel("graduated_pending_transfer", "retain", "retained")],
        )
        .await;
        assert_eq!(out.branch, MOBILE);
        let view = expect_ok(app.member_view(&who).await, "view");
        assert_eq!(view.branch, "S001-M 流动团员团支部");
    }
);

// Given a junior graduate retained (no job) on 2025-07-10 and reached on 2026-01-05, when the sweep runs on
// 2026-01-10 (6 months of retention), then `flag_retention` (retained → retained) and nothing else for them.
both_backends!(relation_retained_flag_retention, |app| async move {
    let (app, who) = junior_graduate(app).await;
    given(
        &app,
        &who,
        None,
        retain(d(2025, 7, 10), RetentionReason::NoJob),
    )
    .await;
    given(&app, &who, None, contact(d(2026, 1, 5))).await;
    let report = when_swept(
        &app,
        d(2026, 1, 10),
        &who,
        "retained",
        &[rel("retained", "flag_retention", "retained")],
    )
    .await;
    assert_eq!(
        (
            report.retention_flagged,
            report.retention_exceeded,
            report.lost_contact
        ),
        (1, 0, 4),
        "the other 4 junior graduates lost contact"
    );
    let log = app.log(Some(&who)).await;
    let flag = log.last().expect("an entry");
    assert_eq!(
        (flag.effective_date, flag.role.as_str()),
        (d(2026, 1, 10), "system_admin")
    );
});

// ---------------------------------------------------------------------- transfers

// Given a member at their branch (never handled), when the branch initiates an outgoing transfer to an
// employer's branch, then `open` and `request_transfer`, waiting only on the incoming side.
both_backends!(relation_at_branch_request_transfer, |app| async move {
    let app = app.with_school().await.with_relation_orgs().await;
    let who = app.members(NON_GRADUATING).good[1].clone();
    let cmd = R::RequestTransfer {
        date: d(2026, 11, 2),
        to: EMPLOYER_BRANCH.into(),
        destination: Destination::Employment,
        initiator: Initiator::Outgoing,
        org: Some(NON_GRADUATING.into()),
    };
    let out = when_relation(
        &app,
        &who,
        Some("branch_secretary"),
        cmd,
        "at_branch",
        "transfer_requested",
        &[
            rel("new", "open", "at_branch"),
            rel("at_branch", "request_transfer", "transfer_requested"),
        ],
    )
    .await;
    let t = out.transfer.expect("the transfer");
    assert_eq!(
        (
            t.state.as_str(),
            t.initiator.as_str(),
            t.from_branch.as_str(),
            t.to_org.as_str(),
            t.waiting_on.as_deref(),
            t.due_on
        ),
        (
            "open",
            "outgoing",
            NON_GRADUATING,
            EMPLOYER_BRANCH,
            Some("incoming E001-B1"),
            d(2026, 12, 2)
        )
    );
});

// Given a graduate, when they ask for a transfer to a university branch, then `transfer_requested`, waiting
// on both sides.
both_backends!(
    relation_graduated_pending_transfer_request_transfer,
    |app| async move {
        let (app, who) = senior_graduate(app).await;
        let out = when_relation(
            &app,
            &who,
            None,
            request(d(2026, 8, 1), UNIVERSITY_BRANCH),
            "graduated_pending_transfer",
            "transfer_requested",
            &[rel(
                "graduated_pending_transfer",
                "request_transfer",
                "transfer_requested",
            )],
        )
        .await;
        let t = out.transfer.expect("the transfer");
        assert_eq!(
            (t.waiting_on.as_deref(), t.requested_on, t.due_on),
            (
                Some("outgoing S001-G3, incoming U001-B1"),
                d(2026, 8, 1),
                d(2026, 8, 31)
            )
        );
    }
);

// Given a retained graduate, when they ask for a transfer to an employer's branch, then `transfer_requested`
// from the mobile-member branch.
both_backends!(relation_retained_request_transfer, |app| async move {
    let (app, who) = retained_member(app).await;
    let cmd = R::RequestTransfer {
        date: d(2026, 8, 1),
        to: EMPLOYER_BRANCH.into(),
        destination: Destination::Employment,
        initiator: Initiator::Member,
        org: None,
    };
    let out = when_relation(
        &app,
        &who,
        None,
        cmd,
        "retained",
        "transfer_requested",
        &[rel("retained", "request_transfer", "transfer_requested")],
    )
    .await;
    let t = out.transfer.expect("the transfer");
    assert_eq!(
        (t.from_branch.as_str(), t.destination.as_str()),
        (MOBILE, "employment")
    );
});

// Given a member-initiated transfer (both sides must approve), when the school approves, then it stays
// `transfer_requested`, waiting on the incoming side.
both_backends!(relation_transfer_requested_approve, |app| async move {
    let (app, who) = senior_graduate(app).await;
    given(&app, &who, None, request(d(2026, 8, 1), UNIVERSITY_BRANCH)).await;
    let out = when_relation(
        &app,
        &who,
        Some("committee_admin"),
        approve(d(2026, 8, 3), SCHOOL),
        "transfer_requested",
        "transfer_requested",
        &[rel("transfer_requested", "approve", "transfer_requested")],
    )
    .await;
    let t = out.transfer.expect("the transfer");
    assert_eq!(
        (t.waiting_on.as_deref(), t.last_action_on),
        (Some("incoming U001-B1"), d(2026, 8, 3))
    );
    assert!(out.flags.is_empty(), "not overdue: {:?}", out.flags);
});

// Given a transfer to a university committee not yet approved, when the committee assigns a branch, then it
// stays `transfer_requested` (approvals pending) with the branch recorded.
both_backends!(
    relation_transfer_requested_assign_branch,
    |app| async move {
        let (app, who) = senior_graduate(app).await;
        given(&app, &who, None, request(d(2026, 8, 1), UNIVERSITY)).await;
        let assign = R::AssignBranch {
            date: d(2026, 8, 3),
            org: UNIVERSITY.into(),
            branch: UNIVERSITY_BRANCH.into(),
        };
        let out = when_relation(
            &app,
            &who,
            None,
            assign,
            "transfer_requested",
            "transfer_requested",
            &[rel(
                "transfer_requested",
                "assign_branch",
                "transfer_requested",
            )],
        )
        .await;
        let t = out.transfer.expect("the transfer");
        assert_eq!(
            (t.to_org.as_str(), t.to_branch.as_deref(), t.state.as_str()),
            (UNIVERSITY, Some(UNIVERSITY_BRANCH), "open")
        );
        assert_eq!(out.branch, SENIOR);
    }
);

// Given a member-initiated transfer to a university branch that the school approved, when the branch
// approves, then `approve`, `complete` (transfer_requested → transferred) and `receive` at the branch.
both_backends!(relation_transfer_requested_complete, |app| async move {
    let (app, who) = senior_graduate(app).await;
    given(&app, &who, None, request(d(2026, 8, 1), UNIVERSITY_BRANCH)).await;
    given(
        &app,
        &who,
        Some("committee_admin"),
        approve(d(2026, 8, 3), SCHOOL),
    )
    .await;
    let out = when_relation(
        &app,
        &who,
        None,
        approve(d(2026, 8, 5), UNIVERSITY_BRANCH),
        "transfer_requested",
        "at_branch",
        &[
            rel("transfer_requested", "approve", "transfer_requested"),
            rel("transfer_requested", "complete", "transferred"),
            rel("new", "receive", "at_branch"),
        ],
    )
    .await;
    assert_eq!(out.branch, UNIVERSITY_BRANCH);
    let t = out.transfer.expect("the transfer");
    assert_eq!(
        (t.state.as_str(), t.closed_on, t.waiting_on),
        ("completed", Some(d(2026, 8, 5)), None)
    );
    let log = app.log(Some(&who)).await;
    let n = log.len();
    assert_eq!(log[n - 3].instance_id, log[n - 2].instance_id);
    assert_ne!(log[n - 2].instance_id, log[n - 1].instance_id);
    assert_eq!(log[n - 2].effective_date, d(2026, 8, 5));
});

// Given a graduate's transfer, when the receiving branch rejects it, then the relation returns to
// `graduated_pending_transfer` (history).
both_backends!(relation_transfer_requested_reject, |app| async move {
    let (app, who) = senior_graduate(app).await;
    given(&app, &who, None, request(d(2026, 8, 1), UNIVERSITY_BRANCH)).await;
    let cmd = R::Reject {
        date: d(2026, 8, 5),
        org: UNIVERSITY_BRANCH.into(),
        reason: "未被录取".into(),
    };
    let out = when_relation(
        &app,
        &who,
        None,
        cmd,
        "transfer_requested",
        "graduated_pending_transfer",
        &[rel(
            "transfer_requested",
            "reject",
            "graduated_pending_transfer",
        )],
    )
    .await;
    let t = out.transfer.expect("the transfer");
    assert_eq!(
        (t.state.as_str(), t.closed_on),
        ("rejected", Some(d(2026, 8, 5)))
    );
    assert_eq!(out.branch, SENIOR);
});

// Given a retained graduate's own transfer request, when they cancel it, then the relation returns to
// `retained` (history) at the mobile-member branch.
both_backends!(relation_transfer_requested_cancel, |app| async move {
    let (app, who) = retained_member(app).await;
    given(&app, &who, None, request(d(2026, 8, 1), UNIVERSITY_BRANCH)).await;
    let cmd = R::Cancel {
        date: d(2026, 8, 3),
        org: None,
        reason: "改为出国留学".into(),
    };
    let out = when_relation(
        &app,
        &who,
        Some("member"),
        cmd,
        "transfer_requested",
        "retained",
        &[rel("transfer_requested", "cancel", "retained")],
    )
    .await;
    let t = out.transfer.expect("the transfer");
    assert_eq!(
        (t.state.as_str(), t.closed_on),
        ("cancelled", Some(d(2026, 8, 3)))
    );
    assert_eq!(out.branch, MOBILE);
});

// Given a transfer requested on 2026-10-01 and not acted on, when the sweep runs 30 days later (2026-10-31),
// then `mark_overdue` (transfer_requested → transfer_requested), escalated to the university committee above
// the silent receiving branch.
both_backends!(relation_transfer_requested_mark_overdue, |app| async move {
    let (app, who) = senior_graduate(app).await;
    given(&app, &who, None, request(d(2026, 10, 1), UNIVERSITY_BRANCH)).await;
    let report = when_swept(&app, d(2026, 10, 30), &who, "transfer_requested", &[]).await;
    assert_eq!(report.entries, 0, "not yet due on day 29");
    let report = when_swept(
        &app,
        d(2026, 10, 31),
        &who,
        "transfer_requested",
        &[rel(
            "transfer_requested",
            "mark_overdue",
            "transfer_requested",
        )],
    )
    .await;
    assert_eq!(
        (report.overdue, report.auto_approved, report.entries),
        (1, 0, 1)
    );
    let t = the_transfer(&app, &who).await;
    assert_eq!(
        (t.overdue_on, t.escalated_to.as_deref(), t.state.as_str()),
        (Some(d(2026, 10, 31)), Some(UNIVERSITY), "open")
    );
});

// ---------------------------------------------------------------------- contact, lost contact, report-in

// Given a graduate, when the branch records a contact, then `record_contact` (graduated_pending_transfer →
// graduated_pending_transfer).
both_backends!(
    relation_graduated_pending_transfer_record_contact,
    |app| async move {
        let (app, who) = senior_graduate(app).await;
        when_relation(
            &app,
            &who,
            None,
            contact(d(2026, 8, 1)),
            "graduated_pending_transfer",
            "graduated_pending_transfer",
            &[rel(
                "graduated_pending_transfer",
                "record_contact",
                "graduated_pending_transfer",
            )],
        )
        .await;
    }
);

// Given a retained graduate, when the branch records a contact, then `record_contact` (retained → retained).
both_backends!(relation_retained_record_contact, |app| async move {
    let (app, who) = retained_member(app).await;
    when_relation(
        &app,
        &who,
        None,
        contact(d(2026, 8, 1)),
        "retained",
        "retained",
        &[rel("retained", "record_contact", "retained")],
    )
    .await;
});

// Given an open transfer, when the branch records a contact, then `record_contact` (transfer_requested →
// transfer_requested) and the transfer is untouched.
both_backends!(
    relation_transfer_requested_record_contact,
    |app| async move {
        let (app, who) = senior_graduate(app).await;
        given(&app, &who, None, request(d(2026, 8, 1), UNIVERSITY_BRANCH)).await;
        let out = when_relation(
            &app,
            &who,
            Some("committee_admin"),
            contact(d(2026, 8, 10)),
            "transfer_requested",
            "transfer_requested",
            &[rel(
                "transfer_requested",
                "record_contact",
                "transfer_requested",
            )],
        )
        .await;
        assert_eq!(
            out.transfer, None,
            "a contact does not concern the transfer"
        );
        assert_eq!(the_transfer(&app, &who).await.last_action_on, d(2026, 8, 1));
    }
);

// Given a lost-contact member, when the branch records an unanswered attempt, then `record_contact`
// (lost_contact → lost_contact).
both_backends!(relation_lost_contact_record_contact, |app| async move {
    let (app, who) = lost_contact_member(app).await;
    when_relation(
        &app,
        &who,
        None,
        attempt(d(2026, 1, 15)),
        "lost_contact",
        "lost_contact",
        &[rel("lost_contact", "record_contact", "lost_contact")],
    )
    .await;
});

// Given a suspended member, when the branch records a contact, then `record_contact` (suspended →
// suspended).
both_backends!(relation_suspended_record_contact, |app| async move {
    let (app, who) = suspended_member(app).await;
    when_relation(
        &app,
        &who,
        None,
        contact(d(2026, 8, 1)),
        "suspended",
        "suspended",
        &[rel("suspended", "record_contact", "suspended")],
    )
    .await;
});

// Given the junior class graduated on 2025-07-01 and never contacted, when the sweep runs on 2026-01-01 (6
// months), then `mark_lost_contact` (graduated_pending_transfer → lost_contact); the day before, nothing.
both_backends!(
    relation_graduated_pending_transfer_mark_lost_contact,
    |app| async move {
        let (app, who) = junior_graduate(app).await;
        let report = when_swept(
            &app,
            d(2025, 12, 31),
            &who,
            "graduated_pending_transfer",
            &[],
        )
        .await;
        assert_eq!(report.entries, 0);
        let report = when_swept(
            &app,
            d(2026, 1, 1),
            &who,
            "lost_contact",
            &[rel(
                "graduated_pending_transfer",
                "mark_lost_contact",
                "lost_contact",
            )],
        )
        .await;
        assert_eq!((report.lost_contact, report.entries), (5, 5));
    }
);

// Given a junior graduate retained abroad on 2025-07-20 (no retention limit) and never contacted, when the
// sweep runs on 2026-01-20, then `mark_lost_contact` (retained → lost_contact) and no retention flag.
both_backends!(relation_retained_mark_lost_contact, |app| async move {
    let (app, who) = junior_graduate(app).await;
    given(
        &app,
        &who,
        None,
        retain(d(2025, 7, 20), RetentionReason::Abroad),
    )
    .await;
    let report = when_swept(
        &app,
        d(2026, 1, 20),
        &who,
        "lost_contact",
        &[rel("retained", "mark_lost_contact", "lost_contact")],
    )
    .await;
    assert_eq!(
        (
            report.lost_contact,
            report.retention_flagged,
            report.retention_exceeded
        ),
        (5, 0, 0)
    );
});

// Given a member lost contact since 2026-01-01 with an unanswered attempt in each of the 6 months of
// verification, when the school approves a suspension on 2026-07-01 after the branch meeting, then
// `suspend` (lost_contact → suspended), 24 months.
both_backends!(relation_lost_contact_suspend, |app| async move {
    let (app, who) = lost_contact_member(app).await;
    for month in 1..=6 {
        given(&app, &who, None, attempt(d(2026, month, 15))).await;
    }
    let out = when_relation(
        &app,
        &who,
        None,
        suspend(),
        "lost_contact",
        "suspended",
        &[rel("lost_contact", "suspend", "suspended")],
    )
    .await;
    assert_eq!(out.rule_codes, vec!["TRF_LOST_CONTACT".to_owned()]);
    let log = app.log(Some(&who)).await;
    let payload = log
        .last()
        .expect("an entry")
        .payload_value()
        .expect("JSON payload");
    assert_eq!(payload["step"]["suspension"]["until"], "2028-07-01");
});

// Given a graduate, when they report in to a street branch, then `report_in` (graduated_pending_transfer →
// reported_in).
both_backends!(
    relation_graduated_pending_transfer_report_in,
    |app| async move {
        let (app, who) = senior_graduate(app).await;
        when_relation(
            &app,
            &who,
            None,
            report_in(d(2026, 8, 1)),
            "graduated_pending_transfer",
            "reported_in",
            &[rel(
                "graduated_pending_transfer",
                "report_in",
                "reported_in",
            )],
        )
        .await;
    }
);

// Given a retained graduate, when they report in, then `report_in` (retained → reported_in).
both_backends!(relation_retained_report_in, |app| async move {
    let (app, who) = retained_member(app).await;
    when_relation(
        &app,
        &who,
        None,
        report_in(d(2026, 8, 1)),
        "retained",
        "reported_in",
        &[rel("retained", "report_in", "reported_in")],
    )
    .await;
});

// Given a lost-contact member, when they report in, then `report_in` (lost_contact → reported_in).
both_backends!(relation_lost_contact_report_in, |app| async move {
    let (app, who) = lost_contact_member(app).await;
    when_relation(
        &app,
        &who,
        None,
        report_in(d(2026, 2, 1)),
        "lost_contact",
        "reported_in",
        &[rel("lost_contact", "report_in", "reported_in")],
    )
    .await;
});

// Given a suspended member, when they report in, then `report_in` (suspended → reported_in).
both_backends!(relation_suspended_report_in, |app| async move {
    let (app, who) = suspended_member(app).await;
    when_relation(
        &app,
        &who,
        Some("branch_secretary"),
        report_in(d(2026, 8, 1)),
        "suspended",
        "reported_in",
        &[rel("suspended", "report_in", "reported_in")],
    )
    .await;
});

// Given a graduate who reported in to a street branch, when that branch accepts, then `accept_report_in`
// (reported_in → transferred) and `receive` at the street branch.
both_backends!(relation_reported_in_accept_report_in, |app| async move {
    let (app, who) = senior_graduate(app).await;
    given(&app, &who, None, report_in(d(2026, 8, 1))).await;
    let cmd = R::AcceptReportIn {
        date: d(2026, 8, 5),
        org: STREET_BRANCH.into(),
    };
    let out = when_relation(
        &app,
        &who,
        None,
        cmd,
        "reported_in",
        "at_branch",
        &[
            rel("reported_in", "accept_report_in", "transferred"),
            rel("new", "receive", "at_branch"),
        ],
    )
    .await;
    assert_eq!(out.branch, STREET_BRANCH);
    let view = expect_ok(app.member_view(&who).await, "view");
    assert_eq!(view.branch, "T001-B1 某社区团支部");
    let log = app.log(Some(&who)).await;
    let n = log.len();
    assert_ne!(log[n - 2].instance_id, log[n - 1].instance_id, "a new stay");
});

// Given a lost-contact member who reported in to a street branch, when that branch declines, then the
// relation returns to `lost_contact` (history).
both_backends!(relation_reported_in_decline_report_in, |app| async move {
    let (app, who) = lost_contact_member(app).await;
    given(&app, &who, None, report_in(d(2026, 2, 1))).await;
    let cmd = R::DeclineReportIn {
        date: d(2026, 2, 5),
        org: STREET_BRANCH.into(),
        reason: "不在本社区居住".into(),
    };
    let out = when_relation(
        &app,
        &who,
        None,
        cmd,
        "reported_in",
        "lost_contact",
        &[rel("reported_in", "decline_report_in", "lost_contact")],
    )
    .await;
    assert_eq!(out.branch, JUNIOR);
});

// ---------------------------------------------------------------------- deletion

// Given a member at their branch with nothing pending (never handled), when a committee deletes the record,
// then `open` and `delete` (at_branch → deleted): a tombstone with the date and reason, the rows stay.
both_backends!(relation_at_branch_delete, |app| async move {
    let app = app.with_school().await.with_relation_orgs().await;
    let who = app.members(NON_GRADUATING).good[2].clone();
    let before = app.counts().await;
    let cmd = R::Delete {
        date: d(2026, 11, 20),
        reason: "重复录入".into(),
    };
    when_relation(
        &app,
        &who,
        None,
        cmd,
        "at_branch",
        "deleted",
        &[
            rel("new", "open", "at_branch"),
            rel("at_branch", "delete", "deleted"),
        ],
    )
    .await;
    let after = app.counts().await;
    assert_eq!(
        (after.persons, after.members, after.instances),
        (before.persons, before.members, before.instances + 1)
    );
    let m = expect_ok(app.member_view(&who).await, "view")
        .member
        .expect("the member row stays");
    assert_eq!(
        (m.deleted_on, m.deletion_reason.as_deref()),
        (Some(d(2026, 11, 20)), Some("重复录入"))
    );
});

// ---------------------------------------------------------------------- dates of decisions

// Given a transfer requested on 2026-09-01 and a report-in of 2026-09-01, when a decision on either is dated
// before it, then it is refused and nothing is written (before the fix an approval dated 2026-08-01
// completed the transfer a month before it was requested).
both_backends!(
    relation_decision_dated_before_the_request_is_refused,
    |app| async move {
        let (app, who) = senior_graduate(app).await;
        given(&app, &who, None, request(d(2026, 9, 1), UNIVERSITY_BRANCH)).await;
        given(
            &app,
            &who,
            Some("committee_admin"),
            approve(d(2026, 9, 2), SCHOOL),
        )
        .await;
        let before = (app.log(Some(&who)).await.len(), app.counts().await);
        let r = app
            .relation(&who, None, &approve(d(2026, 8, 1), UNIVERSITY_BRANCH))
            .await;
        match r {
            Err(tuanji_engine::EngineError::Input(m)) => assert_eq!(
                m,
                "`approve` is dated 2026-08-01, before the transfer request it answers (2026-09-01)"
            ),
            other => panic!("expected an input error, got {other:?}"),
        }
        assert_eq!(
            (app.log(Some(&who)).await.len(), app.counts().await),
            before
        );
        assert_eq!(relation_state(&app, &who).await, "transfer_requested");
        // The same day is fine.
        when_relation(
            &app,
            &who,
            None,
            approve(d(2026, 9, 1), UNIVERSITY_BRANCH),
            "transfer_requested",
            "at_branch",
            &[
                rel("transfer_requested", "approve", "transfer_requested"),
                rel("transfer_requested", "complete", "transferred"),
                rel("new", "receive", "at_branch"),
            ],
        )
        .await;

        let other = app.members(SENIOR).good[1].clone();
        given(&app, &other, None, report_in(d(2026, 9, 1))).await;
        let decline = R::DeclineReportIn {
            date: d(2026, 8, 31),
            org: STREET_BRANCH.into(),
            reason: "不在本社区居住".into(),
        };
        match app.relation(&other, None, &decline).await {
            Err(tuanji_engine::EngineError::Input(m)) => assert_eq!(
                m,
                "`decline_report_in` is dated 2026-08-31, before the report-in it answers (2026-09-01)"
            ),
            other => panic!("expected an input error, got {other:?}"),
        }
        assert_eq!(relation_state(&app, &other).await, "reported_in");
    }
);

// ---------------------------------------------------------------------- audit.v1

// Given a register with members, when an auditor exports the log unmasked, then the export shows full resident
// IDs and the use itself is the log's last entry: (audit, new, export_unmasked, exported), with no projection.
both_backends!(audit_new_export_unmasked, |app| async move {
    let app = app.with_school().await;
    let who = app.members(SENIOR).good[0].clone();
    let before = app.counts().await;
    let size = app.log(None).await.len();
    let auditor = tuanji_engine::Actor {
        name: "审计员".into(),
        role: Some("auditor".into()),
        ..Default::default()
    };
    let q = tuanji_engine::export::LogQuery {
        member: Some(who.clone()),
        ..Default::default()
    };
    let mut out = Vec::new();
    let n = expect_ok(
        tuanji_engine::with_engine!(app.engine(), e => e
            .audit_export(&auditor, &q, tuanji_engine::export::ExportFormat::JsonLines, true, &mut out)
            .await),
        "unmasked export",
    );
    assert_eq!(n, 1, "the member's import_member entry");
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(text.contains(&format!("\"member\":\"{who}\"")), "{text}");
    let log = app.log(None).await;
    assert_eq!(log.len(), size + 1);
    let last = log.last().expect("an entry");
    assert_eq!(
        (
            last.workflow.as_str(),
            last.from_state.as_str(),
            last.command.as_str(),
            last.to_state.as_str(),
            last.role.as_str(),
            last.person_id
        ),
        (
            "audit",
            "new",
            "export_unmasked",
            "exported",
            "auditor",
            None
        )
    );
    assert!(
        last.payload.contains("\"format\":\"jsonl\""),
        "{}",
        last.payload
    );
    assert!(
        !last.payload.contains(&who),
        "the selection is recorded masked"
    );
    assert_eq!(app.counts().await.instances, before.instances);
    // A branch secretary may not export unmasked; nothing is recorded.
    let secretary = tuanji_engine::Actor {
        name: "书记".into(),
        role: Some("branch_secretary".into()),
        ..Default::default()
    };
    let r = tuanji_engine::with_engine!(app.engine(), e => e
        .audit_export(&secretary, &q, tuanji_engine::export::ExportFormat::Csv, true, &mut Vec::new())
        .await);
    expect_rule(r, "WF_NOT_ALLOWED");
    assert_eq!(app.log(None).await.len(), size + 1);
});

// ------------------------------------------------------------------ evaluation and Party recommendation
//
// Evaluation (团员教育评议). Given: the 2025 round of PARTY_BRANCH (10 members, the last graded unqualified)
// brought to the `from` state. When: the command. Then: `from` → `to` and the log's last entry is
// `(evaluation, from, command, to)` for the round.
//
// Party recommendation (推优入党). Given: a member of PARTY_BRANCH, graded in an approved round, brought to
// `from` (in 2024 for the outcomes, so that two years of validity end before today). When: the command (or
// the sweep that issues `expire`). Then: `from` → `to` and the member's log gains exactly the entries
// `(party_recommendation, from, command, to)` and, where the standing follows, the standing step.

mod evaluation_and_party {
    use super::*;
    use tuanji_engine::evaluation::EvaluationCommand as E;
    use tuanji_engine::party::PartyCommand as P;
    use tuanji_workflow::evaluation::Grade;

    fn grades(m: &[String]) -> Vec<(String, Grade)> {
        m.iter()
            .enumerate()
            .map(|(i, r)| {
                let g = if i + 1 == m.len() {
                    Grade::Unqualified
                } else {
                    Grade::Qualified
                };
                (r.clone(), g)
            })
            .collect()
    }

    /// The round of `year`: `record` on {year}-12-20 and, if `approve`, approval on {year+1}-01-10.
    pub(super) async fn round(app: &TestApp, m: &[String], year: i32, approve: bool) {
        expect_ok(
            app.evaluation(
                PARTY_BRANCH,
                year,
                None,
                &E::Record {
                    date: d(year, 12, 20),
                    present: 8,
                    grades: grades(m),
                },
            )
            .await,
            "record",
        );
        if approve {
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
                "approve",
            );
        }
    }

    /// When `cmd`, then `from` → `to` and the log's last entry is that transition of the round.
    async fn then_round(app: &TestApp, cmd: E, from: &str, to: &str) {
        let before = app.log(None).await.len();
        let out = expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &cmd).await,
            cmd.command(),
        );
        assert_eq!((out.from.as_str(), out.to.as_str()), (from, to));
        let log = app.log(None).await;
        assert_eq!(log.len(), before + 1);
        let last = log.last().expect("an entry");
        assert_eq!(
            (
                last.workflow.as_str(),
                last.from_state.as_str(),
                last.command.as_str(),
                last.to_state.as_str()
            ),
            ("evaluation", from, cmd.command(), to)
        );
        assert_eq!(last.instance_id, out.round.id);
    }

    both_backends!(evaluation_new_record, |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        then_round(
            &app,
            E::Record {
                date: d(2025, 12, 20),
                present: 8,
                grades: grades(&m),
            },
            "new",
            "recorded",
        )
        .await;
    });

    both_backends!(evaluation_recorded_amend, |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        round(&app, &m, 2025, false).await;
        then_round(
            &app,
            E::Amend {
                date: d(2025, 12, 21),
                present: 9,
                grades: grades(&m),
            },
            "recorded",
            "recorded",
        )
        .await;
    });

    both_backends!(evaluation_recorded_approve, |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        round(&app, &m, 2025, false).await;
        then_round(
            &app,
            E::Approve {
                date: d(2026, 1, 10),
                org: SCHOOL.into(),
            },
            "recorded",
            "approved",
        )
        .await;
    });

    both_backends!(
        evaluation_approved_reevaluate_advise_close,
        |app| async move {
            let app = app.with_school().await;
            let m = app.with_party_branch(10, 0).await.good;
            round(&app, &m, 2025, true).await;
            then_round(
                &app,
                E::Reevaluate {
                    date: d(2026, 4, 20),
                    member: m[9].clone(),
                    grade: Grade::Unqualified,
                },
                "approved",
                "approved",
            )
            .await;
            then_round(
                &app,
                E::AdviseWithdrawal {
                    date: d(2026, 5, 1),
                    member: m[9].clone(),
                },
                "approved",
                "approved",
            )
            .await;
            then_round(
                &app,
                E::Close {
                    date: d(2026, 5, 2),
                },
                "approved",
                "closed",
            )
            .await;
        }
    );

    fn vote(date: Date) -> P {
        P::Vote {
            date,
            entitled: None,
            present: 9,
            yes: 8,
            no: 1,
            abstain: 0,
        }
    }

    /// The commands that bring a recommendation of `year` (2024 or 2026) to `state`.
    fn path(year: i32, state: &str) -> Vec<P> {
        let all = [
            P::Nominate {
                date: d(year, 3, 1),
            },
            vote(d(year, 3, 8)),
            P::Publicise {
                date: d(year, 3, 11),
            },
            P::Recommend {
                date: d(year, 3, 20),
                org: SCHOOL.into(),
            },
        ];
        let n = match state {
            "new" => 0,
            "nominated" => 1,
            "branch_voted" => 2,
            "publicised" => 3,
            _ => 4,
        };
        all.into_iter().take(n).collect()
    }

    /// Given a member of PARTY_BRANCH with a recommendation in `from` (of `year`), graded in the round before.
    async fn given(app: &TestApp, year: i32, from: &str) -> String {
        let m = app.with_party_branch(10, 0).await.good;
        round(app, &m, year - 1, true).await;
        let who = m[0].clone();
        for cmd in path(year, from) {
            expect_ok(app.party(&who, None, &cmd).await, cmd.command());
        }
        who
    }

    /// When `cmd`, then `from` → `to` and the member's log gains `expected` (workflow, from, command, to).
    async fn then_party(
        app: &TestApp,
        who: &str,
        cmd: P,
        from: &str,
        to: &str,
        expected: &[(&str, &str, &str, &str)],
    ) {
        let before = app.log(Some(who)).await.len();
        let out = expect_ok(app.party(who, None, &cmd).await, cmd.command());
        assert_eq!((out.from.as_str(), out.to.as_str()), (from, to));
        let log = app.log(Some(who)).await;
        let got: Vec<(String, String, String, String)> = log[before..]
            .iter()
            .map(|r: &LogRow| {
                (
                    r.workflow.clone(),
                    r.from_state.clone(),
                    r.command.clone(),
                    r.to_state.clone(),
                )
            })
            .collect();
        let want: Vec<(String, String, String, String)> = expected
            .iter()
            .map(|(a, b, c, e)| (a.to_string(), b.to_string(), c.to_string(), e.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    both_backends!(party_new_nominate, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2026, "new").await;
        then_party(
            &app,
            &who,
            P::Nominate {
                date: d(2026, 3, 1),
            },
            "new",
            "nominated",
            &[("party_recommendation", "new", "nominate", "nominated")],
        )
        .await;
    });

    both_backends!(party_nominated_vote, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2026, "nominated").await;
        then_party(
            &app,
            &who,
            vote(d(2026, 3, 8)),
            "nominated",
            "branch_voted",
            &[("party_recommendation", "nominated", "vote", "branch_voted")],
        )
        .await;
    });

    both_backends!(party_branch_voted_publicise, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2026, "branch_voted").await;
        then_party(
            &app,
            &who,
            P::Publicise {
                date: d(2026, 3, 11),
            },
            "branch_voted",
            "publicised",
            &[(
                "party_recommendation",
                "branch_voted",
                "publicise",
                "publicised",
            )],
        )
        .await;
    });

    both_backends!(party_publicised_recommend, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2026, "publicised").await;
        let before = app.log(Some(&who)).await.len();
        then_party(
            &app,
            &who,
            P::Recommend {
                date: d(2026, 3, 20),
                org: SCHOOL.into(),
            },
            "publicised",
            "recommended",
            &[
                (
                    "party_recommendation",
                    "publicised",
                    "recommend",
                    "recommended",
                ),
                ("standing", "member", "recommend", "recommended_for_party"),
            ],
        )
        .await;
        assert_eq!(app.log(Some(&who)).await.len(), before + 2);
    });

    both_backends!(party_recommended_accept, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2024, "recommended").await;
        then_party(
            &app,
            &who,
            P::Accept {
                date: d(2025, 6, 1),
                party_org: "中共某校委员会".into(),
            },
            "recommended",
            "accepted_by_party",
            &[
                (
                    "party_recommendation",
                    "recommended",
                    "accept",
                    "accepted_by_party",
                ),
                (
                    "standing",
                    "recommended_for_party",
                    "join_party",
                    "party_member",
                ),
            ],
        )
        .await;
    });

    both_backends!(party_recommended_decline, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2024, "recommended").await;
        then_party(
            &app,
            &who,
            P::Decline {
                date: d(2025, 6, 1),
                party_org: "中共某校委员会".into(),
                reason: "名额已满".into(),
            },
            "recommended",
            "declined",
            &[
                ("party_recommendation", "recommended", "decline", "declined"),
                (
                    "standing",
                    "recommended_for_party",
                    "end_recommendation",
                    "member",
                ),
            ],
        )
        .await;
    });

    // A held recommendation cancelled (e.g. an objection upheld after the recommendation): the standing returns
    // from `recommended_for_party` to `member` in the same transaction. (A probation or a departure from the League
    // cancels it too: tests/tests/party_rules.rs, standing_transitions.rs.)
    both_backends!(party_recommended_cancel, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2024, "recommended").await;
        then_party(
            &app,
            &who,
            P::Cancel {
                date: d(2025, 6, 1),
                reason: "经核实不再符合推优条件".into(),
            },
            "recommended",
            "cancelled",
            &[
                ("party_recommendation", "recommended", "cancel", "cancelled"),
                (
                    "standing",
                    "recommended_for_party",
                    "end_recommendation",
                    "member",
                ),
            ],
        )
        .await;
        assert_eq!(app.standing_state(&who).await, "member");
        assert_eq!(app.verify_fault().await, None);
    });

    both_backends!(party_recommended_expire, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2024, "recommended").await;
        let before = app.log(Some(&who)).await.len();
        let r = expect_ok(app.sweep(today()).await, "sweep");
        assert_eq!(r.recommendations_expired, 1);
        let log = app.log(Some(&who)).await;
        let got: Vec<(&str, &str, &str, &str)> = log[before..]
            .iter()
            .map(|r| {
                (
                    r.workflow.as_str(),
                    r.from_state.as_str(),
                    r.command.as_str(),
                    r.to_state.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("party_recommendation", "recommended", "expire", "expired"),
                (
                    "standing",
                    "recommended_for_party",
                    "end_recommendation",
                    "member"
                )
            ]
        );
        assert_eq!(log[before].effective_date, d(2026, 3, 20));
    });

    both_backends!(party_nominated_cancel, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2026, "nominated").await;
        then_party(
            &app,
            &who,
            P::Cancel {
                date: d(2026, 3, 5),
                reason: "本人放弃".into(),
            },
            "nominated",
            "cancelled",
            &[("party_recommendation", "nominated", "cancel", "cancelled")],
        )
        .await;
    });

    both_backends!(party_branch_voted_cancel, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2026, "branch_voted").await;
        then_party(
            &app,
            &who,
            P::Cancel {
                date: d(2026, 3, 9),
                reason: "本人放弃".into(),
            },
            "branch_voted",
            "cancelled",
            &[(
                "party_recommendation",
                "branch_voted",
                "cancel",
                "cancelled",
            )],
        )
        .await;
    });

    both_backends!(party_publicised_cancel, |app| async move {
        let app = app.with_school().await;
        let who = given(&app, 2026, "publicised").await;
        then_party(
            &app,
            &who,
            P::Cancel {
                date: d(2026, 3, 12),
                reason: "公示期间收到反映，经核实属实".into(),
            },
            "publicised",
            "cancelled",
            &[("party_recommendation", "publicised", "cancel", "cancelled")],
        )
        .await;
    });
}
