//! School rosters (花名册) as Chinese schools produce them: a CSV file exported from Excel, in
//! UTF-8 (with or without BOM) or GB18030/GBK (Excel's "CSV" on Chinese Windows), with Chinese
//! or English column headers.
//!
//! [`parse_roster`] decodes the file, maps the header, validates every row and returns either all
//! rows or **all** row errors ([`RowError`]): a school fixes its file once, not once per error.
//!
//! Rules checked here (sources in DOMAIN-SOURCES.md):
//! - `ID_FORMAT`, `ID_CHECKSUM`, `ID_BIRTH_DATE` (GB 11643-1999, §13) through
//!   [`ResidentId::parse`];
//! - `ID_UNIQUE` within the file (one record per person, §13);
//! - `ADM_NUMBER_REQUIRED`: the first 4 digits of a development number (发展团员编号) are the
//!   admission year (智慧团建 FAQ "团员信息录入常见问题解答", §1.5);
//! - `IMP_LEGACY_AGE`: members admitted on or after 2017-01-01 were at least 13 and have a
//!   development number; before 2017 at least 12 (same FAQ, §1.4).
//!
//! The admission age of 14 for applicants (团章 Art. 1, `ADM_AGE_MIN`) is enforced by the engine,
//! not here.

use std::collections::HashMap;
use std::fmt;

use chrono::Datelike;

use tuanji_domain::{
    age_on, mask_id_like, Date, DevelopmentNumber, ResidentId, RuleCode, RuleViolation, Sex,
};

/// The longest name accepted, in characters (Unicode scalar values).
pub const MAX_NAME_CHARS: usize = 50;

/// One error in an imported file.
///
/// - `line`: 1-based physical line number in the file (the header is line 1); for a record that
///   spans several lines (a quoted field with a line break), the line where it starts.
/// - `column`: the header name as written in the file (trimmed), or `None` for the whole row or
///   file.
/// - `code`: the rule code where a rule of DOMAIN.md applies, else `None`.
/// - `reason`: what is wrong, in plain words. Never contains a full resident ID number (IDs are
///   masked as `110105********1234`) nor a person's name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// 1-based physical line number (header = 1).
    pub line: usize,
    /// The column's header as written in the file, or `None` for the whole row.
    pub column: Option<String>,
    /// The broken rule, where one applies.
    pub code: Option<RuleCode>,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl RowError {
    pub(crate) fn new(
        line: usize,
        column: Option<&str>,
        code: Option<RuleCode>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            line,
            column: column.map(str::to_owned),
            code,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RowError {
    /// `line 3, 公民身份号码: check character should be 4, found 2 [ID_CHECKSUM]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", {column}")?;
        }
        write!(f, ": {}", self.reason)?;
        if let Some(code) = self.code {
            write!(f, " [{code}]")?;
        }
        Ok(())
    }
}

/// The character encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// UTF-8 without byte-order mark.
    Utf8,
    /// UTF-8 starting with the byte-order mark EF BB BF (Excel's "CSV UTF-8").
    Utf8Bom,
    /// GB18030, which includes GBK and GB2312 (Excel's plain "CSV" on Chinese Windows).
    Gb18030,
}

/// One valid roster row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    /// 1-based physical line number in the file (header = 1).
    pub line: usize,
    /// 姓名, trimmed, 1 to [`MAX_NAME_CHARS`] characters.
    pub name: String,
    /// 性别: from the resident ID (a 性别 column, when given, must agree).
    pub sex: Sex,
    /// 民族, trimmed, as written (e.g. "汉族"); `None` when absent or empty.
    pub ethnicity: Option<String>,
    /// 公民身份号码, validated.
    pub resident_id: ResidentId,
    /// 出生日期: from the resident ID (a 出生日期 column, when given, must agree).
    pub birth_date: Date,
    /// 班级, trimmed, as written; `None` when absent or empty.
    pub class: Option<String>,
    /// Applicant or member, with the dates that go with it.
    pub kind: RosterRowKind,
}

/// What a roster row imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterRowKind {
    /// An applicant (入团申请人) with the application date (申请日期).
    Applicant {
        /// 申请日期, not after `today`.
        application_date: Date,
    },
    /// An existing member imported from the register (legacy import): membership date (入团日期)
    /// and, when admitted on or after 2017-01-01, the development number (团员编号); optional
    /// probation end (留团察看至) for members on probation (留团察看).
    Member {
        /// 入团日期, not after `today`.
        membership_date: Date,
        /// 团员编号 (发展团员编号); required from 2017-01-01 (`IMP_LEGACY_AGE`), its year equal to
        /// the membership year (`ADM_NUMBER_REQUIRED`).
        development_number: Option<DevelopmentNumber>,
        /// 留团察看至: the last day of probation; after the membership date, may be in the future.
        probation_until: Option<Date>,
    },
}

/// A parsed roster: the encoding it was read in and its rows in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The encoding detected.
    pub encoding: Encoding,
    /// Every row, in file order (empty lines skipped).
    pub rows: Vec<RosterRow>,
}

/// The columns a roster may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Name,
    Sex,
    Ethnicity,
    ResidentId,
    BirthDate,
    Class,
    ApplicationDate,
    MembershipDate,
    DevelopmentNumber,
    ProbationUntil,
}

impl Column {
    const ALL: [Column; 10] = [
        Column::Name,
        Column::Sex,
        Column::Ethnicity,
        Column::ResidentId,
        Column::BirthDate,
        Column::Class,
        Column::ApplicationDate,
        Column::MembershipDate,
        Column::DevelopmentNumber,
        Column::ProbationUntil,
    ];

