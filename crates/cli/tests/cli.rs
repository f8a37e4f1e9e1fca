//! End-to-end tests of the `tuanji` binary: exit codes, output, and one admission run from the command line on
//! SQLite and (when `TUANJI_TEST_POSTGRES_URL` is set) PostgreSQL.

mod common;

use common::{id, ok, on_postgres, on_sqlite, refused, write};
use std::path::Path;
use std::process::Command;

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_tuanji"))
        .arg("--no-such-flag")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_tuanji"))
        .args([
            "admission",
            "talk",
            "X",
            "--date",
            "2026-13-01",
            "--by",
            "a",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`2026-13-01` is not a date"));
}

#[test]
fn workflows_check_accepts_the_shipped_files_and_graph_prints_mermaid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../workflows");
    let out = ok("sqlite://unused.db", &["workflows", "check", dir]);
    assert!(out.contains("ok  "), "{out}");
    assert!(
        out.contains("admission v1, 9 states, 26 transitions"),
        "{out}"
    );
    assert!(
        out.contains("standing v1, 9 states, 61 transitions"),
        "{out}"
    );
    assert!(
        out.contains("party_recommendation v1, 8 states, 11 transitions"),
        "{out}"
    );
    assert!(
        out.contains("evaluation v1, 3 states, 6 transitions"),
        "{out}"
    );
    assert!(
        out.contains("relation v1, 9 states, 29 transitions"),
        "{out}"
    );
    let graph = ok("sqlite://unused.db", &["workflows", "graph", "admission"]);
    assert!(graph.starts_with("stateDiagram-v2\n"), "{graph}");
    assert!(
        graph.contains("branch_approved --> admitted: approve"),
        "{graph}"
    );
}

#[test]
fn workflows_check_refuses_a_policy_below_the_age_floor_naming_file_line_and_rule() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../workflows/admission.v1.toml"
    ))
    .expect("read");
    let weakened = text.replacen("min_age = 14", "min_age = 13", 1);
    assert_ne!(text, weakened);
    let line = weakened
        .lines()
        .position(|l| l.starts_with("min_age = 13"))
        .expect("line")
        + 1;
    write(tmp.path(), "admission.v1.toml", &weakened);
    let err = refused(
        "sqlite://unused.db",
        &["workflows", "check", &tmp.path().to_string_lossy()],
    );
    assert!(
        err.contains(&format!(
            "admission.v1.toml:{line}: ADM_AGE_MIN is a floor rule"
        )),
        "{err}"
    );
}

