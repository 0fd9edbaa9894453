//! An event publisher that keeps what it is given, for tests of use cases on cloud adapters.

use std::sync::Mutex;

use async_trait::async_trait;
use confer::events::EventEnvelope;
use confer::ports::events::{EventPublisher, PublishError};

#[derive(Default)]
pub struct Collected(Mutex<Vec<EventEnvelope>>);

impl Collected {
    /// The ids of the published events of one type, in publication order.
    pub fn ids_of(&self, event_type: &str) -> Vec<String> {
        self.0.lock().unwrap().iter().filter(|e| e.event_type == event_type).map(|e| e.id.clone()).collect()
    }
}

#[async_trait]
impl EventPublisher for Collected {
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}
