//! Parsing of the files Tuanji imports. Pure and synchronous: no database, no async.
//!
//! - [`orgs`]: the national committee tree built from the GB/T 2260 division tables in `data/`.
//! - [`roster`]: school rosters as Chinese schools produce them (CSV in UTF-8 or GB18030).
//! - [`generator`]: the deterministic demo roster.

pub mod generator;
pub mod orgs;
pub mod roster;
