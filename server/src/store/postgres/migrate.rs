//! The schema's migrations (server/migrations/, embedded at build time), applied in order at
//! connect, all in one transaction under an advisory lock, so that nodes starting at once
//! neither race nor apply one twice; `schema_migrations` records each.

use crate::store::StoreError;
use postgres::Client;

/// Every migration, by version, in order: `server/migrations/NNNN_name.sql`. A file, once
/// shipped, is never edited; a change is a new file.
pub(super) const MIGRATIONS: &[(i32, &str)] =
    &[(1, include_str!("../../../migrations/0001_init.sql"))];

/// The migrations' advisory lock (`pg_advisory_xact_lock(class, 0)`): a class of its own,
/// apart from compaction's (docs.rs).
const LOCK_CLASS: i32 = 0x5444_4d01;

/// Apply the migrations this database has not had yet.
pub(super) fn run(conn: &mut Client) -> Result<(), StoreError> {
    let mut tx = conn.transaction()?;
    // Held until commit: another node starting now waits here, then finds the work done.
    tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_CLASS])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    integer     PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let applied: Vec<i32> = tx
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    for &(version, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        tx.batch_execute(sql)
            .map_err(|e| StoreError::Migration(format!("{version:04}: {e}")))?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )?;
        tracing::info!(version, "schema migration applied");
    }
    let known = MIGRATIONS.last().map_or(0, |&(version, _)| version);
    if let Some(&newest) = applied.last().filter(|&&newest| newest > known) {
        // A newer node migrated it (a rolling upgrade): migrations only add, so go on.
        tracing::warn!(newest, known, "database schema is newer than this server's");
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// The list above is the directory: every file, in order, numbered 1, 2, … without gaps.
    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        assert_eq!(files.len(), MIGRATIONS.len(), "{files:?}");
        for (i, (file, &(version, sql))) in files.iter().zip(MIGRATIONS).enumerate() {
            assert_eq!(version, i as i32 + 1, "versions count from 1 without gaps");
            assert!(
                file.starts_with(&format!("{version:04}_")),
                "{file} is {version}"
            );
            let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
            assert_eq!(text, sql, "{file} is the one embedded as {version}");
        }
    }
}
