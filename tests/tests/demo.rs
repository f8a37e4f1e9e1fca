//! `tuanji demo` end to end: its summary has exactly the counts its seed implies. The expected numbers are
//! computed here from the generated roster and the demo's published scenario (which applicant meets which
//! refusal), independently of the engine: roster refusals from the generator's flags, procedure refusals from
//! the scenario, and admissions from a simple model of class caps (ADM_CLASS_CAP) and quotas
//! (ADM_QUOTA_EXHAUSTED) applied in the demo's order. The relation part (graduation, transfers, the sweep, the
//! refused deletions) is modelled the same way from the scenario published in `tuanji_engine::demo`: last
//! year's class has a fixed fate per member, this year's senior-high graduates one by their position `g % 10`.
//! Standing, annual evaluation and Party recommendation happen among legacy members and employees whose number
//! does not depend on the seed: their counts are constants of the scenario.

use std::collections::BTreeMap;
use tuanji_engine::demo::{
    roster_config, DemoConfig, TransferCounts, CLASS_SIZE, JUNIOR_QUOTA, LAST_YEAR_MEMBERS,
    SENIOR_QUOTA,
};
use tuanji_engine::relation::SweepReport;
use tuanji_engine::with_engine;
use tuanji_import::generator::generate;
use tuanji_tests::*;

const APPLICANTS: usize = 600;
const SEED: u64 = 7;

fn branch_codes() -> Vec<String> {
    let mut codes = Vec::new();
    for committee in ["110108-JH", "110108-SH"] {
        for kind in ["G", "N"] {
            for class in 1..=6 {
                codes.push(format!("{committee}-{kind}{class}"));
            }
        }
    }
    codes
}

#[derive(Debug, Default, PartialEq)]
struct Expected {
    refused: BTreeMap<String, usize>,
    flagged: BTreeMap<String, usize>,
    states: BTreeMap<String, i64>,
    used: (i64, i64),
    transitions: i64,
    members_graduated: usize,
    transfers: TransferCounts,
    relation_states: BTreeMap<String, i64>,
    deletion_attempts: usize,
    relation_transitions: i64,
}

/// The relation part of the demo, from the senior-high graduating classes' members in the demo's order
/// (`true` for a member admitted this year, `false` for a legacy member).
fn expected_relations(e: &mut Expected, graduates: &[bool]) {
    // g % 10 → how many graduates.
    let n = |k: usize| (0..graduates.len()).filter(|g| g % 10 == k).count() as i64;
    // Last year's class (20 members): 15 transfers completed (0–6 university, 7–10 employer, 11–13 township,
    // 14 employer), 2 rejected (6, 11), 1 cancelled (14), 1 open and overdue (17), 2 retained (15, 16),
    // 1 lost contact (18), 1 still pending (19).
    assert_eq!(LAST_YEAR_MEMBERS, 20);
    let completed = 15 + n(0) + n(1) + n(2) + n(4);
    e.transfers = TransferCounts {
        open: 1 + n(5),
        completed,
        rejected: 2 + n(4),
        cancelled: 1 + n(6),
        overdue: 1,
    };
    e.members_graduated = LAST_YEAR_MEMBERS + graduates.len();
    // A completed transfer ends a stay (`transferred`) and starts one at the receiving branch (`at_branch`).
    for (state, count) in [
        ("at_branch", completed),
        ("transferred", completed),
        ("retained", 2 + n(3) + n(6)),
        ("transfer_requested", 1 + n(5)),
        ("lost_contact", 1),
        ("graduated_pending_transfer", 1 + n(7) + n(8) + n(9)),
    ] {
        if count > 0 {
            e.relation_states.insert(state.to_owned(), count);
        }
    }
    // Deletions: g % 10 of 5 (open transfer) and 7 (pending), last year's 15, 17, 18; one annulment of the
    // first admitted graduate with g % 10 = 8.
    let annul = graduates
        .iter()
        .enumerate()
        .any(|(g, admitted)| g % 10 == 8 && *admitted);
    e.deletion_attempts = (n(5) + n(7) + 3) as usize + usize::from(annul);
    // Log entries: `open` + `graduate` per graduate; last year's class: 4 per university transfer (request,
    // approve, complete, receive) ×6, 6 for the redone one, 5 per employer transfer (request, two approvals,
    // complete, receive) ×4, 7 for the rejected-then-township one, 5 per township transfer (request, approve,
    // assign, complete, receive) ×2, 7 for the cancelled-then-employer one, 1 per retention ×2, 1 for the
    // unanswered request, 1 contact; the sweep: 1 overdue, 1 lost contact.
    let last_year = 24 + 6 + 20 + 7 + 10 + 7 + 2 + 1 + 1 + 2;
    e.relation_transitions = 2 * e.members_graduated as i64
        + last_year
        + 4 * n(0)
        + 5 * n(1)
        + 5 * n(2)
        + n(3)
        + 6 * n(4)
        + 2 * n(5)
        + 3 * n(6);
}

