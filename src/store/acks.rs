//! Acknowledgements: who said that a troubled appliance is known about, why, and until
//! when. Kept in SQLite and mirrored in memory, so that asking "is this appliance
//! acknowledged?" never waits for the database. Every write updates the mirror after its
//! commit; each upkeep round reloads it whole.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteConnection};

use super::actions::{AuditEntry, insert_audit};
use super::overview::{from_ms, to_ms};
use super::{Context, Store, StoreError, StoreResult};
use crate::domain::Status;

/// The user named in the audit log for an acknowledgement that ended by itself.
pub const SYSTEM_USER: &str = "vbdash";

/// Audit word of a new (or replaced) acknowledgement.
pub const ACTION_ACK: &str = "ack.create";
/// Audit word of an acknowledgement removed by hand.
pub const ACTION_UNACK: &str = "ack.remove";
/// Audit word of an acknowledgement that reached its end time.
pub const ACTION_EXPIRED: &str = "ack.expire";
/// Audit word of an acknowledgement ended because the appliance recovered.
pub const ACTION_RECOVERED: &str = "ack.recover";

/// One operator's acknowledgement of a troubled appliance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// The appliance acknowledged.
    pub appliance: String,
    /// The dashboard user who acknowledged it.
    pub user: String,
    /// Why, as the user wrote it.
    pub reason: String,
    /// The status the appliance had when it was acknowledged.
    pub status: Status,
    /// When it was acknowledged.
    pub since: DateTime<Utc>,
    /// When it ends by itself.
    pub until: DateTime<Utc>,
}

impl Acknowledgement {
    /// True while `at` is before the end time.
    pub fn is_active(&self, at: DateTime<Utc>) -> bool {
        at < self.until
    }
}

/// Why an acknowledgement ended without anyone removing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckEnd {
    /// Its end time passed.
    Expired,
    /// The appliance is good again.
    Recovered,
}

impl AckEnd {
    /// The audit word of this end.
    pub fn action(self) -> &'static str {
        match self {
            AckEnd::Expired => ACTION_EXPIRED,
            AckEnd::Recovered => ACTION_RECOVERED,
        }
    }

    /// The audit outcome of this end, in words.
    pub fn words(self) -> &'static str {
        match self {
            AckEnd::Expired => "ended: its time ran out",
            AckEnd::Recovered => "ended: the appliance is good again",
        }
    }
}

/// An acknowledgement that ended by itself in an upkeep round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedAck {
    /// The acknowledgement as it was.
    pub ack: Acknowledgement,
    /// Why it ended.
    pub why: AckEnd,
}

/// The in-memory mirror of the table, by appliance name.
#[derive(Debug, Default)]
pub(crate) struct AckCache(RwLock<HashMap<String, Acknowledgement>>);

impl AckCache {
    /// The acknowledgement of `appliance` if it is still active at `at`.
    pub(crate) fn active(&self, appliance: &str, at: DateTime<Utc>) -> Option<Acknowledgement> {
        // A writer that panicked cannot have left a half-written map: each write is one
        // insert or remove, so a poisoned lock still holds a whole map.
        let map = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(appliance).filter(|a| a.is_active(at)).cloned()
    }

    /// Every acknowledgement active at `at`, by appliance name.
    pub(crate) fn all_active(&self, at: DateTime<Utc>) -> HashMap<String, Acknowledgement> {
        let map = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.iter()
            .filter(|(_, a)| a.is_active(at))
            .map(|(name, a)| (name.clone(), a.clone()))
            .collect()
    }

    fn put(&self, ack: Acknowledgement) {
        let mut map = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.insert(ack.appliance.clone(), ack);
    }

    fn take(&self, appliance: &str) {
        let mut map = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.remove(appliance);
    }

    fn replace_all(&self, acks: Vec<Acknowledgement>) {
        let fresh = acks.into_iter().map(|a| (a.appliance.clone(), a)).collect();
        let mut map = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *map = fresh;
    }
}

#[derive(FromRow)]
struct AckRow {
    id: i64,
    appliance: String,
    user_name: String,
    reason: String,
    status: String,
    created_at_ms: i64,
    expires_at_ms: i64,
}

impl AckRow {
    fn into_ack(self) -> StoreResult<Acknowledgement> {
        let status = Status::parse(&self.status).ok_or_else(|| StoreError::Corrupt {
            what: "acknowledged status",
            detail: format!("{:?} is not a status word", self.status),
        })?;
        Ok(Acknowledgement {
            appliance: self.appliance,
            user: self.user_name,
            reason: self.reason,
            status,
            since: from_ms("acknowledgement time", self.created_at_ms)?,
            until: from_ms("acknowledgement end", self.expires_at_ms)?,
        })
    }
}

/// Acknowledgements of configured appliances; statements append their own conditions.
macro_rules! ack_select {
    () => {
        "SELECT k.id, a.name AS appliance, k.user_name, k.reason, k.status, \
         k.created_at_ms, k.expires_at_ms FROM acknowledgements AS k \
         JOIN appliances AS a ON a.id = k.appliance_id WHERE a.configured = 1"
    };
}