    /// Accepted header names: the Chinese name first, then aliases, then the English name.
    fn names(self) -> &'static [&'static str] {
        match self {
            Column::Name => &["姓名", "name"],
            Column::Sex => &["性别", "sex"],
            Column::Ethnicity => &["民族", "ethnicity"],
            Column::ResidentId => &["公民身份号码", "身份证号", "身份证号码", "resident_id"],
            Column::BirthDate => &["出生日期", "birth_date"],
            Column::Class => &["班级", "class"],
            Column::ApplicationDate => &["申请日期", "application_date"],
            Column::MembershipDate => &["入团日期", "membership_date"],
            Column::DevelopmentNumber => &["团员编号", "development_number"],
            Column::ProbationUntil => &["留团察看至", "probation_until"],
        }
    }

    fn chinese(self) -> &'static str {
        self.names()[0]
    }

    fn english(self) -> &'static str {
        let names = self.names();
        names[names.len() - 1]
    }

    fn from_header(header: &str) -> Option<Column> {
        let wanted = header.trim().to_lowercase();
        Column::ALL
            .into_iter()
            .find(|c| c.names().iter().any(|n| *n == wanted))
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Where each known column sits in the file, with its header as written.
#[derive(Debug, Default)]
struct HeaderMap {
    slots: [Option<(usize, String)>; 10],
    width: usize,
}

impl HeaderMap {
    fn has(&self, column: Column) -> bool {
        self.slots[column.index()].is_some()
    }

    /// The header as written, or the Chinese name when the column is absent.
    fn label(&self, column: Column) -> String {
        self.slots[column.index()]
            .as_ref()
            .map_or_else(|| column.chinese().to_owned(), |(_, h)| h.clone())
    }

    /// The trimmed, non-empty value of `column` in `record`.
    fn value<'r>(&self, record: &'r csv::StringRecord, column: Column) -> Option<&'r str> {
        let (index, _) = self.slots[column.index()].as_ref()?;
        record.get(*index).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Decodes `bytes`: UTF-8 with BOM, UTF-8 without BOM, else GB18030 (a superset of GBK and
/// GB2312). A file valid in none of them gives one error on the line of the first byte that is
/// not valid UTF-8.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Encoding, String), RowError> {
    const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
    if let Some(rest) = bytes.strip_prefix(BOM) {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((Encoding::Utf8Bom, text.to_owned())),
            Err(e) => Err(not_decodable(
                rest,
                e.valid_up_to(),
                "starts with a UTF-8 byte-order mark but",
            )),
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Encoding::Utf8, text.to_owned())),
        Err(e) => {
            match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
                Some(text) => Ok((Encoding::Gb18030, text.into_owned())),
                None => Err(not_decodable(bytes, e.valid_up_to(), "")),
            }
        }
    }
}

fn not_decodable(bytes: &[u8], valid_up_to: usize, prefix: &str) -> RowError {
    let line = 1 + bytes[..valid_up_to].iter().filter(|b| **b == b'\n').count();
    let lead = if prefix.is_empty() {
        "the file".to_owned()
    } else {
        format!("the file {prefix}")
    };
    RowError::new(
        line,
        None,
        None,
        format!(
            "{lead} is neither valid UTF-8 nor GB18030/GBK text (byte {} is not valid); save it \
             from Excel as \"CSV UTF-8\" and import again",
            valid_up_to + 1
        ),
    )
}

/// Reads a date in one of the forms school rosters use: `YYYY-MM-DD` (also `YYYY-M-D`),
/// `YYYY/M/D`, `YYYY.M.D`, `YYYYMMDD` and `YYYY年M月D日`; month and day may have one or two
/// digits except in `YYYYMMDD`. Surrounding whitespace is ignored. `None` when the text is not one
/// of these forms or not a real calendar date.
pub fn parse_roster_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (year, month, day) = if s.len() == 8 && all_digits(s) {
        (&s[..4], &s[4..6], &s[6..])
    } else if let Some(body) = s.strip_suffix('日') {
        let (year, rest) = body.split_once('年')?;
        let (month, day) = rest.split_once('月')?;
        (year, month, day)
    } else {
        let separator = ['-', '/', '.'].into_iter().find(|c| s.contains(*c))?;
        let mut parts = s.split(separator);
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (year, month, day)
    };
    let ok = year.len() == 4
        && all_digits(year)
        && (1..=2).contains(&month.len())
        && all_digits(month)
        && (1..=2).contains(&day.len())
        && all_digits(day);
    if !ok {
        return None;
    }
    Date::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

/// True for what Excel makes of a long number in a General-format cell: `1.10105E+17`,
/// `1.10105199001011E+17`, `1E+17`.
fn is_scientific_notation(s: &str) -> bool {
    let Some((mantissa, exponent)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(mantissa),
    };
    mantissa_ok && digits(exponent)
}

/// Reads the CSV records of `text` with the physical line (1-based) where each starts, skipping
/// records whose fields are all blank.
///
/// The csv crate's own line numbers drift on blank lines and CRLF endings, so the line is
/// counted here: a record's reported byte offset is where the reader stood after the previous
/// record, so line terminators from there on belong to blank lines before the record.
pub(crate) fn records(text: &str) -> Result<Vec<(usize, csv::StringRecord)>, RowError> {
    let bytes = text.as_bytes();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut lines = LineCounter {
        bytes,
        cursor: 0,
        line: 1,
    };
    let mut out = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|e| {
            let line = e.position().map_or(lines.line, |p| lines.line_at(p.byte()));
            RowError::new(line, None, None, format!("not readable as CSV: {e}"))
        })?;
        let line = record
            .position()
            .map_or(lines.line, |p| lines.line_at(p.byte()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        out.push((line, record));
    }
    Ok(out)
}

/// Counts physical lines up to increasing byte offsets.
struct LineCounter<'a> {
    bytes: &'a [u8],
    cursor: usize,
    line: usize,
}

impl LineCounter<'_> {
    /// The line of the first byte at or after `offset` that is not a line terminator.
    fn line_at(&mut self, offset: u64) -> usize {
        let len = self.bytes.len();
        let mut start = usize::try_from(offset).unwrap_or(len).max(self.cursor);
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let start = start.min(len);
        self.line += self.bytes[self.cursor..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.cursor = start;
        self.line
    }
}

