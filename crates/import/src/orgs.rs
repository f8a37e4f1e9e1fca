//! Organisations (团组织): the national committee tree built from the GB/T 2260 division tables
//! in `data/china-division/`, and organisations from a user's CSV file.
//!
//! Levels follow DOMAIN-SOURCES §9 (addressee list of 中青发〔2017〕5号): central (团中央) →
//! provincial (团省委) → city (团市委) → county/district (团县委/团区委) → basic-level committee
//! (基层团委, 团工委, 团总支) → branch (团支部). Organisation codes are the GB/T 2260
//! administrative codes where the organisation has one (DOMAIN.md, Organisations).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use tuanji_domain::{OrgCode, OrgKind, SchoolLevel};

use crate::roster::{decode, records, RowError};

/// The code of the central committee (团中央), root of the national tree.
pub const CENTRAL_CODE: &str = "CYLC";

/// The name of the central committee.
pub const CENTRAL_NAME: &str = "共青团中央";

/// One organisation of the national tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    /// The organisation code: `CYLC` for 团中央, else the GB/T 2260 code (6 digits) or the
    /// 9-digit statistical township code.
    pub code: OrgCode,
    /// The committee's name, `共青团<division name>委员会`.
    pub name: String,
    /// The level.
    pub kind: OrgKind,
    /// The superior organisation; `None` only for 团中央.
    pub parent: Option<OrgCode>,
}

/// Why the division tables could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OrgImportError {
    /// A table file is missing or unreadable.
    #[error("cannot read {}: {source}", path.display())]
    MissingFile {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The first line lacks a column the table needs.
    #[error("{}: the header is {found:?}; it needs the columns {expected:?}", path.display())]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// The columns required (any order; others are ignored).
        expected: Vec<&'static str>,
        /// The header as found.
        found: Vec<String>,
    },
    /// A row is malformed or inconsistent with the other tables.
    #[error("{} line {line}: {reason}", path.display())]
    BadRow {
        /// The file.
        path: PathBuf,
        /// 1-based physical line number (header = 1).
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// One row of a division table: its line, its code and name, and the code of its parent level.
struct Division {
    line: usize,
    code: String,
    name: String,
    parent: String,
}

/// Reads one table of `china-division`: checks the header holds `columns` (code, name, and the
/// parent's code column, if any), that codes have `digits` ASCII digits, are unique, and that the
/// code begins with its parent's code.
fn read_table(
    dir: &Path,
    file: &str,
    parent_column: Option<&'static str>,
    digits: usize,
) -> Result<Vec<Division>, OrgImportError> {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).map_err(|source| OrgImportError::MissingFile {
        path: path.clone(),
        source,
    })?;
    let bad_row = |line: usize, reason: String| OrgImportError::BadRow {
        path: path.clone(),
        line,
        reason,
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        bad_row(line, "not valid UTF-8".to_owned())
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows = records(text).map_err(|e| bad_row(e.line, e.reason))?;
    let mut expected = vec!["code", "name"];
    expected.extend(parent_column);
    let Some(((_, header), body)) = rows.split_first() else {
        return Err(OrgImportError::BadHeader {
            path,
            expected,
            found: Vec::new(),
        });
    };
    let found: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
    let position = |name: &str| found.iter().position(|h| h == name);
    let (Some(code_at), Some(name_at)) = (position("code"), position("name")) else {
        return Err(OrgImportError::BadHeader {
            path,
            expected,
            found,
        });
    };
    let parent_at = match parent_column {
        Some(column) => match position(column) {
            Some(at) => Some(at),
            None => {
                return Err(OrgImportError::BadHeader {
                    path,
                    expected,
                    found,
                })
            }
        },
        None => None,
    };

    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(body.len());
    for (line, record) in body {
        let field = |at: usize| record.get(at).map(str::trim).unwrap_or_default();
        let code = field(code_at);
        let name = field(name_at);
        let parent = parent_at.map(field).unwrap_or_default();
        if code.len() != digits || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_row(
                *line,
                format!("code {code:?} is not {digits} digits"),
            ));
        }
        if name.is_empty() {
            return Err(bad_row(*line, format!("code {code} has no name")));
        }
        if parent_column.is_some() && !code.starts_with(parent) {
            return Err(bad_row(
                *line,
                format!("code {code} does not start with its parent code {parent:?}"),
            ));
        }
        if !seen.insert(code.to_owned()) {
            return Err(bad_row(*line, format!("code {code} appears twice")));
        }
        out.push(Division {
            line: *line,
            code: code.to_owned(),
            name: name.to_owned(),
            parent: parent.to_owned(),
        });
    }
    Ok(out)
}

