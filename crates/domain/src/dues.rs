//! League dues (团费) by calendar month, in fen (分, 1 yuan = 100 fen; integers, never floats).
//!
//! Students, the unemployed and members on relief pay 0.2 yuan (20 fen) a month from the month of
//! admission (`DUE_STUDENT`: 《关于中国共产主义青年团团费收缴、使用和管理的规定》 中青发〔2016〕13号
//! Art. 5; dues start the month of the branch meeting, DOMAIN-SOURCES §1.2, §7). Six consecutive
//! months without dues is one ground of a lapse (`STD_LAPSE`, 团章 lapse clause, §2): [`trailing_gap`]
//! finds such a run.
//!
//! Months are [`YearMonth`] values; a range `from..=through` is inclusive at both ends.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::Datelike;

use crate::Date;

/// Monthly dues of students, the unemployed and members on relief: 0.2 yuan = 20 fen (`DUE_STUDENT`).
pub const STUDENT_MONTHLY_FEN: u64 = 20;

/// A calendar month, e.g. `2026-03`. Serialised as that text (`"YYYY-MM"`); ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

/// A month that is not `YYYY-MM` with a month from 01 to 12 and a year from 1 to 9999.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a month (YYYY-MM): {0:?}")]
pub struct YearMonthError(pub String);

impl YearMonth {
    /// The month `month` (1–12) of `year` (1–9999).
    ///
    /// # Errors
    /// [`YearMonthError`] for a month outside 1–12 or a year outside 1–9999.
    pub fn new(year: i32, month: u32) -> Result<Self, YearMonthError> {
        if (1..=12).contains(&month) && (1..=9999).contains(&year) {
            Ok(YearMonth { year, month })
        } else {
            Err(YearMonthError(format!("{year:04}-{month:02}")))
        }
    }

    /// The month a date falls in.
    pub fn of(date: Date) -> Self {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        Date::from_ymd_opt(self.year, self.month, 1).unwrap_or(Date::MAX)
    }

    /// The month `n` months later (`2025-11` + 3 = `2026-02`).
    pub fn plus(self, n: u32) -> Self {
        let index = self.index() + i64::from(n);
        YearMonth::from_index(index)
    }

    /// The month before (`2026-01` → `2025-12`).
    pub fn pred(self) -> Self {
        YearMonth::from_index(self.index() - 1)
    }

    /// The number of months from `self` to `later` counting both ends (`2026-01` to `2026-03` is 3);
    /// 0 when `later` is before `self`.
    pub fn months_through(self, later: YearMonth) -> u32 {
        u32::try_from(later.index() - self.index() + 1).unwrap_or(0)
    }

    fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    fn from_index(index: i64) -> Self {
        let year = i32::try_from(index.div_euclid(12)).unwrap_or(i32::MAX);
        let month = u32::try_from(index.rem_euclid(12) + 1).unwrap_or(12);
        YearMonth { year, month }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = YearMonthError;

    /// Parses `YYYY-MM` (exactly 4 and 2 digits).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || YearMonthError(s.chars().take(16).collect());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !y.chars().chain(m.chars()).all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        YearMonth::new(year, month).map_err(|_| bad())
    }
}

impl serde::Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What a member owes (`DUE_STUDENT`): the unpaid months and their amount.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Arrears {
    /// Unpaid months, oldest first.
    pub months: Vec<YearMonth>,
    /// Amount owed in fen: `months.len() × monthly rate`.
    pub amount_fen: u64,
}

/// The months from `from` to `through` (inclusive) that are not in `paid`, and their amount at
/// `monthly_fen` a month. Empty when `through` is before `from`.
///
/// A student admitted in May 2025 who paid May–August 2025 owes, through February 2026, the six
/// months September 2025 – February 2026: 6 × 20 = 120 fen (1.20 yuan).
pub fn arrears(
    from: YearMonth,
    through: YearMonth,
    paid: &BTreeSet<YearMonth>,
    monthly_fen: u64,
) -> Arrears {
    let months: Vec<YearMonth> = (0..from.months_through(through))
        .map(|i| from.plus(i))
        .filter(|m| !paid.contains(m))
        .collect();
    let amount_fen = monthly_fen.saturating_mul(months.len() as u64);
    Arrears { months, amount_fen }
}

/// A run of consecutive months without activity (dues paid, or organisational life attended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gap {
    /// First month of the run.
    pub first: YearMonth,
    /// Last month of the run.
    pub last: YearMonth,
    /// Length in months (at least 1).
    pub months: u32,
}

impl Gap {
    /// The date on which the run reached `n` months: the first day of month `first + n`, or `None`
    /// when the run is shorter than `n`. A run from September 2025 reaches 6 months on 2026-03-01.
    pub fn reached(&self, n: u32) -> Option<Date> {
        (self.months >= n).then(|| self.first.plus(n).first_day())
    }
}

/// The run of consecutive months without activity that ends at `through`: the months from the
/// month after the last active month (or from `from`, when none is active since) to `through`.
/// `None` when `through` is active or before `from`.
///
/// `STD_LAPSE`: a run of 6 months is a lapse (自行脱团).
pub fn trailing_gap(
    from: YearMonth,
    through: YearMonth,
    active: &BTreeSet<YearMonth>,
) -> Option<Gap> {
    if through < from || active.contains(&through) {
        return None;
    }
    let first = active
        .range(from..=through)
        .next_back()
        .map_or(from, |m| m.plus(1));
    Some(Gap {
        first,
        last: through,
        months: first.months_through(through),
    })
}

