//! The development number (发展团员编号).
//!
//! Since 2017 every admission consumes one 12-digit number from the approving committee's
//! allocation (号段) for the admission year; the first 4 digits are the admission year and a number
//! is never reused (中青发〔2016〕6号; 智慧团建 FAQ, DOMAIN-SOURCES §1.5). The layout of the other
//! 8 digits is not verified (`[U]`); this type treats them as an opaque serial.

use std::fmt;

use chrono::Datelike;

use crate::rules::{RuleCode, RuleViolation};
use crate::Date;

/// Smallest and largest year a development number can carry.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;
/// Serials are 8 digits: `0..SERIAL_LIMIT`.
const SERIAL_LIMIT: u64 = 100_000_000;

/// A well-formed development number: exactly 12 ASCII digits, the first 4 a year in
/// 1900..=9999. Serialised as the 12-digit string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DevelopmentNumber(String);

impl DevelopmentNumber {
    /// Parses a development number; surrounding whitespace is trimmed.
    ///
    /// # Errors
    /// `ADM_NUMBER_REQUIRED` if the number is not exactly 12 ASCII digits or its first 4 digits
    /// are not a year in 1900..=9999.
    pub fn parse(s: &str) -> Result<Self, RuleViolation> {
        let s = s.trim();
        let count = s.chars().count();
        if count != 12 {
            return Err(RuleViolation::new(
                RuleCode::AdmNumberRequired,
                format!("a development number has 12 digits, found {count} characters"),
            ));
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(RuleViolation::new(
                RuleCode::AdmNumberRequired,
                format!(
                    "character {} of a development number must be a digit, found {c:?}",
                    i + 1
                ),
            ));
        }
        let number = DevelopmentNumber(s.to_string());
        let year = number.year();
        if !YEARS.contains(&year) {
            return Err(RuleViolation::new(
                RuleCode::AdmNumberRequired,
                format!("the first 4 digits of a development number are the admission year; {year:04} is not in 1900–9999"),
            ));
        }
        Ok(number)
    }

    /// Builds `"YYYY"` followed by the 8-digit zero-padded `serial`.
    ///
    /// # Errors
    /// `ADM_NUMBER_REQUIRED` if `year` is not in 1900..=9999 or `serial` is 10^8 or more.
    pub fn from_parts(year: i32, serial: u64) -> Result<Self, RuleViolation> {
        if !YEARS.contains(&year) {
            return Err(RuleViolation::new(
                RuleCode::AdmNumberRequired,
                format!("development number year {year} is not in 1900–9999"),
            ));
        }
        if serial >= SERIAL_LIMIT {
            return Err(RuleViolation::new(
                RuleCode::AdmNumberRequired,
                format!("development number serial {serial} has more than 8 digits"),
            ));
        }
        Ok(DevelopmentNumber(format!("{year:04}{serial:08}")))
    }

    /// The year in the first 4 digits (the admission year).
    pub fn year(&self) -> i32 {
        self.0.get(..4).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    /// The last 8 digits as a number.
    pub fn serial(&self) -> u64 {
        self.0.get(4..).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    /// The 12-digit string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `ADM_NUMBER_REQUIRED`: the number's first 4 digits must be the year of `admission_date`
    /// (the branch meeting date, when membership starts).
    ///
    /// # Errors
    /// `ADM_NUMBER_REQUIRED` naming both years when they differ.
    pub fn check_admission_year(&self, admission_date: Date) -> Result<(), RuleViolation> {
        let admission_year = admission_date.year();
        if self.year() == admission_year {
            Ok(())
        } else {
            Err(RuleViolation::new(
                RuleCode::AdmNumberRequired,
                format!(
                    "development number {} is for {}, but the admission date {admission_date} is in {admission_year}",
                    self.0,
                    self.year()
                ),
            ))
        }
    }
}

impl fmt::Display for DevelopmentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for DevelopmentNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for DevelopmentNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        DevelopmentNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adm_number_required_accepts_12_digits() {
        let n = DevelopmentNumber::parse(" 202612345678 ").expect("valid");
        assert_eq!(n.as_str(), "202612345678");
        assert_eq!(n.year(), 2026);
        assert_eq!(n.serial(), 12_345_678);
        assert_eq!(n.to_string(), "202612345678");
    }

    #[test]
    fn adm_number_required_rejects_wrong_length() {
        let err = DevelopmentNumber::parse("20261234567").expect_err("11 digits");
        assert_eq!(err.code, RuleCode::AdmNumberRequired);
        assert_eq!(
            err.message,
            "a development number has 12 digits, found 11 characters"
        );
        assert!(DevelopmentNumber::parse("2026123456789").is_err());
        assert!(DevelopmentNumber::parse("").is_err());
    }

    #[test]
    fn adm_number_required_rejects_non_digits() {
        let err = DevelopmentNumber::parse("2026-1234567").expect_err("dash");
        assert_eq!(err.code, RuleCode::AdmNumberRequired);
        assert_eq!(
            err.message,
            "character 5 of a development number must be a digit, found '-'"
        );
        assert!(DevelopmentNumber::parse("２０２６12345678").is_err());
    }

    #[test]
    fn adm_number_required_rejects_year_before_1900() {
        let err = DevelopmentNumber::parse("012312345678").expect_err("year 0123");
        assert_eq!(err.code, RuleCode::AdmNumberRequired);
        assert_eq!(
            err.message,
            "the first 4 digits of a development number are the admission year; 0123 is not in 1900–9999"
        );
        assert!(DevelopmentNumber::parse("190000000000").is_ok());
    }

    #[test]
    fn adm_number_required_from_parts_pads_serial() {
        let n = DevelopmentNumber::from_parts(2026, 42).expect("valid");
        assert_eq!(n.as_str(), "202600000042");
        assert_eq!(n.serial(), 42);
        assert_eq!(
            DevelopmentNumber::from_parts(2026, 99_999_999)
                .expect("largest serial")
                .as_str(),
            "202699999999"
        );
        let err = DevelopmentNumber::from_parts(2026, 100_000_000).expect_err("9 digits");
        assert_eq!(err.code, RuleCode::AdmNumberRequired);
        assert_eq!(
            err.message,
            "development number serial 100000000 has more than 8 digits"
        );
        assert!(DevelopmentNumber::from_parts(1899, 1).is_err());
        assert!(DevelopmentNumber::from_parts(10000, 1).is_err());
    }

    #[test]
    fn adm_number_required_first_4_digits_are_the_admission_year() {
        let n = DevelopmentNumber::parse("202600000001").expect("valid");
        let in_2026 = Date::from_ymd_opt(2026, 12, 31).expect("date");
        let in_2027 = Date::from_ymd_opt(2027, 1, 1).expect("date");
        assert_eq!(n.check_admission_year(in_2026), Ok(()));
        let err = n.check_admission_year(in_2027).expect_err("wrong year");
        assert_eq!(err.code, RuleCode::AdmNumberRequired);
        assert_eq!(
            err.message,
            "development number 202600000001 is for 2026, but the admission date 2027-01-01 is in 2027"
        );
    }

    #[test]
    fn serde_as_string_with_validation() {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Row {
            number: DevelopmentNumber,
        }
        let row = Row {
            number: DevelopmentNumber::parse("202600000001").expect("valid"),
        };
        let text = toml::to_string(&row).expect("serialise");
        assert_eq!(text, "number = \"202600000001\"\n");
        assert_eq!(toml::from_str::<Row>(&text).expect("deserialise"), row);
        assert!(toml::from_str::<Row>("number = \"2026\"").is_err());
    }
}