/// The lowest membership date from which a development number is required and the minimum age
/// at admission is 13 (`IMP_LEGACY_AGE`).
fn numbered_era_start() -> Date {
    Date::from_ymd_opt(2017, 1, 1).unwrap_or(Date::MIN)
}

/// Parses a school roster (花名册).
///
/// `bytes` is the file as uploaded; `today` is the current date in China Standard Time (dates
/// after it are refused, as are IDs whose birth date is after it).
///
/// Decoding: UTF-8 with or without BOM; otherwise GB18030, which covers GBK (Excel's default
/// "CSV" on Chinese Windows). A file invalid in both gives one error.
///
/// Header (line 1): Chinese headers 姓名, 性别, 民族, 公民身份号码 (aliases 身份证号, 身份证号码),
/// 出生日期, 班级, 申请日期, 入团日期, 团员编号, 留团察看至, or the English names `name`, `sex`,
/// `ethnicity`, `resident_id`, `birth_date`, `class`, `application_date`, `membership_date`,
/// `development_number`, `probation_until`; case-insensitive, trimmed, in any order. Unknown
/// columns and repeated columns are errors naming them (the rows are still checked); columns with
/// an empty header are ignored (Excel leaves them after deleted columns). Required: `name`,
/// `resident_id`, and `application_date` or `membership_date`; a missing required column stops
/// the parse with header errors only.
///
/// Each row, with every error reported (never only the first):
/// - 姓名: 1 to [`MAX_NAME_CHARS`] characters;
/// - 公民身份号码 through [`ResidentId::parse`] (its code: `ID_FORMAT`, `ID_CHECKSUM`,
///   `ID_BIRTH_DATE`); a number Excel turned into scientific notation (`1.10105E+17`) gets a
///   message saying so (`ID_FORMAT`); the same ID on a later line is `ID_UNIQUE`, naming the
///   first line;
/// - 出生日期, when given, equals the ID's birth date (`ID_BIRTH_DATE`); 性别 (男/女, male/female,
///   m/f), when given, equals the ID's sex (no rule code);
/// - exactly one of 申请日期 (an applicant) and 入团日期 (a member); 团员编号 and 留团察看至 only
///   for members;
/// - dates in the forms of [`parse_roster_date`], not after `today` (except 留团察看至, which must
///   be after 入团日期);
/// - members (`IMP_LEGACY_AGE`): admitted on or after 2017-01-01 → age at least 13 on 入团日期 and
///   a 团员编号; before → age at least 12; a 团员编号 is parsed by [`DevelopmentNumber::parse`] and
///   its year must equal the membership year (`ADM_NUMBER_REQUIRED`).
///
/// Lines with only blanks or commas are skipped. A file with a header but no rows is an error.
/// Errors come in line order; messages never hold a full ID number or a name.
pub fn parse_roster(bytes: &[u8], today: Date) -> Result<Roster, Vec<RowError>> {
    let parsed = parse_roster_rows(bytes, today)?;
    if parsed.errors.is_empty() {
        Ok(parsed.roster)
    } else {
        Err(parsed.errors)
    }
}

/// A roster whose rows were checked one by one: the good rows, and the errors of the bad ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRoster {
    /// The rows without errors, in file order.
    pub roster: Roster,
    /// Every bad row's errors (empty when the file is clean).
    pub errors: Vec<RowError>,
}

/// Like [`parse_roster`], but keeps the good rows beside the bad rows' errors, so a caller can check the good
/// rows further and report everything at once. `Err` only when the file as a whole is unusable (encoding,
/// header, no rows).
pub fn parse_roster_rows(bytes: &[u8], today: Date) -> Result<ParsedRoster, Vec<RowError>> {
    let (encoding, text) = decode(bytes).map_err(|e| vec![e])?;
    let records = records(&text).map_err(|e| vec![e])?;
    let Some(((header_line, header), body)) = records.split_first() else {
        return Err(vec![RowError::new(
            1,
            None,
            None,
            "the file is empty: expected a header line (姓名, 公民身份号码, …)",
        )]);
    };

    let mut errors = Vec::new();
    let header_map = read_header(*header_line, header, &mut errors);
    let missing: Vec<String> = [Column::Name, Column::ResidentId]
        .into_iter()
        .filter(|c| !header_map.has(*c))
        .map(|c| format!("{} ({})", c.chinese(), c.english()))
        .collect();
    let mut fatal = false;
    if !missing.is_empty() {
        errors.push(RowError::new(
            *header_line,
            None,
            None,
            format!(
                "the header lacks required column(s): {}",
                missing.join(", ")
            ),
        ));
        fatal = true;
    }
    if !header_map.has(Column::ApplicationDate) && !header_map.has(Column::MembershipDate) {
        errors.push(RowError::new(
            *header_line,
            None,
            None,
            "the header needs 申请日期 (application_date) for applicants or 入团日期 \
             (membership_date) for members",
        ));
        fatal = true;
    }
    if fatal {
        return Err(errors);
    }
    if body.is_empty() {
        errors.push(RowError::new(
            *header_line,
            None,
            None,
            "the file has a header but no rows",
        ));
        return Err(errors);
    }

    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(body.len());
    for (line, record) in body {
        let mut row_errors = Vec::new();
        let row = check_row(
            &header_map,
            *line,
            record,
            today,
            &mut seen,
            &mut row_errors,
        );
        if row_errors.is_empty() {
            if let Some(row) = row {
                rows.push(row);
            }
        } else {
            errors.extend(row_errors);
        }
    }
    Ok(ParsedRoster {
        roster: Roster { encoding, rows },
        errors,
    })
}

