//! End-to-end tests of the standing (团籍) and dues (团费) commands of the `tuanji` binary, on SQLite and
//! PostgreSQL: probation, dues recorded and shown with their exact arrears, a withdrawal, the age-out on the
//! 28th birthday recorded by `tuanji sweep`, and refusals with their rule codes and exit status 1.
//!
//! The CLI runs on the real date (today, on or after 2026-11-30). The roster is registered through the engine
//! with "today" fixed to 2026-05-04 (a county register imported in May), so dues are tracked from 2026-05
//! and a member born on 1998-11-15 could still be registered (IMP_LEGACY_AGE refuses members already 28).

mod common;

use chrono::{Datelike, FixedOffset, Utc};
use common::{id, ok, on_postgres, on_sqlite, refused, write};
use serde_json::{json, Value};
use std::path::Path;
use tuanji_domain::dues::YearMonth;
use tuanji_domain::Date;
use tuanji_engine::{with_engine, Actor, AnyEngine};

const ORGS: &str =
    "code,name,kind,parent,approves_admissions,school_level,graduating,class_size,mobile_members
CYLC,共青团中央,central,,,,,,
110105,共青团北京市朝阳区委员会,county,CYLC,,,,,
T001,共青团某街道委员会,township,110105,,,,,
T001-B1,某社区团支部,branch,T001,,,,,
";

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd_opt(y, m, day).expect("date")
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Today in China Standard Time, as the binary sees it.
fn today() -> Date {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    Utc::now().with_timezone(&cst).date_naive()
}

/// The resident ID as the commands print it.
fn masked(rid: &str) -> String {
    format!("{}********{}", &rid[..6], &rid[14..])
}

/// `months` months of reduced dues (0.20 yuan each) in yuan.
fn yuan(months: usize) -> String {
    format!("{}.{:02}", months * 20 / 100, months * 20 % 100)
}

fn ym(y: i32, m: u32) -> YearMonth {
    YearMonth::new(y, m).expect("month")
}

/// The months from `from` through the month before today's (dues for the current month are payable during
/// it), as `YYYY-MM` strings.
fn months_owed_from(from: YearMonth) -> Vec<String> {
    let t = today();
    let through = ym(t.year(), t.month()).pred();
    let mut out = Vec::new();
    let mut m = from;
    while m <= through {
        out.push(m.to_string());
        m = m.plus(1);
    }
    out
}

/// Registers the roster with the engine's "today" on 2026-05-04: dues are tracked from 2026-05.
fn register_in_may(db: &str, branch: &str, csv: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let engine = AnyEngine::connect(db)
            .await
            .expect("connect")
            .with_today(d(2026, 5, 4));
        let actor = Actor {
            name: "county-register".into(),
            role: Some("committee_admin".into()),
            ..Default::default()
        };
        let r = with_engine!(&engine, e => e.import_roster(&actor, branch, csv.as_bytes(), false).await);
        r.expect("the May register");
    });
}

/// The decision flags of a branch meeting on `date` approved by the street committee the same day: the branch's
/// entitled members (no `--entitled`: the engine counts them), 3 present, 3 yes.
fn decided(date: &str) -> Vec<String> {
    [
        "--meeting",
        date,
        "--present",
        "3",
        "--yes",
        "3",
        "--no",
        "0",
        "--approved-by",
        "T001",
    ]
    .map(String::from)
    .to_vec()
}

fn run_ok(db: &str, args: Vec<String>) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(db, &args)
}

fn run_refused(db: &str, args: Vec<String>) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(db, &args)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

