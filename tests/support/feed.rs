//! A client's view of one session, kept as docs/asyncapi.yaml tells clients to keep it: messages
//! by sequence number, the contiguous watermark (every number up to it is held), gap detection,
//! and catch-up from the watermark over REST.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::harness::Api;

#[derive(Debug, Default, Clone)]
pub struct SessionFeed {
    /// Messages held, by sequence number.
    pub messages: BTreeMap<u64, Value>,
    /// Every message with a sequence number up to this one is held (0: none yet).
    pub contiguous: u64,
    /// Messages that arrived more than once (live and again through catch-up): dropped by seq.
    pub repeats: usize,
}

impl SessionFeed {
    /// Takes a message from a `message` frame or a history page. Returns false for a repeat.
    pub fn take(&mut self, message: &Value) -> bool {
        let seq = message["seq"].as_u64().expect("every message carries its seq");
        assert!(seq >= 1, "sequence numbers start at 1: {message}");
        if let Some(held) = self.messages.get(&seq) {
            assert_eq!(held["id"], message["id"], "two messages with seq {seq}");
            self.repeats += 1;
            return false;
        }
        self.messages.insert(seq, message.clone());
        while self.messages.contains_key(&(self.contiguous + 1)) {
            self.contiguous += 1;
        }
        true
    }

    /// A message above the watermark is held while one below it is missing.
    pub fn has_gap(&self) -> bool {
        self.messages.keys().next_back().is_some_and(|top| *top > self.contiguous)
    }

    /// Reads history forward from the watermark (`after_seq`), page by page, to the end.
    /// Returns how many messages were new.
    pub async fn catch_up(&mut self, api: &Api, session_id: &str) -> usize {
        let mut new = 0;
        let mut query = format!("?after_seq={}&limit=100", self.contiguous);
        loop {
            let page = api.messages(session_id, &query).await.expect(200);
            for m in page["items"].as_array().expect("items") {
                new += usize::from(self.take(m));
            }
            match page["next_cursor"].as_str() {
                Some(c) => query = format!("?direction=forward&limit=100&cursor={c}"),
                None => return new,
            }
        }
    }

    /// The messages held, in session order.
    pub fn in_order(&self) -> Vec<&Value> {
        self.messages.values().collect()
    }
}
