//! The audit log for operators and admins: a filterable page and a CSV export.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::store::AuditFilter;
use crate::views::audit::{self, AuditPage};
use crate::views::format::query_value;
use crate::web::AppState;
use crate::web::error::WebError;

/// Lines shown on the page.
const PAGE_LIMIT: u32 = 500;
/// Lines one export holds at most.
// Known gap: the export is built in memory and capped rather than streamed.
const EXPORT_LIMIT: u32 = 10_000;

/// `?user=&appliance=&action=`; blank fields match everything.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    /// Exact user name.
    pub user: Option<String>,
    /// Exact appliance name.
    pub appliance: Option<String>,
    /// Exact action word.
    pub action: Option<String>,
}

impl AuditQuery {
    fn filter(&self, limit: u32) -> AuditFilter {
        let present = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        AuditFilter {
            user: present(&self.user),
            appliance: present(&self.appliance),
            action: present(&self.action),
            limit,
        }
    }
}

/// `GET /audit`.
pub async fn index(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<AuditPage, WebError> {
    let Query(q) = query?;
    let filter = q.filter(PAGE_LIMIT);
    let entries = state
        .store
        .audit_entries(&filter)
        .await
        .map_err(WebError::internal)?;

    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let csv_href = format!(
        "/audit.csv?user={}&appliance={}&action={}",
        query_value(&value(&filter.user)),
        query_value(&value(&filter.appliance)),
        query_value(&value(&filter.action)),
    );
    Ok(AuditPage {
        rows: audit::rows(&entries, state.settings.display_zone),
        user: value(&filter.user),
        appliance: value(&filter.appliance),
        action: value(&filter.action),
        csv_href,
        limit: PAGE_LIMIT,
    })
}

/// `GET /audit.csv`: the same lines as CSV.
pub async fn export(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let Query(q) = query?;
    let entries = state
        .store
        .audit_entries(&q.filter(EXPORT_LIMIT))
        .await
        .map_err(WebError::internal)?;
    let body = audit::audit_csv(&entries).map_err(WebError::internal)?;

    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"vbdash-audit.csv\""),
    );
    Ok(response)
}
