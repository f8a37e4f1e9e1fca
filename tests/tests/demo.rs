//! `tuanji demo` end to end: its summary has exactly the counts its seed implies. The expected numbers are
//! computed here from the generated roster and the demo's published scenario (which applicant meets which
//! refusal), independently of the engine: roster refusals from the generator's flags, procedure refusals from
//! the scenario, and admissions from a simple model of class caps (ADM_CLASS_CAP) and quotas
//! (ADM_QUOTA_EXHAUSTED) applied in the demo's order.

use std::collections::BTreeMap;
use tuanji_engine::demo::{roster_config, DemoConfig, CLASS_SIZE, JUNIOR_QUOTA, SENIOR_QUOTA};
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
            e.transitions += 3; // approve, oath, archive
            bump(&mut e.flagged, "ADM_ARCHIVE", usize::from(i % 67 == 23));
            first_senior_admitted |= q == 1;
        }
    }
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
            44_701 + 2 + 24,
            "national tree + 2 school committees + 24 classes"
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
                .starts_with("the demo needs an empty database; this one has 44727 organisations"),
            "{err}"
        );
    }
);
