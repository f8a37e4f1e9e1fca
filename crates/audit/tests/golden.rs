//! Golden tests for `canonical_v1`, the leaf and chain hashes, and `verify_chain`.
//! The expected hex values were computed independently (Python `struct` + `hashlib`) from the
//! byte layout in `docs/audit-format.md`.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use tuanji_audit::{
    canonical, canonical_v1, chain_hash, commitment, leaf_hash, split_personal, verify_chain,
    ChainFault, ChainFaultKind, Hash, LogEntry, Personal, GENESIS,
};
use uuid::Uuid;

/// Owned data behind a [`LogEntry`], so tests can alter fields.
#[derive(Clone)]
struct Row {
    seq: i64,
    entry_id: Uuid,
    person_id: Option<Uuid>,
    org_id: Option<Uuid>,
    workflow_version: i32,
    from_state: &'static str,
    to_state: &'static str,
    command: &'static str,
    rule_codes: Vec<String>,
    payload_json: String,
    effective_date: NaiveDate,
    recorded_at: DateTime<Utc>,
    idempotency_key: Option<&'static str>,
}

const DEF_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn uuid(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("test UUID literal is valid")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date literal is valid")
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("test timestamp literal is valid")
        + chrono::Duration::microseconds(i64::from(micros))
}

impl Row {
    fn entry(&self) -> LogEntry<'_> {
        LogEntry {
            seq: self.seq,
            entry_id: self.entry_id,
            instance_id: uuid("11111111-2222-7333-8444-555555555555"),
            person_id: self.person_id,
            org_id: self.org_id,
            workflow: "admission",
            workflow_version: self.workflow_version,
            definition_sha256: DEF_SHA,
            from_state: self.from_state,
            to_state: self.to_state,
            command: self.command,
            actor: "user:secretary-01",
            role: "branch_secretary",
            rule_codes: &self.rule_codes,
            payload_json: &self.payload_json,
            effective_date: self.effective_date,
            recorded_at: self.recorded_at,
            idempotency_key: self.idempotency_key,
            personal: Personal::Clear,
        }
    }
}

/// The worked example of `docs/audit-format.md`.
fn row1() -> Row {
    Row {
        seq: 1,
        entry_id: uuid("01234567-89ab-7cde-8f01-23456789abcd"),
        person_id: Some(uuid("aaaaaaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee")),
        org_id: None,
        workflow_version: 1,
        from_state: "activist",
        to_state: "development_target",
        command: "determine_development_target",
        rule_codes: vec!["ADM_OBSERVATION".into(), "ADM_CLASS_HOURS".into()],
        payload_json: r#"{"class_hours":8,"note":"同意"}"#.into(),
        effective_date: date(2026, 11, 30),
        recorded_at: at(2026, 11, 30, 10, 47, 56, 123_456),
        idempotency_key: Some("req-0001"),
    }
}

fn three_rows() -> Vec<Row> {
    let org = Some(uuid("0f0f0f0f-0000-7000-8000-000000000001"));
    vec![
        row1(),
        Row {
            seq: 2,
            entry_id: uuid("01234567-89ab-7cde-8f01-23456789abce"),
            org_id: org,
            from_state: "development_target",
            to_state: "publicised",
            command: "publicise",
            rule_codes: vec!["ADM_PUBLICITY".into()],
            payload_json: "{}".into(),
            effective_date: date(2026, 12, 1),
            recorded_at: at(2026, 12, 1, 8, 0, 0, 1),
            idempotency_key: None,
            ..row1()
        },
        Row {
            seq: 3,
            entry_id: uuid("01234567-89ab-7cde-8f01-23456789abcf"),
            org_id: org,
            from_state: "publicised",
            to_state: "branch_approved",
            command: "record_branch_meeting",
            rule_codes: vec![],
            payload_json: r#"{"present":15,"yes":12}"#.into(),
            effective_date: date(2026, 12, 8),
            recorded_at: at(2026, 12, 8, 9, 30, 0, 0),
            idempotency_key: Some("req-0003"),
            ..row1()
        },
    ]
}