fn read_header(line: usize, header: &csv::StringRecord, errors: &mut Vec<RowError>) -> HeaderMap {
    let mut map = HeaderMap {
        width: header.len(),
        ..HeaderMap::default()
    };
    let mut unknown = Vec::new();
    for (index, raw) in header.iter().enumerate() {
        let written = raw.trim();
        if written.is_empty() {
            continue;
        }
        match Column::from_header(written) {
            Some(column) => {
                let slot = &mut map.slots[column.index()];
                if let Some((_, first)) = slot {
                    errors.push(RowError::new(
                        line,
                        Some(written),
                        None,
                        format!("column {written} repeats column {first}"),
                    ));
                } else {
                    *slot = Some((index, written.to_owned()));
                }
            }
            None => unknown.push(written.to_owned()),
        }
    }
    for name in unknown {
        errors.push(RowError::new(
            line,
            Some(&name),
            None,
            format!(
                "unknown column {name}; known columns: 姓名, 性别, 民族, 公民身份号码, 出生日期, \
                 班级, 申请日期, 入团日期, 团员编号, 留团察看至 (or their English names)"
            ),
        ));
    }
    map
}

/// A date cell: parsed, and not after `today` unless `future_ok`.
fn date_cell(
    map: &HeaderMap,
    line: usize,
    record: &csv::StringRecord,
    column: Column,
    today: Date,
    future_ok: bool,
    errors: &mut Vec<RowError>,
) -> Option<Date> {
    let value = map.value(record, column)?;
    let label = map.label(column);
    match parse_roster_date(value) {
        None => {
            errors.push(RowError::new(
                line,
                Some(&label),
                None,
                format!(
                    "{label} \"{}\" is not a date; use YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYYMMDD \
                     or YYYY年M月D日",
                    mask_id_like(value)
                ),
            ));
            None
        }
        Some(date) if date > today && !future_ok => {
            errors.push(RowError::new(
                line,
                Some(&label),
                None,
                format!("{label} {date} is after today ({today})"),
            ));
            None
        }
        Some(date) => Some(date),
    }
}

fn parse_sex(value: &str) -> Option<Sex> {
    match value.trim().to_lowercase().as_str() {
        "男" | "male" | "m" => Some(Sex::Male),
        "女" | "female" | "f" => Some(Sex::Female),
        _ => None,
    }
}

/// Checks one record; pushes its errors and returns the row when it has none.
fn check_row(
    map: &HeaderMap,
    line: usize,
    record: &csv::StringRecord,
    today: Date,
    seen: &mut HashMap<String, usize>,
    errors: &mut Vec<RowError>,
) -> Option<RosterRow> {
    if record.len() > map.width {
        let extra_filled = record
            .iter()
            .skip(map.width)
            .any(|field| !field.trim().is_empty());
        if extra_filled {
            errors.push(RowError::new(
                line,
                None,
                None,
                format!(
                    "the row has {} fields but the header has {}",
                    record.len(),
                    map.width
                ),
            ));
        }
    }

    // 姓名
    let name_label = map.label(Column::Name);
    let name = match map.value(record, Column::Name) {
        None => {
            errors.push(RowError::new(
                line,
                Some(&name_label),
                None,
                format!("{name_label} is empty"),
            ));
            None
        }
        Some(name) => {
            let chars = name.chars().count();
            if chars > MAX_NAME_CHARS {
                errors.push(RowError::new(
                    line,
                    Some(&name_label),
                    None,
                    format!("{name_label} has {chars} characters; at most {MAX_NAME_CHARS}"),
                ));
                None
            } else {
                Some(name.to_owned())
            }
        }
    };

    // 公民身份号码
    let id_label = map.label(Column::ResidentId);
    let resident_id = match map.value(record, Column::ResidentId) {
        None => {
            errors.push(RowError::new(
                line,
                Some(&id_label),
                Some(RuleCode::IdFormat),
                format!("{id_label} is empty"),
            ));
            None
        }
        Some(raw) if is_scientific_notation(raw) => {
            errors.push(RowError::new(
                line,
                Some(&id_label),
                Some(RuleCode::IdFormat),
                format!(
                    "{id_label} looks like Excel scientific notation ({raw}): the digits are \
                     lost; format the column as text in Excel and export again"
                ),
            ));
            None
        }
        Some(raw) => match ResidentId::parse(raw, today) {
            Err(RuleViolation { code, message }) => {
                errors.push(RowError::new(
                    line,
                    Some(&id_label),
                    Some(code),
                    format!(
                        "{id_label} {}: {}",
                        mask_id_like(raw),
                        mask_id_like(&message)
                    ),
                ));
                None
            }
            Ok(id) => match seen.get(id.as_str()) {
                Some(first) => {
                    errors.push(RowError::new(
                        line,
                        Some(&id_label),
                        Some(RuleCode::IdUnique),
                        format!(
                            "{id_label} {} is already on line {first}: one record per person",
                            id.masked()
                        ),
                    ));
                    None
                }
                None => {
                    seen.insert(id.as_str().to_owned(), line);
                    Some(id)
                }
            },
        },
    };

    // 出生日期: must agree with the ID.
    let birth_label = map.label(Column::BirthDate);
    if let Some(value) = map.value(record, Column::BirthDate) {
        match parse_roster_date(value) {
            None => errors.push(RowError::new(
                line,
                Some(&birth_label),
                None,
                format!(
                    "{birth_label} \"{}\" is not a date; use YYYY-MM-DD, YYYY/M/D, YYYY.M.D, \
                     YYYYMMDD or YYYY年M月D日",
                    mask_id_like(value)
                ),
            )),
            Some(date) => {
                if let Some(id) = &resident_id {
                    if date != id.birth_date() {
                        errors.push(RowError::new(
                            line,
                            Some(&birth_label),
                            Some(RuleCode::IdBirthDate),
                            format!(
                                "{birth_label} {date} does not match the ID ({})",
                                id.birth_date()
                            ),
                        ));
                    }
                }
            }
        }
    }

    // 性别: must agree with the ID.
    let sex_label = map.label(Column::Sex);
    if let Some(value) = map.value(record, Column::Sex) {
        match parse_sex(value) {
            None => errors.push(RowError::new(
                line,
                Some(&sex_label),
                None,
                format!("{sex_label} \"{value}\" is not 男 or 女 (male or female)"),
            )),
            Some(sex) => {
                if let Some(id) = &resident_id {
                    if sex != id.sex() {
                        errors.push(RowError::new(
                            line,
                            Some(&sex_label),
                            None,
                            format!("{sex_label} {value} does not match the ID ({})", id.sex()),
                        ));
                    }
                }
            }
        }
    }

    let ethnicity = map.value(record, Column::Ethnicity).map(str::to_owned);
    let class = map.value(record, Column::Class).map(str::to_owned);

    let kind = check_kind(map, line, record, today, resident_id.as_ref(), errors);

    Some(RosterRow {
        line,
        name: name?,
        sex: resident_id.as_ref()?.sex(),
        ethnicity,
        birth_date: resident_id.as_ref()?.birth_date(),
        resident_id: resident_id?,
        class,
        kind: kind?,
    })
}

