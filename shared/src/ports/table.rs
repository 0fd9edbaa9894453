//! A table port shaped like DynamoDB's item API, so one set of repositories runs on DynamoDB and
//! on the embedded store. Items are JSON objects; `pk`/`sk` are the key, secondary indexes are
//! named and read their key from fixed attributes (see [`IndexSpec`]).

use async_trait::async_trait;
use serde_json::{Map, Value};

pub type Item = Map<String, Value>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// Epoch seconds after which the item is expired (DynamoDB TTL attribute).
pub const TTL: &str = "ttl";

/// Maximum writes in one batch (DynamoDB BatchWriteItem).
pub const MAX_BATCH_WRITE: usize = 25;
/// Maximum operations in one transaction (DynamoDB TransactWriteItems).
pub const MAX_TRANSACT_WRITE: usize = 100;
/// Maximum serialized item size (DynamoDB: 400 KB).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }
}

/// A secondary index: its name and the attributes holding its partition and sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: &'static str,
    pub pk_attr: &'static str,
    pub sk_attr: &'static str,
}

/// The one secondary index every Confer table declares.
pub const GSI1: IndexSpec = IndexSpec { name: "gsi1", pk_attr: "gsi1pk", sk_attr: "gsi1sk" };

/// Condition on the item currently stored under the written key.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// No item under this key.
    NotExists,
    /// An item exists under this key.
    Exists,
    /// The item exists and `attr` equals the value.
    Equals(String, Value),
    /// The attribute is absent (or the item is), or holds a value of the same type (string or
    /// number) lower than the given one. A value of another type never passes.
    AbsentOrLessThan(String, Value),
}

/// Condition on the sort key of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Eq(String),
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
}

#[derive(Debug, Clone, Default)]
pub struct Query {
    pub index: Option<IndexSpec>,
    pub pk: String,
    pub sort: Option<SortKey>,
    /// Ascending by sort key when true.
    pub forward: bool,
    pub limit: Option<usize>,
    /// Resume after this key (the `last_key` of a previous page).
    pub start_after: Option<Item>,
    /// Only these attributes come back, where the item has them (DynamoDB's
    /// `ProjectionExpression`); every attribute when `None`. Paging is unaffected: `last_key`
    /// holds the key of the last item whether or not its key attributes were asked for.
    pub attributes: Option<Vec<String>>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Query { pk: pk.into(), forward: true, ..Default::default() }
    }
    pub fn on_index(index: IndexSpec, pk: impl Into<String>) -> Self {
        Query { index: Some(index), pk: pk.into(), forward: true, ..Default::default() }
    }
    pub fn sort(mut self, sort: SortKey) -> Self {
        self.sort = Some(sort);
        self
    }
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }
    pub fn forward(mut self, forward: bool) -> Self {
        self.forward = forward;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
    pub fn start_after(mut self, key: Option<Item>) -> Self {
        self.start_after = key;
        self
    }
    /// Returns only the named attributes of each item.
    pub fn attributes(mut self, names: &[&str]) -> Self {
        self.attributes = Some(names.iter().map(|n| n.to_string()).collect());
        self
    }

    /// The part of `item` this query returns.
    pub fn shape(&self, item: &Item) -> Item {
        match &self.attributes {
            None => item.clone(),
            Some(names) => names.iter().filter_map(|n| item.get(n).map(|v| (n.clone(), v.clone()))).collect(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when the query stopped early; more items may follow (or none).
    pub last_key: Option<Item>,
}

/// Attribute changes of an update: SET, REMOVE and numeric ADD.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Item,
    pub remove: Vec<String>,
    pub add: Vec<(String, i64)>,
}

impl Update {
    pub fn set(mut self, attr: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set.insert(attr.into(), value.into());
        self
    }
    pub fn remove(mut self, attr: impl Into<String>) -> Self {
        self.remove.push(attr.into());
        self
    }
    pub fn add(mut self, attr: impl Into<String>, by: i64) -> Self {
        self.add.push((attr.into(), by));
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    Put(Item),
    Delete(Key),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransactOp {
    Put { item: Item, condition: Option<Condition> },
    Update { key: Key, update: Update, condition: Option<Condition> },
    Delete { key: Key, condition: Option<Condition> },
    Check { key: Key, condition: Condition },
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction was cancelled; `reasons[i]` is true where operation i failed its condition.
    #[error("transaction cancelled")]
    TransactionCancelled { reasons: Vec<bool> },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("item of {0} bytes exceeds the 400 KB item limit")]
    ItemTooLarge(usize),
    #[error("throttled: {0}")]
    Throttled(String),
    #[error("backend: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Table: Send + Sync + 'static {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError>;
    /// Applies the update (creating the item when no condition forbids it) and returns the new item.
    async fn update(&self, key: &Key, update: Update, condition: Option<Condition>) -> Result<Item, StoreError>;
    /// Deletes and returns the old item, if any.
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError>;
    async fn query(&self, query: Query) -> Result<Page, StoreError>;
    /// At most [`MAX_BATCH_WRITE`] operations; no conditions; not atomic as a whole.
    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;
    /// All or nothing, at most [`MAX_TRANSACT_WRITE`] operations on distinct keys.
    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), StoreError>;
}

/// Reads the key of an item.
pub fn key_of(item: &Item) -> Option<Key> {
    Some(Key::new(item.get(PK)?.as_str()?, item.get(SK)?.as_str()?))
}

/// Validation shared by every adapter so that both reject the same requests.
pub fn check_item(item: &Item) -> Result<(), StoreError> {
    check_item_of_size(item, || serialized_size(item))
}

/// [`check_item`] with the item's size in bytes of JSON supplied, for an adapter that
/// serialises the item anyway.
pub fn check_item_of_size(item: &Item, size: impl FnOnce() -> usize) -> Result<(), StoreError> {
    if key_of(item).is_none() {
        return Err(StoreError::Invalid("item needs string pk and sk".into()));
    }
    let size = size();
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge(size));
    }
    Ok(())
}

/// Bytes of `item` as JSON, counted without building the text.
fn serialized_size(item: &Item) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, item) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

pub fn check_transaction(ops: &[TransactOp]) -> Result<(), StoreError> {
    check_transaction_sized(ops, |_, item| serialized_size(item))
}

/// [`check_transaction`] with the size of the item put by operation `i` supplied.
pub fn check_transaction_sized(ops: &[TransactOp], mut size_of: impl FnMut(usize, &Item) -> usize) -> Result<(), StoreError> {
    if ops.is_empty() || ops.len() > MAX_TRANSACT_WRITE {
        return Err(StoreError::Invalid(format!("a transaction takes 1 to {MAX_TRANSACT_WRITE} operations")));
    }
    let mut keys = std::collections::HashSet::new();
    for (i, op) in ops.iter().enumerate() {
        let key = match op {
            TransactOp::Put { item, .. } => {
                check_item_of_size(item, || size_of(i, item))?;
                key_of(item).expect("checked")
            }
            TransactOp::Update { key, .. } | TransactOp::Delete { key, .. } | TransactOp::Check { key, .. } => key.clone(),
        };
        if !keys.insert(key) {
            return Err(StoreError::Invalid("a transaction cannot touch one key twice".into()));
        }
    }
    Ok(())
}

pub fn check_batch(ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.len() > MAX_BATCH_WRITE {
        return Err(StoreError::Invalid(format!("a batch takes at most {MAX_BATCH_WRITE} writes")));
    }
    for op in ops {
        if let WriteOp::Put(item) = op {
            check_item(item)?;
        }
    }
    Ok(())
}
