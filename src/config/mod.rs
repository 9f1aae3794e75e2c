//! Configuration: a TOML file plus `VBDASH_*` environment overrides.
