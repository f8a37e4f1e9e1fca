//! End-to-end tests of the relation commands of the `tuanji` binary (graduation, transfers, sweep, deletion
//! lock), on SQLite and PostgreSQL: exit codes, rule codes and the JSON the commands print.

mod common;

use common::{id, ok, on_postgres, on_sqlite, refused, write};
use serde_json::Value;
use std::path::Path;

const ORGS: &str =
    "code,name,kind,parent,approves_admissions,school_level,graduating,class_size,mobile_members
CYLC,共青团中央,central,,,,,,
110105,共青团北京市朝阳区委员会,county,CYLC,,,,,
S001,共青团北京市第八十中学委员会,basic_committee,110105,true,senior_high,,,
S001-G3,高三(1)班团支部,branch,S001,,senior_high,,,
S001-M,流动团员团支部,branch,S001,,,,,true
U001,共青团北京大学委员会,basic_committee,110105,true,university,,,
U001-B1,本科一班团支部,branch,U001,,university,,,
T001,共青团某街道委员会,township,110105,,,,,
T001-B1,某社区团支部,branch,T001,,,,,
";

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn transfers(db: &str, member: &str) -> Value {
    json(&ok(db, &["transfer", "show", member, "--json"]))
}

fn relation_story(db: &str, dir: &Path) {
    ok(db, &["org", "import", &write(dir, "orgs.csv", ORGS)]);
    let ids: Vec<String> = (0..6)
        .map(|i| id("110105", "20080301", &format!("{i:03}")))
        .collect();
    let mut roster = String::from("姓名,公民身份号码,入团日期,团员编号\n");
    for (i, rid) in ids.iter().enumerate() {
        roster.push_str(&format!("团员{i},{rid},2025-05-04,2025{:08}\n", i + 1));
    }
    ok(
        db,
        &[
            "roster",
            "import",
            &write(dir, "roster.csv", &roster),
            "--branch",
            "S001-G3",
        ],
    );
    let (a, b, c, d, e) = (&ids[0], &ids[1], &ids[2], &ids[3], &ids[4]);

    // Graduation needs the branch marked first; then every member moves, once.
    let err = refused(
        db,
        &["graduate", "--branch", "S001-G3", "--on", "2026-07-01"],
    );
    assert!(err.contains("is not marked as graduating"), "{err}");
    ok(
        db,
        &[
            "org",
            "mark-graduating",
            "--branch",
            "S001-G3",
            "--on",
            "2026-07-01",
        ],
    );
    let g = json(&ok(
        db,
        &[
            "graduate",
            "--branch",
            "S001-G3",
            "--on",
            "2026-07-01",
            "--json",
        ],
    ));
    assert_eq!(g["graduated"], 6, "{g}");
    let g = json(&ok(
        db,
        &[
            "graduate",
            "--branch",
            "S001-G3",
            "--on",
            "2026-07-01",
            "--json",
        ],
    ));
    assert_eq!(g["graduated"], 0, "{g}");
    assert_eq!(
        g["skipped"],
        serde_json::json!([["graduated_pending_transfer", 6]]),
        "{g}"
    );

    // TRF_NO_DELETE, whatever the role.
    for role in ["system_admin", "committee_admin"] {
        let err = refused(
            db,
            &[
                "--as",
                role,
                "member",
                "delete",
                a,
                "--date",
                "2026-07-02",
                "--reason",
                "清理",
            ],
        );
        assert!(err.starts_with("refused [TRF_NO_DELETE]"), "{err}");
        assert!(err.contains("graduated_pending_transfer"), "{err}");
    }

    // TRF_FURTHER_STUDY, then a member-initiated transfer approved by both sides.
    let err = refused(
        db,
        &[
            "--as",
            "member",
            "transfer",
            "request",
            a,
            "--date",
            "2026-07-05",
            "--to",
            "T001",
            "--destination",
            "further-study",
        ],
    );
    assert!(err.starts_with("refused [TRF_FURTHER_STUDY]"), "{err}");
    ok(
        db,
        &[
            "--as",
            "member",
            "transfer",
            "request",
            a,
            "--date",
            "2026-07-05",
            "--to",
            "U001-B1",
            "--destination",
            "further-study",
        ],
    );
    let err = refused(
        db,
        &[
            "--as",
            "member",
            "transfer",
            "request",
            a,
            "--date",
            "2026-07-05",
            "--to",
            "U001-B1",
            "--destination",
            "further-study",
        ],
    );
    assert!(err.starts_with("refused [TRF_ONE_OPEN]"), "{err}");
    let err = refused(
        db,
        &[
            "transfer",
            "approve",
            a,
            "--date",
            "2026-07-06",
            "--org",
            "T001",
        ],
    );
    assert!(err.starts_with("refused [TRF_INITIATOR]"), "{err}");
    ok(
        db,
        &[
            "transfer",
            "approve",
            a,
            "--date",
            "2026-07-06",
            "--org",
            "S001",
        ],
    );
    let t = transfers(db, a);
    assert_eq!(t["relation"], "transfer_requested");
    assert_eq!(t["transfers"][0]["waiting_on"], "incoming U001-B1");
    ok(
        db,
        &[
            "transfer",
            "approve",
            a,
            "--date",
            "2026-07-07",
            "--org",
            "U001",
        ],
    );
    let t = transfers(db, a);
    assert_eq!(t["relation"], "at_branch");
    assert_eq!(t["transfers"][0]["state"], "completed");
    assert_eq!(t["transfers"][0]["closed_on"], "2026-07-07");
    let m = json(&ok(db, &["member", "show", a, "--json"]));
    assert_eq!(m["relation"]["data"]["branch"], "U001-B1", "{m}");
    assert!(
        m["branch"]
            .as_str()
            .is_some_and(|s| s.starts_with("U001-B1 ")),
        "{m}"
    );

    // TRF_BRANCH_ONLY: to a street committee, completed when it assigns a branch of its own.
    ok(
        db,
        &[
            "--as",
            "committee_admin",
            "transfer",
            "request",
            b,
            "--date",
            "2026-07-05",
            "--to",
            "T001",
            "--destination",
            "employment",
            "--initiator",
            "outgoing",
            "--org",
            "S001",
        ],
    );
    ok(
        db,
        &[
            "transfer",
            "approve",
            b,
            "--date",
            "2026-07-08",
            "--org",
            "T001",
        ],
    );
    assert_eq!(
        transfers(db, b)["transfers"][0]["waiting_on"],
        "branch assignment by T001"
    );
    let err = refused(
        db,
        &[
            "transfer",
            "assign-branch",
            b,
            "--date",
            "2026-07-09",
            "--org",
            "T001",
            "--branch",
            "U001-B1",
        ],
    );
    assert!(err.starts_with("refused [TRF_BRANCH_ONLY]"), "{err}");
    ok(
        db,
        &[
            "transfer",
            "assign-branch",
            b,
            "--date",
            "2026-07-09",
            "--org",
            "T001",
            "--branch",
            "T001-B1",
        ],
    );
    assert_eq!(transfers(db, b)["transfers"][0]["to_branch"], "T001-B1");

    // TRF_RETENTION: no job yet, kept at the mobile-member branch.
    ok(
        db,
        &[
            "member",
            "retain",
            c,
            "--date",
            "2026-07-05",
            "--reason",
            "no-job",
        ],
    );
    assert_eq!(transfers(db, c)["relation"], "retained");

    // Rejected, then redone.
    ok(
        db,
        &[
            "--as",
            "member",
            "transfer",
            "request",
            d,
            "--date",
            "2026-07-05",
            "--to",
            "T001-B1",
            "--destination",
            "employment",
        ],
    );
    ok(
        db,
        &[
            "transfer",
            "reject",
            d,
            "--date",
            "2026-07-06",
            "--org",
            "T001",
            "--reason",
            "查无此人",
        ],
    );
    let t = transfers(db, d);
    assert_eq!(t["relation"], "graduated_pending_transfer");
    assert_eq!(t["transfers"][0]["state"], "rejected");
    ok(
        db,
        &[
            "--as",
            "member",
            "transfer",
            "request",
            d,
            "--date",
            "2026-07-10",
            "--to",
            "T001-B1",
            "--destination",
            "employment",
        ],
    );
    ok(
        db,
        &[
            "transfer",
            "approve",
            d,
            "--date",
            "2026-07-11",
            "--org",
            "110105",
        ],
    );
    let t = transfers(db, d);
    assert_eq!(t["relation"], "at_branch");
    assert_eq!(t["transfers"][1]["state"], "completed");

    // Never answered: overdue and escalated by the sweep, once.
    ok(
        db,
        &[
            "--as",
            "branch_secretary",
            "transfer",
            "request",
            e,
            "--date",
            "2026-07-05",
            "--to",
            "U001-B1",
            "--destination",
            "further-study",
            "--initiator",
            "outgoing",
            "--org",
            "S001-G3",
        ],
    );
    let s = json(&ok(db, &["sweep", "--as-of", "2026-11-30", "--json"]));
    assert_eq!(
        (s["overdue"].as_u64(), s["entries"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    // The standing part of the sweep: six members registered this month, nothing due (no age-out, no
    // probation, dues tracked from the import month).
    assert_eq!(
        s["standing"],
        serde_json::json!({
            "as_of": "2026-11-30", "examined": 6, "aged_out": 0, "probation_ended": 0,
            "recommendation_expired": 0, "lapse_dues": 0, "lapse_life": 0, "entries": 0,
        }),
        "{s}"
    );
    let s = json(&ok(db, &["sweep", "--as-of", "2026-11-30", "--json"]));
    assert_eq!(s["entries"], 0, "{s}");
    assert_eq!(s["standing"]["entries"], 0, "{s}");
    let text = ok(db, &["sweep", "--as-of", "2026-11-30"]);
    assert!(
        text.starts_with("sweep as of 2026-11-30: 0 log entries written"),
        "{text}"
    );
    assert!(
        text.contains(
            "  standing: 6 live member(s) examined\n  members aged out [STD_AGE_OUT]: 0\n"
        ),
        "{text}"
    );
    let l = json(&ok(
        db,
        &[
            "transfer",
            "list",
            "--org",
            "U001",
            "--overdue",
            "--incoming",
            "--json",
        ],
    ));
    assert_eq!(l.as_array().map(Vec::len), Some(1), "{l}");
    assert_eq!(l[0]["escalated_to"], "U001", "{l}");
    assert_eq!(l[0]["overdue_on"], "2026-11-30", "{l}");
    let l = json(&ok(
        db,
        &["transfer", "list", "--org", "S001", "--outgoing", "--json"],
    ));
    let states: Vec<&str> = l
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t["state"].as_str())
        .collect();
    assert_eq!(
        states,
        ["completed", "completed", "rejected", "open", "completed"],
        "{l}"
    );

    // After the transfer, deletion is a logged tombstone; the record then takes no more commands.
    ok(
        db,
        &[
            "--as",
            "committee_admin",
            "member",
            "delete",
            a,
            "--date",
            "2026-11-20",
            "--reason",
            "出国定居",
        ],
    );
    let m = json(&ok(db, &["member", "show", a, "--json"]));
    assert_eq!(m["member"]["deleted_on"], "2026-11-20", "{m}");
    assert_eq!(m["member"]["deletion_reason"], "出国定居", "{m}");
    let log = json(&ok(db, &["log", "--member", a, "--json"]));
    let commands: Vec<&str> = log
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["command"].as_str())
        .collect();
    assert_eq!(
        commands,
        [
            "import_member",
            "open",
            "graduate",
            "request_transfer",
            "approve",
            "approve",
            "complete",
            "receive",
            "delete"
        ]
    );
    let err = refused(
        db,
        &[
            "member",
            "contact",
            a,
            "--date",
            "2026-11-21",
            "--note",
            "电话",
        ],
    );
    assert!(err.contains("was deleted on 2026-11-20"), "{err}");
    // A date after today is refused.
    let err = refused(db, &["sweep", "--as-of", "2999-01-01"]);
    assert!(err.contains("is after today"), "{err}");
}

#[test]
fn relation_story_on_sqlite() {
    on_sqlite(relation_story);
}

#[test]
fn relation_story_on_postgres() {
    on_postgres("tuanji_cli_rel", relation_story);
}
