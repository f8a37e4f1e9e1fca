//! Regression tests for defects found by adversarial testing of the CLI (each named after the case): bad
//! input is refused with a clear error and writes nothing.

use tuanji_engine::admission::AdmissionCommand;
use tuanji_engine::demo::DemoConfig;
use tuanji_engine::{with_engine, EngineError};
use tuanji_tests::*;

fn rows(r: Result<impl std::fmt::Debug, EngineError>) -> Vec<(usize, Option<String>, String)> {
    match r {
        Err(EngineError::Rows(rows)) => rows
            .into_iter()
            .map(|e| (e.line, e.column, e.reason))
            .collect(),
        other => panic!("expected bad rows, got {other:?}"),
    }
}

both_backends!(org_csv_may_list_children_before_parents, |app| async move {
    let csv = "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
               B1,一班团支部,branch,S,,senior_high,false,\n\
               S,某中学团委,basic_committee,C1,,,,\n\
               C1,某县团委,county,CYLC,,,,\n\
               CYLC,共青团中央,central,,,,,\n";
    let r = app
        .import_org_csv(csv.as_bytes(), false)
        .await
        .expect("imported");
    assert_eq!(r.inserted, 4);
    let orgs = with_engine!(app.engine(), e => e.list_orgs(Some("S")).await).expect("list");
    let paths: Vec<&str> = orgs.iter().map(|o| o.path.as_str()).collect();
    assert_eq!(paths, vec!["/CYLC/C1/S/", "/CYLC/C1/S/B1/"]);
});

both_backends!(
    org_csv_refuses_a_tree_of_the_wrong_shape_and_writes_nothing,
    |app| async move {
        let csv = "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
               CYLC,共青团中央,central,,,,,\n\
               C1,甲县团委,county,CYLC,,,,\n\
               C2,乙县团委,county,C1,,,,\n\
               B0,支部,branch,CYLC,,,,\n\
               X,第二个团中央,central,,,,,\n\
               G1,初三1班,branch,C1,,,true,40\n\
               G2,初三2班,branch,C1,,junior_high,true,\n";
        let got = rows(app.import_org_csv(csv.as_bytes(), false).await);
        assert_eq!(
        got,
        vec![
            (4, Some("kind".into()), "a county cannot sit under a county (`C1`)".into()),
            (6, Some("kind".into()), "the root 团中央 already exists (`CYLC`); there is only one".into()),
            (7, Some("school_level".into()), "a graduating branch needs its school level (junior_high, senior_high, vocational, university)".into()),
            (8, Some("class_size".into()), "a junior- or senior-high graduating branch needs its class size (ADM_CLASS_CAP)".into()),
        ]
    );
        // A missing parent is refused when the file is read.
        let orphan = "code,name,kind,parent\nL1,孤儿,county,\n";
        let got = rows(app.import_org_csv(orphan.as_bytes(), false).await);
        assert_eq!(
            got,
            vec![(
                2,
                Some("parent".into()),
                "parent is empty; only a central organisation has none".into()
            )]
        );
        assert_eq!(app.counts().await.orgs, 0);
    }
);

both_backends!(
    quota_allocation_needs_a_strict_superior_and_a_past_date,
    |app| async move {
        let app = app.with_school().await;
        let err = app
            .allocate_quota(SCHOOL, 2026, 5, Some(SCHOOL), d(2026, 1, 15))
            .await
            .expect_err("self");
        assert_eq!(err.to_string(), "共青团北京市第八十中学委员会 (S001) is not a superior of 共青团北京市第八十中学委员会 (S001) and cannot allocate its numbers");
        let err = app
            .allocate_quota(ROOT, 2026, 5, None, d(2026, 1, 15))
            .await
            .expect_err("root");
        assert_eq!(
            err.to_string(),
            "共青团中央 (CYLC) is the root; no superior can allocate to it"
        );
        let err = app
            .allocate_quota(SCHOOL, 2026, 5, None, d(2026, 12, 1))
            .await
            .expect_err("future");
        assert_eq!(
            err.to_string(),
            "the allocation is dated 2026-12-01, after today (2026-11-30)"
        );
        let err = app
            .allocate_quota(SCHOOL, 2028, 5, None, d(2026, 1, 15))
            .await
            .expect_err("far year");
        assert_eq!(
            err.to_string(),
            "numbers can be allocated up to next year (2027); got 2028"
        );
        assert_eq!(app.quota(SCHOOL, 2026).await.allocated, 0);
    }
);

