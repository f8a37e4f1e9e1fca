//! Roster import (花名册): all rows or none, every bad row reported with its line and rule code, GB18030 files,
//! dry runs, and IMP_LEGACY_AGE for legacy members.

use tuanji_engine::roster::RosterReport;
use tuanji_engine::EngineError;
use tuanji_tests::*;

/// The `(line, rule code)` of each row error, or a panic with the outcome.
fn row_errors(r: Result<RosterReport, EngineError>) -> Vec<(usize, Option<&'static str>)> {
    match r {
        Err(EngineError::Rows(rows)) => rows
            .iter()
            .map(|e| (e.line, e.code.map(|c| c.as_str())))
            .collect(),
        other => panic!("expected row errors, got {other:?}"),
    }
}

/// A roster of applicants: `(name, resident ID or cell text, application date)`.
fn applicants_csv(rows: &[(&str, String, &str)]) -> String {
    let mut csv = String::from("姓名,公民身份号码,申请日期\n");
    for (name, rid, date) in rows {
        csv.push_str(&format!("{name},{rid},{date}\n"));
    }
    csv
}

both_backends!(
    roster_import_reports_every_bad_row_and_writes_nothing,
    |app| async move {
        let app = app.with_school().await;
        let good: Vec<String> = (0..3).map(|_| app.new_rid(d(2011, 9, 1))).collect();
        let bad_checksum = with_wrong_check(&app.new_rid(d(2011, 9, 1)));
        let thirteen = app.new_rid(d(2012, 6, 1));
        let csv = applicants_csv(&[
            ("甲", good[0].clone(), "2026-03-02"),
            ("乙", bad_checksum, "2026-03-02"),
            ("丙", good[1].clone(), "2026-03-02"),
            ("丁", "1.10105E+17".to_owned(), "2026-03-02"),
            ("戊", good[2].clone(), "2026-03-02"),
            ("己", thirteen, "2026-03-02"),
        ]);
        let before = app.counts().await;
        let errors = row_errors(
            app.import_roster(NON_GRADUATING, csv.as_bytes(), false)
                .await,
        );
        assert_eq!(
            errors,
            vec![
                (3, Some("ID_CHECKSUM")),
                (5, Some("ID_FORMAT")),
                (7, Some("ADM_AGE_MIN"))
            ]
        );
        assert_eq!(app.counts().await, before);
    }
);

both_backends!(
    roster_import_adm_age_min_row_refuses_the_whole_file,
    |app| async move {
        let app = app.with_school().await;
        let good: Vec<String> = (0..3).map(|_| app.new_rid(d(2011, 9, 1))).collect();
        let thirteen = app.new_rid(d(2012, 6, 1));
        let csv = applicants_csv(&[
            ("甲", good[0].clone(), "2026-03-02"),
            ("乙", good[1].clone(), "2026-03-02"),
            ("丙", thirteen, "2026-03-02"),
            ("丁", good[2].clone(), "2026-03-02"),
        ]);
        let before = app.counts().await;
        let errors = row_errors(
            app.import_roster(NON_GRADUATING, csv.as_bytes(), false)
                .await,
        );
        assert_eq!(errors, vec![(4, Some("ADM_AGE_MIN"))]);
        assert_eq!(
            app.counts().await,
            before,
            "persons, instances, log: nothing written"
        );
        for rid in &good {
            assert!(
                app.member_view(rid).await.is_err(),
                "a good row was written"
            );
        }
    }
);

both_backends!(
    roster_import_reports_every_file_level_bad_row,
    |app| async move {
        let app = app.with_school().await;
        let good: Vec<String> = (0..3).map(|_| app.new_rid(d(2011, 9, 1))).collect();
        let bad_checksum = with_wrong_check(&app.new_rid(d(2011, 9, 1)));
        let csv = applicants_csv(&[
            ("甲", good[0].clone(), "2026-03-02"),
            ("乙", bad_checksum, "2026-03-02"),
            ("丙", good[1].clone(), "2026-03-02"),
            ("丁", "1.10105E+17".to_owned(), "2026-03-02"),
            ("戊", good[2].clone(), "2026-03-02"),
        ]);
        let before = app.counts().await;
        let errors = row_errors(
            app.import_roster(NON_GRADUATING, csv.as_bytes(), false)
                .await,
        );
        assert_eq!(
            errors,
            vec![(3, Some("ID_CHECKSUM")), (5, Some("ID_FORMAT"))]
        );
        assert_eq!(app.counts().await, before);
    }
);

