//! Identity rules (DOMAIN.md §13): ID_FORMAT, ID_CHECKSUM, ID_BIRTH_DATE, ID_UNIQUE, through `apply`.
//! Every refusal also checks that nothing was written.

use tuanji_engine::admission::AdmissionCommand;
use tuanji_tests::*;

/// Applies with `rid` on 2026-03-02 and expects the refusal `code`, with every table unchanged.
async fn refuse_apply(app: &TestApp, rid: &str, branch: &str, code: &str) -> String {
    let before = app.counts().await;
    let mut a = app.applicant(branch);
    a.rid = rid.to_owned();
    let v = expect_rule(
        app.apply(&TestApp::application(&a, d(2026, 3, 2))).await,
        code,
    );
    assert_eq!(
        app.counts().await,
        before,
        "a refused application wrote something"
    );
    v.message
}

/// Applies with `rid` on 2026-03-02 and expects it accepted: one person, one instance, one log entry.
async fn accept_apply(app: &TestApp, rid: &str, branch: &str) {
    let before = app.counts().await;
    let mut a = app.applicant(branch);
    a.rid = rid.to_owned();
    let out = expect_ok(
        app.apply(&TestApp::application(&a, d(2026, 3, 2))).await,
        "apply",
    );
    assert_eq!((out.from.as_str(), out.to.as_str()), ("new", "applicant"));
    let after = app.counts().await;
    assert_eq!(after.instances, before.instances + 1);
    assert_eq!(after.log, before.log + 1);
}

both_backends!(
    id_format_refuses_17_characters_and_accepts_lowercase_x,
    |app| async move {
        let app = app.with_school().await;
        let rid = app.new_rid(d(2011, 9, 1));
        let msg = refuse_apply(&app, &rid[..17], NON_GRADUATING, "ID_FORMAT").await;
        assert!(
            !msg.contains(&rid[..17]),
            "the message shows the full ID: {msg}"
        );
        refuse_apply(
            &app,
            &format!("{}A", &rid[..17]),
            NON_GRADUATING,
            "ID_FORMAT",
        )
        .await;

        // An ID whose check character is X, written with a lowercase x: accepted and stored as X.
        let with_x = (1..1000)
            .map(|seq| resident_id("110105", d(2011, 9, 1), seq))
            .find(|r| r.ends_with('X'))
            .expect("some sequence number gives the check character X");
        accept_apply(&app, &with_x.to_lowercase(), NON_GRADUATING).await;
        assert!(app.stored_resident_ids().await.contains(&with_x));
        assert_eq!(app.instance(&with_x).await, ("applicant".to_owned(), 1));
    }
);

both_backends!(id_checksum_refuses_wrong_check_digit, |app| async move {
    let app = app.with_school().await;
    // DOMAIN.md: 130402198207290622 is invalid (the check should be 4).
    let msg = refuse_apply(&app, "130402198207290622", NON_GRADUATING, "ID_CHECKSUM").await;
    assert!(
        msg.contains('4'),
        "the message names the right check character: {msg}"
    );
    let rid = app.new_rid(d(2011, 9, 1));
    refuse_apply(&app, &with_wrong_check(&rid), NON_GRADUATING, "ID_CHECKSUM").await;
    accept_apply(&app, &rid, NON_GRADUATING).await;
});

both_backends!(
    id_birth_date_refuses_impossible_and_future_dates,
    |app| async move {
        let app = app.with_school().await;
        // 2011-02-30 does not exist; 2026-12-01 is after today (2026-11-30).
        let impossible = {
            let first17 = "11010520110230001";
            format!(
                "{first17}{}",
                tuanji_domain::check_character(first17).expect("17 digits")
            )
        };
        refuse_apply(&app, &impossible, NON_GRADUATING, "ID_BIRTH_DATE").await;
        let future = resident_id("110105", d(2026, 12, 1), 3);
        refuse_apply(&app, &future, NON_GRADUATING, "ID_BIRTH_DATE").await;
        // 29 February is a real birth date (2012 is a leap year).
        let leap = app.new_rid(d(2012, 2, 29));
        accept_apply(&app, &leap, NON_GRADUATING).await;
        let view = expect_ok(app.member_view(&leap).await, "member view");
        assert_eq!(view.birth_month.to_string(), "2012-02");
        assert_eq!(view.sex, "male");
    }
);

both_backends!(
    id_unique_refuses_a_second_live_application,
    |app| async move {
        let app = app.with_school().await;
        let rid = app.new_rid(d(2011, 9, 1));
        accept_apply(&app, &rid, NON_GRADUATING).await;
        let msg = refuse_apply(&app, &rid, SENIOR, "ID_UNIQUE").await;
        assert!(
            msg.contains(NON_GRADUATING),
            "the message names the organisation that holds the person: {msg}"
        );
        // After the applicant withdraws, a new application is accepted (same person, a new instance).
        expect_ok(
            app.step(
                &rid,
                &AdmissionCommand::Withdraw {
                    date: d(2026, 3, 5),
                    reason: "转学".into(),
                },
            )
            .await,
            "withdraw",
        );
        let before = app.counts().await;
        let mut a = app.applicant(SENIOR);
        a.rid = rid.clone();
        expect_ok(
            app.apply(&TestApp::application(&a, d(2026, 3, 9))).await,
            "second application",
        );
        let after = app.counts().await;
        assert_eq!(
            after.persons, before.persons,
            "the person is reused, not duplicated"
        );
        assert_eq!(after.instances, before.instances + 1);
        assert_eq!(app.instance(&rid).await, ("applicant".to_owned(), 1));
    }
);

both_backends!(
    id_unique_refuses_a_member_applying_again,
    |app| async move {
        let app = app.with_school().await;
        let member = app.members(JUNIOR).good[0].clone();
        let msg = refuse_apply(&app, &member, NON_GRADUATING, "ID_UNIQUE").await;
        assert!(
            msg.contains(JUNIOR),
            "the message names the member's branch: {msg}"
        );
        // The same person in a roster of another branch is refused too.
        let before = app.counts().await;
        let csv = format!("姓名,公民身份号码,申请日期\n张三,{member},2026-03-02\n");
        match app.import_roster(SENIOR, csv.as_bytes(), false).await {
            Err(tuanji_engine::EngineError::Rows(rows)) => {
                assert_eq!(rows.len(), 1);
                assert_eq!(rows[0].line, 2);
                assert_eq!(rows[0].code.map(|c| c.as_str()), Some("ID_UNIQUE"));
            }
            other => panic!("expected one ID_UNIQUE row error, got {other:?}"),
        }
        assert_eq!(app.counts().await, before);
    }
);