both_backends!(
    adm_number_required_refuses_a_legacy_number_inside_an_allocated_range,
    |app| async move {
        let app = app.with_school().await.with_quota(SCHOOL, 2026, 10).await;
        let rid = app.new_rid(d(2011, 1, 5));
        let roster =
            format!("姓名,公民身份号码,入团日期,团员编号\n甲,{rid},2026-03-01,202600000001\n");
        let got = rows(
            app.import_roster(NON_GRADUATING, roster.as_bytes(), false)
                .await,
        );
        assert_eq!(got.len(), 1);
        assert!(got[0].2.starts_with("development number 202600000001 lies in the range allocated to 共青团北京市第八十中学委员会 (S001)"), "{got:?}");
        // The allocation is intact: the next approval gets its first number.
        let a = app.applicant_at(NON_GRADUATING, Stage::Admitted).await;
        let v = app.member_view(&a.rid).await.expect("member");
        assert_eq!(
            v.member.and_then(|m| m.development_number).as_deref(),
            Some("202600000001")
        );
    }
);

both_backends!(
    std_probation_and_std_age_out_refuse_impossible_legacy_members,
    |app| async move {
        let app = app.with_school().await;
        let expired = app.new_rid(d(2010, 2, 1));
        let too_long = app.new_rid(d(2010, 3, 1));
        let aged = app.new_rid(d(1998, 1, 1));
        let roster = format!(
        "姓名,公民身份号码,入团日期,团员编号,留团察看至\n甲,{expired},2025-05-04,202591000001,2026-06-30\n乙,{too_long},2025-05-04,202591000002,2028-01-01\n丙,{aged},2012-05-04,,\n"
    );
        let got = rows(
            app.import_roster(NON_GRADUATING, roster.as_bytes(), false)
                .await,
        );
        let reasons: Vec<(usize, &str)> = got.iter().map(|(l, _, r)| (*l, r.as_str())).collect();
        assert_eq!(
            reasons[0],
            (
                2,
                "the probation ended on 2026-06-30; import the member without 留团察看至"
            )
        );
        assert_eq!(reasons[1], (3, "a probation lasts 6 or 12 months; 2028-01-01 is more than 12 months from today (2026-11-30)"));
        assert_eq!(reasons[2].0, 4);
        assert!(reasons[2].1.ends_with("is 28: members leave the League at 28 (超龄离团); League posts, which keep a member on, are not recorded yet"), "{reasons:?}");
        assert_eq!(reasons.len(), 3);
    }
);

both_backends!(
    adm_mentors_refuses_the_same_mentor_twice,
    |app| async move {
        let app = app.with_school().await;
        let a = app.applicant_at(NON_GRADUATING, Stage::Activist).await;
        let m = app.members(NON_GRADUATING).good[0].clone();
        let cmd = AdmissionCommand::AssignMentors {
            date: d(2026, 4, 13),
            members: vec![m.clone(), m],
            party_members: vec![],
        };
        let v = expect_rule(app.step(&a.rid, &cmd).await, "ADM_MENTORS");
        assert_eq!(v.message, "the same mentor is named twice");
        assert_eq!(app.instance(&a.rid).await, ("activist".to_owned(), 3));
    }
);

both_backends!(
    adm_publicity_refuses_an_objection_after_publicity,
    |app| async move {
        let app = app.with_school().await;
        let a = app.applicant_at(NON_GRADUATING, Stage::Publicised).await;
        let late = AdmissionCommand::RecordObjection {
            date: d(2026, 10, 10),
            text: "迟到的意见".into(),
        };
        let v = expect_rule(app.step(&a.rid, &late).await, "ADM_PUBLICITY");
        assert_eq!(v.message, "objections are raised during publicity (2026-09-28 to 2026-10-09); 2026-10-10 is outside it");
        let on_time = AdmissionCommand::RecordObjection {
            date: d(2026, 10, 9),
            text: "意见".into(),
        };
        expect_ok(
            app.step(&a.rid, &on_time).await,
            "objection on the last day",
        );
    }
);