fn expected(cfg: &DemoConfig) -> Expected {
    let codes = branch_codes();
    let rows = generate(&roster_config(cfg, &codes));
    let mut e = Expected::default();
    let bump = |m: &mut BTreeMap<String, usize>, k: &str, n: usize| {
        if n > 0 {
            *m.entry(k.to_owned()).or_insert(0) += n;
        }
    };
    bump(
        &mut e.refused,
        "ID_CHECKSUM",
        rows.iter().filter(|r| r.bad_checksum).count(),
    );
    bump(
        &mut e.refused,
        "ADM_AGE_MIN",
        rows.iter()
            .filter(|r| r.under_age && !r.bad_checksum)
            .count(),
    );
    // The accepted applicants in the demo's order: branch by branch, roster order within a branch.
    let accepted: Vec<&str> = codes
        .iter()
        .flat_map(|c| {
            rows.iter()
                .filter(move |r| &r.class == c && !r.bad_checksum && !r.under_age)
        })
        .map(|r| r.class.as_str())
        .collect();
    let mut room: BTreeMap<&str, i64> = BTreeMap::new();
    for c in &codes {
        // Five legacy members per class; caps of 30 % / 60 % for graduating classes only.
        let cap = match (c.contains("-JH-G"), c.contains("-SH-G")) {
            (true, _) => (CLASS_SIZE * 30 / 100) as i64 - 5,
            (_, true) => (CLASS_SIZE * 60 / 100) as i64 - 5,
            _ => i64::MAX,
        };
        room.insert(c.as_str(), cap);
    }
    let mut quota = [JUNIOR_QUOTA, SENIOR_QUOTA];
    let (mut admitted, mut waiting, mut rejected) = (0i64, 0i64, 0i64);
    let mut first_senior_admitted = false;
    let mut admitted_in: BTreeMap<&str, i64> = BTreeMap::new();
    let mut annulled_in: Option<&str> = None;
    for (i, class) in accepted.iter().enumerate() {
        let unresolved = i % 47 == 13 && i % 43 != 11;
        let failed_vote = i % 53 == 17 && !unresolved;
        bump(&mut e.refused, "ADM_CLASS_HOURS", usize::from(i % 37 == 5));
        bump(&mut e.refused, "ADM_OBSERVATION", usize::from(i % 41 == 7));
        bump(&mut e.refused, "ADM_SPONSORS", usize::from(i % 59 == 19));
        bump(
            &mut e.refused,
            "ADM_PUBLICITY",
            usize::from(i % 29 == 2) + usize::from(unresolved),
        );
        bump(
            &mut e.refused,
            "ADM_MEETING_MAJORITY",
            usize::from(failed_vote),
        );
        bump(
            &mut e.flagged,
            "ADM_TALK_DEADLINE",
            usize::from(i % 31 == 3),
        );
        // apply, talk, activist, mentors, 8 classes, target, pre-review, publicity, form, meeting or rejection
        e.transitions += 17;
        e.transitions += i64::from(i % 43 == 11 || i % 47 == 13) + i64::from(i % 43 == 11);
        if unresolved || failed_vote {
            rejected += 1;
            continue;
        }
        let q = usize::from(class.contains("-SH-"));
        let r = room.get_mut(class).expect("room");
        if *r == 0 {
            bump(&mut e.refused, "ADM_CLASS_CAP", 1);
            waiting += 1;
        } else if quota[q] == 0 {
            bump(&mut e.refused, "ADM_QUOTA_EXHAUSTED", 1);
            waiting += 1;
        } else {
            *r -= 1;
            quota[q] -= 1;
            admitted += 1;
            e.transitions += 4; // approve, open (the standing, standing v1), oath, archive
            bump(&mut e.flagged, "ADM_ARCHIVE", usize::from(i % 67 == 23));
            if q == 1 && !first_senior_admitted {
                annulled_in = Some(class);
            }
            first_senior_admitted |= q == 1;
            *admitted_in.entry(class).or_insert(0) += 1;
        }
    }
    // The senior-high graduating classes' members in the demo's order: five legacy members, then the admitted
    // ones (the annulled one is no member).
    let mut graduates = Vec::new();
    for c in codes.iter().filter(|c| c.contains("-SH-G")) {
        let a = admitted_in.get(c.as_str()).copied().unwrap_or(0)
            - i64::from(annulled_in == Some(c.as_str()));
        graduates.extend([false; 5]);
        graduates.extend((0..a).map(|_| true));
    }
    expected_relations(&mut e, &graduates);
    let annulled = i64::from(first_senior_admitted);
    e.transitions += annulled;
    let mut put = |k: &str, n: i64| {
        if n > 0 {
            e.states.insert(k.to_owned(), n);
        }
    };
    put("admitted", admitted - annulled);
    put("annulled", annulled);
    put("rejected", rejected);
    put("branch_approved", waiting);
    e.used = (JUNIOR_QUOTA - quota[0], SENIOR_QUOTA - quota[1]);
    e
}

