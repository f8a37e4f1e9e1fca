//! The demo (filled in below).
