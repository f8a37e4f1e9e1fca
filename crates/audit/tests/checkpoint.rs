//! Signed notes, key texts and checkpoints (C2SP `signed-note`, `tlog-checkpoint`).
//!
//! The `PeterNeumann` key and note are the published example of `golang.org/x/mod/sumdb/note`
//! (the reference implementation of C2SP `signed-note`). The golden checkpoint was computed
//! independently with Python's `hashlib`, `base64` and `cryptography` (Ed25519) from the
//! layout in `docs/audit-format.md`.

use tuanji_audit::{
    decode_skey, decode_vkey, encode_skey, encode_vkey, generate_key, key_id, open_note, sign_note,
    Checkpoint, CheckpointError, Hash, KeyError, NoteError, SigningKey,
};

const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n\
                       \n\
                       \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

const NAME: &str = "tuanji.example/register";
/// Seed bytes 0x00, 0x01, …, 0x1f.
const SKEY: &str =
    "PRIVATE+KEY+tuanji.example/register+8f184393+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
const VKEY: &str = "tuanji.example/register+8f184393+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";

/// The checkpoint of size 8 with the Trillian vectors' root and the three-entry chain head
/// of `golden.rs`, signed with the key above.
const GOLDEN: &str = "tuanji.example/register\n\
                      8\n\
                      XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\
                      chain RjsB7Qe47B6CTCwIZ+oi0jTUgX+4iZInMtdFxwrKHoE=\n\
                      \n\
                      \u{2014} tuanji.example/register jxhDk02sGL6GbK87a2U2jGQEE/LvSwvBt40B+bGLBC2ytWrYyzbtHVrDUXAMO+n4ZwcfMMfjC7cPfbG28hnJt9fd7QE=\n";

fn h(hex_str: &str) -> Hash {
    hex::decode(hex_str)
        .expect("test hash is hex")
        .try_into()
        .expect("test hash is 32 bytes")
}

fn seed_key() -> SigningKey {
    let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    SigningKey::from_bytes(&seed)
}

fn golden_checkpoint() -> Checkpoint {
    Checkpoint {
        origin: NAME.to_owned(),
        size: 8,
        root: h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
        chain_head: h("463b01ed07b8ec1e824c2c0867ea22d234d4817fb889922732d745c70aca1e81"),
    }
}

#[test]
fn go_reference_key_texts_round_trip() {
    let (name, key) = decode_skey(GO_SKEY).expect("reference skey decodes");
    assert_eq!(name, "PeterNeumann");
    assert_eq!(key_id(&name, &key.verifying_key()), 0xc74f_20a3);
    assert_eq!(encode_skey(&key, &name).as_deref(), Ok(GO_SKEY));
    assert_eq!(
        encode_vkey(&key.verifying_key(), &name).as_deref(),
        Ok(GO_VKEY)
    );
    let (vname, vkey) = decode_vkey(GO_VKEY).expect("reference vkey decodes");
    assert_eq!(vname, "PeterNeumann");
    assert_eq!(vkey, key.verifying_key());
}

#[test]
fn go_reference_note_is_reproduced_and_opens() {
    let (name, key) = decode_skey(GO_SKEY).expect("reference skey decodes");
    assert_eq!(sign_note(GO_TEXT, &key, &name).as_deref(), Ok(GO_NOTE));
    let (_, vkey) = decode_vkey(GO_VKEY).expect("reference vkey decodes");
    assert_eq!(open_note(GO_NOTE, &vkey, "PeterNeumann"), Ok(GO_TEXT));
}

#[test]
fn golden_key_texts() {
    let key = seed_key();
    assert_eq!(key_id(NAME, &key.verifying_key()), 0x8f18_4393);
    assert_eq!(encode_skey(&key, NAME).as_deref(), Ok(SKEY));
    assert_eq!(encode_vkey(&key.verifying_key(), NAME).as_deref(), Ok(VKEY));
    let (name, decoded) = decode_skey(&format!("{SKEY}\n")).expect("key file with newline");
    assert_eq!(name, NAME);
    assert_eq!(decoded.to_bytes(), key.to_bytes());
    assert_eq!(
        decode_vkey(VKEY).map(|(n, k)| (n, k.to_bytes())),
        Ok((NAME.to_owned(), key.verifying_key().to_bytes()))
    );
}

