//! Page and fragment structs for askama, and display helpers.
