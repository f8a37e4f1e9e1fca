//! The deterministic demo roster: fictitious applicants (入团申请人) for a school, with valid
//! resident IDs, as a school would export them.
//!
//! [`generate`] draws everything from a ChaCha8 stream seeded with [`GeneratorConfig::seed`], so a
//! seed always yields the same roster (for one version of this crate and of `rand`). Some
//! applicants are deliberately wrong, to exercise the import checks:
//!
//! - every `under_age_every`-th applicant is 13 on the application date (rule `ADM_AGE_MIN`:
//!   at least 14 full years on the application date; 团章 Art. 1, DOMAIN-SOURCES §1.4);
//! - every `bad_checksum_every`-th applicant has a wrong check character (rule `ID_CHECKSUM`:
//!   ISO 7064 MOD 11-2 of GB 11643-1999, DOMAIN-SOURCES §13).
//!
//! **Overlaps.** The two flags are independent: an applicant whose 1-based position is a multiple
//! of both periods is under age *and* has a bad check character. With 1,000 applicants,
//! `under_age_every = 25` and `bad_checksum_every = 100` there are exactly 40 under-age and 10
//! bad-checksum applicants, 10 of them both. An import refuses those 10 for `ID_CHECKSUM` before
//! it can see their age, so it reports 10 `ID_CHECKSUM` and 30 `ADM_AGE_MIN` refusals.
//!
//! Generated IDs follow the real structure and may coincide with a real person's number, so
//! `Debug` masks them like any other resident ID.

use std::collections::HashSet;
use std::fmt;

use chrono::{Datelike, Duration, Months};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tuanji_domain::{check_character, mask_id_like, Date, Sex};

/// How many applicants one county code may carry: far below the ~180,000 distinct IDs per sex
/// that one county and the narrowest birth-date band (one year, for the under-age applicants)
/// allow, so drawing a fresh ID rarely collides.
pub const MAX_APPLICANTS_PER_COUNTY: usize = 100_000;

/// Draws per applicant before [`generate`] gives up finding an unused ID. Unreachable for a
/// configuration that passes [`GeneratorConfig::validate`] (each draw collides with probability
/// below 0.3).
const MAX_ID_DRAWS: usize = 1_000;

/// Common Chinese surnames (百家姓, the most frequent first).
const SURNAMES: [&str; 50] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈",
];

/// Given-name characters common for boys.
const GIVEN_MALE: [&str; 32] = [
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "浩", "宇", "轩", "然", "博", "文",
    "辰", "睿", "泽", "俊", "子", "一", "鹏", "昊", "天", "晨", "嘉", "思", "逸", "航", "铭", "凯",
];

/// Given-name characters common for girls.
const GIVEN_FEMALE: [&str; 32] = [
    "芳", "娜", "敏", "静", "丽", "婷", "雪", "琳", "欣", "怡", "悦", "涵", "萱", "雨", "梓", "诗",
    "佳", "颖", "晴", "瑶", "璐", "彤", "妍", "可", "馨", "玥", "子", "一", "思", "嘉", "晨", "文",
];

/// Ethnic groups (民族) other than 汉族, drawn for about 9 % of applicants.
const MINORITIES: [&str; 9] = [
    "壮族",
    "回族",
    "满族",
    "维吾尔族",
    "苗族",
    "彝族",
    "土家族",
    "藏族",
    "蒙古族",
];

/// Percentage of applicants recorded as 汉族.
const HAN_PERCENT: u32 = 91;

/// Every possible check character of MOD 11-2.
const CHECK_CHARACTERS: [char; 11] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X'];

