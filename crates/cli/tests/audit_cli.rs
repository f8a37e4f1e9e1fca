//! End-to-end tests of the `tuanji audit` commands on SQLite and PostgreSQL: key, checkpoint, verify, inclusion
//! proof checked offline, exports, and the files they refuse to overwrite or read.

mod common;

use common::{id, ok, on_postgres, on_sqlite, refused, tuanji, write};
use std::path::Path;

const ORGS: &str = "code,name,kind,parent,approves_admissions,school_level,graduating,class_size
CYLC,共青团中央,central,,,,,
110105,共青团北京市朝阳区委员会,county,CYLC,,,,
S001,共青团北京市第八十中学委员会,basic_committee,110105,true,senior_high,,
S001-G3,高三(1)班团支部,branch,S001,,senior_high,,
";

fn audit_story(db: &str, dir: &Path) {
    ok(db, &["org", "import", &write(dir, "orgs.csv", ORGS)]);
    let rid = id("110105", "20080301", "001");
    let roster =
        format!("姓名,公民身份号码,入团日期,团员编号\n张三,{rid},2025-05-04,202500000001\n");
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
    let key = dir.join("auditor.key");
    let key_s = key.to_string_lossy().into_owned();
    let out = ok(
        db,
        &["audit", "keygen", "--name", "auditor", "--out", &key_s],
    );
    // Standard output is exactly the public key text.
    let vkey = out.trim_end().to_owned();
    assert!(
        vkey.starts_with("auditor+") && !vkey.contains('\n'),
        "{out}"
    );
    let vkey_file = write(dir, "auditor.pub", &vkey);
    // A key name is registered once; a key file is never overwritten.
    let err = refused(
        db,
        &["audit", "keygen", "--name", "auditor", "--out", &key_s],
    );
    assert!(
        err.contains("a key named `auditor` is already registered"),
        "{err}"
    );
    let before = std::fs::read(&key).expect("key");
    let err = refused(
        db,
        &["audit", "keygen", "--name", "auditor2", "--out", &key_s],
    );
    assert!(err.contains("exists"), "{err}");
    assert_eq!(std::fs::read(&key).expect("key"), before);
    // Standard output of a checkpoint is exactly the signed note: the file an auditor keeps for --trusted.
    let note = ok(db, &["audit", "checkpoint", "--key", &key_s]);
    assert!(
        note.starts_with("tuanji.local/transition-log\n1\n"),
        "{note}"
    );
    let trusted = write(dir, "checkpoint.txt", &note);
    let out = ok(
        db,
        &[
            "audit",
            "verify",
            "--trusted",
            &trusted,
            "--key",
            &vkey_file,
        ],
    );
    assert!(out.contains("ok: the log verifies"), "{out}");
    let out = ok(db, &["audit", "verify"]);
    assert!(out.contains("1 entries, 1 checkpoint(s)"), "{out}");
    assert!(out.contains("ok: the log verifies"), "{out}");

    // A proof written to a file and checked offline; an existing file is kept unless --force.
    let proof = dir.join("proof.json");
    let proof_s = proof.to_string_lossy().into_owned();
    let out = ok(db, &["audit", "prove", "--seq", "1", "--out", &proof_s]);
    assert!(
        out.contains("inclusion proof of entry 1 in 1 entries written to"),
        "{out}"
    );
    let text = std::fs::read_to_string(&proof).expect("proof");
    assert!(text.contains("\"canonical\": 2"), "{text}");
    assert!(
        !text.contains("张三") && !text.contains(&rid),
        "no personal data: {text}"
    );
    let out = ok(db, &["audit", "check-proof", &proof_s, "--key", &vkey_file]);
    assert!(
        out.starts_with("ok: entry 1 (standing `import_member` new → member, effective 2025-05-04) is in the log of 1 entries signed by auditor"),
        "{out}"
    );
    let err = refused(db, &["audit", "prove", "--seq", "1", "--out", &proof_s]);
    assert!(
        err.contains("exists: give another --out or --force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&proof).expect("proof"), text);
    ok(
        db,
        &["audit", "prove", "--seq", "1", "--out", &proof_s, "--force"],
    );
    // Bad selections and keys: refused with the reason.
    let err = refused(db, &["audit", "prove", "--seq", "0"]);
    assert!(
        err.contains("there is no entry 0: entries are numbered from 1"),
        "{err}"
    );
    let cp = write(dir, "cp.txt", "not a checkpoint");
    let err = refused(db, &["audit", "verify", "--trusted", &cp, "--key", &key_s]);
    assert!(err.contains("this is a private key"), "{err}");
    let out = tuanji(db, &["audit", "verify", "--key", &vkey_file]);
    assert_eq!(out.status.code(), Some(2), "--key needs --trusted");
    // A proof of an entry no checkpoint covers, and a proof that was tampered with.
    let err = refused(db, &["audit", "prove", "--seq", "2"]);
    assert!(
        err.contains("there is no entry 2: the log has 1 entries"),
        "{err}"
    );
    let renamed = write(
        dir,
        "renamed.json",
        &text.replace("\"key_name\": \"auditor\"", "\"key_name\": \"HAIDIAN\""),
    );
    let err = refused(db, &["audit", "check-proof", &renamed, "--key", &vkey_file]);
    assert!(
        err.contains("the proof names key `HAIDIAN` but is checked with key `auditor`"),
        "{err}"
    );
    let forged = write(
        dir,
        "forged.json",
        &text.replace("\"seq\": 1", "\"seq\": 2"),
    );
    let err = refused(db, &["audit", "check-proof", &forged, "--key", &vkey_file]);
    assert!(
        err.contains("the entry's fields do not hash to the proof's leaf hash"),
        "{err}"
    );
    let err = refused(
        db,
        &[
            "audit",
            "check-proof",
            &write(dir, "junk.json", "{"),
            "--key",
            &vkey_file,
        ],
    );
    assert!(err.contains("junk.json"), "{err}");

    // Exports: masked by default, an existing file kept, no temporary file left behind.
    let csv = dir.join("log.csv");
    let csv_s = csv.to_string_lossy().into_owned();
    let out = ok(db, &["audit", "export", "--format", "csv", "--out", &csv_s]);
    assert!(out.contains("1 entry exported to"), "{out}");
    let text = std::fs::read_to_string(&csv).expect("csv");
    assert!(text.starts_with('\u{feff}'), "UTF-8 with BOM");
    let masked = format!("{}********{}", &rid[..6], &rid[14..]);
    assert!(text.contains(&masked), "{masked} in {text}");
    assert!(!text.contains(&rid), "masked: {text}");
    let err = refused(db, &["audit", "export", "--out", &csv_s]);
    assert!(err.contains("exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&csv).expect("csv"), text);
    let leftovers: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
    // Into a directory that does not exist: refused, nothing written.
    let err = refused(
        db,
        &[
            "audit",
            "export",
            "--out",
            &dir.join("no/such/dir/log.csv").to_string_lossy(),
        ],
    );
    assert!(err.contains("cannot write"), "{err}");
    // A name that a spreadsheet would run as a formula is exported as text.
    ok(
        db,
        &[
            "--actor",
            "=HYPERLINK(\"http://x\")",
            "audit",
            "checkpoint",
            "--key",
            &key_s,
        ],
    );
    let roster2 = format!(
        "姓名,公民身份号码,入团日期,团员编号\n李四,{},2025-05-04,202500000002\n",
        id("110105", "20080302", "002")
    );
    ok(
        db,
        &[
            "--actor",
            "=HYPERLINK(\"http://x\")",
            "roster",
            "import",
            &write(dir, "roster2.csv", &roster2),
            "--branch",
            "S001-G3",
        ],
    );
    let out = ok(
        db,
        &[
            "audit",
            "export",
            "--format",
            "csv",
            "--workflow",
            "standing",
        ],
    );
    assert!(
        out.contains(",\"'=HYPERLINK(\"\"http://x\"\")\",branch_secretary,"),
        "{out}"
    );
    // Selections that cannot match anything are refused, not answered with nothing.
    let err = refused(db, &["audit", "export", "--workflow", "nope"]);
    assert!(err.contains("no workflow is named `nope` (workflows: admission, audit, evaluation, party_recommendation, relation, standing)"), "{err}");
    let err = refused(db, &["log", "--command", "nope"]);
    assert!(
        err.contains("no transition of any workflow has the command `nope`"),
        "{err}"
    );
    let err = refused(db, &["log", "--rule", "NOPE_RULE"]);
    assert!(err.contains("`NOPE_RULE` is not a rule code"), "{err}");
    let out = ok(db, &["log", "--rule", "imp_legacy_age", "--json"]);
    assert_eq!(out.matches("\"seq\"").count(), 2, "{out}");
    // Entry 2 exists but no checkpoint covers it yet.
    let err = refused(db, &["audit", "prove", "--seq", "2"]);
    assert!(
        err.contains("no checkpoint covers entry 2; take one first"),
        "{err}"
    );
    // The log still verifies (masked exports are not logged).
    let out = tuanji(db, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn audit_story_on_sqlite() {
    on_sqlite(audit_story);
}

#[test]
fn audit_story_on_postgres() {
    on_postgres("tuanji_cli_audit", audit_story);
}