fn standing_story(db: &str, dir: &Path) {
    ok(db, &["org", "import", &write(dir, "orgs.csv", ORGS)]);
    let a = id("110105", "20000301", "001"); // pays dues
    let b = id("110105", "19981115", "002"); // 28 on 2026-11-15
    let c = id("110105", "20010501", "003"); // probation
    let w = id("110105", "20010901", "004"); // withdraws
    let mut roster = String::from("姓名,公民身份号码,入团日期,团员编号\n");
    for (i, rid) in [&a, &b, &c, &w].iter().enumerate() {
        roster.push_str(&format!("团员{i},{rid},2016-05-04,\n"));
    }
    register_in_may(db, "T001-B1", &roster);

    // Dues are owed from the import month (2026-05) through the month before today: 0.20 yuan a month.
    let owed = months_owed_from(ym(2026, 5));
    let v = json_of(&ok(db, &["dues", "show", &a, "--json"]));
    assert_eq!(v["from"], "2026-05", "{v}");
    assert_eq!(v["monthly_fen"], 20, "{v}");
    assert_eq!(v["arrears_months"], json!(owed), "{v}");
    assert_eq!(v["arrears_fen"], json!(20 * owed.len()), "{v}");
    assert_eq!(v["member"], masked(&a), "{v}");

    // Three months paid in yuan: the arrears start at 2026-08.
    let out = ok(
        db,
        &[
            "--as",
            "branch_secretary",
            "dues",
            "record",
            &a,
            "--from",
            "2026-05",
            "--months",
            "3",
            "--amount",
            "0.60",
            "--date",
            "2026-11-30",
        ],
    );
    assert!(
        out.starts_with(&format!(
            "{}: member → member (logged: record_dues (seq ",
            masked(&a)
        )),
        "{out}"
    );
    // On 2026-11-30: 2026-08, 09 and 10 unpaid, 0.60 yuan; a month more for every month since.
    let rest = months_owed_from(ym(2026, 8));
    assert!(
        out.contains(&format!(
            "dues: 0.60 yuan paid for 3 month(s); arrears {} yuan",
            yuan(rest.len())
        )),
        "{out}"
    );
    let v = json_of(&ok(db, &["dues", "show", &a, "--json"]));
    assert_eq!(
        (v["paid_fen"].clone(), v["paid_yuan"].clone()),
        (json!(60), json!("0.60")),
        "{v}"
    );
    assert_eq!(
        v["months_paid"],
        json!(["2026-05", "2026-06", "2026-07"]),
        "{v}"
    );
    assert_eq!(v["arrears_months"], json!(rest), "{v}");
    assert_eq!(v["arrears_yuan"], json!(yuan(rest.len())), "{v}");
    let text = ok(db, &["dues", "show", &a]);
    for line in [
        format!(
            "arrears: {} month(s), {} yuan ({})",
            rest.len(),
            yuan(rest.len()),
            rest.join(", ")
        ),
        format!("owed from 2026-05 through {}", owed[owed.len() - 1]),
        "paid: 3 month(s), 0.60 yuan (2026-05, 2026-06, 2026-07)".to_owned(),
        format!(
            "dues of {} on {} (reduced, 0.20 yuan a month) [DUE_STUDENT]",
            masked(&a),
            today()
        ),
    ] {
        assert!(text.contains(&line), "{line}\n{text}");
    }
    // DUE_STUDENT: less than 0.20 yuan a month is refused, with the rule code and exit 1.
    let err = refused(
        db,
        &[
            "dues", "record", &a, "--from", "2026-08", "--months", "3", "--amount", "0.50",
        ],
    );
    assert!(err.starts_with("refused [DUE_STUDENT]"), "{err}");
    assert!(err.contains("0.60 yuan; 0.50 yuan paid"), "{err}");
    // A month paid twice.
    let err = refused(
        db,
        &[
            "dues", "record", &a, "--from", "2026-07", "--amount", "0.20",
        ],
    );
    assert!(err.starts_with("refused [DUE_STUDENT]"), "{err}");
    assert!(err.contains("already paid"), "{err}");
    // Vote counts so large their sum overflows 32 bits are refused, not a crash.
    let max = u32::MAX.to_string();
    let err = refused(
        db,
        &[
            "standing",
            "put-on-probation",
            &a,
            "--months",
            "6",
            "--reason",
            "违纪",
            "--meeting",
            "2026-11-20",
            "--entitled",
            &max,
            "--present",
            &max,
            "--yes",
            &max,
            "--no",
            &max,
            "--abstain",
            &max,
            "--approved-by",
            "S001",
        ],
    );
    assert!(err.contains("every member present votes"), "{err}");
    // Amounts are yuan with at most two decimals; months are YYYY-MM.
    let err = refused(
        db,
        &[
            "dues", "record", &a, "--from", "2026-08", "--amount", "0.201",
        ],
    );
    assert!(err.contains("`0.201` is not an amount in yuan"), "{err}");
    let out = common::tuanji(
        db,
        &[
            "dues", "record", &a, "--from", "2026-8-1", "--amount", "0.20",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a month: use YYYY-MM"));

    // STD_PROBATION: 6 months from the meeting, approved by the street committee above the branch.
    let mut args = strings(&[
        "--as",
        "committee_admin",
        "standing",
        "put-on-probation",
        &c,
    ]);
    args.extend(decided("2026-11-02"));
    args.extend(strings(&["--months", "9", "--reason", "违反团的纪律"]));
    // The entitled members are the branch's members in good standing on the meeting date (4 here).
    let mut wrong = args.clone();
    wrong.extend(strings(&["--entitled", "6"]));
    let err = run_refused(db, wrong);
    assert_eq!(
        err.trim_end(),
        "refused [STD_PROBATION]: the probation: the meeting names 6 entitled members, but 某社区团支部 (T001-B1) has 4 on 2026-11-02 (members on probation are not entitled to vote)"
    );
    let err = run_refused(db, args.clone());
    assert!(err.starts_with("refused [STD_PROBATION]"), "{err}");
    assert!(err.contains("6 or 12 months, not 9"), "{err}");
    let i = args.iter().position(|x| x == "9").expect("months");
    args[i] = "6".into();
    let out = run_ok(db, args);
    assert!(
        out.contains(": member → on_probation (logged: put_on_probation (seq "),
        "{out}"
    );
    assert!(out.contains("rules checked: STD_PROBATION"), "{out}");
    let s = json_of(&ok(db, &["standing", "show", &c, "--json"]));
    assert_eq!(s["state"], "on_probation", "{s}");
    assert_eq!(s["probation_until"], "2027-05-02", "{s}");
    assert_eq!(s["membership_date"], "2016-05-04", "{s}");
    // A ballot that does not add up is refused before the engine runs.
    let mut args = strings(&["standing", "expel", &c]);
    args.extend(strings(&[
        "--meeting",
        "2026-11-20",
        "--entitled",
        "6",
        "--present",
        "6",
        "--yes",
        "3",
        "--no",
        "1",
        "--approved-by",
        "110105",
        "--reason",
        "x",
    ]));
    let err = run_refused(db, args);
    assert!(
        err.contains("--yes 3 + --no 1 + --abstain 0 = 4, not --present 6"),
        "{err}"
    );

    // STD_WITHDRAW: the written request, then the branch meeting, recorded with the street committee.
    let mut args = strings(&["--as", "committee_admin", "standing", "withdraw", &w]);
    args.extend(decided("2026-11-05"));
    args.extend(strings(&["--request-date", "2026-11-06"]));
    let err = run_refused(db, args.clone());
    assert!(err.starts_with("refused [STD_WITHDRAW]"), "{err}");
    assert!(err.contains("the request comes first"), "{err}");
    let n = args.len();
    args[n - 1] = "2026-11-01".into();
    let out = run_ok(db, args);
    assert!(
        out.contains(": member → withdrawn (logged: withdraw (seq "),
        "{out}"
    );
    let s = json_of(&ok(db, &["standing", "show", &w, "--json"]));
    assert_eq!(s["ended"], json!(["withdraw", "2026-11-05"]), "{s}");
    // A withdrawn member takes no more standing commands.
    let err = refused(
        db,
        &[
            "standing",
            "record-life",
            &w,
            "--date",
            "2026-11-20",
            "--note",
            "团课",
        ],
    );
    assert!(err.starts_with("refused [WF_NOT_ALLOWED]"), "{err}");
    let m = json_of(&ok(db, &["member", "show", &w, "--json"]));
    assert_eq!(m["member"]["standing"], "withdrawn", "{m}");

    // STD_AGE_OUT: not before the 28th birthday; the sweep records it on the birthday itself.
    let err = refused(db, &["standing", "age-out", &a, "--date", "2026-11-30"]);
    assert!(err.starts_with("refused [STD_AGE_OUT]"), "{err}");
    let s = json_of(&ok(db, &["standing", "show", &b, "--json"]));
    assert_eq!(s["age_out_month"], "2026-11", "{s}");
    ok(
        db,
        &[
            "standing",
            "record-life",
            &a,
            "--date",
            "2026-11-20",
            "--note",
            "主题团日",
        ],
    );
    let s = json_of(&ok(db, &["sweep", "--as-of", "2026-11-30", "--json"]));
    // The relation part is flattened at the top; the standing part under `standing`. b is aged out on
    // 2026-11-15 (and not flagged: a member who leaves is not flagged for a lapse); c is flagged for six months
    // without dues (2026-05 to 2026-10, reached on 2026-11-01); a paid for 2026-05 to 07 but attended no
    // organisational life from 2026-05 to 2026-10 (November's does not count yet): flagged on that ground; w
    // has left.
    assert_eq!(s["entries"], 0, "{s}");
    assert_eq!(
        s["standing"],
        json!({
            "as_of": "2026-11-30",
            "examined": 3,
            "aged_out": 1,
            "probation_ended": 0,
            "recommendation_expired": 0,
            "lapse_dues": 1,
            "lapse_life": 1,
            "entries": 3,
        }),
        "{s}"
    );
    let text = ok(db, &["sweep", "--as-of", "2026-11-30"]);
    assert!(
        text.starts_with("sweep as of 2026-11-30: 0 log entries written"),
        "{text}"
    );
    for line in [
        "  standing: 2 live member(s) examined",
        "  members aged out [STD_AGE_OUT]: 0",
        "  six-month lapses flagged, dues [STD_LAPSE]: 0",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    let s = json_of(&ok(db, &["standing", "show", &b, "--json"]));
    assert_eq!(s["state"], "aged_out", "{s}");
    assert_eq!(s["ended"], json!(["age_out", "2026-11-15"]), "{s}");
    assert_eq!(s["lapse_flag"], Value::Null, "{s}");
    let s = json_of(&ok(db, &["standing", "show", &c, "--json"]));
    assert_eq!(
        s["lapse_flag"],
        json!(["2026-11-01", "dues", "2026-05"]),
        "{s}"
    );
    let s = json_of(&ok(db, &["standing", "show", &a, "--json"]));
    assert_eq!(
        s["lapse_flag"],
        json!(["2026-11-01", "life", "2026-05"]),
        "{s}"
    );
    let log = json_of(&ok(db, &["log", "--member", &b, "--json"]));
    let commands: Vec<(&str, &str)> = log
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| Some((r["command"].as_str()?, r["effective_date"].as_str()?)))
        .collect();
    assert_eq!(
        commands,
        [("import_member", "2016-05-04"), ("age_out", "2026-11-15")]
    );
    let m = json_of(&ok(db, &["member", "show", &b, "--json"]));
    assert_eq!(m["member"]["standing"], "aged_out", "{m}");
    // The masked resident ID hides the birth date: the views give the birth month only.
    assert_eq!(
        (m["birth_month"].as_str(), m.get("birth_date")),
        (Some("1998-11"), None),
        "{m}"
    );
    let shown = ok(db, &["member", "show", &b]);
    assert!(shown.contains("  born 1998-11\n"), "{shown}");
    let text = ok(db, &["standing", "show", &b]);
    assert!(
        text.contains(": aged_out (member since 2016-05-04, born 1998-11)"),
        "{text}"
    );
    let s = json_of(&ok(db, &["standing", "show", &b, "--json"]));
    assert_eq!(
        (s["birth_month"].as_str(), s.get("birth_date")),
        (Some("1998-11"), None),
        "{s}"
    );
    assert!(
        text.contains("membership ended: age_out effective 2026-11-15"),
        "{text}"
    );
    // Standing commands and the sweep are replayed by the verifier.
    let v = ok(db, &["audit", "verify"]);
    assert!(v.contains("ok: the log verifies"), "{v}");
}

#[test]
fn standing_story_on_sqlite() {
    on_sqlite(standing_story);
}

#[test]
fn standing_story_on_postgres() {
    on_postgres("tuanji_cli_std", standing_story);
}
