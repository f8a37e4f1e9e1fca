//! The resident identity number (公民身份号码) of GB 11643-1999.
//!
//! Structure (DOMAIN-SOURCES §13): 6-digit address code (GB/T 2260 county code), 8-digit birth
//! date `YYYYMMDD`, 3-digit sequence code (odd for men, even for women), 1 check character
//! computed by ISO 7064:1983 MOD 11-2 (a digit, or `X` for 10).
//!
//! Resident IDs are personal data: never log one in full. [`ResidentId`]'s `Debug` output and
//! [`ResidentId::masked`] show `110105********1234`; [`mask_id_like`] masks ID-like text in
//! messages about bad input.

use std::fmt;
use std::str::FromStr;

use chrono::Datelike;

use crate::rules::{RuleCode, RuleViolation};
use crate::{Date, UnknownName};

/// Weights W_i = 2^(17-i) mod 11 of the first 17 digits (GB 11643-1999).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for Y = (Σ digit_i × W_i) mod 11, Y = 0..=10.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The ISO 7064 MOD 11-2 check character of the first 17 characters of a resident ID.
///
/// Returns `None` if `first17` is not exactly 17 ASCII digits.
///
/// ```
/// assert_eq!(tuanji_domain::check_character("11010519491231002"), Some('X'));
/// assert_eq!(tuanji_domain::check_character("13040219820729062"), Some('4'));
/// assert_eq!(tuanji_domain::check_character("1304021982072906"), None);
/// ```
pub fn check_character(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    // sum % 11 is in 0..=10, always a valid index.
    CHECK.get((sum % 11) as usize).copied()
}

/// Sex (性别) as encoded in a resident ID: character 17 odd is male, even is female.
/// Serialised in lowercase: `"male"`, `"female"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    /// 男
    Male,
    /// 女
    Female,
}

impl Sex {
    /// `"male"` or `"female"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Reads the Chinese form used in rosters: `"男"` → male, `"女"` → female (surrounding
    /// whitespace ignored). Anything else is `None`.
    pub fn from_chinese(s: &str) -> Option<Sex> {
        match s.trim() {
            "男" => Some(Sex::Male),
            "女" => Some(Sex::Female),
            _ => None,
        }
    }

    /// `"男"` or `"女"`.
    pub fn chinese(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sex {
    type Err = UnknownName;

    /// Parses `"male"` / `"female"` (as serialised) or `"男"` / `"女"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "male" => Ok(Sex::Male),
            "female" => Ok(Sex::Female),
            other => Sex::from_chinese(other).ok_or_else(|| UnknownName::new("sex", other)),
        }
    }
}

/// A valid 18-character resident identity number (公民身份号码, GB 11643-1999), stored with an
/// uppercase `X` check character. Serialised as the 18-character string.
///
/// `Debug` prints the masked form so that an ID cannot leak into logs by accident; use
/// [`ResidentId::as_str`] where the full number is really needed (storage, comparison).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId(String);

impl ResidentId {
    /// Parses and validates a resident ID. Surrounding whitespace is trimmed; a lowercase `x`
    /// check character is accepted and stored as `X`.
    ///
    /// Checks, in order, each failing with its rule code and a message saying what was wrong
    /// (never repeating the full number):
    /// - `ID_FORMAT`: 18 characters, the first 17 ASCII digits, the last a digit or `X`;
    /// - `ID_CHECKSUM`: the check character is the ISO 7064 MOD 11-2 check of the first 17
    ///   digits (e.g. "check character should be 4, found 2");
    /// - `ID_BIRTH_DATE`: characters 7–14 are a real calendar date not after `today` (a date in
    ///   China Standard Time).
    pub fn parse(s: &str, today: Date) -> Result<Self, RuleViolation> {
        let (id, birth) = validate(s)?;
        if birth > today {
            return Err(RuleViolation::new(
                RuleCode::IdBirthDate,
                format!("birth date in characters 7–14 is after today ({today})"),
            ));
        }
        Ok(id)
    }