/// One applicant through every step from the command line; refusals exit 1 with their rule code.
fn admission_story(db: &str, dir: &Path) {
    ok(db, &["init"]);
    let orgs = write(
        dir,
        "orgs.csv",
        "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
         CYLC,共青团中央,central,,,,,\n\
         110108,共青团北京市海淀区委员会,county,CYLC,,,,\n\
         SCH,某中学团委,basic_committee,110108,true,senior_high,false,\n\
         SCH-G1,高三（1）班团支部,branch,SCH,false,senior_high,true,10\n",
    );
    let out = ok(db, &["org", "import", &orgs]);
    assert!(out.starts_with("4 organisation(s) inserted"), "{out}");
    let m: Vec<String> = (0..4)
        .map(|k| id("110108", &format!("2007010{}", k + 1), "101"))
        .collect();
    let members = write(
        dir,
        "members.csv",
        &format!(
            "姓名,公民身份号码,入团日期,团员编号\n甲,{},2025-05-04,202590000001\n乙,{},2025-05-04,202590000002\n丙,{},2025-05-04,202590000003\n丁,{},2025-05-04,202590000004\n",
            m[0], m[1], m[2], m[3]
        ),
    );
    let out = ok(db, &["roster", "import", &members, "--branch", "SCH-G1"]);
    assert!(
        out.contains("0 applicant(s) and 4 member(s) imported into SCH-G1"),
        "{out}"
    );

    let young = id("110108", "20120601", "202");
    let applicant = id("110108", "20100304", "003");
    let roster = write(
        dir,
        "roster.csv",
        &format!("姓名,公民身份号码,申请日期\n小明,{young},2026-03-02\n"),
    );
    let err = refused(db, &["roster", "import", &roster, "--branch", "SCH-G1"]);
    assert!(
        err.contains("line 2") && err.contains("[ADM_AGE_MIN]"),
        "{err}"
    );

    let err = refused(
        db,
        &[
            "admission",
            "apply",
            "--branch",
            "SCH-G1",
            "--id",
            &young,
            "--name",
            "小明",
            "--date",
            "2026-03-02",
        ],
    );
    assert!(
        err.starts_with("refused [ADM_AGE_MIN]: the applicant is 13 on 2026-03-02"),
        "{err}"
    );
    ok(
        db,
        &[
            "admission",
            "apply",
            "--branch",
            "SCH-G1",
            "--id",
            &applicant,
            "--name",
            "张三",
            "--date",
            "2026-03-02",
        ],
    );
    let a = applicant.as_str();
    ok(
        db,
        &[
            "admission",
            "talk",
            a,
            "--date",
            "2026-03-10",
            "--by",
            "李老师",
        ],
    );
    let err = refused(
        db,
        &[
            "admission",
            "approve",
            a,
            "--date",
            "2026-03-11",
            "--committee",
            "SCH",
        ],
    );
    assert!(
        err.starts_with(
            "refused [WF_NOT_ALLOWED]: command `approve` is not allowed in state `applicant`"
        ),
        "{err}"
    );
    ok(
        db,
        &[
            "admission",
            "approve-activist",
            a,
            "--date",
            "2026-05-06",
            "--committee",
            "SCH",
        ],
    );
    ok(
        db,
        &[
            "admission",
            "mentors",
            a,
            "--date",
            "2026-05-06",
            "--mentor",
            &m[0],
        ],
    );
    for w in 0..8 {
        let date = format!("2026-05-{:02}", 11 + w);
        ok(
            db,
            &["admission", "class", a, "--date", &date, "--minutes", "45"],
        );
    }
    let err = refused(
        db,
        &["admission", "determine-target", a, "--date", "2026-08-05"],
    );
    assert!(err.starts_with("refused [ADM_OBSERVATION]"), "{err}");
    ok(
        db,
        &["admission", "determine-target", a, "--date", "2026-08-06"],
    );
    ok(
        db,
        &[
            "admission",
            "prereview",
            a,
            "--date",
            "2026-09-07",
            "--committee",
            "SCH",
        ],
    );
    let out = ok(db, &["admission", "publicise", a, "--date", "2026-09-28"]);
    assert!(
        out.contains("publicity ends on 2026-10-09 (inclusive)"),
        "{out}"
    );
    ok(
        db,
        &[
            "admission",
            "form",
            a,
            "--date",
            "2026-10-12",
            "--sponsor",
            &m[1],
            "--sponsor",
            &m[2],
            "--opinion-date",
            "2026-10-13",
        ],
    );
    let err = refused(
        db,
        &[
            "admission",
            "meeting",
            a,
            "--date",
            "2026-10-16",
            "--present",
            "2",
            "--yes",
            "2",
        ],
    );
    assert!(
        err.starts_with("refused [ADM_MEETING_QUORUM]: 2 of 4 voting-entitled members present"),
        "{err}"
    );
    ok(
        db,
        &[
            "admission",
            "meeting",
            a,
            "--date",
            "2026-10-16",
            "--present",
            "4",
            "--yes",
            "3",
        ],
    );
    let err = refused(
        db,
        &[
            "admission",
            "approve",
            a,
            "--date",
            "2026-10-23",
            "--committee",
            "SCH",
        ],
    );
    assert!(err.starts_with("refused [ADM_QUOTA_EXHAUSTED]"), "{err}");
    ok(
        db,
        &[
            "quota",
            "allocate",
            "--org",
            "SCH",
            "--year",
            "2026",
            "--count",
            "2",
            "--date",
            "2026-01-15",
        ],
    );
    let out = ok(
        db,
        &[
            "admission",
            "approve",
            a,
            "--date",
            "2026-10-23",
            "--committee",
            "SCH",
        ],
    );
    assert!(out.contains("development number: 202600000001"), "{out}");
    ok(db, &["admission", "oath", a, "--date", "2026-11-04"]);
    let pdf = write(dir, "form.pdf", "%PDF-1.4\n%%EOF\n");
    ok(
        db,
        &[
            "admission",
            "archive",
            a,
            "--date",
            "2026-11-10",
            "--file",
            &pdf,
        ],
    );

    let show = ok(db, &["member", "show", "202600000001", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&show).expect("json");
    assert_eq!(
        v["resident_id"],
        format!("{}********{}", &applicant[..6], &applicant[14..])
    );
    assert_eq!(v["member"]["membership_date"], "2026-10-16");
    assert_eq!(v["member"]["development_number"], "202600000001");
    assert_eq!(v["admission"]["state"], "admitted");
    assert!(
        !show.contains(&applicant),
        "the full ID must not be printed"
    );

    let quota: serde_json::Value = serde_json::from_str(&ok(
        db,
        &["quota", "show", "--org", "SCH", "--year", "2026", "--json"],
    ))
    .expect("json");
    assert_eq!(
        (
            quota["allocated"].as_i64(),
            quota["used"].as_i64(),
            quota["left"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    let log: serde_json::Value =
        serde_json::from_str(&ok(db, &["log", "--member", a, "--json"])).expect("json");
    let commands: Vec<&str> = log
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["command"].as_str().unwrap_or(""))
        .collect();
    // 20 admission entries, and the standing opened when the admission reached `admitted` (standing v1 open).
    assert_eq!(commands.len(), 21, "{commands:?}");
    assert_eq!(commands[0], "apply");
    assert_eq!(commands[17..19], ["approve", "open"], "{commands:?}");
    assert_eq!(commands[20], "file_archive");
    assert_eq!(
        log[0]["payload"]["step"]["command"], "apply",
        "payloads print as JSON"
    );
    assert_eq!(log[0]["rule_codes"][0], "ID_CHECKSUM");
    let out = ok(db, &["admission", "replay", a]);
    assert!(
        out.starts_with("20 entries replayed: the projection matches"),
        "{out}"
    );
}

#[test]
fn reading_a_missing_sqlite_file_is_refused_and_creates_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("typo.db");
    let db = format!("sqlite://{}", path.display());
    let err = refused(&db, &["log"]);
    assert!(
        err.starts_with(&format!("error: no database at {}", path.display())),
        "{err}"
    );
    assert!(!path.exists());
}

#[test]
fn a_command_leaves_the_sqlite_file_whole_with_its_write_ahead_log_checkpointed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("t.db");
    let db = format!("sqlite://{}", path.display());
    let csv = write(
        tmp.path(),
        "orgs.csv",
        "code,name,kind,parent\nCYLC,共青团中央,central,\n",
    );
    ok(&db, &["org", "import", &csv]);
    assert!(path.exists());
    // Closing checkpoints the log: copying `t.db` alone copies everything.
    let wal = tmp.path().join("t.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the write-ahead log is checkpointed"
    );
    let copy = tmp.path().join("copy.db");
    std::fs::copy(&path, &copy).expect("copy");
    let out = ok(&format!("sqlite://{}", copy.display()), &["org", "list"]);
    assert!(out.contains("CYLC"), "{out}");
}

#[test]
fn in_memory_urls_non_files_and_empty_workflow_dirs_are_refused() {
    for url in [
        "sqlite:",
        "sqlite://",
        "sqlite://?mode=rwc",
        "sqlite::memory:",
    ] {
        let err = refused(url, &["org", "list"]);
        assert!(
            err.contains("in-memory SQLite is not supported"),
            "{url}: {err}"
        );
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", tmp.path().join("t.db").display());
    let err = refused(&db, &["roster", "import", "/dev/null", "--branch", "X"]);
    assert_eq!(err, "error: /dev/null is not a regular file\n");
    assert!(
        !tmp.path().join("t.db").exists(),
        "a refused input file creates no database"
    );
    let err = refused(&db, &["workflows", "check", &tmp.path().to_string_lossy()]);
    assert_eq!(
        err,
        format!(
            "error: no workflow files (*.toml) in {}\n",
            tmp.path().display()
        )
    );
}

#[test]
fn admission_story_on_sqlite() {
    on_sqlite(admission_story);
}

#[test]
fn admission_story_on_postgres() {
    on_postgres("tuanji_cli", admission_story);
}