both_backends!(
    demo_summary_has_the_exact_counts_its_seed_implies,
    |app| async move {
        let cfg = DemoConfig {
            seed: SEED,
            applicants: APPLICANTS,
            data_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../data/china-division").into(),
        };
        let want = expected(&cfg);
        // The scenario reaches every refusal the demo stages, class caps and the exhausted quota included.
        let staged = [
            "ADM_AGE_MIN",
            "ADM_CLASS_CAP",
            "ADM_CLASS_HOURS",
            "ADM_MEETING_MAJORITY",
            "ADM_OBSERVATION",
            "ADM_PUBLICITY",
            "ADM_QUOTA_EXHAUSTED",
            "ADM_SPONSORS",
            "ID_CHECKSUM",
        ];
        assert_eq!(
            want.refused.keys().map(String::as_str).collect::<Vec<_>>(),
            staged
        );
        let s =
            with_engine!(app.engine(), e => e.demo(&cfg, &|_, _, _| {}).await).expect("demo runs");
        assert_eq!(s.roster_rows, APPLICANTS);
        assert_eq!(
            s.organisations,
            44_701 + 2 + 24 + 7,
            "national tree + 2 school committees + 24 classes + mobile-member branch, last year's class, \
             university and branch, employer and branch, township branch"
        );
        assert_eq!(s.refused, want.refused);
        assert_eq!(s.flagged, want.flagged);
        assert_eq!(s.states, want.states);
        assert_eq!(
            s.admitted,
            want.states.get("admitted").copied().unwrap_or(0)
        );
        assert_eq!(s.transitions, want.transitions);
        let used: Vec<(String, i64, i64, i64)> = s
            .quotas
            .iter()
            .map(|q| (q.org.clone(), q.used, q.voided, q.left))
            .collect();
        assert_eq!(
            used,
            vec![
                (
                    "110108-JH".to_owned(),
                    want.used.0,
                    0,
                    JUNIOR_QUOTA - want.used.0
                ),
                (
                    "110108-SH".to_owned(),
                    want.used.1,
                    1,
                    SENIOR_QUOTA - want.used.1
                ),
            ]
        );
        // Graduation and transfers.
        assert_eq!(s.members_graduated, want.members_graduated);
        assert_eq!(s.transfers, want.transfers);
        assert_eq!(s.relation_states, want.relation_states);
        assert_eq!(
            s.sweep,
            SweepReport {
                as_of: Some(d(2026, 11, 30)),
                overdue: 1,
                lost_contact: 1,
                entries: 2,
                ..SweepReport::default()
            }
        );
        assert_eq!(s.deletion_attempts, want.deletion_attempts);
        assert_eq!(s.deletions_refused, want.deletion_attempts, "TRF_NO_DELETE");
        assert_eq!(s.relation_transitions, want.relation_transitions);
        // Standing and dues (the scenario of `tuanji_engine::demo`): 6 probations (one 9-month refused), one
        // withdrawal, the employer's secretary post, 27 months of organisational life, 60 students paying
        // 0.40 yuan and 3 employees 27.00 yuan; the sweep ages out employees 0, 1 and 3 and ends the three
        // 6-month probations on 2026-11-20.
        let st = &s.standing;
        assert_eq!(
            (st.probations, st.withdrawals, st.posts, st.life_records),
            (6, 1, 1, 27)
        );
        assert_eq!(
            (
                st.dues_payments,
                st.dues_paid_fen,
                st.dues_paid_yuan.as_str()
            ),
            (63, 10_500, "105.00")
        );
        assert_eq!(
            st.refused,
            BTreeMap::from([("STD_PROBATION".to_owned(), 1)])
        );
        // The standing states are read at the end of the demo: the members recommended to the Party after the
        // standing sweep were members then.
        let live = [
            "member",
            "on_probation",
            "recommended_for_party",
            "party_member",
        ]
        .iter()
        .map(|k| st.states.get(*k).copied().unwrap_or(0))
        .sum::<i64>();
        assert_eq!(
            st.sweep,
            tuanji_engine::standing::StandingSweepReport {
                as_of: Some(d(2026, 11, 30)),
                // The aged-out were live; the annulled admission's standing instance is counted in `member`
                // by the instance states but not swept.
                examined: (live + 3 - want.states.get("annulled").copied().unwrap_or(0)) as usize,
                aged_out: 3,
                probation_ended: 3,
                entries: 6,
                ..Default::default()
            }
        );
        // 24 imported on probation (one per class) and the three 12-month probations.
        assert_eq!(st.states.get("on_probation"), Some(&27), "{:?}", st.states);
        assert_eq!(st.states.get("aged_out"), Some(&3), "{:?}", st.states);
        assert_eq!(st.states.get("withdrawn"), Some(&1), "{:?}", st.states);
        // 6 employees registered, 1 post, 27 life, 63 dues, 6 probations, 1 withdrawal, 6 sweep entries.
        assert_eq!(st.transitions, 6 + 1 + 27 + 63 + 6 + 1 + 6);
        // Recommended (高二(1) m2, 高二(3) m1, 高二(5) m3) and accepted by the Party (高二(1) m1); 高二(2) m1 was
        // recommended and declined, back to `member`.
        assert_eq!(
            st.states.get("recommended_for_party"),
            Some(&3),
            "{:?}",
            st.states
        );
        assert_eq!(st.states.get("party_member"), Some(&1), "{:?}", st.states);

        // Annual evaluation (the scenario of `tuanji_engine::demo`): the 2025 rounds of 高二(1)–(6), five legacy
        // members each; one round refused for 2 of 5 excellent and one for 3 of 5 present (EVL_GRADES).
        let ev = &s.evaluation;
        assert_eq!(
            (
                ev.year,
                ev.rounds,
                ev.amendments,
                ev.approvals,
                ev.reevaluations
            ),
            (2025, 6, 1, 6, 1)
        );
        assert_eq!(ev.refused, BTreeMap::from([("EVL_GRADES".to_owned(), 2)]));
        // One excellent per class; basically qualified: 高二(1), (2) and (4)'s m4 and 高二(2)'s re-evaluated m3
        // (高二(6)'s m4 amended to qualified); nobody unqualified once re-evaluated.
        assert_eq!(
            ev.grades,
            BTreeMap::from([
                ("basically_qualified".to_owned(), 4),
                ("excellent".to_owned(), 6),
                ("qualified".to_owned(), 20),
                ("unqualified".to_owned(), 0),
            ])
        );
        // Closed: 高二(1) and (3) with nobody pending, 高二(2) after the re-evaluation; (4)–(6) approved.
        assert_eq!(
            ev.states,
            BTreeMap::from([("approved".to_owned(), 3), ("closed".to_owned(), 3)])
        );
        // 6 records, 1 amendment, 6 approvals, 1 re-evaluation, 3 closings.
        assert_eq!(ev.transitions, 6 + 1 + 6 + 1 + 3);

        // Party recommendation: 8 nominations, 7 votes passed (高二(1) m2's first refused, PTY_SHARE, then passed
        // in November; 高二(6) m3 only nominated), 5 recommendations.
        let pt = &s.party;
        assert_eq!((pt.nominations, pt.votes, pt.recommendations), (8, 7, 5));
        assert_eq!(
            pt.refused,
            BTreeMap::from([
                ("EVL_GRADES".to_owned(), 1),
                ("PTY_SHARE".to_owned(), 1),
                ("STD_PROBATION".to_owned(), 1),
            ])
        );
        assert_eq!(
            pt.states,
            BTreeMap::from([
                ("accepted_by_party".to_owned(), 1),
                ("cancelled".to_owned(), 1),
                ("declined".to_owned(), 1),
                ("nominated".to_owned(), 1),
                ("publicised".to_owned(), 1),
                ("recommended".to_owned(), 3),
            ])
        );
        // 8 nominations, 7 votes, 7 publicities, 5 recommendations, 1 accept, 1 decline, 1 cancel; the standing
        // follows: 5 `recommend`, 1 `join_party`, 1 `end_recommendation`.
        assert_eq!(pt.transitions, 8 + 7 + 7 + 5 + 1 + 1 + 1 + (5 + 1 + 1));
        // The unanswered transfer is escalated to the street committee's superior, 海淀区.
        let overdue = with_engine!(app.engine(), e => e.transfer_list("110108", false, false, true, true).await)
            .expect("overdue transfers");
        let seen: Vec<_> = overdue
            .iter()
            .map(|t| (t.to_org.as_str(), t.overdue_on, t.escalated_to.as_deref()))
            .collect();
        assert_eq!(
            seen,
            vec![("110108011", Some(d(2026, 11, 30)), Some("110108"))]
        );
        // No graduating class above its cap; every class keeps its five legacy members.
        for c in &s.classes {
            assert!(c.members >= 5, "{c:?}");
            if let Some(cap) = c.cap {
                assert!(c.members <= i64::from(cap), "{c:?}");
            }
        }
        // A second run on the same database is refused and writes nothing.
        let err = with_engine!(app.engine(), e => e.demo(&cfg, &|_, _, _| {}).await)
            .expect_err("needs an empty database");
        assert!(
            err.to_string()
                .starts_with("the demo needs an empty database; this one has 44734 organisations"),
            "{err}"
        );
    }
);