    /// The 18-character number (with uppercase `X`). Personal data: do not log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> Date {
        // Validated at construction; the fallback is unreachable but keeps this panic-free.
        birth_date_of(&self.0).unwrap_or_default()
    }

    /// The birth year (characters 7–10).
    pub fn birth_year(&self) -> i32 {
        self.birth_date().year()
    }

    /// Sex from character 17 (the last digit of the sequence code): odd is male, even female.
    pub fn sex(&self) -> Sex {
        let digit = self
            .0
            .as_bytes()
            .get(16)
            .map_or(0, |b| b.wrapping_sub(b'0'));
        if digit % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The first 6 digits: the GB/T 2260 address code of the county where the number was issued.
    /// Not validated against the GB/T 2260 table.
    pub fn region_code(&self) -> &str {
        self.0.get(..6).unwrap_or_default()
    }

    /// The masked form for logs and messages: first 6 characters, 8 stars, last 4
    /// (`110105********1234`).
    pub fn masked(&self) -> String {
        mask_id_like(&self.0)
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResidentId").field(&self.masked()).finish()
    }
}

impl serde::Serialize for ResidentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ResidentId {
    /// Deserialises with the `ID_FORMAT`, `ID_CHECKSUM` and real-date checks of
    /// [`ResidentId::parse`]; the "not after today" check needs a date and is left to `parse`
    /// (stored IDs were checked when they were entered).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        validate(&s)
            .map(|(id, _)| id)
            .map_err(serde::de::Error::custom)
    }
}

/// Format, checksum and real-date checks; returns the normalised ID and its birth date.
fn validate(s: &str) -> Result<(ResidentId, Date), RuleViolation> {
    let s = s.trim();
    let count = s.chars().count();
    if count != 18 {
        return Err(RuleViolation::new(
            RuleCode::IdFormat,
            format!("a resident ID has 18 characters, found {count}"),
        ));
    }
    for (i, c) in s.chars().enumerate() {
        let position = i + 1;
        if i < 17 && !c.is_ascii_digit() {
            return Err(RuleViolation::new(
                RuleCode::IdFormat,
                format!(
                    "character {position} must be a digit, found {}",
                    describe(c)
                ),
            ));
        }
        if i == 17 && !(c.is_ascii_digit() || c == 'X' || c == 'x') {
            return Err(RuleViolation::new(
                RuleCode::IdFormat,
                format!(
                    "character 18 (the check character) must be a digit or X, found {}",
                    describe(c)
                ),
            ));
        }
    }
    // All 18 characters are ASCII now, so byte slicing is safe.
    let normalised = s.to_ascii_uppercase();
    let (first17, found) = normalised.split_at(17);
    let expected = check_character(first17).ok_or_else(|| {
        RuleViolation::new(RuleCode::IdFormat, "the first 17 characters must be digits")
    })?;
    if found != expected.to_string() {
        return Err(RuleViolation::new(
            RuleCode::IdChecksum,
            format!("check character should be {expected}, found {found}"),
        ));
    }
    let birth = birth_date_of(&normalised).ok_or_else(|| {
        let (month, day) = (
            normalised.get(10..12).unwrap_or_default(),
            normalised.get(12..14).unwrap_or_default(),
        );
        RuleViolation::new(
            RuleCode::IdBirthDate,
            format!(
                "birth date in characters 7–14 is not a real calendar date (month {month}, day {day})"
            ),
        )
    })?;
    Ok((ResidentId(normalised), birth))
}

/// The birth date of characters 7–14 (`YYYYMMDD`), if it is a real date.
fn birth_date_of(id: &str) -> Option<Date> {
    let year: i32 = id.get(6..10)?.parse().ok()?;
    let month: u32 = id.get(10..12)?.parse().ok()?;
    let day: u32 = id.get(12..14)?.parse().ok()?;
    Date::from_ymd_opt(year, month, day)
}

/// Describes a character for an error message without echoing unprintable input.
fn describe(c: char) -> String {
    format!("{c:?}")
}

