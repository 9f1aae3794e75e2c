//! The trivial query of the readiness check.

use super::{Context, Store, StoreResult};

impl Store {
    /// Asks the database for nothing, to learn whether it answers at all.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .context("asking the database for a sign of life")?;
        Ok(())
    }
}
