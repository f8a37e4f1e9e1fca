//! Transition coverage (STYLE.md, after Temporal sdk-core): one given/when/then test per declared transition of
//! `workflows/admission.v1.toml` and `workflows/standing.v1.toml`, on both backends, and a test that fails when
//! a transition of `tuanji_workflow::builtin()` is missing from [`COVERED`] or [`COVERED`] names one that does
//! not exist.
//!
//! Given: an applicant brought to the `from` state by the standard procedure. When: the command. Then: the
//! outcome goes `from` → `to`, the instance version grows by one, and exactly one log entry records
//! `(workflow, from, command, to)`.

use tuanji_engine::admission::AdmissionCommand as C;
use tuanji_tests::*;

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
    ("standing", "new", "import_member"),
    ("standing", "member", "import_probation"),
];

#[test]
fn every_declared_transition_is_covered() {
    let registry = tuanji_workflow::builtin();
    let mut declared = Vec::new();
    for def in registry.iter() {
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
    assert_eq!(log.len(), log_before + 1);
    let e = log.last().expect("an entry");
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

// The standing machine's transitions, through a legacy roster: given nothing, when a member row (and a member
// row with 留团察看至) is imported, then `new` → `member` (and `member` → `on_probation`) are logged.
both_backends!(
    standing_new_import_member_and_member_import_probation,
    |app| async move {
        assert!(COVERED.contains(&("standing", "new", "import_member")));
        assert!(COVERED.contains(&("standing", "member", "import_probation")));
        let app = app.with_school().await;
        let before = app.counts().await;
        let (good, probation) = (app.new_rid(d(2008, 5, 1)), app.new_rid(d(2008, 6, 1)));
        let csv = format!(
        "姓名,公民身份号码,入团日期,团员编号,留团察看至\n甲,{good},2023-05-04,202300000001,\n乙,{probation},2023-05-04,202300000002,2027-01-31\n"
    );
        let report = expect_ok(
            app.import_roster(SENIOR, csv.as_bytes(), false).await,
            "roster",
        );
        assert_eq!((report.members, report.applicants), (2, 0));
        let after = app.counts().await;
        assert_eq!(after.log, before.log + 3);
        assert_eq!(after.members, before.members + 2);
        let steps = |log: Vec<tuanji_store::LogRow>| {
            log.into_iter()
                .map(|e| (e.workflow, e.from_state, e.command, e.to_state))
                .collect::<Vec<_>>()
        };
        let s = |w: &str, f: &str, c: &str, t: &str| {
            (w.to_owned(), f.to_owned(), c.to_owned(), t.to_owned())
        };
        assert_eq!(
            steps(app.log(Some(&good)).await),
            vec![s("standing", "new", "import_member", "member")]
        );
        assert_eq!(
            steps(app.log(Some(&probation)).await),
            vec![
                s("standing", "new", "import_member", "member"),
                s("standing", "member", "import_probation", "on_probation")
            ]
        );
        let m = expect_ok(app.member_view(&probation).await, "view")
            .member
            .expect("a member row");
        assert_eq!(
            (m.standing.as_str(), m.probation_until),
            ("on_probation", Some(d(2027, 1, 31)))
        );
        let counts = app.branch_counts(SENIOR).await;
        assert_eq!((counts.members, counts.entitled), (5, 4));
    }
);