/// Masks everything in `s` that looks like an identity number, for messages about bad input.
///
/// A run is a maximal sequence of letters and digits (full-width digits included), which may continue over a
/// single separator (`-`, space, `.`, `/`) standing between two digits, as in `110108-20090401-2011`. Every run
/// of at least 10 letters and digits, at least half of them digits, keeps its first 6 and last 4 letters or
/// digits (only the first 6 when the run is shorter than 16, whose last digits would be the birth date); the
/// others become `*` and separators stay. An 18-character ID becomes `110105********1234`; other text is
/// unchanged.
///
/// ```
/// use tuanji_domain::mask_id_like;
/// assert_eq!(mask_id_like("11010519491231002X"), "110105********002X");
/// assert_eq!(mask_id_like("bad id 1101051949123100 (16 digits)"), "bad id 110105******3100 (16 digits)");
/// assert_eq!(mask_id_like("110108-20090401-2011"), "110108-********-2011");
/// assert_eq!(mask_id_like("organisation"), "organisation");
/// ```
pub fn mask_id_like(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_alphanumeric() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() {
            let joins = is_separator(chars[i])
                && chars[i - 1].is_numeric()
                && chars.get(i + 1).is_some_and(|c| c.is_numeric());
            if chars[i].is_alphanumeric() || joins {
                i += 1;
            } else {
                break;
            }
        }
        flush_run(&mut out, &chars[start..i]);
    }
    out
}

fn is_separator(c: char) -> bool {
    matches!(c, '-' | ' ' | '.' | '/' | '\u{3000}')
}

