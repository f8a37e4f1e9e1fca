//! Age in full years (周岁) and calendar-month arithmetic.
//!
//! Ages are full years on a calendar date in China Standard Time, computed from the birth date in
//! the resident ID (团章 Art. 1 counts exact age, not nominal age 虚岁; DOMAIN-SOURCES §1.4).

use chrono::{Datelike, Months};

use crate::Date;

/// Full years (周岁) of a person born on `birth`, on the date `on`.
///
/// A person turns a year older on their birthday. Someone born on 29 February turns a year older
/// on 1 March in common years (and on 29 February in leap years). Returns 0 if `on` is before
/// `birth`.
///
/// ```
/// use tuanji_domain::{age_on, Date};
/// let birth = Date::from_ymd_opt(2008, 2, 29).expect("valid date");
/// assert_eq!(age_on(birth, Date::from_ymd_opt(2022, 2, 28).expect("valid date")), 13);
/// assert_eq!(age_on(birth, Date::from_ymd_opt(2022, 3, 1).expect("valid date")), 14);
/// ```
pub fn age_on(birth: Date, on: Date) -> u32 {
    if on < birth {
        return 0;
    }
    let years = on.year() - birth.year();
    let before_birthday = (on.month(), on.day()) < (birth.month(), birth.day());
    let full = if before_birthday { years - 1 } else { years };
    // on >= birth, so full >= 0.
    u32::try_from(full).unwrap_or(0)
}

/// The date on which a person born on `birth` reaches `years` full years (周岁): their `years`-th
/// birthday. Consistent with [`age_on`]: someone born on 29 February reaches it on 1 March when the
/// year is a common year (`age_on(birth, birthday_at(birth, years)) == years`, and the day before
/// they are one year younger). This is the effective date of the age-out at 28 (`STD_AGE_OUT`,
/// 团章 Art. 1, DOMAIN-SOURCES §2). Saturates at [`Date::MAX`] when the year cannot be represented.
///
/// ```
/// use tuanji_domain::{birthday_at, Date};
/// let birth = Date::from_ymd_opt(2000, 2, 29).expect("valid date");
/// assert_eq!(birthday_at(birth, 28), Date::from_ymd_opt(2028, 2, 29).expect("valid date"));
/// assert_eq!(birthday_at(birth, 27), Date::from_ymd_opt(2027, 3, 1).expect("valid date"));
/// ```
pub fn birthday_at(birth: Date, years: u32) -> Date {
    let Some(year) = i32::try_from(years)
        .ok()
        .and_then(|y| birth.year().checked_add(y))
    else {
        return Date::MAX;
    };
    Date::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| Date::from_ymd_opt(year, 3, 1))
        .unwrap_or(Date::MAX)
}

/// `d` plus `n` calendar months. When the day does not exist in the target month, the result is
/// that month's last day: 2026-08-31 + 1 month = 2026-09-30, 2024-01-31 + 1 month = 2024-02-29.
///
/// Used for periods stated in months (the 3-month observation of `ADM_OBSERVATION`, the
/// 6-month lapse of `STD_LAPSE`, …). Saturates at the latest date chrono can represent instead of
/// panicking on overflow.
pub fn add_months(d: Date, n: u32) -> Date {
    d.checked_add_months(Months::new(n)).unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn adm_age_min_leap_day_birth_turns_14_on_1_march_in_common_year() {
        let birth = d(2008, 2, 29);
        assert_eq!(age_on(birth, d(2022, 2, 28)), 13);
        assert_eq!(age_on(birth, d(2022, 3, 1)), 14);
        assert_eq!(age_on(birth, d(2024, 2, 28)), 15);
        assert_eq!(age_on(birth, d(2024, 2, 29)), 16);
    }

    #[test]
    fn age_changes_on_the_birthday() {
        let birth = d(2012, 5, 20);
        assert_eq!(age_on(birth, d(2026, 5, 19)), 13);
        assert_eq!(age_on(birth, d(2026, 5, 20)), 14);
        assert_eq!(age_on(birth, d(2026, 12, 31)), 14);
        assert_eq!(age_on(birth, birth), 0);
    }

    #[test]
    fn age_is_zero_before_birth() {
        assert_eq!(age_on(d(2010, 1, 1), d(2009, 12, 31)), 0);
        assert_eq!(age_on(d(2010, 1, 1), d(1990, 1, 1)), 0);
    }

    #[test]
    fn std_age_out_at_28() {
        let birth = d(1998, 7, 1);
        assert_eq!(age_on(birth, d(2026, 6, 30)), 27);
        assert_eq!(age_on(birth, d(2026, 7, 1)), 28);
    }

    #[test]
    fn std_age_out_birthday_at_28_is_the_birthday() {
        assert_eq!(birthday_at(d(1998, 7, 1), 28), d(2026, 7, 1));
        assert_eq!(birthday_at(d(1998, 12, 31), 28), d(2026, 12, 31));
    }

    #[test]
    fn std_age_out_leap_day_birth_reaches_28_on_1_march_in_a_common_year() {
        // 2000-02-29: the 28th birthday falls in a leap year (2028), the 27th in a common one.
        assert_eq!(birthday_at(d(2000, 2, 29), 28), d(2028, 2, 29));
        assert_eq!(birthday_at(d(2000, 2, 29), 27), d(2027, 3, 1));
        // 28 is a multiple of 4, so a 28th birthday is in a common year only across a century year:
        // born 2072-02-29, 28 on 2100-03-01 (2100 is a common year).
        assert_eq!(birthday_at(d(2072, 2, 29), 28), d(2100, 3, 1));
        assert_eq!(age_on(d(2072, 2, 29), d(2100, 2, 28)), 27);
        assert_eq!(age_on(d(2072, 2, 29), d(2100, 3, 1)), 28);
        for birth in [d(2000, 2, 29), d(2072, 2, 29), d(1998, 7, 1)] {
            for years in [14, 18, 27, 28] {
                let day = birthday_at(birth, years);
                assert_eq!(age_on(birth, day), years, "{birth} at {years}");
                let before = day.pred_opt().expect("a day before");
                assert_eq!(age_on(birth, before), years - 1, "{birth} before {years}");
            }
        }
    }

    #[test]
    fn birthday_at_saturates_instead_of_panicking() {
        assert_eq!(birthday_at(d(2000, 1, 1), u32::MAX), Date::MAX);
    }

    #[test]
    fn add_months_clamps_to_month_end() {
        assert_eq!(add_months(d(2026, 8, 31), 1), d(2026, 9, 30));
        assert_eq!(add_months(d(2024, 1, 31), 1), d(2024, 2, 29));
        assert_eq!(add_months(d(2025, 1, 31), 1), d(2025, 2, 28));
        assert_eq!(add_months(d(2025, 11, 30), 3), d(2026, 2, 28));
        assert_eq!(add_months(d(2026, 3, 15), 3), d(2026, 6, 15));
        assert_eq!(add_months(d(2026, 3, 15), 0), d(2026, 3, 15));
        assert_eq!(add_months(d(2024, 2, 29), 12), d(2025, 2, 28));
    }

    #[test]
    fn add_months_saturates_instead_of_panicking() {
        assert_eq!(add_months(d(2026, 1, 1), u32::MAX), Date::MAX);
    }
}
