//! The `appliances` table: configured appliances and the newest facts about each.

use chrono_tz::Tz;
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection};

use super::{Context, Store, StoreError, StoreResult};
use crate::domain::{Observation, PollReport};

/// Appliances per multi-row statement.
const APPLIANCES_PER_INSERT: usize = 500;

/// What the configuration says about one appliance; secrets stay in the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplianceSettings {
    /// The stable key of the appliance.
    pub name: String,
    /// Base URL of the appliance, shown on pages.
    pub url: String,
    /// Labels for filtering the fleet, such as `prod` or a site name.
    pub tags: Vec<String>,
    /// The zone the appliance's schedule fires in.
    pub time_zone: Tz,
    /// How long after its due time a run may start before it counts as missed.
    pub grace_secs: i64,
}

impl Store {
    /// Makes the stored appliances match the configuration: each one is inserted or
    /// updated by name, and one no longer configured is hidden from the overview but kept
    /// with its history (it comes back whole if configured again).
    pub async fn sync_appliances(&self, appliances: &[ApplianceSettings]) -> StoreResult<()> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting an appliance sync")?;

        sqlx::query("UPDATE appliances SET configured = 0 WHERE configured = 1")
            .execute(&mut *tx)
            .await
            .context("hiding appliances")?;

        for chunk in appliances.chunks(APPLIANCES_PER_INSERT) {
            let mut upsert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO appliances (name, url, tags, time_zone, grace_secs, configured) ",
            );
            upsert.push_values(chunk, |mut row, appliance| {
                row.push_bind(appliance.name.clone())
                    .push_bind(appliance.url.clone())
                    .push_bind(encode_tags(&appliance.tags))
                    .push_bind(appliance.time_zone.name())
                    .push_bind(appliance.grace_secs)
                    .push("1");
            });
            upsert.push(
                " ON CONFLICT (name) DO UPDATE SET url = excluded.url, tags = excluded.tags, \
                  time_zone = excluded.time_zone, grace_secs = excluded.grace_secs, \
                  configured = 1",
            );
            upsert
                .build()
                .persistent(false)
                .execute(&mut *tx)
                .await
                .context("storing appliances")?;
        }

        tx.commit().await.context("committing an appliance sync")?;
        // Which appliances count, and their tags, may have changed.
        self.daily_rates.forget_all();
        tracing::info!(
            count = appliances.len(),
            "appliances synced with the configuration"
        );
        Ok(())
    }
}

/// Tags as a JSON array.
fn encode_tags(tags: &[String]) -> String {
    // Serialising a list of strings has no failure case; the fallback only fills the type.
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned())
}

/// The appliance row a poll is recorded against.
#[derive(Debug, FromRow)]
pub(super) struct PollTarget {
    pub id: i64,
    /// When the appliance last returned its job list.
    pub listed_at_ms: Option<i64>,
    /// The history row of the schedule as last observed.
    pub schedule_change_id: Option<i64>,
}

/// The stored appliance named `name`, configured or not.
pub(super) async fn poll_target(
    conn: &mut SqliteConnection,
    name: &str,
) -> StoreResult<PollTarget> {
    let target: Option<PollTarget> = sqlx::query_as(
        "SELECT id, listed_at_ms, schedule_change_id FROM appliances WHERE name = ?1",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await
    .context("finding the polled appliance")?;

    target.ok_or_else(|| StoreError::UnknownAppliance(name.to_owned()))
}

/// Copies the poll onto the appliance row; a failed poll leaves the last good time alone.
// Known gap: the newest recorded poll wins, not the newest started one. The poller runs
// one poll per appliance at a time, so reports do not arrive out of order today.
pub(super) async fn record_last_poll(
    conn: &mut SqliteConnection,
    appliance_id: i64,
    report: &PollReport,
    started_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE appliances SET
           last_poll_ms = ?2,
           last_poll_duration_ms = ?3,
           last_poll_outcome = ?4,
           last_poll_message = ?5,
           last_ok_poll_ms = CASE WHEN ?6 THEN ?2 ELSE last_ok_poll_ms END
         WHERE id = ?1",
    )
    .bind(appliance_id)
    .bind(started_ms)
    .bind(report.duration_ms)
    .bind(report.outcome.as_str())
    .bind(report.message.as_deref())
    .bind(report.outcome.is_ok())
    .execute(&mut *conn)
    .await
    .context("updating the appliance's last poll")?;
    Ok(())
}

/// Stores what an observation says about the appliance itself. A version the poll could
/// not read keeps the one read before.
pub(super) async fn record_observed_facts(
    conn: &mut SqliteConnection,
    appliance_id: i64,
    observation: &Observation,
    listed_ms: i64,
) -> StoreResult<()> {
    let version = observation.version.as_ref();
    sqlx::query(
        "UPDATE appliances SET
           generation = ?2,
           version = COALESCE(?3, version),
           build = CASE WHEN ?3 IS NULL THEN build ELSE ?4 END,
           product = CASE WHEN ?3 IS NULL THEN product ELSE ?5 END,
           listed_at_ms = ?6
         WHERE id = ?1",
    )
    .bind(appliance_id)
    .bind(observation.generation.as_str())
    .bind(version.map(|v| v.version.as_str()))
    .bind(version.map(|v| v.build.as_str()))
    .bind(version.and_then(|v| v.product.as_deref()))
    .bind(listed_ms)
    .execute(&mut *conn)
    .await
    .context("updating the appliance's version")?;
    Ok(())
}