fn h(hex_str: &str) -> Hash {
    let v = hex::decode(hex_str).expect("test hash literal is hex");
    v.try_into().expect("test hash literal is 32 bytes")
}

/// Honest stored rows: each with the leaf and chain the store would have written.
fn stored(rows: &[Row]) -> Vec<(LogEntry<'_>, Hash, Hash)> {
    let mut prev = GENESIS;
    rows.iter()
        .map(|r| {
            let e = r.entry();
            let leaf = leaf_hash(&e);
            prev = chain_hash(&prev, &leaf);
            (e, leaf, prev)
        })
        .collect()
}

const CANONICAL_1: &str = concat!(
    "01",
    "00", "00000008", "0000000000000001",
    "01", "00000010", "0123456789ab7cde8f0123456789abcd",
    "02", "00000010", "11111111222273338444555555555555",
    "03", "00000010", "aaaaaaaabbbb7ccc8dddeeeeeeeeeeee",
    "04", "ffffffff",
    "05", "00000009", "61646d697373696f6e",
    "06", "00000008", "0000000000000001",
    "07", "00000040", "65336230633434323938666331633134396166626634633839393666623932343237616534316534363439623933346361343935393931623738353262383535",
    "08", "00000008", "6163746976697374",
    "09", "00000012", "646576656c6f706d656e745f746172676574",
    "0a", "0000001c", "64657465726d696e655f646576656c6f706d656e745f746172676574",
    "0b", "00000011", "757365723a7365637265746172792d3031",
    "0c", "00000010", "6272616e63685f736563726574617279",
    "0d", "0000002a", "00000002", "0000000f", "41444d5f4f42534552564154494f4e", "0000000f", "41444d5f434c4153535f484f555253",
    "0e", "00000021", "7b22636c6173735f686f757273223a382c226e6f7465223a22e5908ce6848f227d",
    "0f", "0000000a", "323032362d31312d3330",
    "10", "0000001b", "323032362d31312d33305431303a34373a35362e3132333435365a",
    "11", "00000008", "7265712d30303031",
);

#[test]
fn canonical_v1_golden_bytes() {
    let r = row1();
    let bytes = canonical_v1(&r.entry());
    assert_eq!(bytes.len(), 435);
    assert_eq!(hex::encode(&bytes), CANONICAL_1);
}

#[test]
fn leaf_hash_golden() {
    assert_eq!(
        hex::encode(leaf_hash(&row1().entry())),
        "17f578b6c93f82bd759e3ffa675c9fa2030e013cf285f6e24fd22f5524914830"
    );
}

#[test]
fn chain_over_three_entries_golden() {
    let rows = three_rows();
    let s = stored(&rows);
    let leaves: Vec<String> = s.iter().map(|(_, l, _)| hex::encode(l)).collect();
    let chains: Vec<String> = s.iter().map(|(_, _, c)| hex::encode(c)).collect();
    assert_eq!(
        leaves,
        [
            "17f578b6c93f82bd759e3ffa675c9fa2030e013cf285f6e24fd22f5524914830",
            "d3b512a1d6cc607b98e995fb177a715a36e9a97906cfe5e5c22da49702c3710d",
            "05967553118f04d80b84c70dca3ab50a8db070d76b239afb55f31addd753f40b",
        ]
    );
    assert_eq!(
        chains,
        [
            "158ee6e88861bed7c80a22b4f77a0605ea525841c676469dc83faf7e1ac73959",
            "9f9b58841a494ab5d0b015d781c327d59af96e3250b505a8876f490ae3110a2f",
            "463b01ed07b8ec1e824c2c0867ea22d234d4817fb889922732d745c70aca1e81",
        ]
    );
    assert_eq!(verify_chain(s), Ok(3));
}

#[test]
fn chain_hash_is_sha256_of_prev_then_leaf() {
    let leaf = h("17f578b6c93f82bd759e3ffa675c9fa2030e013cf285f6e24fd22f5524914830");
    assert_eq!(
        hex::encode(chain_hash(&GENESIS, &leaf)),
        "158ee6e88861bed7c80a22b4f77a0605ea525841c676469dc83faf7e1ac73959"
    );
    assert_ne!(chain_hash(&GENESIS, &leaf), chain_hash(&leaf, &GENESIS));
}