both_backends!(
    id_format_a_mistyped_id_is_an_id_error_not_an_unknown_person,
    |app| async move {
        let app = app.with_school().await;
        let err = app
            .member_view("11010820O801105004")
            .await
            .expect_err("letter O");
        match err {
            EngineError::Rule(v) => assert_eq!(v.code.as_str(), "ID_FORMAT"),
            other => panic!("expected ID_FORMAT, got {other:?}"),
        }
        let err = app
            .member_view("110108-20080110-5004")
            .await
            .expect_err("separators");
        assert_eq!(err.to_string(), "`110108-********-5004` is neither an 18-character resident ID, a 12-digit development number nor an instance id");
    }
);

both_backends!(
    demo_with_a_handful_of_applicants_finishes,
    |app| async move {
        let cfg = DemoConfig {
            seed: 1,
            applicants: 5,
            data_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../data/china-division").into(),
        };
        let s = with_engine!(app.engine(), e => e.demo(&cfg, &|_, _, _| {}).await).expect("demo");
        assert_eq!(s.states.values().sum::<i64>(), 5);
        let none = DemoConfig {
            applicants: 0,
            ..cfg
        };
        let err =
            with_engine!(app.engine(), e => e.demo(&none, &|_, _, _| {}).await).expect_err("zero");
        assert_eq!(
            err.to_string(),
            "the demo takes 1 to 100000 applicants; got 0"
        );
    }
);

both_backends!(
    org_import_never_changes_an_existing_organisation,
    |app| async move {
        let app = app.with_school().await;
        // Re-importing the graduating class without its flags must not lift its class cap.
        let csv = format!("code,name,kind,parent\n{JUNIOR},初三(1)班团支部,branch,{SCHOOL}\n");
        let got = rows(app.import_org_csv(csv.as_bytes(), false).await);
        assert_eq!(
        got,
        vec![(2, Some("code".into()), format!("`{JUNIOR}` already exists; an import only adds organisations (it never changes or moves one)"))]
    );
        let orgs = with_engine!(app.engine(), e => e.list_orgs(Some(JUNIOR)).await).expect("list");
        assert_eq!((orgs[0].graduating, orgs[0].class_size), (true, Some(20)));
    }
);

both_backends!(national_tree_refuses_a_second_root, |app| async move {
    let app = app.with_school().await;
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/china-division"
    ));
    let err = with_engine!(app.engine(), e => e.import_national_tree(dir, &|_, _, _| {}).await)
        .expect_err("root exists");
    assert_eq!(
        err.to_string(),
        "the national tree is already imported (共青团中央 is present); nothing was written"
    );
});

both_backends!(
    adm_quota_exhausted_an_allocation_dated_after_the_approval_does_not_count,
    |app| async move {
        let app = app.with_school().await;
        expect_ok(
            app.allocate_quota(SCHOOL, 2026, 5, None, d(2026, 11, 1))
                .await,
            "allocation of 1 November",
        );
        let a = app
            .applicant_at(NON_GRADUATING, Stage::BranchApproved)
            .await;
        let approve = AdmissionCommand::Approve {
            date: d(2026, 10, 23),
            committee: SCHOOL.into(),
        };
        let v = expect_rule(app.step(&a.rid, &approve).await, "ADM_QUOTA_EXHAUSTED");
        assert!(v.message.ends_with("has no free development number for 2026 allocated on or before 2026-10-23; ask the superior committee for an allocation"), "{v:?}");
        let later = AdmissionCommand::Approve {
            date: d(2026, 11, 2),
            committee: SCHOOL.into(),
        };
        let out = expect_ok(
            app.step(&a.rid, &later).await,
            "approval after the allocation",
        );
        assert_eq!(out.number.as_deref(), Some("202600000001"));
    }
);

both_backends!(free_text_steps_refuse_empty_text, |app| async move {
    let app = app.with_school().await;
    let a = app.applicant_at(NON_GRADUATING, Stage::Publicised).await;
    let cmd = AdmissionCommand::RecordObjection {
        date: d(2026, 9, 30),
        text: "  ".into(),
    };
    let err = app.step(&a.rid, &cmd).await.expect_err("empty");
    assert_eq!(err.to_string(), "text is empty");
});