/// City rows that are not cities but groupings of county-level divisions: the districts of a
/// municipality (市辖区), Chongqing's counties (县), and counties administered directly by a
/// province or autonomous region (省直辖县级行政区划, 自治区直辖县级行政区划).
const GROUPING_CITY_NAMES: [&str; 4] = [
    "市辖区",
    "县",
    "省直辖县级行政区划",
    "自治区直辖县级行政区划",
];

/// Pads a GB/T 2260 prefix (`"11"`, `"1101"`) to the 6-digit code (`"110000"`, `"110100"`).
fn pad6(prefix: &str) -> String {
    format!("{prefix:0<6}")
}

fn committee_name(division: &str) -> String {
    format!("共青团{division}委员会")
}

/// Builds the national committee tree from the `china-division` 2.7.0 tables in `dir`
/// (`provinces.csv`, `cities.csv`, `areas.csv`, `streets.csv`; see `data/china-division/README.md`).
///
/// The tree:
/// - 团中央: code `CYLC`, name `共青团中央`, kind [`OrgKind::Central`], no parent;
/// - one provincial committee (团省委) per province: code = the 2-digit province code padded to 6
///   digits as in GB/T 2260 (`11` → `110000`), name `共青团<province>委员会`
///   (`共青团北京市委员会`), kind [`OrgKind::Provincial`], parent `CYLC`;
/// - city committees (团市委): 4-digit city code padded (`1301` → `130100`),
///   `共青团<city>委员会`, kind [`OrgKind::City`];
/// - county committees (团县委/团区委): the 6-digit county code, `共青团<county>委员会`, kind
///   [`OrgKind::County`];
/// - township/street committees: the 9-digit code of the streets table, `共青团<township>委员会`
///   (the name as in the table, e.g. `共青团漓东街道办事处委员会`), kind [`OrgKind::Township`].
///
/// Special rows, handled so that every county has a city parent and every township a parent
/// of the level above it:
/// - The grouping city rows 市辖区 (municipalities' districts: `1101`, `1201`, `3101`, `5001`),
///   县 (`5002`, Chongqing's counties) and 省/自治区直辖县级行政区划 (`4190`, `4290`, `4690`,
///   `6590`) are kept as city-level nodes with their GB/T 2260 code (`110100`), named
///   `共青团<province><grouping>委员会` (`共青团北京市市辖区委员会`) so that the name says whose
///   grouping it is. They stand for no real committee: the municipal committee acts through them.
/// - Cities without counties (不设区的地级市) 东莞市, 中山市 and 儋州市 are repeated in the county
///   table with the city's own code (`441900`). Codes must be unique, so that county row is
///   dropped and its townships hang directly under the city committee (their parent is then a
///   [`OrgKind::City`]; this is the real structure: the towns report to the city).
///
/// With the committed data this gives 44,701 records: 1 central, 31 provincial, 342 city, 2,975
/// county and 41,352 township committees.
///
/// Order: pre-order (each parent before its children), siblings by code. Codes are unique.
///
/// # Errors
/// [`OrgImportError::MissingFile`] if a table cannot be read, [`OrgImportError::BadHeader`] if
/// its header lacks a needed column, [`OrgImportError::BadRow`] for a code of the wrong length,
/// a repeated code, an empty name, or a parent code that is not in the table above.
pub fn national_tree(dir: &Path) -> Result<Vec<OrgRecord>, OrgImportError> {
    let provinces = read_table(dir, "provinces.csv", None, 2)?;
    let cities = read_table(dir, "cities.csv", Some("provinceCode"), 4)?;
    let areas = read_table(dir, "areas.csv", Some("cityCode"), 6)?;
    let streets = read_table(dir, "streets.csv", Some("areaCode"), 9)?;

    // Children by parent code, each list sorted by code.
    fn group<'a>(
        dir: &Path,
        file: &str,
        rows: &'a [Division],
        parents: &HashSet<&str>,
    ) -> Result<HashMap<&'a str, BTreeMap<&'a str, &'a Division>>, OrgImportError> {
        let mut map: HashMap<&str, BTreeMap<&str, &Division>> = HashMap::new();
        for row in rows {
            if !parents.contains(row.parent.as_str()) {
                return Err(OrgImportError::BadRow {
                    path: dir.join(file),
                    line: row.line,
                    reason: format!(
                        "code {} names parent {}, which does not exist",
                        row.code, row.parent
                    ),
                });
            }
            map.entry(row.parent.as_str())
                .or_default()
                .insert(row.code.as_str(), row);
        }
        Ok(map)
    }
    fn code_set(rows: &[Division]) -> HashSet<&str> {
        rows.iter().map(|r| r.code.as_str()).collect()
    }
    let cities_by_province = group(dir, "cities.csv", &cities, &code_set(&provinces))?;
    let areas_by_city = group(dir, "areas.csv", &areas, &code_set(&cities))?;
    let streets_by_area = group(dir, "streets.csv", &streets, &code_set(&areas))?;

    let central = org_code(CENTRAL_CODE)?;
    let mut out =
        Vec::with_capacity(1 + provinces.len() + cities.len() + areas.len() + streets.len());
    out.push(OrgRecord {
        code: central.clone(),
        name: CENTRAL_NAME.to_owned(),
        kind: OrgKind::Central,
        parent: None,
    });

    let mut sorted_provinces: Vec<&Division> = provinces.iter().collect();
    sorted_provinces.sort_by(|a, b| a.code.cmp(&b.code));
    for province in sorted_provinces {
        let province_code = org_code(&pad6(&province.code))?;
        out.push(OrgRecord {
            code: province_code.clone(),
            name: committee_name(&province.name),
            kind: OrgKind::Provincial,
            parent: Some(central.clone()),
        });
        for city in cities_by_province
            .get(province.code.as_str())
            .into_iter()
            .flat_map(BTreeMap::values)
        {
            let city_padded = pad6(&city.code);
            let city_code = org_code(&city_padded)?;
            let name = if GROUPING_CITY_NAMES.contains(&city.name.as_str()) {
                committee_name(&format!("{}{}", province.name, city.name))
            } else {
                committee_name(&city.name)
            };
            out.push(OrgRecord {
                code: city_code.clone(),
                name,
                kind: OrgKind::City,
                parent: Some(province_code.clone()),
            });
            for area in areas_by_city
                .get(city.code.as_str())
                .into_iter()
                .flat_map(BTreeMap::values)
            {
                // A city without counties repeats itself as a county with the same code: its
                // townships go straight under the city committee.
                let township_parent = if area.code == city_padded {
                    city_code.clone()
                } else {
                    let area_code = org_code(&area.code)?;
                    out.push(OrgRecord {
                        code: area_code.clone(),
                        name: committee_name(&area.name),
                        kind: OrgKind::County,
                        parent: Some(city_code.clone()),
                    });
                    area_code
                };
                for street in streets_by_area
                    .get(area.code.as_str())
                    .into_iter()
                    .flat_map(BTreeMap::values)
                {
                    out.push(OrgRecord {
                        code: org_code(&street.code)?,
                        name: committee_name(&street.name),
                        kind: OrgKind::Township,
                        parent: Some(township_parent.clone()),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A code built from validated digits; an error here would be a bug in this module, reported
/// rather than panicking.
fn org_code(s: &str) -> Result<OrgCode, OrgImportError> {
    OrgCode::parse(s).map_err(|e| OrgImportError::BadRow {
        path: PathBuf::new(),
        line: 0,
        reason: format!("code {s:?}: {e}"),
    })
}

/// One organisation from a user's CSV file (see [`parse_org_csv`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgCsvRow {
    /// 1-based physical line number in the file (header = 1).
    pub line: usize,
    /// The organisation code.
    pub code: OrgCode,
    /// The name as written (trimmed), 1 to 100 characters.
    pub name: String,
    /// The kind.
    pub kind: OrgKind,
    /// The superior organisation (in the file or already registered); `None` only for
    /// [`OrgKind::Central`].
    pub parent: Option<OrgCode>,
    /// Whether the organisation may approve admissions (`ADM_APPROVAL`); `None` when not given
    /// (the engine's default for the kind applies).
    pub approves_admissions: Option<bool>,
    /// The school level for school organisations (graduating-class cap `ADM_CLASS_CAP`).
    pub school_level: Option<SchoolLevel>,
    /// Whether this is a graduating-class branch (毕业班团支部); `false` when not given.
    pub graduating: bool,
    /// Number of students in the class (for `ADM_CLASS_CAP`); branches only.
    pub class_size: Option<u32>,
    /// The school's mobile-member branch (流动团员团支部) that keeps unemployed graduates
    /// (`TRF_RETENTION`); branches only, `false` when not given.
    pub mobile_members: bool,
}

/// The longest organisation name accepted, in characters.
pub const MAX_ORG_NAME_CHARS: usize = 100;

const ORG_COLUMNS: [&str; 9] = [
    "code",
    "name",
    "kind",
    "parent",
    "approves_admissions",
    "school_level",
    "graduating",
    "class_size",
    "mobile_members",
];

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "是" => Some(true),
        "false" | "no" | "n" | "0" | "否" => Some(false),
        _ => None,
    }
}

/// Parses organisations from a user's CSV file.
///
/// Encoding: UTF-8 with or without BOM (GB18030/GBK is also accepted, as for rosters).
/// Header: `code,name,kind,parent`, optionally followed by any of `approves_admissions`,
/// `school_level`, `graduating`, `class_size`, `mobile_members` (case-insensitive, trimmed, any order; unknown or
/// repeated columns are errors). Values:
/// - `code`: an [`OrgCode`], unique in the file;
/// - `name`: 1 to [`MAX_ORG_NAME_CHARS`] characters, no control characters;
/// - `kind`: the snake_case name of an [`OrgKind`] (`central`, `provincial`, `city`, `county`,
///   `township`, `basic_committee`, `working_committee`, `general_branch`, `branch`);
/// - `parent`: an [`OrgCode`] other than the row's own; empty only for `central`, which must have
///   none. The parent may be in the file or already registered: the engine resolves it;
/// - `approves_admissions`, `graduating`, `mobile_members`: `true`/`false` (also `yes`/`no`, `1`/`0`, `是`/`否`),
///   empty = not given (`graduating` then `false`); `approves_admissions` = `true` is refused for a
///   branch (a branch never approves admissions, 《发展团员工作细则》 step 12);
/// - `school_level`: `junior_high`, `senior_high`, `vocational`, `university`;
/// - `graduating`, `mobile_members` and `class_size` (a whole number ≥ 1): only for kind `branch`.
///
/// Empty lines are skipped. Every bad row is reported (all errors, in line order), each with the
/// header name as written; `code` is `None` on these errors (no DOMAIN.md rule applies).
pub fn parse_org_csv(bytes: &[u8]) -> Result<Vec<OrgCsvRow>, Vec<RowError>> {
    let (_, text) = decode(bytes).map_err(|e| vec![e])?;
    let records = records(&text).map_err(|e| vec![e])?;
    let Some(((header_line, header), body)) = records.split_first() else {
        return Err(vec![RowError::new(
            1,
            None,
            None,
            "the file is empty: expected the header code,name,kind,parent",
        )]);
    };
    let header_line = *header_line;
    let mut errors = Vec::new();
    // Column index by canonical name, with the header as written.
    let mut columns: HashMap<&'static str, (usize, String)> = HashMap::new();
    for (index, raw) in header.iter().enumerate() {
        let written = raw.trim();
        if written.is_empty() {
            continue;
        }
        let lower = written.to_lowercase();
        match ORG_COLUMNS.iter().find(|c| **c == lower) {
            Some(canonical) => {
                if let Some((_, first)) = columns.get(canonical) {
                    errors.push(RowError::new(
                        header_line,
                        Some(written),
                        None,
                        format!("column {written} repeats column {first}"),
                    ));
                } else {
                    columns.insert(canonical, (index, written.to_owned()));
                }
            }
            None => errors.push(RowError::new(
                header_line,
                Some(written),
                None,
                format!(
                    "unknown column {written}; known columns: {}",
                    ORG_COLUMNS.join(", ")
                ),
            )),
        }
    }
    let missing: Vec<&str> = ORG_COLUMNS[..4]
        .iter()
        .copied()
        .filter(|c| !columns.contains_key(c))
        .collect();
    if !missing.is_empty() {
        errors.push(RowError::new(
            header_line,
            None,
            None,
            format!(
                "the header lacks required column(s): {}",
                missing.join(", ")
            ),
        ));
        return Err(errors);
    }
    let label = |c: &str| -> String {
        columns
            .get(c)
            .map_or_else(|| c.to_owned(), |(_, written)| written.clone())
    };

    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(body.len());
    for (line, record) in body {
        let line = *line;
        let before = errors.len();
        let value = |c: &str| -> Option<&str> {
            let (index, _) = columns.get(c)?;
            record.get(*index).map(str::trim).filter(|v| !v.is_empty())
        };
        let mut err = |c: Option<&str>, reason: String| {
            let column = c.map(label);
            errors.push(RowError {
                line,
                column,
                code: None,
                reason,
            });
        };

        let code = match value("code") {
            None => {
                err(Some("code"), format!("{} is empty", label("code")));
                None
            }
            Some(raw) => match OrgCode::parse(raw) {
                Err(e) => {
                    err(Some("code"), format!("{} {raw:?}: {e}", label("code")));
                    None
                }
                Ok(code) => {
                    if let Some(first) = seen.get(code.as_str()) {
                        err(
                            Some("code"),
                            format!("{} {code} is already on line {first}", label("code")),
                        );
                        None
                    } else {
                        seen.insert(code.as_str().to_owned(), line);
                        Some(code)
                    }
                }
            },
        };

        let name = match value("name") {
            None => {
                err(Some("name"), format!("{} is empty", label("name")));
                None
            }
            Some(name) => {
                let chars = name.chars().count();
                if chars > MAX_ORG_NAME_CHARS {
                    err(
                        Some("name"),
                        format!(
                            "{} has {chars} characters; at most {MAX_ORG_NAME_CHARS}",
                            label("name")
                        ),
                    );
                    None
                } else if name.chars().any(|c| {
                    // Control characters, and the invisible ones that reorder or break a line on a terminal.
                    c.is_control()
                        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
                }) {
                    err(
                        Some("name"),
                        format!("{} contains a control character", label("name")),
                    );
                    None
                } else {
                    Some(name.to_owned())
                }
            }
        };

        let kind = match value("kind") {
            None => {
                err(Some("kind"), format!("{} is empty", label("kind")));
                None
            }
            Some(raw) => match raw.to_lowercase().parse::<OrgKind>() {
                Err(_) => {
                    err(
                        Some("kind"),
                        format!(
                            "{} {raw:?} is not one of: {}",
                            label("kind"),
                            OrgKind::ALL
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    None
                }
                Ok(kind) => Some(kind),
            },
        };

        let parent = match value("parent") {
            None => {
                if kind.is_some_and(|k| k != OrgKind::Central) {
                    err(
                        Some("parent"),
                        format!(
                            "{} is empty; only a central organisation has none",
                            label("parent")
                        ),
                    );
                }
                None
            }
            Some(raw) => match OrgCode::parse(raw) {
                Err(e) => {
                    err(Some("parent"), format!("{} {raw:?}: {e}", label("parent")));
                    None
                }
                Ok(parent) => {
                    if kind == Some(OrgKind::Central) {
                        err(
                            Some("parent"),
                            format!(
                                "{} must be empty for a central organisation",
                                label("parent")
                            ),
                        );
                    } else if Some(&parent) == code.as_ref() {
                        err(
                            Some("parent"),
                            format!("{} {parent} is the organisation itself", label("parent")),
                        );
                    }
                    Some(parent)
                }
            },
        };

        let approves_admissions = match value("approves_admissions") {
            None => None,
            Some(raw) => match parse_bool(raw) {
                None => {
                    err(
                        Some("approves_admissions"),
                        format!(
                            "{} {raw:?} is not true or false",
                            label("approves_admissions")
                        ),
                    );
                    None
                }
                Some(flag) => {
                    if flag && kind.is_some_and(|k| !k.may_approve_admissions()) {
                        err(
                            Some("approves_admissions"),
                            format!(
                                "{} is true but a branch never approves admissions",
                                label("approves_admissions")
                            ),
                        );
                    }
                    Some(flag)
                }
            },
        };

        let school_level = match value("school_level") {
            None => None,
            Some(raw) => match raw.to_lowercase().parse::<SchoolLevel>() {
                Err(_) => {
                    err(
                        Some("school_level"),
                        format!(
                            "{} {raw:?} is not one of: junior_high, senior_high, vocational, university",
                            label("school_level")
                        ),
                    );
                    None
                }
                Ok(level) => Some(level),
            },
        };

        let not_branch = kind.is_some_and(|k| !k.is_branch());
        let graduating = match value("graduating") {
            None => false,
            Some(raw) => match parse_bool(raw) {
                None => {
                    err(
                        Some("graduating"),
                        format!("{} {raw:?} is not true or false", label("graduating")),
                    );
                    false
                }
                Some(flag) => {
                    if flag && not_branch {
                        err(
                            Some("graduating"),
                            format!("{} is only for branches (kind branch)", label("graduating")),
                        );
                    }
                    flag
                }
            },
        };

        let mobile_members = match value("mobile_members") {
            None => false,
            Some(raw) => match parse_bool(raw) {
                None => {
                    err(
                        Some("mobile_members"),
                        format!("{} {raw:?} is not true or false", label("mobile_members")),
                    );
                    false
                }
                Some(flag) => {
                    if flag && not_branch {
                        err(
                            Some("mobile_members"),
                            format!(
                                "{} is only for branches (kind branch)",
                                label("mobile_members")
                            ),
                        );
                    }
                    flag
                }
            },
        };

        let class_size = match value("class_size") {
            None => None,
            Some(raw) => match raw.parse::<u32>() {
                Ok(size) if size >= 1 => {
                    if not_branch {
                        err(
                            Some("class_size"),
                            format!("{} is only for branches (kind branch)", label("class_size")),
                        );
                    }
                    Some(size)
                }
                _ => {
                    err(
                        Some("class_size"),
                        format!(
                            "{} {raw:?} is not a whole number of at least 1",
                            label("class_size")
                        ),
                    );
                    None
                }
            },
        };

        if errors.len() > before {
            continue;
        }
        if let (Some(code), Some(name), Some(kind)) = (code, name, kind) {
            rows.push(OrgCsvRow {
                line,
                code,
                name,
                kind,
                parent,
                approves_admissions,
                school_level,
                graduating,
                class_size,
                mobile_members,
            });
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/china-division")
    }

    fn tree() -> Vec<OrgRecord> {
        national_tree(&data_dir()).expect("committed division tables load")
    }

    fn code(s: &str) -> OrgCode {
        OrgCode::parse(s).expect("valid test code")
    }

    #[test]
    fn national_tree_has_the_measured_counts() {
        let tree = tree();
        assert_eq!(tree.len(), 44_701);
        let mut per_kind: HashMap<OrgKind, usize> = HashMap::new();
        for record in &tree {
            *per_kind.entry(record.kind).or_default() += 1;
        }
        let expected: HashMap<OrgKind, usize> = [
            (OrgKind::Central, 1),
            (OrgKind::Provincial, 31),
            (OrgKind::City, 342),
            (OrgKind::County, 2_975),
            (OrgKind::Township, 41_352),
        ]
        .into_iter()
        .collect();
        assert_eq!(per_kind, expected);
    }

    #[test]
    fn national_tree_starts_with_the_central_committee() {
        let tree = tree();
        assert_eq!(
            tree[0],
            OrgRecord {
                code: code("CYLC"),
                name: "共青团中央".to_owned(),
                kind: OrgKind::Central,
                parent: None,
            }
        );
        assert_eq!(
            tree[1],
            OrgRecord {
                code: code("110000"),
                name: "共青团北京市委员会".to_owned(),
                kind: OrgKind::Provincial,
                parent: Some(code("CYLC")),
            }
        );
    }

    #[test]
    fn national_tree_codes_are_unique_and_parents_come_first() {
        let tree = tree();
        let mut seen: HashSet<&OrgCode> = HashSet::new();
        for record in &tree {
            if let Some(parent) = &record.parent {
                assert!(
                    seen.contains(parent),
                    "{} before its parent {parent}",
                    record.code
                );
            }
            assert!(seen.insert(&record.code), "{} repeated", record.code);
        }
        let roots: Vec<&OrgRecord> = tree.iter().filter(|r| r.parent.is_none()).collect();
        assert_eq!(roots.len(), 1);
    }

    #[test]
    fn national_tree_levels_nest_below_the_level_above() {
        let tree = tree();
        let kinds: HashMap<&OrgCode, OrgKind> = tree.iter().map(|r| (&r.code, r.kind)).collect();
        let mut township_under_city = Vec::new();
        for record in &tree {
            let parent_kind = record.parent.as_ref().map(|p| kinds[p]);
            match record.kind {
                OrgKind::Provincial => assert_eq!(parent_kind, Some(OrgKind::Central)),
                OrgKind::City => assert_eq!(parent_kind, Some(OrgKind::Provincial)),
                OrgKind::County => assert_eq!(parent_kind, Some(OrgKind::City)),
                OrgKind::Township => {
                    if parent_kind == Some(OrgKind::City) {
                        township_under_city
                            .push(record.code.as_str().get(..6).unwrap_or_default().to_owned());
                    } else {
                        assert_eq!(parent_kind, Some(OrgKind::County), "{}", record.code);
                    }
                }
                _ => assert_eq!(parent_kind, None),
            }
        }
        // Only the cities without counties (东莞, 中山, 儋州) have townships directly below.
        township_under_city.dedup();
        assert_eq!(township_under_city, vec!["441900", "442000", "460400"]);
    }

    fn ancestry(tree: &[OrgRecord], start: &str) -> Vec<(String, String, OrgKind)> {
        let by_code: HashMap<&str, &OrgRecord> =
            tree.iter().map(|r| (r.code.as_str(), r)).collect();
        let mut chain = Vec::new();
        let mut next = Some(start.to_owned());
        while let Some(c) = next {
            let record = by_code[c.as_str()];
            chain.push((c, record.name.clone(), record.kind));
            next = record.parent.as_ref().map(|p| p.as_str().to_owned());
        }
        chain
    }

    #[test]
    fn national_tree_township_ancestry_reaches_the_centre() {
        let tree = tree();
        let owned = |c: &str, n: &str, k| (c.to_owned(), n.to_owned(), k);
        assert_eq!(
            ancestry(&tree, "110101001"),
            vec![
                owned("110101001", "共青团东华门街道委员会", OrgKind::Township),
                owned("110101", "共青团东城区委员会", OrgKind::County),
                owned("110100", "共青团北京市市辖区委员会", OrgKind::City),
                owned("110000", "共青团北京市委员会", OrgKind::Provincial),
                owned("CYLC", "共青团中央", OrgKind::Central),
            ]
        );
        assert_eq!(
            ancestry(&tree, "130111200"),
            vec![
                owned("130111200", "共青团南高乡委员会", OrgKind::Township),
                owned("130111", "共青团栾城区委员会", OrgKind::County),
                owned("130100", "共青团石家庄市委员会", OrgKind::City),
                owned("130000", "共青团河北省委员会", OrgKind::Provincial),
                owned("CYLC", "共青团中央", OrgKind::Central),
            ]
        );
        assert_eq!(
            ancestry(&tree, "441900003"),
            vec![
                owned("441900003", "共青团东城街道委员会", OrgKind::Township),
                owned("441900", "共青团东莞市委员会", OrgKind::City),
                owned("440000", "共青团广东省委员会", OrgKind::Provincial),
                owned("CYLC", "共青团中央", OrgKind::Central),
            ]
        );
    }

    #[test]
    fn national_tree_names_grouping_cities_after_their_province() {
        let tree = tree();
        let name = |c: &str| {
            tree.iter()
                .find(|r| r.code.as_str() == c)
                .map(|r| r.name.clone())
                .expect("code in tree")
        };
        assert_eq!(name("500200"), "共青团重庆市县委员会");
        assert_eq!(name("419000"), "共青团河南省省直辖县级行政区划委员会");
        assert_eq!(
            name("659000"),
            "共青团新疆维吾尔自治区自治区直辖县级行政区划委员会"
        );
        assert_eq!(name("419001"), "共青团济源市委员会");
    }

    #[test]
    fn national_tree_reports_a_missing_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = national_tree(dir.path()).expect_err("no tables");
        match error {
            OrgImportError::MissingFile { path, .. } => {
                assert_eq!(path, dir.path().join("provinces.csv"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    fn write_tables(dir: &Path, provinces: &str, cities: &str, areas: &str, streets: &str) {
        for (file, text) in [
            ("provinces.csv", provinces),
            ("cities.csv", cities),
            ("areas.csv", areas),
            ("streets.csv", streets),
        ] {
            std::fs::write(dir.join(file), text).expect("write table");
        }
    }

    #[test]
    fn national_tree_reports_a_bad_header_and_a_dangling_parent() {
        let dir = tempfile::tempdir().expect("temp dir");
        write_tables(
            dir.path(),
            "code,name\n11,\"北京市\"\n",
            "code,title,provinceCode\n1101,\"市辖区\",11\n",
            "code,name,cityCode,provinceCode\n",
            "code,name,areaCode,provinceCode,cityCode\n",
        );
        match national_tree(dir.path()).expect_err("bad header") {
            OrgImportError::BadHeader {
                path,
                expected,
                found,
            } => {
                assert_eq!(path, dir.path().join("cities.csv"));
                assert_eq!(expected, vec!["code", "name", "provinceCode"]);
                assert_eq!(found, vec!["code", "title", "provinceCode"]);
            }
            other => panic!("unexpected {other:?}"),
        }

        write_tables(
            dir.path(),
            "code,name\n11,\"北京市\"\n",
            "code,name,provinceCode\n1101,\"市辖区\",11\n",
            "code,name,cityCode,provinceCode\n110101,\"东城区\",1101,11\n\n120101,\"和平区\",1201,12\n",
            "code,name,areaCode,provinceCode,cityCode\n",
        );
        let error = national_tree(dir.path()).expect_err("dangling parent");
        assert_eq!(
            error.to_string(),
            format!(
                "{} line 4: code 120101 names parent 1201, which does not exist",
                dir.path().join("areas.csv").display()
            )
        );
    }

    #[test]
    fn national_tree_reports_a_repeated_code() {
        let dir = tempfile::tempdir().expect("temp dir");
        write_tables(
            dir.path(),
            "code,name\n11,\"北京市\"\n11,\"北京市\"\n",
            "code,name,provinceCode\n",
            "code,name,cityCode,provinceCode\n",
            "code,name,areaCode,provinceCode,cityCode\n",
        );
        let error = national_tree(dir.path()).expect_err("repeated code");
        assert!(matches!(
            error,
            OrgImportError::BadRow { line: 3, ref reason, .. } if reason == "code 11 appears twice"
        ));
    }

    const ORGS: &str =
        "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n\
        110105-S01,北京市第八十中学团委,basic_committee,110105,true,senior_high,,\n\
        110105-S01-G3,高三年级团总支,general_branch,110105-S01,false,senior_high,,\n\
        110105-S01-C2024-3,高三(3)班团支部,branch,110105-S01-G3,,senior_high,true,42\n";

    #[test]
    fn org_csv_rows_are_read() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(ORGS.as_bytes());
        let rows = parse_org_csv(&bytes).expect("valid org csv");
        assert_eq!(
            rows,
            vec![
                OrgCsvRow {
                    line: 2,
                    code: code("110105-S01"),
                    name: "北京市第八十中学团委".to_owned(),
                    kind: OrgKind::BasicCommittee,
                    parent: Some(code("110105")),
                    approves_admissions: Some(true),
                    school_level: Some(SchoolLevel::SeniorHigh),
                    graduating: false,
                    class_size: None,
                    mobile_members: false,
                },
                OrgCsvRow {
                    line: 3,
                    code: code("110105-S01-G3"),
                    name: "高三年级团总支".to_owned(),
                    kind: OrgKind::GeneralBranch,
                    parent: Some(code("110105-S01")),
                    approves_admissions: Some(false),
                    school_level: Some(SchoolLevel::SeniorHigh),
                    graduating: false,
                    class_size: None,
                    mobile_members: false,
                },
                OrgCsvRow {
                    line: 4,
                    code: code("110105-S01-C2024-3"),
                    name: "高三(3)班团支部".to_owned(),
                    kind: OrgKind::Branch,
                    parent: Some(code("110105-S01-G3")),
                    approves_admissions: None,
                    school_level: Some(SchoolLevel::SeniorHigh),
                    graduating: true,
                    class_size: Some(42),
                    mobile_members: false,
                },
            ]
        );
    }

    #[test]
    fn org_csv_minimal_header_is_enough() {
        let rows = parse_org_csv("Code,Name,Kind,Parent\nCYLC,共青团中央,central,\n".as_bytes())
            .expect("valid org csv");
        assert_eq!(
            rows,
            vec![OrgCsvRow {
                line: 2,
                code: code("CYLC"),
                name: "共青团中央".to_owned(),
                kind: OrgKind::Central,
                parent: None,
                approves_admissions: None,
                school_level: None,
                graduating: false,
                class_size: None,
                mobile_members: false,
            }]
        );
    }

    #[test]
    fn org_csv_reports_every_bad_row() {
        let text = "code,name,kind,parent,graduating,class_size,notes\n\
            S01,学校团委,basic_committee,110105,,,\n\
            S01,重复团委,basic_committee,110105,,,\n\
            S 02,,committee,,,,\n\
            S03,团支部,branch,S03,maybe,0,\n\
            S04,年级团总支,general_branch,S01,true,40,\n";
        let errors = parse_org_csv(text.as_bytes()).expect_err("bad org csv");
        let e =
            |line, column: Option<&str>, reason: &str| RowError::new(line, column, None, reason);
        assert_eq!(
            errors,
            vec![
                e(
                    1,
                    Some("notes"),
                    "unknown column notes; known columns: code, name, kind, parent, \
                     approves_admissions, school_level, graduating, class_size, mobile_members",
                ),
                e(3, Some("code"), "code S01 is already on line 2"),
                e(
                    4,
                    Some("code"),
                    "code \"S 02\": organisation code character 2 must be a letter, digit, '_' or '-', found ' '",
                ),
                e(4, Some("name"), "name is empty"),
                e(
                    4,
                    Some("kind"),
                    "kind \"committee\" is not one of: central, provincial, city, county, \
                     township, basic_committee, working_committee, general_branch, branch",
                ),
                e(5, Some("parent"), "parent S03 is the organisation itself"),
                e(5, Some("graduating"), "graduating \"maybe\" is not true or false"),
                e(5, Some("class_size"), "class_size \"0\" is not a whole number of at least 1"),
                e(6, Some("graduating"), "graduating is only for branches (kind branch)"),
                e(6, Some("class_size"), "class_size is only for branches (kind branch)"),
            ]
        );
    }

    #[test]
    fn org_csv_refuses_control_characters_in_a_name() {
        for name in [
            "a\u{0}b\u{1b}[31mred",
            "a\u{202E}b",
            "a\u{2028}b",
            "\u{FEFF}x",
        ] {
            let text = format!("code,name,kind,parent\nX2,\"{name}\",branch,S01\n");
            let errors = parse_org_csv(text.as_bytes()).expect_err("a control character");
            assert_eq!(
                errors,
                vec![RowError::new(
                    2,
                    Some("name"),
                    None,
                    "name contains a control character"
                )],
                "{name:?}"
            );
        }
    }

    #[test]
    fn org_csv_refuses_a_missing_parent_and_a_branch_that_approves() {
        let text = "code,name,kind,parent,approves_admissions\n\
            S01,学校团委,basic_committee,,\n\
            C01,团支部,branch,S01,是\n\
            X,团中央,central,S01,\n";
        let errors = parse_org_csv(text.as_bytes()).expect_err("bad org csv");
        let e =
            |line, column: Option<&str>, reason: &str| RowError::new(line, column, None, reason);
        assert_eq!(
            errors,
            vec![
                e(
                    2,
                    Some("parent"),
                    "parent is empty; only a central organisation has none"
                ),
                e(
                    3,
                    Some("approves_admissions"),
                    "approves_admissions is true but a branch never approves admissions",
                ),
                e(
                    4,
                    Some("parent"),
                    "parent must be empty for a central organisation"
                ),
            ]
        );
    }

    #[test]
    fn org_csv_missing_required_column_is_a_header_error() {
        let errors = parse_org_csv("code,name,parent\nS01,学校团委,110105\n".as_bytes())
            .expect_err("no kind column");
        assert_eq!(
            errors,
            vec![RowError::new(
                1,
                None,
                None,
                "the header lacks required column(s): kind"
            )]
        );
    }
}