/// The roster's column headers, in order.
pub const ROSTER_HEADER: [&str; 7] = [
    "姓名",
    "性别",
    "民族",
    "公民身份号码",
    "出生日期",
    "班级",
    "申请日期",
];

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// Seed of the ChaCha8 stream: the same seed gives the same roster.
    pub seed: u64,
    /// Number of applicants to generate.
    pub applicants: usize,
    /// 6-digit GB/T 2260 county codes (address codes of the resident ID); each applicant gets
    /// one at random. At least one.
    pub county_codes: Vec<String>,
    /// First and last possible application date (inclusive), calendar dates in China Standard
    /// Time; each applicant's is drawn uniformly from it.
    pub application_window: (Date, Date),
    /// Class names (班级), assigned round-robin in roster order. At least one.
    pub classes: Vec<String>,
    /// Every n-th applicant (1-based: n, 2n, …) is 13 on the application date; 0 for none.
    pub under_age_every: usize,
    /// Every n-th applicant (1-based: n, 2n, …) gets a wrong check character; 0 for none.
    pub bad_checksum_every: usize,
}

/// Why a [`GeneratorConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeneratorError {
    /// `county_codes` is empty.
    #[error("no county codes given")]
    NoCountyCodes,
    /// A county code is not 6 ASCII digits (`index` is its position in `county_codes`).
    #[error("county code #{index} is not 6 digits: {code:?}")]
    InvalidCountyCode {
        /// Position in `county_codes`.
        index: usize,
        /// The rejected code (not personal data), cut to 16 characters.
        code: String,
    },
    /// `classes` is empty.
    #[error("no classes given")]
    NoClasses,
    /// The application window ends before it starts.
    #[error("application window ends ({end}) before it starts ({start})")]
    EmptyWindow {
        /// First day of the window.
        start: Date,
        /// Last day of the window.
        end: Date,
    },
    /// The window lies outside 1918–9999, so a birth date would not have a 4-digit year.
    #[error("application window must lie within the years 1918 to 9999")]
    WindowOutOfRange,
    /// More applicants than the distinct county codes can carry.
    #[error("{requested} applicants requested; at most {max} for the county codes given")]
    TooManyApplicants {
        /// `applicants` as configured.
        requested: usize,
        /// [`MAX_APPLICANTS_PER_COUNTY`] × the number of distinct county codes.
        max: usize,
    },
}

impl GeneratorConfig {
    /// Checks the configuration: at least one county code, each 6 ASCII digits; at least one
    /// class; a window with `start <= end` within the years 1918–9999; and at most
    /// [`MAX_APPLICANTS_PER_COUNTY`] applicants per distinct county code.
    pub fn validate(&self) -> Result<(), GeneratorError> {
        if self.county_codes.is_empty() {
            return Err(GeneratorError::NoCountyCodes);
        }
        for (index, code) in self.county_codes.iter().enumerate() {
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(GeneratorError::InvalidCountyCode {
                    index,
                    code: code.chars().take(16).collect(),
                });
            }
        }
        if self.classes.is_empty() {
            return Err(GeneratorError::NoClasses);
        }
        let (start, end) = self.application_window;
        if end < start {
            return Err(GeneratorError::EmptyWindow { start, end });
        }
        if start.year() < 1918 || end.year() > 9999 {
            return Err(GeneratorError::WindowOutOfRange);
        }
        let distinct: HashSet<&str> = self.county_codes.iter().map(String::as_str).collect();
        let max = distinct.len().saturating_mul(MAX_APPLICANTS_PER_COUNTY);
        if self.applicants > max {
            return Err(GeneratorError::TooManyApplicants {
                requested: self.applicants,
                max,
            });
        }
        Ok(())
    }
}

/// One fictitious applicant (入团申请人) as a school roster lists them.
///
/// `Debug` masks the name and the resident ID.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedApplicant {
    /// Full name (姓名): a common surname and a one- or two-character given name.
    pub name: String,
    /// Sex (性别) in Chinese, `"男"` or `"女"`; matches the ID's 17th character (odd male).
    pub sex_chinese: &'static str,
    /// Ethnic group (民族), e.g. `"汉族"`.
    pub ethnicity: &'static str,
    /// Resident ID (公民身份号码), 18 characters: county code, birth date `YYYYMMDD`, 3-digit
    /// sequence code, check character. Passes MOD 11-2 unless `bad_checksum`.
    pub resident_id: String,
    /// Birth date (出生日期), the same as encoded in `resident_id`.
    pub birth_date: Date,
    /// Class (班级), from [`GeneratorConfig::classes`].
    pub class: String,
    /// Application date (申请日期): the effective date of the application.
    pub application_date: Date,
    /// The check character is deliberately wrong (`ID_CHECKSUM` must refuse it).
    pub bad_checksum: bool,
    /// The applicant is 13 full years old on `application_date` (`ADM_AGE_MIN` must refuse
    /// them); otherwise 14, 15 or 16.
    pub under_age: bool,
}