both_backends!(roster_import_reads_gb18030, |app| async move {
    let app = app.with_school().await;
    let (a, b) = (app.new_rid(d(2011, 9, 1)), app.new_rid(d(2011, 10, 1)));
    let csv = format!("姓名,性别,民族,公民身份号码,班级,申请日期\n欧阳明,男,汉族,{a},高一(2)班,2026年3月2日\n李娜,女,回族,{b},高一(2)班,2026/3/2\n");
    // Make b's sex match its ID (sequence parity decides).
    let sex_b = if b.as_bytes()[16] % 2 == 1 {
        "男"
    } else {
        "女"
    };
    let sex_a = if a.as_bytes()[16] % 2 == 1 {
        "男"
    } else {
        "女"
    };
    let csv = csv
        .replacen(",男,汉族", &format!(",{sex_a},汉族"), 1)
        .replacen(",女,回族", &format!(",{sex_b},回族"), 1);
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&csv);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the file really is not UTF-8"
    );
    let before = app.counts().await;
    let report = expect_ok(
        app.import_roster(NON_GRADUATING, &bytes, false).await,
        "GB18030 roster",
    );
    assert_eq!(report.encoding, "gb18030");
    assert_eq!(
        (report.applicants, report.members, report.dry_run),
        (2, 0, false)
    );
    let after = app.counts().await;
    assert_eq!(
        (after.persons, after.instances, after.log),
        (before.persons + 2, before.instances + 2, before.log + 2)
    );
    let view = expect_ok(app.member_view(&a).await, "view");
    assert_eq!(view.name, "欧阳明");
    let adm = view.admission.expect("an admission");
    assert_eq!(
        (adm.state.as_str(), adm.data.application_date),
        ("applicant", Some(d(2026, 3, 2)))
    );
    assert_eq!(adm.data.class.as_deref(), Some("高一(2)班"));
});

both_backends!(roster_import_dry_run_writes_nothing, |app| async move {
    let app = app.with_school().await;
    let rids: Vec<String> = (0..3).map(|_| app.new_rid(d(2011, 9, 1))).collect();
    let csv = applicants_csv(&[
        ("甲", rids[0].clone(), "2026-03-02"),
        ("乙", rids[1].clone(), "2026-03-02"),
        ("丙", rids[2].clone(), "2026-03-02"),
    ]);
    let before = app.counts().await;
    let report = expect_ok(
        app.import_roster(NON_GRADUATING, csv.as_bytes(), true)
            .await,
        "dry run",
    );
    assert_eq!(
        (report.applicants, report.dry_run, report.encoding.as_str()),
        (3, true, "utf8")
    );
    assert_eq!(app.counts().await, before);
    // The same file for real.
    let report = expect_ok(
        app.import_roster(NON_GRADUATING, csv.as_bytes(), false)
            .await,
        "import",
    );
    assert_eq!((report.applicants, report.dry_run), (3, false));
    assert_eq!(app.counts().await.instances, before.instances + 3);
    // A second import of the same people is refused row by row (ID_UNIQUE).
    let errors = row_errors(
        app.import_roster(NON_GRADUATING, csv.as_bytes(), false)
            .await,
    );
    assert_eq!(
        errors,
        vec![
            (2, Some("ID_UNIQUE")),
            (3, Some("ID_UNIQUE")),
            (4, Some("ID_UNIQUE"))
        ]
    );
});

both_backends!(
    imp_legacy_age_13_with_a_number_since_2017_12_before,
    |app| async move {
        let app = app.with_school().await;
        let header = "姓名,公民身份号码,入团日期,团员编号\n";
        // Born 2005-06-01: 12 on 2018-05-04, 13 on 2018-06-01; 11 on 2016-09-01 … 12 on 2017-06-01 (numbered era).
        let young = app.new_rid(d(2005, 6, 1));
        let before = app.counts().await;
        let csv = format!("{header}甲,{young},2018-05-04,201800000011\n");
        assert_eq!(
            row_errors(app.import_roster(SENIOR, csv.as_bytes(), false).await),
            vec![(2, Some("IMP_LEGACY_AGE"))]
        );
        // Since 2017 a number is required.
        let csv = format!("{header}甲,{young},2018-06-01,\n");
        assert_eq!(
            row_errors(app.import_roster(SENIOR, csv.as_bytes(), false).await),
            vec![(2, Some("IMP_LEGACY_AGE"))]
        );
        // Before 2017: at least 12.
        let old_era = app.new_rid(d(2004, 10, 1));
        let csv = format!("{header}乙,{old_era},2016-09-01,\n");
        assert_eq!(
            row_errors(app.import_roster(SENIOR, csv.as_bytes(), false).await),
            vec![(2, Some("IMP_LEGACY_AGE"))]
        );
        assert_eq!(app.counts().await, before);

        // Accepted: 13 in 2018 with a number of 2018; 12 in 2016 without a number.
        let old_era_ok = app.new_rid(d(2004, 6, 1));
        let csv =
            format!("{header}甲,{young},2018-06-01,201800000011\n乙,{old_era_ok},2016-09-01,\n");
        let report = expect_ok(
            app.import_roster(SENIOR, csv.as_bytes(), false).await,
            "legacy members",
        );
        assert_eq!(report.members, 2);
        let m = expect_ok(app.member_view(&young).await, "view")
            .member
            .expect("a member");
        assert_eq!(
            (
                m.membership_date,
                m.development_number.as_deref(),
                m.source.as_str()
            ),
            (d(2018, 6, 1), Some("201800000011"), "legacy")
        );
        let m = expect_ok(app.member_view(&old_era_ok).await, "view")
            .member
            .expect("a member");
        assert_eq!(m.development_number, None);
        assert_eq!(app.counts().await.members, before.members + 2);
    }
);