#[test]
fn golden_checkpoint_text() {
    let cp = golden_checkpoint();
    assert_eq!(
        cp.to_note_body(),
        "tuanji.example/register\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\
         chain RjsB7Qe47B6CTCwIZ+oi0jTUgX+4iZInMtdFxwrKHoE=\n"
    );
    assert_eq!(cp.sign(&seed_key(), NAME).as_deref(), Ok(GOLDEN));
    let (_, vkey) = decode_vkey(VKEY).expect("golden vkey decodes");
    assert_eq!(Checkpoint::parse_and_verify(GOLDEN, &vkey, NAME), Ok(cp));
}

#[test]
fn checkpoint_with_wrong_key_is_refused() {
    let other = SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    let want_id = key_id(NAME, &other);
    assert_eq!(
        Checkpoint::parse_and_verify(GOLDEN, &other, NAME),
        Err(CheckpointError::Note(NoteError::NoSignatureFromKey {
            name: NAME.to_owned(),
            key_id: want_id
        }))
    );
    // Right key, other name: another key ID, so no signature from that key either.
    let key = seed_key().verifying_key();
    assert!(matches!(
        Checkpoint::parse_and_verify(GOLDEN, &key, "tuanji.example/other"),
        Err(CheckpointError::Note(NoteError::NoSignatureFromKey { .. }))
    ));
}

#[test]
fn checkpoint_with_altered_body_is_refused() {
    let key = seed_key().verifying_key();
    let bad = || {
        Err(CheckpointError::Note(NoteError::BadSignature {
            name: NAME.to_owned(),
            key_id: 0x8f18_4393,
        }))
    };
    // Size 8 -> 9.
    let altered = GOLDEN.replacen("\n8\n", "\n9\n", 1);
    assert_eq!(Checkpoint::parse_and_verify(&altered, &key, NAME), bad());
    // One character of the chain head.
    let altered = GOLDEN.replacen("chain Rjs", "chain Rjt", 1);
    assert_eq!(Checkpoint::parse_and_verify(&altered, &key, NAME), bad());
    // An extension line slipped in.
    let altered = GOLDEN.replacen("\n\n\u{2014}", "\nextra\n\n\u{2014}", 1);
    assert_eq!(Checkpoint::parse_and_verify(&altered, &key, NAME), bad());
}

#[test]
fn checkpoint_with_bad_signature_is_refused() {
    let key = seed_key().verifying_key();
    // Change one base64 character of the signature (after the 4-byte key ID).
    let sig_start = GOLDEN.rfind(' ').expect("signature line has a space") + 1;
    for offset in [8, 40, 80] {
        let mut bytes = GOLDEN.as_bytes().to_vec();
        let i = sig_start + offset;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).expect("still ASCII");
        assert_eq!(
            Checkpoint::parse_and_verify(&altered, &key, NAME),
            Err(CheckpointError::Note(NoteError::BadSignature {
                name: NAME.to_owned(),
                key_id: 0x8f18_4393
            })),
            "offset {offset}"
        );
    }
    // A signature by another key under our name and key ID.
    let forged = sign_note(
        &golden_checkpoint().to_note_body(),
        &SigningKey::from_bytes(&[7u8; 32]),
        NAME,
    )
    .expect("signs");
    let forged_sig = forged.rsplit_once(' ').expect("has a space").1;
    let genuine_id = &GOLDEN.rsplit_once(' ').expect("has a space").1[..4];
    // Replace the key ID bytes of the forged blob with ours: decode, patch, re-encode.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut blob = b64.decode(forged_sig.trim_end()).expect("base64");
    blob[..4].copy_from_slice(&0x8f18_4393u32.to_be_bytes());
    let patched = format!(
        "{}\n\u{2014} {NAME} {}\n",
        golden_checkpoint().to_note_body(),
        b64.encode(&blob)
    );
    assert!(b64.encode(&blob).starts_with(genuine_id));
    assert!(matches!(
        Checkpoint::parse_and_verify(&patched, &key, NAME),
        Err(CheckpointError::Note(NoteError::BadSignature { .. }))
    ));
}

#[test]
fn signatures_of_other_keys_are_ignored() {
    let key = seed_key().verifying_key();
    let other = SigningKey::from_bytes(&[7u8; 32]);
    let witness = sign_note(
        &golden_checkpoint().to_note_body(),
        &other,
        "witness.example",
    )
    .expect("signs");
    let witness_line = witness.rsplit_once("\n\n").expect("blank line").1;
    let both = format!("{GOLDEN}{witness_line}");
    assert_eq!(
        Checkpoint::parse_and_verify(&both, &key, NAME),
        Ok(golden_checkpoint())
    );
    let witness_first = format!(
        "{}\n{witness_line}{}",
        golden_checkpoint().to_note_body(),
        GOLDEN.rsplit_once("\n\n").expect("blank line").1
    );
    assert_eq!(
        Checkpoint::parse_and_verify(&witness_first, &key, NAME),
        Ok(golden_checkpoint())
    );
}