#[test]
fn verify_chain_accepts_empty_log() {
    assert_eq!(verify_chain(Vec::new()), Ok(0));
}

#[test]
fn verify_chain_detects_altered_field_at_its_seq() {
    let rows = three_rows();
    let honest = stored(&rows);
    let mut tampered_row = rows[1].clone();
    tampered_row.payload_json = r#"{"x":1}"#.into();
    let mut s = honest.clone();
    s[1].0 = tampered_row.entry();
    assert_eq!(
        verify_chain(s),
        Err(ChainFault {
            seq: 2,
            kind: ChainFaultKind::LeafMismatch
        })
    );
}

#[test]
fn verify_chain_detects_altered_field_even_with_recomputed_leaf() {
    // The attacker also rewrites the stored leaf of seq 2, but not the chain.
    let rows = three_rows();
    let mut s = stored(&rows);
    let mut tampered_row = rows[1].clone();
    tampered_row.effective_date = date(2026, 11, 1);
    s[1].0 = tampered_row.entry();
    s[1].1 = leaf_hash(&s[1].0);
    assert_eq!(
        verify_chain(s),
        Err(ChainFault {
            seq: 2,
            kind: ChainFaultKind::ChainMismatch
        })
    );
}

#[test]
fn verify_chain_detects_altered_stored_chain_hash() {
    let rows = three_rows();
    let mut s = stored(&rows);
    s[2].2[0] ^= 0x01;
    assert_eq!(
        verify_chain(s),
        Err(ChainFault {
            seq: 3,
            kind: ChainFaultKind::ChainMismatch
        })
    );
}

#[test]
fn verify_chain_detects_swapped_rows_as_seq_gap() {
    // Rows 2 and 3 returned in the wrong order, hashes untouched.
    let rows = three_rows();
    let mut s = stored(&rows);
    s.swap(1, 2);
    assert_eq!(
        verify_chain(s),
        Err(ChainFault {
            seq: 3,
            kind: ChainFaultKind::SeqGap { expected: 2 }
        })
    );
}

#[test]
fn verify_chain_detects_swapped_contents_with_seq_renumbered() {
    // The contents of entries 2 and 3 swapped, seq numbers and stored hashes kept in place:
    // seq is part of the leaf, so the leaf of seq 2 no longer matches.
    let rows = three_rows();
    let honest = stored(&rows);
    let mut a = rows[2].clone();
    a.seq = 2;
    let mut b = rows[1].clone();
    b.seq = 3;
    let mut s = honest.clone();
    s[1].0 = a.entry();
    s[2].0 = b.entry();
    assert_eq!(
        verify_chain(s),
        Err(ChainFault {
            seq: 2,
            kind: ChainFaultKind::LeafMismatch
        })
    );
}

#[test]
fn verify_chain_detects_swapped_pair_with_recomputed_leaves() {
    // Same swap, and the attacker recomputes both leaves but cannot fix the chain.
    let rows = three_rows();
    let honest = stored(&rows);
    let mut a = rows[2].clone();
    a.seq = 2;
    let mut b = rows[1].clone();
    b.seq = 3;
    let mut s = honest.clone();
    s[1] = (a.entry(), leaf_hash(&a.entry()), honest[1].2);
    s[2] = (b.entry(), leaf_hash(&b.entry()), honest[2].2);
    assert_eq!(
        verify_chain(s),
        Err(ChainFault {
            seq: 2,
            kind: ChainFaultKind::ChainMismatch
        })
    );
}

#[test]
fn verify_chain_detects_gap() {
    let rows = three_rows();
    let mut s = stored(&rows);
    s.remove(1);
    assert_eq!(
        verify_chain(s),
        Err(ChainFault {
            seq: 3,
            kind: ChainFaultKind::SeqGap { expected: 2 }
        })
    );
}

#[test]
fn verify_chain_requires_start_at_seq_1() {
    let rows = three_rows();
    let mut s = stored(&rows);
    s.remove(0);
    assert_eq!(
        verify_chain(s),
        Err(ChainFault {
            seq: 2,
            kind: ChainFaultKind::SeqGap { expected: 1 }
        })
    );
}

