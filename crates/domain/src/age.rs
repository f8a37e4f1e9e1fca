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