#[test]
fn malformed_notes_are_refused() {
    let key = seed_key().verifying_key();
    let body = golden_checkpoint().to_note_body();
    let cases: Vec<(String, NoteError)> = vec![
        (
            body.clone(),
            NoteError::Malformed("no blank line before the signatures"),
        ),
        (
            GOLDEN.trim_end_matches('\n').to_owned(),
            NoteError::Malformed("signatures do not end with a newline"),
        ),
        (
            format!("{body}\n"),
            NoteError::Malformed("signatures do not end with a newline"),
        ),
        (
            GOLDEN.replacen('\u{2014}', "-", 1),
            NoteError::Malformed("signature line does not start with '— '"),
        ),
        (
            format!("{body}\n\u{2014} {NAME} AAAA\n"),
            NoteError::Malformed("signature is shorter than 5 bytes"),
        ),
        (
            format!("{body}\n\u{2014} {NAME} not*base64\n"),
            NoteError::Malformed("signature is not valid base64"),
        ),
        (
            GOLDEN.replacen("\n8\n", "\n8\t\n", 1),
            NoteError::ControlCharacter,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(
            Checkpoint::parse_and_verify(&text, &key, NAME),
            Err(CheckpointError::Note(want.clone())),
            "{text:?}"
        );
    }
    let many = format!("{body}\n{}", "\u{2014} someone AAAAAAAA\n".repeat(101));
    assert_eq!(
        open_note(&many, &key, NAME),
        Err(NoteError::TooManySignatures)
    );
}

#[test]
fn malformed_checkpoint_bodies_are_refused() {
    let key = seed_key();
    let root = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
    let chain = "chain RjsB7Qe47B6CTCwIZ+oi0jTUgX+4iZInMtdFxwrKHoE=";
    let cases: Vec<(String, CheckpointError)> = vec![
        (
            format!("{NAME}\n08\n{root}\n{chain}\n"),
            CheckpointError::BadSize,
        ),
        (
            format!("{NAME}\n+8\n{root}\n{chain}\n"),
            CheckpointError::BadSize,
        ),
        (
            format!("{NAME}\n\u{ff18}\n{root}\n{chain}\n"),
            CheckpointError::BadSize,
        ),
        (
            format!("{NAME}\n18446744073709551616\n{root}\n{chain}\n"),
            CheckpointError::BadSize,
        ),
        (
            format!("{NAME}\n8\n{root}=\n{chain}\n"),
            CheckpointError::BadRoot,
        ),
        (
            format!("{NAME}\n8\nAAAA\n{chain}\n"),
            CheckpointError::BadRoot,
        ),
        (
            format!("{NAME}\n8\n{root}\n"),
            CheckpointError::MissingChainHead,
        ),
        (
            format!("{NAME}\n8\n{root}\n{chain}\n{chain}\n"),
            CheckpointError::DuplicateChainHead,
        ),
        (
            format!("{NAME}\n8\n{root}\nchain AAAA\n"),
            CheckpointError::BadChainHead,
        ),
        (
            format!("{NAME}\n8\n"),
            CheckpointError::Malformed("fewer than three lines"),
        ),
    ];
    for (body, want) in cases {
        let note = sign_note(&body, &key, NAME).expect("any text signs");
        assert_eq!(
            Checkpoint::parse_and_verify(&note, &key.verifying_key(), NAME),
            Err(want),
            "{body:?}"
        );
    }
    // Size 0 parses; unknown extension lines are ignored.
    let body = format!("{NAME}\n0\n{root}\nwitness foo\n{chain}\n");
    let cp = Checkpoint::from_note_body(&body).expect("valid body");
    assert_eq!(cp.size, 0);
    assert_eq!(cp.chain_head, golden_checkpoint().chain_head);
}

#[test]
fn invalid_origin_and_key_name_are_refused_when_signing() {
    let key = seed_key();
    let mut cp = golden_checkpoint();
    assert_eq!(
        cp.sign(&key, "bad name"),
        Err(CheckpointError::Note(NoteError::Key(KeyError::InvalidName)))
    );
    assert_eq!(
        cp.sign(&key, "a+b"),
        Err(CheckpointError::Note(NoteError::Key(KeyError::InvalidName)))
    );
    cp.origin = "evil\n999".to_owned();
    assert_eq!(cp.sign(&key, NAME), Err(CheckpointError::InvalidOrigin));
    cp.origin = String::new();
    assert_eq!(cp.sign(&key, NAME), Err(CheckpointError::InvalidOrigin));
    assert_eq!(sign_note("no newline", &key, NAME), Err(NoteError::BadText));
    assert_eq!(sign_note("", &key, NAME), Err(NoteError::BadText));
    assert_eq!(
        sign_note("tab\there\n", &key, NAME),
        Err(NoteError::ControlCharacter)
    );
}

#[test]
fn malformed_key_texts_are_refused() {
    let cases: Vec<(&str, KeyError)> = vec![
        (VKEY, KeyError::NotPrivateKey),
        ("PRIVATE+KEY+name+8f184393", KeyError::WrongFieldCount),
        (
            "PRIVATE+KEY+bad name+8f184393+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f",
            KeyError::InvalidName,
        ),
        (
            "PRIVATE+KEY+tuanji.example/register+8f18439+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f",
            KeyError::BadKeyId,
        ),
        (
            "PRIVATE+KEY+tuanji.example/register+8f18439x+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f",
            KeyError::BadKeyId,
        ),
        (
            "PRIVATE+KEY+tuanji.example/register+8f184393+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4",
            KeyError::BadBase64,
        ),
        (
            "PRIVATE+KEY+tuanji.example/register+8f184393+AgABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f",
            KeyError::UnknownAlgorithm(0x02),
        ),
        (
            "PRIVATE+KEY+tuanji.example/register+8f184393+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHQ==",
            KeyError::WrongKeyLength(30),
        ),
        (
            "PRIVATE+KEY+tuanji.example/register+00000000+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f",
            KeyError::KeyIdMismatch {
                stated: 0,
                computed: 0x8f18_4393,
            },
        ),
        (
            "PRIVATE+KEY+tuanji.example/other+8f184393+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f",
            KeyError::KeyIdMismatch {
                stated: 0x8f18_4393,
                computed: key_id("tuanji.example/other", &seed_key().verifying_key()),
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(decode_skey(text).map(|_| ()), Err(want), "{text}");
    }
    let vcases: Vec<(&str, KeyError)> = vec![
        // "PRIVATE" parses as the name and "KEY" as the key ID.
        (SKEY, KeyError::BadKeyId),
        (
            "tuanji.example/register+8f184393",
            KeyError::WrongFieldCount,
        ),
        (
            "tuanji.example/register+8f184393+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4AA==",
            KeyError::WrongKeyLength(33),
        ),
        (
            "tuanji.example/register+00000000+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
            KeyError::KeyIdMismatch {
                stated: 0,
                computed: 0x8f18_4393,
            },
        ),
        // The Go tests' "unknown algorithm" vkey.
        (
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            KeyError::UnknownAlgorithm(0x65),
        ),
    ];
    for (text, want) in vcases {
        assert_eq!(decode_vkey(text).map(|_| ()), Err(want), "{text}");
    }
    // Every truncation of the reference vkey and skey is refused.
    for end in 0..GO_VKEY.len() {
        assert!(decode_vkey(&GO_VKEY[..end]).is_err(), "{}", &GO_VKEY[..end]);
    }
    for end in 0..GO_SKEY.len() {
        assert!(decode_skey(&GO_SKEY[..end]).is_err(), "{}", &GO_SKEY[..end]);
    }
}

#[test]
fn generated_keys_round_trip_through_key_texts_and_sign() {
    let key = generate_key();
    let other = generate_key();
    assert_ne!(key.to_bytes(), other.to_bytes());
    let skey = encode_skey(&key, NAME).expect("valid name");
    let vkey = encode_vkey(&key.verifying_key(), NAME).expect("valid name");
    let (_, decoded) = decode_skey(&skey).expect("round trip");
    let (_, verifying) = decode_vkey(&vkey).expect("round trip");
    let signed = golden_checkpoint().sign(&decoded, NAME).expect("signs");
    assert_eq!(
        Checkpoint::parse_and_verify(&signed, &verifying, NAME),
        Ok(golden_checkpoint())
    );
}
