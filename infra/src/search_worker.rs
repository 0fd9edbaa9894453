//! confer-local's indexer: reads the store's search change feed in order and brings the index
//! up to date with each changed item (`app::search::index_keys`, the code the cloud's stream
//! function runs), forgetting changes once indexed. A failure is retried after a pause; nothing
//! is forgotten that was not indexed.

use std::sync::Arc;
use std::time::Duration;

use confer::adapters::local::search::feed::{SearchFeed, BATCH, IDLE_WAIT};
use confer::App;
use tokio::task::JoinHandle;

const RETRY_WAIT: Duration = Duration::from_secs(1);

pub fn spawn(app: Arc<App>, feed: SearchFeed) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match feed.next(BATCH).await {
                Ok(None) => tokio::time::sleep(IDLE_WAIT).await,
                Ok(Some((last, keys))) => match confer::app::search::index_keys(&app, keys).await {
                    Ok(_) => {
                        if let Err(e) = feed.done(last).await {
                            tracing::warn!(error = %e, "indexed changes not forgotten; they will be indexed again (harmlessly)");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "changes not indexed; retried");
                        tokio::time::sleep(RETRY_WAIT).await;
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "search changes not read");
                    tokio::time::sleep(RETRY_WAIT).await;
                }
            }
        }
    })
}

/// Rebuilds the index of the data directory from its store: the index folder is removed, every
/// item logged as changed and indexed. Answers the items read and those indexed.
pub async fn reindex(data_dir: &std::path::Path) -> Result<(u64, usize), String> {
    let index = data_dir.join(crate::stack::SEARCH_DIR);
    if index.exists() {
        std::fs::remove_dir_all(&index).map_err(|e| format!("cannot remove {}: {e}", index.display()))?;
    }
    // Opening the stack finds no index and logs every item.
    let stack = crate::stack::LocalStack::open(data_dir)?;
    let items = stack.search_feed.backlog().await.map_err(|e| e.to_string())?;
    let mut indexed = 0;
    while let Some((last, keys)) = stack.search_feed.next(BATCH).await.map_err(|e| e.to_string())? {
        indexed += confer::app::search::index_keys(&stack.app, keys).await.map_err(|e| e.to_string())?;
        stack.search_feed.done(last).await.map_err(|e| e.to_string())?;
    }
    Ok((items, indexed))
}
