//! The ports of a capability a function was not built with (see [`crate::capabilities`]): each
//! call fails with an error naming what is missing, so a wiring mistake is loud, and no use case
//! has to check an `Option`.

use async_trait::async_trait;

use crate::events::EventEnvelope;
use crate::ports::events::{EventLogError, LoggedEvent, PublishError};
use crate::ports::table::{Item, Key, Page, Query, StoreError, TransactOp, Update, WriteOp};
use crate::ports::{ConnectionGateway, EventLog, EventPublisher, PostError, Table};

/// A port this runtime was not given; the name says which.
pub struct Missing(pub &'static str);

impl Missing {
    fn store(&self) -> StoreError {
        StoreError::Backend(format!("this function was built without {}", self.0))
    }
}

#[async_trait]
impl Table for Missing {
    async fn get(&self, _: &Key) -> Result<Option<Item>, StoreError> {
        Err(self.store())
    }
    async fn put(&self, _: Item, _: Option<crate::ports::table::Condition>) -> Result<(), StoreError> {
        Err(self.store())
    }
    async fn update(&self, _: &Key, _: Update, _: Option<crate::ports::table::Condition>) -> Result<Item, StoreError> {
        Err(self.store())
    }
    async fn delete(&self, _: &Key, _: Option<crate::ports::table::Condition>) -> Result<Option<Item>, StoreError> {
        Err(self.store())
    }
    async fn query(&self, _: Query) -> Result<Page, StoreError> {
        Err(self.store())
    }
    async fn batch_write(&self, _: Vec<WriteOp>) -> Result<(), StoreError> {
        Err(self.store())
    }
    async fn transact_write(&self, _: Vec<TransactOp>) -> Result<(), StoreError> {
        Err(self.store())
    }
}

#[async_trait]
impl ConnectionGateway for Missing {
    async fn post(&self, _: &str, _: &[u8]) -> Result<(), PostError> {
        Err(PostError::Backend(format!("this function was built without {}", self.0)))
    }
    async fn disconnect(&self, _: &str) -> Result<(), PostError> {
        Err(PostError::Backend(format!("this function was built without {}", self.0)))
    }
}

#[async_trait]
impl EventPublisher for Missing {
    async fn publish(&self, _: &EventEnvelope) -> Result<(), PublishError> {
        Err(PublishError(format!("this function was built without {}", self.0)))
    }
}

#[async_trait]
impl EventLog for Missing {
    async fn read(&self, _: &str, _: u64, _: usize) -> Result<Vec<LoggedEvent>, EventLogError> {
        Err(EventLogError::NotAvailable)
    }
}
