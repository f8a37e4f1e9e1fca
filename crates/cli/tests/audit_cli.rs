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
    let vkey = out
        .lines()
        .find(|l| l.starts_with("auditor+"))
        .unwrap_or_else(|| panic!("public key line in {out}"))
        .to_owned();
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
    ok(db, &["audit", "checkpoint", "--key", &key_s]);
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
    assert!(err.contains("entry 2"), "{err}");
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