impl fmt::Debug for GeneratedApplicant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked_name: String = self
            .name
            .chars()
            .take(1)
            .chain(self.name.chars().skip(1).map(|_| '*'))
            .collect();
        f.debug_struct("GeneratedApplicant")
            .field("name", &masked_name)
            .field("sex_chinese", &self.sex_chinese)
            .field("ethnicity", &self.ethnicity)
            .field("resident_id", &mask_id_like(&self.resident_id))
            .field("birth_date", &self.birth_date)
            .field("class", &self.class)
            .field("application_date", &self.application_date)
            .field("bad_checksum", &self.bad_checksum)
            .field("under_age", &self.under_age)
            .finish()
    }
}

/// Generates `cfg.applicants` fictitious applicants, deterministically for `cfg.seed`
/// (`rand_chacha::ChaCha8Rng::seed_from_u64`).
///
/// For the applicant at 1-based position `n`:
/// - the application date is uniform in `cfg.application_window`;
/// - the birth date makes them 14, 15 or 16 full years old on it (uniform over that band), or 13
///   if `n` is a multiple of `under_age_every`;
/// - sex is male or female with probability ½, encoded in the parity of the 3-digit sequence code
///   (odd male; codes 001–999); the county code is drawn from `cfg.county_codes`;
/// - the check character is the MOD 11-2 one, or one of the 10 others (drawn) if `n` is a
///   multiple of `bad_checksum_every` (see the module docs on overlaps);
/// - the class is `cfg.classes[(n - 1) % len]` (round-robin);
/// - about 91 % are 汉族.
///
/// No two applicants share their first 17 characters, so no two share an ID, even with a wrong
/// check character. Returns an empty roster if `cfg` fails [`GeneratorConfig::validate`].
pub fn generate(cfg: &GeneratorConfig) -> Vec<GeneratedApplicant> {
    if cfg.validate().is_err() {
        return Vec::new();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut used: HashSet<String> = HashSet::with_capacity(cfg.applicants);
    let mut rows = Vec::with_capacity(cfg.applicants);
    let (start, end) = cfg.application_window;
    let window_days = (end - start).num_days();

    for i in 0..cfg.applicants {
        let n = i + 1;
        let under_age = is_every(n, cfg.under_age_every);
        let bad_checksum = is_every(n, cfg.bad_checksum_every);

        let sex = if rng.gen_bool(0.5) {
            Sex::Male
        } else {
            Sex::Female
        };
        let name = draw_name(&mut rng, sex);
        let ethnicity = if rng.gen_range(0..100) < HAN_PERCENT {
            "汉族"
        } else {
            MINORITIES.choose(&mut rng).copied().unwrap_or("汉族")
        };
        let application_date = start + Duration::days(rng.gen_range(0..=window_days));
        let (youngest, oldest) = if under_age { (13, 13) } else { (14, 16) };
        let Some((earliest_birth, latest_birth)) = birth_band(application_date, youngest, oldest)
        else {
            // Unreachable: validate() keeps the window within 1918–9999.
            break;
        };
        let band_days = (latest_birth - earliest_birth).num_days();

        let mut drawn = None;
        for _ in 0..MAX_ID_DRAWS {
            let birth_date = earliest_birth + Duration::days(rng.gen_range(0..=band_days));
            let county = cfg
                .county_codes
                .choose(&mut rng)
                .map(String::as_str)
                .unwrap_or_default();
            let sequence: u32 = match sex {
                Sex::Male => 2 * rng.gen_range(0..500) + 1, // 1, 3, …, 999
                Sex::Female => 2 * rng.gen_range(1..500),   // 2, 4, …, 998
            };
            let first17 = format!("{county}{}{sequence:03}", birth_date.format("%Y%m%d"));
            if used.insert(first17.clone()) {
                drawn = Some((first17, birth_date));
                break;
            }
        }
        let Some((first17, birth_date)) = drawn else {
            // Unreachable for a validated configuration (see MAX_ID_DRAWS).
            break;
        };
        let Some(correct) = check_character(&first17) else {
            // Unreachable: first17 is 6 + 8 + 3 ASCII digits.
            break;
        };
        let check = if bad_checksum {
            let wrong: Vec<char> = CHECK_CHARACTERS
                .iter()
                .copied()
                .filter(|&c| c != correct)
                .collect();
            wrong.choose(&mut rng).copied().unwrap_or(correct)
        } else {
            correct
        };
        let class = cfg
            .classes
            .get(i % cfg.classes.len())
            .cloned()
            .unwrap_or_default();

        rows.push(GeneratedApplicant {
            name,
            sex_chinese: sex.chinese(),
            ethnicity,
            resident_id: format!("{first17}{check}"),
            birth_date,
            class,
            application_date,
            bad_checksum,
            under_age,
        });
    }
    rows
}

/// Whether the 1-based position `n` is a multiple of `every` (never when `every` is 0).
fn is_every(n: usize, every: usize) -> bool {
    every != 0 && n % every == 0
}

/// The earliest and latest birth dates of someone aged `youngest..=oldest` full years on `on`.
///
/// Latest: `on` minus `youngest` years (29 February becomes 28 February in a common year).
/// Earliest: the day after `on` minus `oldest + 1` years. `None` if out of chrono's range.
fn birth_band(on: Date, youngest: u32, oldest: u32) -> Option<(Date, Date)> {
    let latest = on.checked_sub_months(Months::new(12 * youngest))?;
    let earliest = on
        .checked_sub_months(Months::new(12 * (oldest + 1)))?
        .succ_opt()?;
    Some((earliest, latest))
}

fn draw_name(rng: &mut ChaCha8Rng, sex: Sex) -> String {
    let given = match sex {
        Sex::Male => &GIVEN_MALE,
        Sex::Female => &GIVEN_FEMALE,
    };
    let mut name = String::new();
    name.push_str(SURNAMES.choose(rng).copied().unwrap_or("王"));
    // About a quarter of given names have one character, the rest two.
    let chars = if rng.gen_range(0..4) == 0 { 1 } else { 2 };
    for _ in 0..chars {
        name.push_str(given.choose(rng).copied().unwrap_or("一"));
    }
    name
}

/// The roster CSV a school would export: UTF-8 with a byte-order mark (so Excel opens it as
/// UTF-8), the header `姓名,性别,民族,公民身份号码,出生日期,班级,申请日期`, one line per applicant,
/// every line (the last too) ended by CRLF. Dates are `YYYY-MM-DD`. A field containing a comma,
/// a double quote, CR or LF is quoted, with inner quotes doubled (RFC 4180).
pub fn to_roster_csv(rows: &[GeneratedApplicant]) -> Vec<u8> {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push('\u{FEFF}');
    push_line(&mut out, &ROSTER_HEADER);
    for r in rows {
        let birth = r.birth_date.format("%Y-%m-%d").to_string();
        let applied = r.application_date.format("%Y-%m-%d").to_string();
        push_line(
            &mut out,
            &[
                &r.name,
                r.sex_chinese,
                r.ethnicity,
                &r.resident_id,
                &birth,
                &r.class,
                &applied,
            ],
        );
    }
    out.into_bytes()
}

fn push_line(out: &mut String, fields: &[&str]) {
    for (k, field) in fields.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use tuanji_domain::age_on;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn config(seed: u64, applicants: usize) -> GeneratorConfig {
        GeneratorConfig {
            seed,
            applicants,
            county_codes: vec!["110105".into(), "440305".into(), "510107".into()],
            application_window: (d(2026, 9, 1), d(2026, 11, 30)),
            classes: vec!["初二(1)班".into(), "初二(2)班".into(), "初三(1)班".into()],
            under_age_every: 25,
            bad_checksum_every: 100,
        }
    }

    fn mod11_2_valid(id: &str) -> bool {
        id.len() == 18 && check_character(&id[..17]) == id[17..].chars().next()
    }

    #[test]
    fn same_seed_gives_identical_roster() {
        let a = generate(&config(7, 300));
        let b = generate(&config(7, 300));
        assert_eq!(a.len(), 300);
        assert_eq!(a, b);
        assert_eq!(to_roster_csv(&a), to_roster_csv(&b));
    }

    #[test]
    fn different_seed_gives_different_roster() {
        let a = generate(&config(7, 300));
        let b = generate(&config(8, 300));
        assert_eq!(b.len(), 300);
        let same_ids = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x.resident_id == y.resident_id)
            .count();
        assert_eq!(same_ids, 0);
        assert_ne!(a, b);
    }

    #[test]
    fn seed_42_golden_first_applicants() {
        // Pins the stream: changing the draw order changes every demo database.
        let rows = generate(&config(42, 3));
        let got: Vec<String> = rows
            .iter()
            .map(|r| {
                [
                    r.name.as_str(),
                    r.sex_chinese,
                    r.ethnicity,
                    &r.resident_id,
                    &r.birth_date.to_string(),
                    &r.class,
                    &r.application_date.to_string(),
                ]
                .join(",")
            })
            .collect();
        assert_eq!(got, GOLDEN_42);
    }

    #[test]
    fn flag_counts_with_overlaps_for_1000_applicants() {
        let rows = generate(&config(2026, 1000));
        assert_eq!(rows.len(), 1000);
        let under = rows.iter().filter(|r| r.under_age).count();
        let bad = rows.iter().filter(|r| r.bad_checksum).count();
        let both = rows
            .iter()
            .filter(|r| r.under_age && r.bad_checksum)
            .count();
        assert_eq!((under, bad, both), (40, 10, 10));
        // Positions are exactly the multiples (1-based).
        let under_pos: Vec<usize> = (1..=1000).filter(|n| rows[n - 1].under_age).collect();
        assert_eq!(under_pos, (1..=40).map(|k| 25 * k).collect::<Vec<_>>());
        let bad_pos: Vec<usize> = (1..=1000).filter(|n| rows[n - 1].bad_checksum).collect();
        assert_eq!(bad_pos, (1..=10).map(|k| 100 * k).collect::<Vec<_>>());
    }

    #[test]
    fn id_checksum_holds_for_all_but_bad_checksum_applicants() {
        let rows = generate(&config(2026, 1000));
        let valid = rows
            .iter()
            .filter(|r| mod11_2_valid(&r.resident_id))
            .count();
        assert_eq!(valid, 990);
        for r in &rows {
            assert_eq!(mod11_2_valid(&r.resident_id), !r.bad_checksum, "{r:?}");
        }
    }

    #[test]
    fn id_format_encodes_county_birth_date_and_sex() {
        let cfg = config(2026, 1000);
        for r in generate(&cfg) {
            let id = &r.resident_id;
            assert_eq!(id.len(), 18);
            assert!(id[..17].bytes().all(|b| b.is_ascii_digit()));
            assert!(cfg.county_codes.iter().any(|c| c == &id[..6]));
            assert_eq!(&id[6..14], r.birth_date.format("%Y%m%d").to_string());
            let sequence: u32 = id[14..17].parse().expect("3 digits");
            assert!((1..=999).contains(&sequence));
            let male = sequence % 2 == 1;
            assert_eq!(r.sex_chinese, if male { "男" } else { "女" });
        }
    }

    #[test]
    fn id_unique_across_roster() {
        let rows = generate(&config(2026, 1000));
        let ids: HashSet<&str> = rows.iter().map(|r| r.resident_id.as_str()).collect();
        let first17: HashSet<&str> = rows.iter().map(|r| &r.resident_id[..17]).collect();
        assert_eq!((ids.len(), first17.len()), (1000, 1000));
    }

    #[test]
    fn id_unique_when_space_is_crowded() {
        // One county, one application day, everyone 13: about 365 × 499 IDs per sex.
        let cfg = GeneratorConfig {
            county_codes: vec!["110105".into()],
            application_window: (d(2026, 9, 1), d(2026, 9, 1)),
            under_age_every: 1,
            ..config(5, 20_000)
        };
        let rows = generate(&cfg);
        assert_eq!(rows.len(), 20_000);
        let ids: HashSet<&str> = rows.iter().map(|r| r.resident_id.as_str()).collect();
        assert_eq!(ids.len(), 20_000);
    }

    #[test]
    fn adm_age_min_ages_are_14_to_16_or_13_when_under_age() {
        let rows = generate(&config(2026, 1000));
        let mut seen = [0usize; 17];
        for r in &rows {
            let age = age_on(r.birth_date, r.application_date);
            if r.under_age {
                assert_eq!(age, 13, "{r:?}");
            } else {
                assert!((14..=16).contains(&age), "{r:?}");
            }
            seen[age as usize] += 1;
        }
        assert_eq!(seen[13], 40);
        assert_eq!(seen[14] + seen[15] + seen[16], 960);
        assert!(seen[14] > 0 && seen[15] > 0 && seen[16] > 0);
    }

    #[test]
    fn adm_age_min_band_is_exact_around_leap_days() {
        // Application dates on and around 29 February exercise the year arithmetic.
        for (start, end) in [
            (d(2028, 2, 27), d(2028, 3, 2)),
            (d(2026, 2, 27), d(2026, 3, 2)),
        ] {
            let cfg = GeneratorConfig {
                application_window: (start, end),
                under_age_every: 3,
                ..config(11, 3000)
            };
            for r in generate(&cfg) {
                let age = age_on(r.birth_date, r.application_date);
                assert!(r.application_date >= start && r.application_date <= end);
                if r.under_age {
                    assert_eq!(age, 13, "{r:?}");
                } else {
                    assert!((14..=16).contains(&age), "{r:?}");
                }
            }
        }
        assert_eq!(
            birth_band(d(2028, 2, 29), 14, 16),
            Some((d(2011, 3, 1), d(2014, 2, 28)))
        );
        assert_eq!(
            birth_band(d(2026, 3, 1), 13, 13),
            Some((d(2012, 3, 2), d(2013, 3, 1)))
        );
        assert_eq!(age_on(d(2011, 3, 1), d(2028, 2, 29)), 16);
        assert_eq!(age_on(d(2011, 2, 28), d(2028, 2, 29)), 17);
        assert_eq!(age_on(d(2014, 2, 28), d(2028, 2, 29)), 14);
        assert_eq!(age_on(d(2014, 3, 1), d(2028, 2, 29)), 13);
    }

    #[test]
    fn classes_round_robin_and_dates_in_window() {
        let cfg = config(3, 10);
        let rows = generate(&cfg);
        let classes: Vec<&str> = rows.iter().map(|r| r.class.as_str()).collect();
        assert_eq!(
            classes,
            [
                "初二(1)班",
                "初二(2)班",
                "初三(1)班",
                "初二(1)班",
                "初二(2)班",
                "初三(1)班",
                "初二(1)班",
                "初二(2)班",
                "初三(1)班",
                "初二(1)班",
            ]
        );
        let (start, end) = cfg.application_window;
        assert!(rows
            .iter()
            .all(|r| r.application_date >= start && r.application_date <= end));
    }

    #[test]
    fn sex_and_ethnicity_proportions() {
        let rows = generate(&config(2026, 1000));
        let male = rows.iter().filter(|r| r.sex_chinese == "男").count();
        let han = rows.iter().filter(|r| r.ethnicity == "汉族").count();
        // Binomial(1000, 0.5) and (1000, 0.91); exact for this seed, both within 2 sigma.
        assert_eq!((male, han), (500, 908));
        assert!(rows.iter().all(|r| {
            let n = r.name.chars().count();
            (2..=3).contains(&n)
        }));
    }

    #[test]
    fn zero_periods_mean_no_flagged_applicants() {
        let cfg = GeneratorConfig {
            under_age_every: 0,
            bad_checksum_every: 0,
            ..config(1, 200)
        };
        let rows = generate(&cfg);
        assert_eq!(rows.len(), 200);
        assert!(rows.iter().all(|r| !r.under_age && !r.bad_checksum));
    }

    #[test]
    fn invalid_config_is_refused_with_reason() {
        let ok = config(1, 10);
        assert_eq!(ok.validate(), Ok(()));
        let c = GeneratorConfig {
            county_codes: vec![],
            ..ok.clone()
        };
        assert_eq!(c.validate(), Err(GeneratorError::NoCountyCodes));
        assert!(generate(&c).is_empty());
        let c = GeneratorConfig {
            county_codes: vec!["110105".into(), "11010".into()],
            ..ok.clone()
        };
        assert_eq!(
            c.validate(),
            Err(GeneratorError::InvalidCountyCode {
                index: 1,
                code: "11010".into()
            })
        );
        let c = GeneratorConfig {
            classes: vec![],
            ..ok.clone()
        };
        assert_eq!(c.validate(), Err(GeneratorError::NoClasses));
        let c = GeneratorConfig {
            application_window: (d(2026, 9, 2), d(2026, 9, 1)),
            ..ok.clone()
        };
        assert_eq!(
            c.validate(),
            Err(GeneratorError::EmptyWindow {
                start: d(2026, 9, 2),
                end: d(2026, 9, 1)
            })
        );
        let c = GeneratorConfig {
            application_window: (d(1917, 12, 31), d(2026, 9, 1)),
            ..ok.clone()
        };
        assert_eq!(c.validate(), Err(GeneratorError::WindowOutOfRange));
        let c = GeneratorConfig {
            county_codes: vec!["110105".into(), "110105".into()],
            applicants: 100_001,
            ..ok
        };
        assert_eq!(
            c.validate(),
            Err(GeneratorError::TooManyApplicants {
                requested: 100_001,
                max: 100_000
            })
        );
    }

    #[test]
    fn roster_csv_has_bom_header_and_crlf() {
        let rows = generate(&config(42, 3));
        let bytes = to_roster_csv(&rows);
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
        let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            "姓名,性别,民族,公民身份号码,出生日期,班级,申请日期"
        );
        assert!(text.ends_with("\r\n"));
        assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
        assert_eq!(lines[1..], GOLDEN_42);
    }

    #[test]
    fn roster_csv_quotes_fields_with_commas_and_quotes() {
        let mut rows = generate(&config(42, 1));
        rows[0].class = "初二,\"实验\"班".into();
        let bytes = to_roster_csv(&rows);
        let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
        assert!(text.contains(",\"初二,\"\"实验\"\"班\","), "{text}");
    }

    #[test]
    fn debug_masks_name_and_id() {
        let rows = generate(&config(42, 1));
        let s = format!("{:?}", rows[0]);
        assert!(!s.contains(&rows[0].resident_id), "{s}");
        assert!(!s.contains(&rows[0].name), "{s}");
        assert!(s.contains(&mask_id_like(&rows[0].resident_id)), "{s}");
    }

    /// The first three applicants of seed 42 as roster lines.
    const GOLDEN_42: [&str; 3] = [
        "赵涵璐,女,汉族,51010720100428628X,2010-04-28,初二(1)班,2026-10-29",
        "许可晴,女,汉族,510107201107216487,2011-07-21,初二(2)班,2026-09-19",
        "罗天睿,男,汉族,110105201002208555,2010-02-20,初三(1)班,2026-11-02",
    ];
}
