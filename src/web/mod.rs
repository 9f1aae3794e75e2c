//! The HTTP server: every route in one place, handlers, static assets.
