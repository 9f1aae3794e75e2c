//! What actions write: a job just started, recorded before the poller sees it, and the
//! append-only audit log.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection};

use super::overview::{from_ms, to_ms};
use super::{Context, Store, StoreResult, appliances, jobs};
use crate::domain::Job;

/// Most audit entries one read returns.
const MAX_AUDIT_LIMIT: u32 = 10_000;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When the action was decided.
    pub at: DateTime<Utc>,
    /// Who acted.
    pub user: String,
    /// On which appliance; `None` for a fleet-wide step.
    pub appliance: Option<String>,
    /// What, as a short word such as `backup.start`.
    pub action: String,
    /// What was asked, in words; never a password.
    pub detail: String,
    /// How it ended, in words.
    pub outcome: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// The reason given, if any.
    pub reason: Option<String>,
}

/// Which audit entries to read, newest first. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exact user name.
    pub user: Option<String>,
    /// Exact appliance name.
    pub appliance: Option<String>,
    /// Exact action word.
    pub action: Option<String>,
    /// Most entries (capped at 10,000).
    pub limit: u32,
}

#[derive(FromRow)]
struct AuditRow {
    at_ms: i64,
    user_name: String,
    appliance: Option<String>,
    action: String,
    detail: String,
    outcome: String,
    ok: bool,
    reason: Option<String>,
}

impl Store {
    /// Stores a job as the appliance returned it when it was started, so that its page
    /// exists at once; later polls update the same row.
    pub async fn record_started_job(
        &self,
        appliance: &str,
        job: &Job,
        seen_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to record a started job")?;
        let target = appliances::poll_target(&mut tx, appliance).await?;
        jobs::upsert_jobs(
            &mut tx,
            target.id,
            std::slice::from_ref(job),
            to_ms(seen_at),
        )
        .await?;
        jobs::refresh_newest(&mut tx, target.id).await?;
        tx.commit().await.context("committing a started job")?;
        Ok(())
    }

    /// Adds one line to the audit log.
    pub async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let mut conn = self
            .writer
            .acquire()
            .await
            .context("opening the audit log")?;
        insert_audit(&mut conn, entry).await
    }

    /// Audit entries matching `filter`, newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT at_ms, user_name, appliance, action, detail, outcome, ok, reason \
             FROM audit_log WHERE 1 = 1",
        );
        if let Some(user) = &filter.user {
            query.push(" AND user_name = ").push_bind(user.clone());
        }
        if let Some(appliance) = &filter.appliance {
            query.push(" AND appliance = ").push_bind(appliance.clone());
        }
        if let Some(action) = &filter.action {
            query.push(" AND action = ").push_bind(action.clone());
        }
        query
            .push(" ORDER BY at_ms DESC, id DESC LIMIT ")
            .push_bind(i64::from(filter.limit.min(MAX_AUDIT_LIMIT)));

        let rows: Vec<AuditRow> = query
            .build_query_as()
            .fetch_all(&self.reader)
            .await
            .context("reading the audit log")?;
        rows.into_iter()
            .map(|row| {
                Ok(AuditEntry {
                    at: from_ms("audit time", row.at_ms)?,
                    user: row.user_name,
                    appliance: row.appliance,
                    action: row.action,
                    detail: row.detail,
                    outcome: row.outcome,
                    ok: row.ok,
                    reason: row.reason,
                })
            })
            .collect()
    }
}

/// Adds one line to the audit log on `conn`, so that a change and its audit line can share
/// one transaction.
pub(super) async fn insert_audit(
    conn: &mut SqliteConnection,
    entry: &AuditEntry,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (at_ms, user_name, appliance, action, detail, outcome, ok, \
         reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(to_ms(entry.at))
    .bind(&entry.user)
    .bind(&entry.appliance)
    .bind(&entry.action)
    .bind(&entry.detail)
    .bind(&entry.outcome)
    .bind(entry.ok)
    .bind(&entry.reason)
    .execute(&mut *conn)
    .await
    .context("writing the audit log")?;
    Ok(())
}