#[test]
fn verify_chain_detects_duplicated_entry() {
    let rows = three_rows();
    let mut s = stored(&rows);
    let dup = s[1];
    s.insert(2, dup);
    assert_eq!(
        verify_chain(s),
        Err(ChainFault {
            seq: 2,
            kind: ChainFaultKind::SeqGap { expected: 3 }
        })
    );
}

#[test]
fn chain_fault_display_names_seq_and_kind() {
    let f = ChainFault {
        seq: 7,
        kind: ChainFaultKind::SeqGap { expected: 6 },
    };
    assert_eq!(
        f.to_string(),
        "transition log fails verification at seq 7: sequence gap (expected seq 6)"
    );
    let f = ChainFault {
        seq: 2,
        kind: ChainFaultKind::LeafMismatch,
    };
    assert_eq!(
        f.to_string(),
        "transition log fails verification at seq 2: leaf hash mismatch"
    );
}

#[test]
fn every_field_changes_the_leaf() {
    let base = row1();
    let base_leaf = leaf_hash(&base.entry());
    let rules_other = vec!["ADM_OBSERVATION".to_string()];
    let mut variants: Vec<LogEntry<'_>> = Vec::new();
    let e = base.entry();
    variants.push(LogEntry { seq: 2, ..e });
    variants.push(LogEntry {
        entry_id: Uuid::nil(),
        ..e
    });
    variants.push(LogEntry {
        instance_id: Uuid::nil(),
        ..e
    });
    variants.push(LogEntry {
        person_id: None,
        ..e
    });
    variants.push(LogEntry {
        org_id: Some(Uuid::nil()),
        ..e
    });
    variants.push(LogEntry {
        workflow: "relation",
        ..e
    });
    variants.push(LogEntry {
        workflow_version: 2,
        ..e
    });
    variants.push(LogEntry {
        definition_sha256: "00",
        ..e
    });
    variants.push(LogEntry {
        from_state: "applicant",
        ..e
    });
    variants.push(LogEntry {
        to_state: "rejected",
        ..e
    });
    variants.push(LogEntry {
        command: "reject",
        ..e
    });
    variants.push(LogEntry {
        actor: "user:other",
        ..e
    });
    variants.push(LogEntry {
        role: "committee_admin",
        ..e
    });
    variants.push(LogEntry {
        rule_codes: &rules_other,
        ..e
    });
    variants.push(LogEntry {
        payload_json: "{}",
        ..e
    });
    variants.push(LogEntry {
        effective_date: date(2026, 11, 29),
        ..e
    });
    variants.push(LogEntry {
        recorded_at: at(2026, 11, 30, 10, 47, 56, 123_457),
        ..e
    });
    variants.push(LogEntry {
        idempotency_key: None,
        ..e
    });
    assert_eq!(variants.len(), 18);
    for v in &variants {
        assert_ne!(leaf_hash(v), base_leaf, "field change not reflected: {v:?}");
    }
}

#[test]
fn none_differs_from_empty_string() {
    let r = row1();
    let none = LogEntry {
        idempotency_key: None,
        ..r.entry()
    };
    let empty = LogEntry {
        idempotency_key: Some(""),
        ..r.entry()
    };
    let tail_none = &canonical_v1(&none)[..];
    let tail_empty = &canonical_v1(&empty)[..];
    assert_eq!(hex::encode(&tail_none[tail_none.len() - 5..]), "11ffffffff");
    assert_eq!(
        hex::encode(&tail_empty[tail_empty.len() - 5..]),
        "1100000000"
    );
}

#[test]
fn length_prefixes_prevent_field_boundary_shifts() {
    let r = row1();
    let a = LogEntry {
        from_state: "ab",
        to_state: "c",
        ..r.entry()
    };
    let b = LogEntry {
        from_state: "a",
        to_state: "bc",
        ..r.entry()
    };
    assert_ne!(canonical_v1(&a), canonical_v1(&b));
    let one = vec!["AB".to_string()];
    let two = vec!["A".to_string(), "B".to_string()];
    let a = LogEntry {
        rule_codes: &one,
        ..r.entry()
    };
    let b = LogEntry {
        rule_codes: &two,
        ..r.entry()
    };
    assert_ne!(leaf_hash(&a), leaf_hash(&b));
}

