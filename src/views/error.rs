//! The error page, and the small alert sent instead when htmx asked for a fragment.

use askama::Template;

/// A full error page in words.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// HTTP status code.
    pub code: u16,
    /// Short title: "Not found".
    pub title: String,
    /// What went wrong, in a sentence.
    pub detail: String,
}

/// The same error as an alert that htmx can place in the page.
#[derive(Debug, Template)]
#[template(
    source = "<div class=\"alert alert-error\" role=\"alert\"><strong>{{ title }}</strong> \
              {{ detail }}</div>",
    ext = "html"
)]
pub struct ErrorFragment {
    /// Short title: "Not found".
    pub title: String,
    /// What went wrong, in a sentence.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_are_escaped() {
        let page = ErrorPage {
            code: 404,
            title: "Not found".into(),
            detail: "no appliance named <b>x</b>".into(),
        };
        let html = page.render().unwrap();
        assert!(html.contains("404"));
        assert!(!html.contains("<b>x</b>"));

        let frag = ErrorFragment {
            title: "Not found".into(),
            detail: "<b>x</b>".into(),
        };
        assert!(!frag.render().unwrap().contains("<b>"));
    }
}
