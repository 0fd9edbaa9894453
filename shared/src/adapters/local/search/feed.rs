//! The local change feed of the search index: the store logs a change of every item the index
//! holds documents of (`search_changes`, written in the change's own transaction), and the feed
//! hands them to the indexer in order, forgetting them once indexed — what DynamoDB Streams and
//! its indexer function do in the cloud. A change logged before a crash is indexed after the
//! restart; a full reindex logs every item again.

use std::sync::Arc;
use std::time::Duration;

use crate::adapters::local::sqlite::{SqliteStore, MAIN_TABLE};
use crate::ports::table::{Key, StoreError};

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Changes read at a time.
pub const BATCH: usize = 500;
/// How long the feed waits before looking again when it found nothing.
pub const IDLE_WAIT: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct SearchFeed {
    store: Arc<SqliteStore>,
}

impl SearchFeed {
    pub fn new(store: Arc<SqliteStore>) -> Self {
        SearchFeed { store }
    }

    /// The oldest changes not yet indexed: their last position and their keys.
    pub async fn next(&self, max: usize) -> Result<Option<(i64, Vec<Key>)>, StoreError> {
        self.store
            .read(move |conn| -> Result<Option<(i64, Vec<Key>)>, StoreError> {
                let mut stmt = conn.prepare_cached("SELECT seq, pk, sk FROM search_changes ORDER BY seq LIMIT ?1").map_err(backend)?;
                let rows = stmt
                    .query_map([max as i64], |r| Ok((r.get::<_, i64>(0)?, Key::new(r.get::<_, String>(1)?, r.get::<_, String>(2)?))))
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                Ok(rows.last().map(|(last, _)| *last).map(|last| (last, rows.into_iter().map(|(_, k)| k).collect())))
            })
            .await?
    }

    /// Forgets the changes up to `seq`, once indexed.
    pub async fn done(&self, seq: i64) -> Result<(), StoreError> {
        self.store.write(move |conn| conn.execute("DELETE FROM search_changes WHERE seq <= ?1", [seq]).map(|_| ()).map_err(backend)).await
    }

    /// Changes waiting.
    pub async fn backlog(&self) -> Result<u64, StoreError> {
        self.store
            .read(|conn| {
                conn.query_row("SELECT COUNT(*) FROM search_changes", [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(backend)
            })
            .await?
    }

    /// [`reindex_all`](Self::reindex_all) from outside a runtime (opening the stack).
    pub fn reindex_all_blocking(&self) -> Result<u64, StoreError> {
        self.store.write_blocking(Self::log_all)
    }

    fn log_all(conn: &rusqlite::Connection) -> Result<u64, StoreError> {
        conn.execute("INSERT INTO search_changes (pk, sk) SELECT pk, sk FROM items WHERE tbl = ?1 ORDER BY pk, sk", [MAIN_TABLE])
            .map(|n| n as u64)
            .map_err(backend)
    }

    /// Logs every item of the main table as changed: the indexer rebuilds the index from the
    /// table (items it holds nothing of are passed over). Answers the items logged.
    pub async fn reindex_all(&self) -> Result<u64, StoreError> {
        self.store.write(Self::log_all).await
    }
}