#[test]
fn recorded_at_is_encoded_to_the_microsecond() {
    let r = row1();
    let whole = LogEntry {
        recorded_at: at(2026, 12, 8, 9, 30, 0, 0),
        ..r.entry()
    };
    let bytes = canonical_v1(&whole);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("2026-12-08T09:30:00.000000Z"));
    // Digits below the microsecond are dropped.
    let nanos = LogEntry {
        recorded_at: r.recorded_at + chrono::Duration::nanoseconds(789),
        ..r.entry()
    };
    assert_eq!(canonical_v1(&nanos), canonical_v1(&r.entry()));
}

#[test]
fn debug_does_not_print_payload() {
    let r = row1();
    let s = format!("{:?}", r.entry());
    assert!(s.contains("payload_json: <33 bytes>"), "{s}");
    assert!(!s.contains("同意"));
}

/// The worked `canonical_v2` example of `docs/audit-format.md`: row 1 with salt `00 01 … 1f`; its payload's `note`
/// is a personal field. Expected values computed independently in Python from the documented layout.
#[test]
fn canonical_v2_golden_commitments_bytes_and_leaf() {
    let salt: [u8; 32] = std::array::from_fn(|i| u8::try_from(i).expect("i < 32"));
    let r = row1();
    let (redacted, personal) =
        split_personal(&serde_json::from_str(&r.payload_json).expect("row 1 payload is JSON"));
    let redacted = redacted.to_string();
    let personal = personal.expect("note is personal").to_string();
    assert_eq!(redacted, r#"{"class_hours":8}"#);
    assert_eq!(personal, r#"{"/note":"同意"}"#);
    let e = LogEntry {
        payload_json: &redacted,
        personal: Personal::Open {
            salt: &salt,
            personal_json: Some(&personal),
        },
        ..r.entry()
    };
    let (actor, committed) = e.personal.commitments(e.actor).expect("v2");
    assert_eq!(
        hex::encode(actor),
        "ac07572170ff195c06e18c421cd5a8ae3d5a62dbd9652dfc75a0bbea0f3c64c7"
    );
    assert_eq!(actor, commitment(&salt, 11, b"user:secretary-01"));
    assert_eq!(
        committed.map(hex::encode).as_deref(),
        Some("cea498e87adee53171fc9929cf9daab278f27a74d983a4fc47b1c87e66d42758")
    );
    let bytes = canonical(&e);
    assert_eq!(bytes.len(), 471);
    assert_eq!(bytes[0], 0x02);
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        "8a0398a0158c6523cbc4062558b00ea418932952599a30be7a51796b9daedaff"
    );
    let leaf = "4920644def8cc648afc0aface3fc612e937fad07b0ff14be8f8bef59a99837ea";
    assert_eq!(hex::encode(leaf_hash(&e)), leaf);
    // Disclosed with the commitments only, the entry hashes to the same leaf whatever actor it names.
    let committed_only = LogEntry {
        actor: "",
        personal: Personal::Committed {
            actor,
            personal: committed,
        },
        ..e
    };
    assert_eq!(hex::encode(leaf_hash(&committed_only)), leaf);
    // A different salt, actor or personal value gives a different leaf.
    let other_salt = [7u8; 32];
    for altered in [
        LogEntry {
            personal: Personal::Open {
                salt: &other_salt,
                personal_json: Some(&personal),
            },
            ..e
        },
        LogEntry {
            actor: "user:secretary-02",
            ..e
        },
        LogEntry {
            personal: Personal::Open {
                salt: &salt,
                personal_json: Some(r#"{"/note":"不同意"}"#),
            },
            ..e
        },
        LogEntry {
            personal: Personal::Open {
                salt: &salt,
                personal_json: None,
            },
            ..e
        },
    ] {
        assert_ne!(hex::encode(leaf_hash(&altered)), leaf);
    }
}