/// Applicant or member, with their dates and the `IMP_LEGACY_AGE` / `ADM_NUMBER_REQUIRED` checks.
fn check_kind(
    map: &HeaderMap,
    line: usize,
    record: &csv::StringRecord,
    today: Date,
    resident_id: Option<&ResidentId>,
    errors: &mut Vec<RowError>,
) -> Option<RosterRowKind> {
    let application_label = map.label(Column::ApplicationDate);
    let membership_label = map.label(Column::MembershipDate);
    let number_label = map.label(Column::DevelopmentNumber);
    let probation_label = map.label(Column::ProbationUntil);
    let has_application = map.value(record, Column::ApplicationDate).is_some();
    let has_membership = map.value(record, Column::MembershipDate).is_some();

    match (has_application, has_membership) {
        (true, true) => {
            errors.push(RowError::new(
                line,
                None,
                None,
                format!(
                    "the row has both {application_label} (an applicant) and {membership_label} \
                     (a member); give one"
                ),
            ));
            None
        }
        (false, false) => {
            errors.push(RowError::new(
                line,
                None,
                None,
                format!(
                    "the row needs {application_label} (an applicant) or {membership_label} \
                     (a member)"
                ),
            ));
            None
        }
        (true, false) => {
            let application_date = date_cell(
                map,
                line,
                record,
                Column::ApplicationDate,
                today,
                false,
                errors,
            );
            let mut member_only = false;
            for (column, label) in [
                (Column::DevelopmentNumber, &number_label),
                (Column::ProbationUntil, &probation_label),
            ] {
                if map.value(record, column).is_some() {
                    errors.push(RowError::new(
                        line,
                        Some(label),
                        None,
                        format!(
                            "{label} is only for members (rows with {membership_label}), not \
                             applicants"
                        ),
                    ));
                    member_only = true;
                }
            }
            if member_only {
                return None;
            }
            Some(RosterRowKind::Applicant {
                application_date: application_date?,
            })
        }
        (false, true) => check_member(
            map,
            line,
            record,
            today,
            resident_id,
            &membership_label,
            &number_label,
            &probation_label,
            errors,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_member(
    map: &HeaderMap,
    line: usize,
    record: &csv::StringRecord,
    today: Date,
    resident_id: Option<&ResidentId>,
    membership_label: &str,
    number_label: &str,
    probation_label: &str,
    errors: &mut Vec<RowError>,
) -> Option<RosterRowKind> {
    let membership_date = date_cell(
        map,
        line,
        record,
        Column::MembershipDate,
        today,
        false,
        errors,
    );
    let before = errors.len();
    let numbered_era = membership_date.map(|d| d >= numbered_era_start());

    // 团员编号
    let development_number = match map.value(record, Column::DevelopmentNumber) {
        Some(raw) => match DevelopmentNumber::parse(raw) {
            Err(RuleViolation { code, message }) => {
                errors.push(RowError::new(
                    line,
                    Some(number_label),
                    Some(code),
                    format!("{number_label} \"{}\": {message}", mask_id_like(raw)),
                ));
                None
            }
            Ok(number) => {
                if let Some(date) = membership_date {
                    let number_year = number.year();
                    if number_year != date.year() {
                        errors.push(RowError::new(
                            line,
                            Some(number_label),
                            Some(RuleCode::AdmNumberRequired),
                            format!(
                                "{number_label} {raw} is of year {number_year} but \
                                 {membership_label} is in {}: the first 4 digits are the \
                                 admission year",
                                date.year()
                            ),
                        ));
                    }
                }
                Some(number)
            }
        },
        None => {
            if numbered_era == Some(true) {
                errors.push(RowError::new(
                    line,
                    map.has(Column::DevelopmentNumber).then_some(number_label),
                    Some(RuleCode::ImpLegacyAge),
                    format!(
                        "{number_label} is required for members admitted on or after 2017-01-01"
                    ),
                ));
            }
            None
        }
    };

    // Age at admission.
    if let (Some(date), Some(id)) = (membership_date, resident_id) {
        let birth = id.birth_date();
        let minimum = if date >= numbered_era_start() { 13 } else { 12 };
        if date < birth {
            errors.push(RowError::new(
                line,
                Some(membership_label),
                Some(RuleCode::ImpLegacyAge),
                format!("{membership_label} {date} is before the birth date in the ID ({birth})"),
            ));
        } else {
            let age = age_on(birth, date);
            if age < minimum {
                let era = if minimum == 13 {
                    "on or after 2017-01-01"
                } else {
                    "before 2017-01-01"
                };
                errors.push(RowError::new(
                    line,
                    Some(membership_label),
                    Some(RuleCode::ImpLegacyAge),
                    format!(
                        "age {age} on {membership_label} {date}; members admitted {era} must \
                         have been at least {minimum}"
                    ),
                ));
            }
        }
    }

    // 留团察看至
    let probation_until = date_cell(
        map,
        line,
        record,
        Column::ProbationUntil,
        today,
        true,
        errors,
    );
    if let (Some(until), Some(date)) = (probation_until, membership_date) {
        if until <= date {
            errors.push(RowError::new(
                line,
                Some(probation_label),
                None,
                format!("{probation_label} {until} is not after {membership_label} {date}"),
            ));
        }
    }

    if errors.len() > before {
        return None;
    }
    Some(RosterRowKind::Member {
        membership_date: membership_date?,
        development_number,
        probation_until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn today() -> Date {
        d(2024, 6, 1)
    }

    fn id(s: &str) -> ResidentId {
        ResidentId::parse(s, today()).expect("valid test ID")
    }

    fn err(line: usize, column: Option<&str>, code: Option<RuleCode>, reason: &str) -> RowError {
        RowError::new(line, column, code, reason)
    }

    const APPLICANTS: &str = "姓名,性别,民族,公民身份号码,出生日期,班级,申请日期\n\
        张三,男,汉族,110105200805011233,2008-05-01,初三(2)班,2024-03-01\n\
        李四,女,回族,11010520090315246X,,初三(2)班,2024/3/5\n\
        王五,,,440305200807203578,,,2024年4月1日\n";

    fn expected_applicants() -> Vec<RosterRow> {
        vec![
            RosterRow {
                line: 2,
                name: "张三".to_owned(),
                sex: Sex::Male,
                ethnicity: Some("汉族".to_owned()),
                resident_id: id("110105200805011233"),
                birth_date: d(2008, 5, 1),
                class: Some("初三(2)班".to_owned()),
                kind: RosterRowKind::Applicant {
                    application_date: d(2024, 3, 1),
                },
            },
            RosterRow {
                line: 3,
                name: "李四".to_owned(),
                sex: Sex::Female,
                ethnicity: Some("回族".to_owned()),
                resident_id: id("11010520090315246X"),
                birth_date: d(2009, 3, 15),
                class: Some("初三(2)班".to_owned()),
                kind: RosterRowKind::Applicant {
                    application_date: d(2024, 3, 5),
                },
            },
            RosterRow {
                line: 4,
                name: "王五".to_owned(),
                sex: Sex::Male,
                ethnicity: None,
                resident_id: id("440305200807203578"),
                birth_date: d(2008, 7, 20),
                class: None,
                kind: RosterRowKind::Applicant {
                    application_date: d(2024, 4, 1),
                },
            },
        ]
    }

    #[test]
    fn utf8_roster_gives_every_row() {
        let roster = parse_roster(APPLICANTS.as_bytes(), today()).expect("valid roster");
        assert_eq!(roster.encoding, Encoding::Utf8);
        assert_eq!(roster.rows, expected_applicants());
    }

    #[test]
    fn utf8_bom_roster_gives_the_same_rows() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(APPLICANTS.as_bytes());
        let roster = parse_roster(&bytes, today()).expect("valid roster");
        assert_eq!(roster.encoding, Encoding::Utf8Bom);
        assert_eq!(roster.rows, expected_applicants());
    }

    #[test]
    fn gb18030_roster_gives_the_same_rows() {
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(APPLICANTS);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "GB18030 bytes are not UTF-8"
        );
        let roster = parse_roster(&bytes, today()).expect("valid roster");
        assert_eq!(roster.encoding, Encoding::Gb18030);
        assert_eq!(roster.rows, expected_applicants());
    }

    #[test]
    fn crlf_line_endings_and_empty_lines_keep_physical_line_numbers() {
        let text = "姓名,公民身份号码,申请日期\r\n\r\n张三,110105200805011233,2024-03-01\r\n,,\r\n李四,11010520090315246X,2024-03-05\r\n";
        let roster = parse_roster(text.as_bytes(), today()).expect("valid roster");
        let lines: Vec<usize> = roster.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 5]);
    }

    #[test]
    fn english_headers_in_any_case_are_accepted() {
        let text = " Name ,SEX,ethnicity,Resident_ID,birth_date,class,application_date\n\
            张三,male,汉族,110105200805011233,20080501,初三(2)班,2024.3.1\n";
        let roster = parse_roster(text.as_bytes(), today()).expect("valid roster");
        assert_eq!(roster.rows, vec![expected_applicants().remove(0)]);
    }

    #[test]
    fn id_column_aliases_are_accepted() {
        for header in ["身份证号", "身份证号码", "公民身份号码"] {
            let text = format!("姓名,{header},申请日期\n张三,110105200805011233,2024-03-01\n");
            let roster = parse_roster(text.as_bytes(), today()).expect("valid roster");
            assert_eq!(roster.rows.len(), 1, "header {header}");
        }
    }

    #[test]
    fn bad_rows_are_all_reported_with_lines_and_columns() {
        let text = "姓名,性别,公民身份号码,申请日期,备注\n\
            张三,男,110105200805011233,2024-03-01,\n\
            赵六,男,110105200805011234,2024-03-01,\n\
            孙七,女,1.10105E+17,2024-03-01,\n\
            李四,女,11010520090315246X,2024-03-05,\n\
            周八,男,110105200805011233,2024-03-02,\n\
            吴九,男,11010520080501125X,2024-13-01,\n\
            王五,男,440305200807203578,2024-04-01,\n";
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![
                err(
                    1,
                    Some("备注"),
                    None,
                    "unknown column 备注; known columns: 姓名, 性别, 民族, 公民身份号码, 出生日期, \
                     班级, 申请日期, 入团日期, 团员编号, 留团察看至 (or their English names)",
                ),
                err(
                    3,
                    Some("公民身份号码"),
                    Some(RuleCode::IdChecksum),
                    "公民身份号码 110105********1234: check character should be 3, found 4",
                ),
                err(
                    4,
                    Some("公民身份号码"),
                    Some(RuleCode::IdFormat),
                    "公民身份号码 looks like Excel scientific notation (1.10105E+17): the digits \
                     are lost; format the column as text in Excel and export again",
                ),
                err(
                    6,
                    Some("公民身份号码"),
                    Some(RuleCode::IdUnique),
                    "公民身份号码 110105********1233 is already on line 2: one record per person",
                ),
                err(
                    7,
                    Some("申请日期"),
                    None,
                    "申请日期 \"2024-13-01\" is not a date; use YYYY-MM-DD, YYYY/M/D, YYYY.M.D, \
                     YYYYMMDD or YYYY年M月D日",
                ),
            ]
        );
    }

    #[test]
    fn id_format_long_scientific_notation_gets_the_excel_message() {
        let text = "姓名,公民身份号码,申请日期\n张三,1.10105199001011E+17,2024-03-01\n";
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![err(
                2,
                Some("公民身份号码"),
                Some(RuleCode::IdFormat),
                "公民身份号码 looks like Excel scientific notation (1.10105199001011E+17): the \
                 digits are lost; format the column as text in Excel and export again",
            )]
        );
    }

    #[test]
    fn id_format_error_masks_the_number() {
        let text = "姓名,公民身份号码,申请日期\n张三,1101052008050112,2024-03-01\n";
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![err(
                2,
                Some("公民身份号码"),
                Some(RuleCode::IdFormat),
                "公民身份号码 110105******0112: a resident ID has 18 characters, found 16",
            )]
        );
    }

    #[test]
    fn id_birth_date_mismatch_with_birth_date_column_is_refused() {
        let text =
            "姓名,公民身份号码,出生日期,申请日期\n张三,110105200805011233,2008-05-02,2024-03-01\n";
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![err(
                2,
                Some("出生日期"),
                Some(RuleCode::IdBirthDate),
                "出生日期 2008-05-02 does not match the ID (2008-05-01)",
            )]
        );
    }

    #[test]
    fn sex_mismatch_with_the_id_is_refused() {
        let text = "姓名,性别,公民身份号码,申请日期\n李四,男,11010520090315246X,2024-03-05\n\
            张三,X,110105200805011233,2024-03-01\n";
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![
                err(
                    2,
                    Some("性别"),
                    None,
                    "性别 男 does not match the ID (female)"
                ),
                err(
                    3,
                    Some("性别"),
                    None,
                    "性别 \"X\" is not 男 or 女 (male or female)"
                ),
            ]
        );
    }

    #[test]
    fn dates_after_today_are_refused() {
        let text = "姓名,公民身份号码,申请日期\n张三,110105200805011233,2024-06-02\n";
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![err(
                2,
                Some("申请日期"),
                None,
                "申请日期 2024-06-02 is after today (2024-06-01)",
            )]
        );
    }

    #[test]
    fn names_must_be_1_to_50_characters() {
        let long = "长".repeat(51);
        let ok = "长".repeat(50);
        let text = format!(
            "姓名,公民身份号码,申请日期\n,110105200805011233,2024-03-01\n{long},11010520090315246X,2024-03-01\n{ok},440305200807203578,2024-03-01\n"
        );
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![
                err(2, Some("姓名"), None, "姓名 is empty"),
                err(3, Some("姓名"), None, "姓名 has 51 characters; at most 50"),
            ]
        );
    }

    #[test]
    fn a_row_needs_exactly_one_of_application_and_membership_date() {
        let text = "姓名,公民身份号码,申请日期,入团日期\n\
            张三,110105200805011233,2024-03-01,2024-05-04\n\
            李四,11010520090315246X,,\n";
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![
                err(
                    2,
                    None,
                    None,
                    "the row has both 申请日期 (an applicant) and 入团日期 (a member); give one",
                ),
                err(
                    3,
                    None,
                    None,
                    "the row needs 申请日期 (an applicant) or 入团日期 (a member)",
                ),
            ]
        );
    }

    #[test]
    fn missing_required_columns_stop_at_the_header() {
        let text = "姓名,班级\n张三,初三(2)班\n";
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![
                err(
                    1,
                    None,
                    None,
                    "the header lacks required column(s): 公民身份号码 (resident_id)",
                ),
                err(
                    1,
                    None,
                    None,
                    "the header needs 申请日期 (application_date) for applicants or 入团日期 \
                     (membership_date) for members",
                ),
            ]
        );
    }

    #[test]
    fn repeated_column_is_an_error() {
        let text = "姓名,身份证号,公民身份号码,申请日期\n张三,110105200805011233,110105200805011233,2024-03-01\n";
        let errors = parse_roster(text.as_bytes(), today()).expect_err("bad roster");
        assert_eq!(
            errors,
            vec![err(
                1,
                Some("公民身份号码"),
                None,
                "column 公民身份号码 repeats column 身份证号",
            )]
        );
    }

    #[test]
    fn empty_file_and_header_only_file_are_errors() {
        assert_eq!(
            parse_roster(b"", today()).expect_err("empty"),
            vec![err(
                1,
                None,
                None,
                "the file is empty: expected a header line (姓名, 公民身份号码, …)",
            )]
        );
        assert_eq!(
            parse_roster("姓名,公民身份号码,申请日期\n".as_bytes(), today()).expect_err("no rows"),
            vec![err(1, None, None, "the file has a header but no rows")]
        );
    }

    #[test]
    fn bytes_valid_in_neither_encoding_give_one_error() {
        let mut bytes = "姓名,公民身份号码,申请日期\n张三,".as_bytes().to_vec();
        bytes.extend_from_slice(&[0xFF, 0xFF, b'\n']);
        assert_eq!(
            parse_roster(&bytes, today()).expect_err("undecodable"),
            vec![err(
                2,
                None,
                None,
                "the file is neither valid UTF-8 nor GB18030/GBK text (byte 47 is not valid); \
                 save it from Excel as \"CSV UTF-8\" and import again",
            )]
        );
    }

    #[test]
    fn roster_dates_accept_the_school_forms() {
        let expected = Some(d(2024, 3, 5));
        for s in [
            "2024-03-05",
            "2024-3-5",
            "2024/3/5",
            "2024/03/05",
            "2024.3.5",
            "20240305",
            "2024年3月5日",
            "2024年03月05日",
            " 2024-03-05 ",
        ] {
            assert_eq!(parse_roster_date(s), expected, "{s}");
        }
        for s in [
            "2024-02-30",
            "24-3-5",
            "2024-3-5-1",
            "2024/3",
            "3/5/2024",
            "2024-03-05 00:00:00",
            "2024年3月5",
            "202435",
            "",
        ] {
            assert_eq!(parse_roster_date(s), None, "{s}");
        }
    }

    const MEMBER_HEADER: &str = "姓名,公民身份号码,入团日期,团员编号,留团察看至\n";

    fn members(rows: &str) -> Result<Roster, Vec<RowError>> {
        parse_roster(format!("{MEMBER_HEADER}{rows}").as_bytes(), today())
    }

    #[test]
    fn imp_legacy_age_accepts_13_year_old_admitted_2018_with_number() {
        // Born 2005-03-01, admitted 2018-05-04: 13 full years.
        let roster = members("张三,11010820050301135X,2018-05-04,201800000123,\n").expect("valid");
        assert_eq!(
            roster.rows[0].kind,
            RosterRowKind::Member {
                membership_date: d(2018, 5, 4),
                development_number: Some(
                    DevelopmentNumber::parse("201800000123").expect("valid number")
                ),
                probation_until: None,
            }
        );
    }

    #[test]
    fn imp_legacy_age_refuses_12_year_old_admitted_2018() {
        // Born 2005-09-01, admitted 2018-05-04: 12 full years.
        let errors =
            members("李四,110108200509011465,2018-05-04,201800000124,\n").expect_err("too young");
        assert_eq!(
            errors,
            vec![err(
                2,
                Some("入团日期"),
                Some(RuleCode::ImpLegacyAge),
                "age 12 on 入团日期 2018-05-04; members admitted on or after 2017-01-01 must have \
                 been at least 13",
            )]
        );
    }

    #[test]
    fn imp_legacy_age_accepts_12_year_old_admitted_2016_without_number() {
        // Born 2003-09-01, admitted 2016-05-04: 12 full years; no number before 2017.
        let roster = members("王五,110108200309011575,2016-05-04,,\n").expect("valid");
        assert_eq!(
            roster.rows[0].kind,
            RosterRowKind::Member {
                membership_date: d(2016, 5, 4),
                development_number: None,
                probation_until: None,
            }
        );
    }

    #[test]
    fn imp_legacy_age_refuses_11_year_old_admitted_2016() {
        // Born 2004-09-01, admitted 2016-05-04: 11 full years.
        let errors = members("赵六,110108200409011687,2016-05-04,,\n").expect_err("too young");
        assert_eq!(
            errors,
            vec![err(
                2,
                Some("入团日期"),
                Some(RuleCode::ImpLegacyAge),
                "age 11 on 入团日期 2016-05-04; members admitted before 2017-01-01 must have been \
                 at least 12",
            )]
        );
    }

    #[test]
    fn imp_legacy_age_requires_a_number_from_2017_01_01() {
        let errors = members("张三,11010820050301135X,2018-05-04,,\n").expect_err("no number");
        assert_eq!(
            errors,
            vec![err(
                2,
                Some("团员编号"),
                Some(RuleCode::ImpLegacyAge),
                "团员编号 is required for members admitted on or after 2017-01-01",
            )]
        );
        // Without a 团员编号 column at all the error names no column.
        let text = "姓名,公民身份号码,入团日期\n张三,11010820050301135X,2018-05-04\n";
        assert_eq!(
            parse_roster(text.as_bytes(), today()).expect_err("no number"),
            vec![err(
                2,
                None,
                Some(RuleCode::ImpLegacyAge),
                "团员编号 is required for members admitted on or after 2017-01-01",
            )]
        );
    }

    #[test]
    fn adm_number_required_year_must_match_membership_year() {
        let errors = members(
            "张三,11010820050301135X,2018-05-04,201900000123,\n\
             李四,110108200509011465,2019-05-04,2019001,\n",
        )
        .expect_err("bad numbers");
        assert_eq!(
            errors,
            vec![
                err(
                    2,
                    Some("团员编号"),
                    Some(RuleCode::AdmNumberRequired),
                    "团员编号 201900000123 is of year 2019 but 入团日期 is in 2018: the first 4 \
                     digits are the admission year",
                ),
                err(
                    3,
                    Some("团员编号"),
                    Some(RuleCode::AdmNumberRequired),
                    "团员编号 \"2019001\": a development number has 12 digits, found 7 characters",
                ),
            ]
        );
    }

    #[test]
    fn probation_until_may_be_in_the_future_but_not_before_membership() {
        let roster =
            members("张三,11010820050301135X,2018-05-04,201800000123,2024-12-31\n").expect("valid");
        assert_eq!(
            roster.rows[0].kind,
            RosterRowKind::Member {
                membership_date: d(2018, 5, 4),
                development_number: Some(
                    DevelopmentNumber::parse("201800000123").expect("valid number")
                ),
                probation_until: Some(d(2024, 12, 31)),
            }
        );
        let errors = members("张三,11010820050301135X,2018-05-04,201800000123,2018-05-01\n")
            .expect_err("probation before membership");
        assert_eq!(
            errors,
            vec![err(
                2,
                Some("留团察看至"),
                None,
                "留团察看至 2018-05-01 is not after 入团日期 2018-05-04",
            )]
        );
    }

    #[test]
    fn member_columns_on_an_applicant_row_are_refused() {
        let text = "姓名,公民身份号码,申请日期,入团日期,团员编号\n张三,110105200805011233,2024-03-01,,202400000001\n";
        assert_eq!(
            parse_roster(text.as_bytes(), today()).expect_err("applicant with number"),
            vec![err(
                2,
                Some("团员编号"),
                None,
                "团员编号 is only for members (rows with 入团日期), not applicants",
            )]
        );
    }

    #[test]
    fn row_error_display_names_line_column_and_code() {
        let e = err(
            3,
            Some("公民身份号码"),
            Some(RuleCode::IdChecksum),
            "check character should be 3, found 4",
        );
        assert_eq!(
            e.to_string(),
            "line 3, 公民身份号码: check character should be 3, found 4 [ID_CHECKSUM]"
        );
    }
}
