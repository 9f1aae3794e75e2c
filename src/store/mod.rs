//! SQLite storage: every SQL statement of vbdash lives in this module.