impl Store {
    /// Stores `ack` (replacing the appliance's earlier one) and its audit line in one
    /// transaction, then updates the in-memory mirror.
    pub async fn acknowledge(&self, ack: &Acknowledgement, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting an acknowledgement")?;
        let appliance_id = configured_id(&mut tx, &ack.appliance).await?;
        sqlx::query(
            "INSERT INTO acknowledgements \
               (appliance_id, user_name, reason, status, created_at_ms, expires_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (appliance_id) DO UPDATE SET user_name = excluded.user_name, \
               reason = excluded.reason, status = excluded.status, \
               created_at_ms = excluded.created_at_ms, expires_at_ms = excluded.expires_at_ms",
        )
        .bind(appliance_id)
        .bind(&ack.user)
        .bind(&ack.reason)
        .bind(ack.status.as_str())
        .bind(to_ms(ack.since))
        .bind(to_ms(ack.until))
        .execute(&mut *tx)
        .await
        .context("storing an acknowledgement")?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.context("committing an acknowledgement")?;

        self.acks.put(ack.clone());
        Ok(())
    }

    /// Removes the acknowledgement of `appliance` and writes `audit`, in one transaction.
    /// `None`, and no audit line, when there was none to remove.
    pub async fn remove_acknowledgement(
        &self,
        appliance: &str,
        audit: &AuditEntry,
    ) -> StoreResult<Option<Acknowledgement>> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to remove an acknowledgement")?;
        let row: Option<AckRow> = sqlx::query_as(concat!(ack_select!(), " AND a.name = ?1"))
            .bind(appliance)
            .fetch_optional(&mut *tx)
            .await
            .context("finding an acknowledgement")?;
        let Some(row) = row else {
            return Ok(None);
        };

        delete_ack(&mut tx, row.id).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit()
            .await
            .context("committing a removed acknowledgement")?;

        self.acks.take(appliance);
        row.into_ack().map(Some)
    }

    /// Every stored acknowledgement of a configured appliance, active or not, read from
    /// the database.
    pub async fn acknowledgements(&self) -> StoreResult<Vec<Acknowledgement>> {
        let rows: Vec<AckRow> = sqlx::query_as(ack_select!())
            .fetch_all(&self.reader)
            .await
            .context("reading the acknowledgements")?;
        rows.into_iter().map(AckRow::into_ack).collect()
    }

    /// The acknowledgement of `appliance` active at `at`, from memory.
    pub fn acknowledgement(&self, appliance: &str, at: DateTime<Utc>) -> Option<Acknowledgement> {
        self.acks.active(appliance, at)
    }

    /// Ends, with an audit line each, the acknowledgements whose time ran out by `now`
    /// and those of appliances that are good at `now`; then reloads the mirror.
    pub async fn settle_acknowledgements(&self, now: DateTime<Utc>) -> StoreResult<Vec<EndedAck>> {
        let rows: Vec<AckRow> = sqlx::query_as(ack_select!())
            .fetch_all(&self.reader)
            .await
            .context("reading the acknowledgements to settle")?;

        let mut ended = Vec::new();
        for row in rows {
            let (id, ack) = (row.id, row.into_ack()?);
            let why = if !ack.is_active(now) {
                AckEnd::Expired
            } else if self.is_good(&ack.appliance, now).await? {
                AckEnd::Recovered
            } else {
                continue;
            };
            if self.end_ack(id, &ack, why, now).await? {
                ended.push(EndedAck { ack, why });
            }
        }

        self.reload_acknowledgements().await?;
        Ok(ended)
    }

    /// Fills the mirror from the database.
    pub(super) async fn reload_acknowledgements(&self) -> StoreResult<()> {
        let acks = self.acknowledgements().await?;
        self.acks.replace_all(acks);
        Ok(())
    }

    /// The mirror, shared with the silencer.
    pub(crate) fn ack_cache(&self) -> Arc<AckCache> {
        Arc::clone(&self.acks)
    }

    async fn is_good(&self, appliance: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let overview = self.appliance_overview(appliance).await?;
        Ok(overview.is_some_and(|o| o.verdict(now).status == Status::Good))
    }

    /// Deletes row `id` if it still holds `ack` (a newer acknowledgement may have replaced
    /// it since it was read) and writes the audit line; true when it did.
    async fn end_ack(
        &self,
        id: i64,
        ack: &Acknowledgement,
        why: AckEnd,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to end an acknowledgement")?;
        let deleted = sqlx::query(
            "DELETE FROM acknowledgements WHERE id = ?1 AND created_at_ms = ?2 \
             AND expires_at_ms = ?3",
        )
        .bind(id)
        .bind(to_ms(ack.since))
        .bind(to_ms(ack.until))
        .execute(&mut *tx)
        .await
        .context("ending an acknowledgement")?
        .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }

        let audit = AuditEntry {
            at: now,
            user: SYSTEM_USER.to_owned(),
            appliance: Some(ack.appliance.clone()),
            action: why.action().to_owned(),
            detail: format!("acknowledged by {} while {}", ack.user, ack.status.label()),
            outcome: why.words().to_owned(),
            ok: true,
            reason: Some(ack.reason.clone()),
        };
        insert_audit(&mut tx, &audit).await?;
        tx.commit()
            .await
            .context("committing an ended acknowledgement")?;
        tracing::info!(
            appliance.name = %ack.appliance,
            user = %ack.user,
            outcome = why.words(),
            "acknowledgement ended"
        );
        Ok(true)
    }
}

async fn configured_id(conn: &mut SqliteConnection, name: &str) -> StoreResult<i64> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM appliances WHERE name = ?1 AND configured = 1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await
            .context("finding the acknowledged appliance")?;
    id.ok_or_else(|| StoreError::UnknownAppliance(name.to_owned()))
}

async fn delete_ack(conn: &mut SqliteConnection, id: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM acknowledgements WHERE id = ?1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("removing an acknowledgement")?;
    Ok(())
}