/// An amount in fen as yuan with two decimals: 120 → `"1.20"`, 20 → `"0.20"`.
pub fn format_yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(y: i32, m: u32) -> YearMonth {
        YearMonth::new(y, m).expect("valid test month")
    }

    fn set(months: &[YearMonth]) -> BTreeSet<YearMonth> {
        months.iter().copied().collect()
    }

    #[test]
    fn year_month_arithmetic_crosses_years() {
        assert_eq!(ym(2025, 11).plus(3), ym(2026, 2));
        assert_eq!(ym(2026, 1).pred(), ym(2025, 12));
        assert_eq!(ym(2026, 1).months_through(ym(2026, 3)), 3);
        assert_eq!(ym(2025, 5).months_through(ym(2026, 4)), 12);
        assert_eq!(ym(2026, 3).months_through(ym(2026, 2)), 0);
        assert_eq!(
            YearMonth::of(Date::from_ymd_opt(2024, 2, 29).expect("date")),
            ym(2024, 2)
        );
        assert_eq!(
            ym(2026, 2).first_day(),
            Date::from_ymd_opt(2026, 2, 1).expect("date")
        );
    }

    #[test]
    fn year_month_parses_and_prints_yyyy_mm() {
        assert_eq!("2026-03".parse::<YearMonth>(), Ok(ym(2026, 3)));
        assert_eq!(ym(2026, 3).to_string(), "2026-03");
        for bad in [
            "2026-13",
            "2026-00",
            "2026-3",
            "26-03",
            "2026/03",
            "",
            "２０２６-03",
        ] {
            assert!(bad.parse::<YearMonth>().is_err(), "{bad}");
        }
        assert_eq!(
            YearMonth::new(2026, 13),
            Err(YearMonthError("2026-13".into()))
        );
    }

    #[test]
    fn due_student_arrears_count_unpaid_months_at_20_fen() {
        let paid = set(&[ym(2025, 5), ym(2025, 6), ym(2025, 7), ym(2025, 8)]);
        let a = arrears(ym(2025, 5), ym(2026, 2), &paid, STUDENT_MONTHLY_FEN);
        assert_eq!(
            a.months,
            vec![
                ym(2025, 9),
                ym(2025, 10),
                ym(2025, 11),
                ym(2025, 12),
                ym(2026, 1),
                ym(2026, 2)
            ]
        );
        assert_eq!(a.amount_fen, 120);
        assert_eq!(format_yuan(a.amount_fen), "1.20");
    }

    #[test]
    fn due_student_a_year_of_dues_is_240_fen() {
        let a = arrears(
            ym(2025, 9),
            ym(2026, 8),
            &BTreeSet::new(),
            STUDENT_MONTHLY_FEN,
        );
        assert_eq!((a.months.len(), a.amount_fen), (12, 240));
        assert_eq!(format_yuan(240), "2.40");
        assert_eq!(format_yuan(20), "0.20");
        assert_eq!(format_yuan(5), "0.05");
    }

    #[test]
    fn due_student_nothing_owed_when_paid_or_before_admission() {
        let paid = set(&[ym(2026, 1), ym(2026, 2)]);
        assert_eq!(
            arrears(ym(2026, 1), ym(2026, 2), &paid, 20),
            Arrears {
                months: vec![],
                amount_fen: 0
            }
        );
        assert_eq!(arrears(ym(2026, 3), ym(2026, 2), &paid, 20).amount_fen, 0);
    }

    #[test]
    fn std_lapse_trailing_gap_runs_from_the_last_active_month() {
        let active = set(&[ym(2025, 5), ym(2025, 8)]);
        let gap = trailing_gap(ym(2025, 5), ym(2026, 2), &active).expect("a gap");
        assert_eq!(
            gap,
            Gap {
                first: ym(2025, 9),
                last: ym(2026, 2),
                months: 6
            }
        );
        assert_eq!(
            gap.reached(6),
            Some(Date::from_ymd_opt(2026, 3, 1).expect("date"))
        );
        assert_eq!(gap.reached(7), None);
    }

    #[test]
    fn std_lapse_no_gap_when_the_last_month_is_active() {
        let active = set(&[ym(2026, 2)]);
        assert_eq!(trailing_gap(ym(2025, 5), ym(2026, 2), &active), None);
        assert_eq!(trailing_gap(ym(2026, 3), ym(2026, 2), &active), None);
    }

    #[test]
    fn std_lapse_gap_from_the_start_when_nothing_is_active() {
        let gap = trailing_gap(ym(2025, 11), ym(2026, 3), &BTreeSet::new()).expect("gap");
        assert_eq!((gap.first, gap.months), (ym(2025, 11), 5));
        assert_eq!(gap.reached(6), None);
        // Activity before `from` does not shorten the run.
        let gap = trailing_gap(ym(2025, 11), ym(2026, 4), &set(&[ym(2025, 10)])).expect("gap");
        assert_eq!((gap.first, gap.months), (ym(2025, 11), 6));
    }

    #[test]
    fn year_month_serialises_as_text() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Row {
            m: YearMonth,
        }
        let text = toml::to_string(&Row { m: ym(2026, 3) }).expect("serialise");
        assert_eq!(text.trim(), r#"m = "2026-03""#);
        let back: Row = toml::from_str(&text).expect("parse");
        assert_eq!(back.m, ym(2026, 3));
        assert!(toml::from_str::<Row>(r#"m = "2026-13""#).is_err());
    }
}