fn flush_run(out: &mut String, run: &[char]) {
    let len = run.iter().filter(|c| !is_separator(**c)).count();
    let digits = run.iter().filter(|c| c.is_numeric()).count();
    if len >= 10 && digits * 2 >= len {
        let mut seen = 0;
        for &c in run {
            if is_separator(c) {
                out.push(c);
                continue;
            }
            seen += 1;
            // Only a full-length number keeps its last 4; a shorter one would show the birth date's digits.
            let keep = seen <= 6 || (len >= 16 && seen > len - 4);
            out.push(if keep { c } else { '*' });
        }
    } else {
        out.extend(run.iter());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn today() -> Date {
        d(2026, 7, 1)
    }

    /// Builds an ID with a correct check character from 17 digits.
    fn with_check(first17: &str) -> String {
        let c = check_character(first17).expect("17 digits");
        format!("{first17}{c}")
    }

    #[test]
    fn id_checksum_accepts_standard_example_with_x() {
        let id = ResidentId::parse("11010519491231002X", today()).expect("valid ID");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), d(1949, 12, 31));
        assert_eq!(id.birth_year(), 1949);
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.region_code(), "110105");
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn id_checksum_rejects_wrong_check_digit() {
        let err = ResidentId::parse("130402198207290622", today()).expect_err("bad check");
        assert_eq!(err.code, RuleCode::IdChecksum);
        assert_eq!(err.message, "check character should be 4, found 2");
        assert!(ResidentId::parse("130402198207290624", today()).is_ok());
    }

    #[test]
    fn id_checksum_known_valid_numbers() {
        for s in ["440524188001010014", "34052419800101001X"] {
            assert!(ResidentId::parse(s, today()).is_ok(), "{s} should be valid");
        }
        assert_eq!(
            ResidentId::parse("440524188001010014", today())
                .expect("valid")
                .sex(),
            Sex::Male
        );
    }

    #[test]
    fn id_format_accepts_lowercase_x_and_stores_uppercase() {
        let id = ResidentId::parse("  11010519491231002x\n", today()).expect("valid ID");
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn id_format_rejects_17_characters() {
        let err = ResidentId::parse("11010519491231002", today()).expect_err("too short");
        assert_eq!(err.code, RuleCode::IdFormat);
        assert_eq!(err.message, "a resident ID has 18 characters, found 17");
    }

    #[test]
    fn id_format_rejects_letters_in_the_first_17() {
        let err = ResidentId::parse("1101051949123100AX", today()).expect_err("letter");
        assert_eq!(err.code, RuleCode::IdFormat);
        assert_eq!(err.message, "character 17 must be a digit, found 'A'");
        let err = ResidentId::parse("11010519491231002Y", today()).expect_err("bad check char");
        assert_eq!(err.code, RuleCode::IdFormat);
        assert_eq!(
            err.message,
            "character 18 (the check character) must be a digit or X, found 'Y'"
        );
    }

    #[test]
    fn id_format_counts_characters_not_bytes() {
        let err = ResidentId::parse("１１０１０５１９４９１２３１００２Ｘ", today())
            .expect_err("full-width digits");
        assert_eq!(err.code, RuleCode::IdFormat);
        assert_eq!(err.message, "character 1 must be a digit, found '１'");
    }

    #[test]
    fn id_birth_date_rejects_30_february() {
        let s = with_check("11010519900230001");
        let err = ResidentId::parse(&s, today()).expect_err("no 30 Feb");
        assert_eq!(err.code, RuleCode::IdBirthDate);
        assert_eq!(
            err.message,
            "birth date in characters 7–14 is not a real calendar date (month 02, day 30)"
        );
    }

    #[test]
    fn id_birth_date_rejects_date_after_today() {
        let s = with_check("11010520260702001");
        let err = ResidentId::parse(&s, today()).expect_err("born tomorrow");
        assert_eq!(err.code, RuleCode::IdBirthDate);
        assert_eq!(
            err.message,
            "birth date in characters 7–14 is after today (2026-07-01)"
        );
        // Born today is fine.
        let s = with_check("11010520260701001");
        assert_eq!(
            ResidentId::parse(&s, today())
                .expect("born today")
                .birth_date(),
            today()
        );
    }

    #[test]
    fn id_messages_never_contain_the_full_number() {
        for s in [
            "130402198207290622",
            "11010519491231002",
            "1101051949123100AX",
        ] {
            let err = ResidentId::parse(s, today()).expect_err("invalid");
            assert!(
                !err.message.contains(s),
                "message leaks the ID: {}",
                err.message
            );
        }
    }

    #[test]
    fn sex_from_character_17() {
        let male = ResidentId::parse(&with_check("11010519491231001"), today()).expect("valid");
        assert_eq!(male.sex(), Sex::Male);
        assert_eq!(Sex::from_chinese("男"), Some(Sex::Male));
        assert_eq!(Sex::from_chinese(" 女 "), Some(Sex::Female));
        assert_eq!(Sex::from_chinese("M"), None);
        assert_eq!("female".parse::<Sex>(), Ok(Sex::Female));
        assert_eq!(Sex::Male.as_str(), "male");
        assert!("unknown".parse::<Sex>().is_err());
    }

    #[test]
    fn check_character_rejects_non_digits() {
        assert_eq!(check_character("1101051949123100A"), None);
        assert_eq!(check_character("110105194912310021"), None);
        assert_eq!(check_character("１１０１０５１９４９１２３１００２"), None);
    }

    #[test]
    fn debug_output_is_masked() {
        let id = ResidentId::parse("11010519491231002X", today()).expect("valid ID");
        assert_eq!(format!("{id:?}"), r#"ResidentId("110105********002X")"#);
    }

    #[test]
    fn serde_round_trip_as_string_and_validates() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Row {
            id: ResidentId,
            sex: Sex,
        }
        let row = Row {
            id: ResidentId::parse("11010519491231002X", today()).expect("valid"),
            sex: Sex::Female,
        };
        let text = toml::to_string(&row).expect("serialise");
        assert_eq!(text, "id = \"11010519491231002X\"\nsex = \"female\"\n");
        assert_eq!(toml::from_str::<Row>(&text).expect("deserialise"), row);
        let bad = toml::from_str::<Row>("id = \"130402198207290622\"\nsex = \"male\"\n");
        let err = bad.expect_err("bad checksum");
        assert!(err.to_string().contains("ID_CHECKSUM"), "{err}");
    }

    #[test]
    fn mask_id_like_masks_only_id_like_runs() {
        assert_eq!(mask_id_like("110105194912311234"), "110105********1234");
        assert_eq!(mask_id_like("11010519491231002"), "110105*******1002");
        assert_eq!(
            mask_id_like("id=11010519491231002x;"),
            "id=110105********002x;"
        );
        assert_eq!(mask_id_like("ADM_AGE_MIN"), "ADM_AGE_MIN");
        assert_eq!(mask_id_like("110108 20090315 101X"), "110108 ******** 101X");
        assert_eq!(
            mask_id_like("１１０１０８２００８０１１０５００４"),
            "１１０１０８********５００４"
        );
        assert_eq!(mask_id_like("2026-10-16"), "2026-10-16");
        assert_eq!(mask_id_like("11010820090401"), "110108********");
        assert_eq!(mask_id_like("2026"), "2026");
        assert_eq!(
            mask_id_like("中文 11010519491231002X 中文"),
            "中文 110105********002X 中文"
        );
    }
}
