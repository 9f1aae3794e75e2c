//! The `job_texts` table: texts that repeat from job to job (user, version, build, backup
//! folder), stored once and referred to by id from the job rows.

use std::collections::{BTreeSet, HashMap};

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::{Context, StoreResult};
use crate::domain::Job;

/// Texts per statement, far below SQLite's variable limit.
const TEXTS_PER_STATEMENT: usize = 500;

/// The columns that read a job's interned texts back, from `jobs AS j`.
macro_rules! job_text_columns {
    () => {
        "CASE WHEN j.location_leaf IS NULL THEN NULL \
              ELSE COALESCE((SELECT t.text FROM job_texts AS t \
                             WHERE t.id = j.location_folder), '') || j.location_leaf \
         END AS location, \
         (SELECT t.text FROM job_texts AS t WHERE t.id = j.user_text) AS user_name, \
         (SELECT t.text FROM job_texts AS t WHERE t.id = j.version_text) AS version, \
         (SELECT t.text FROM job_texts AS t WHERE t.id = j.build_text) AS build"
    };
}
pub(super) use job_text_columns;

/// A location split as stored: the folder up to and including the last '/', if any, and
/// the rest. Joining the two gives the location back unchanged.
pub(super) fn split_location(location: &str) -> (Option<&str>, &str) {
    match location.rfind('/') {
        Some(at) => (Some(&location[..=at]), &location[at + 1..]),
        None => (None, location),
    }
}

/// Ids of the interned texts of some jobs, looked up by text.
#[derive(Debug, Default)]
pub(super) struct TextIds {
    ids: HashMap<String, i64>,
}

impl TextIds {
    /// The id of `text`, which must be one of the texts given to [`intern_texts`].
    pub(super) fn of(&self, text: Option<&str>) -> Option<i64> {
        text.and_then(|text| self.ids.get(text).copied())
    }
}

/// Stores every repeated text of `jobs` that is not stored yet and returns the ids of all
/// of them.
pub(super) async fn intern_texts(
    conn: &mut SqliteConnection,
    jobs: &[Job],
) -> StoreResult<TextIds> {
    let texts: BTreeSet<&str> = jobs
        .iter()
        .flat_map(|job| {
            let folder = job.location.as_deref().and_then(|l| split_location(l).0);
            [
                job.user.as_deref(),
                job.version.as_deref(),
                job.build.as_deref(),
                folder,
            ]
        })
        .flatten()
        .collect();
    let texts: Vec<&str> = texts.into_iter().collect();
    let mut found = TextIds::default();

    for chunk in texts.chunks(TEXTS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO job_texts (text) ");
        insert.push_values(chunk, |mut row, text| {
            row.push_bind(text.to_string());
        });
        insert.push(" ON CONFLICT (text) DO NOTHING");
        insert
            .build()
            .persistent(false)
            .execute(&mut *conn)
            .await
            .context("storing job texts")?;

        let mut select =
            QueryBuilder::<Sqlite>::new("SELECT id, text FROM job_texts WHERE text IN (");
        let mut list = select.separated(", ");
        for text in chunk {
            list.push_bind(text.to_string());
        }
        select.push(")");
        let rows: Vec<(i64, String)> = select
            .build_query_as()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .context("reading job text ids")?;
        found
            .ids
            .extend(rows.into_iter().map(|(id, text)| (text, id)));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_split_at_the_last_slash_and_join_back() {
        for location in [
            "nfs://nas/export/vcsa/20261201-020000",
            "sftp://10.0.0.5:22/backups/",
            "no-slash-at-all",
            "",
            "/",
            "smb://host/share/ünïcode/名前",
        ] {
            let (folder, leaf) = split_location(location);
            assert_eq!(format!("{}{leaf}", folder.unwrap_or("")), location);
            assert!(!leaf.contains('/'));
            assert!(folder.is_none_or(|f| f.ends_with('/')));
        }
        assert_eq!(split_location("a/b/c"), (Some("a/b/"), "c"));
        assert_eq!(split_location("abc"), (None, "abc"));
    }
}
