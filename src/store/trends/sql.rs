//! SQL fragments the trend queries share: the tag filter and the appliance id list.

use sqlx::{QueryBuilder, Sqlite};

/// Appends the condition "appliance `a` has tag `tag`", ignoring case.
pub(super) fn push_tag_filter(query: &mut QueryBuilder<Sqlite>, tag: &str) {
    query
        .push(" AND EXISTS (SELECT 1 FROM json_each(a.tags) AS t WHERE lower(t.value) = lower(")
        .push_bind(tag.to_owned())
        .push("))");
}

/// Appends ` AND j.appliance_id IN (...)`.
pub(super) fn push_appliance_ids(query: &mut QueryBuilder<Sqlite>, ids: &[i64]) {
    query.push(" AND j.appliance_id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(")");
}
