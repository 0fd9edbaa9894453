//! The table port on DynamoDB. Behaves like the SQLite adapter in every observable way: the same
//! validation, expired (TTL) items treated as absent, the same paging contract.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, DeleteRequest, Put, PutRequest, ReturnValue, TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use serde_json::{Map, Number, Value};

use crate::domain::now_epoch_seconds;
use crate::ports::table::*;

type AttributeMap = HashMap<String, AttributeValue>;

/// Attempts to write the unprocessed part of a batch before reporting throttling.
const BATCH_ATTEMPTS: u32 = 8;
const WARM_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table_name: String,
}

impl DynamoTable {
    pub fn new(config: &aws_config::SdkConfig, table_name: String) -> Self {
        DynamoTable { client: Client::new(config), table_name }
    }

    /// Another table on the same client (one connection pool for every table of a function).
    pub fn sibling(&self, table_name: String) -> Self {
        DynamoTable { client: self.client.clone(), table_name }
    }

    /// One page of the table's keys (a `Scan` reading only `pk` and `sk`), from where the last
    /// page stopped; the key to go on from, if there is more.
    pub async fn scan_keys(&self, after: Option<Key>) -> Result<(Vec<Key>, Option<Key>), StoreError> {
        let mut scan = self.client.scan().table_name(&self.table_name).projection_expression("pk, sk");
        if let Some(k) = after {
            scan = scan.exclusive_start_key(PK, AttributeValue::S(k.pk)).exclusive_start_key(SK, AttributeValue::S(k.sk));
        }
        let page = scan.send().await.map_err(store_error)?;
        let key_of =
            |item: &HashMap<String, AttributeValue>| Some(Key::new(item.get(PK)?.as_s().ok()?.clone(), item.get(SK)?.as_s().ok()?.clone()));
        let keys = page.items().iter().filter_map(key_of).collect();
        Ok((keys, page.last_evaluated_key().and_then(key_of)))
    }

    /// Opens the connection to DynamoDB ahead of the first request; failures only cost latency later.
    pub async fn warm(&self) {
        let describe = self.client.describe_table().table_name(&self.table_name).send();
        match tokio::time::timeout(WARM_TIMEOUT, describe).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(table = %self.table_name, error = %DisplayErrorContext(&e), "warming DynamoDB failed"),
            Err(_) => tracing::warn!(table = %self.table_name, "warming DynamoDB timed out"),
        }
    }
}

// ---- JSON <-> AttributeValue ----

fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(values) => AttributeValue::L(values.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(to_attributes(map)),
    }
}

fn to_attributes(item: &Map<String, Value>) -> AttributeMap {
    item.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()
}

fn from_attribute(value: &AttributeValue) -> Result<Value, StoreError> {
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => {
            Value::Number(serde_json::from_str::<Number>(n).map_err(|_| StoreError::Backend(format!("unreadable number {n}")))?)
        }
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(values) => Value::Array(values.iter().map(from_attribute).collect::<Result<_, _>>()?),
        AttributeValue::M(map) => Value::Object(from_attributes(map)?),
        other => return Err(StoreError::Backend(format!("unsupported attribute type {other:?}"))),
    })
}

fn from_attributes(map: &AttributeMap) -> Result<Item, StoreError> {
    map.iter().map(|(k, v)| Ok((k.clone(), from_attribute(v)?))).collect()
}

fn key_attributes(key: &Key) -> AttributeMap {
    HashMap::from([(PK.to_string(), AttributeValue::S(key.pk.clone())), (SK.to_string(), AttributeValue::S(key.sk.clone()))])
}

/// DynamoDB deletes expired items lazily; until then they must look absent, as in the SQLite adapter.
fn is_expired(item: &Item, now: i64) -> bool {
    item.get(TTL).and_then(Value::as_i64).is_some_and(|ttl| ttl <= now)
}

fn live(item: Item, now: i64) -> Option<Item> {
    (!is_expired(&item, now)).then_some(item)
}

// ---- expressions ----

/// Builds one request's expression with its placeholder names and values.
#[derive(Default)]
struct Expression {
    names: HashMap<String, String>,
    values: AttributeMap,
}

impl Expression {
    fn name(&mut self, attr: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attr.to_string());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// The condition, with an expired item counting as no item.
    fn condition(&mut self, condition: &Condition, now: i64) -> String {
        // Every placeholder must appear in the expression, so each arm registers only what it uses.
        let ttl = self.name(TTL);
        let now = self.value(AttributeValue::N(now.to_string()));
        let expired = format!("{ttl} <= {now}");
        let unexpired = format!("(attribute_not_exists({ttl}) OR {ttl} > {now})");
        match condition {
            Condition::NotExists => format!("attribute_not_exists({}) OR {expired}", self.name(PK)),
            Condition::Exists => format!("attribute_exists({}) AND {unexpired}", self.name(PK)),
            Condition::Equals(attr, value) => {
                let a = self.name(attr);
                let v = self.value(to_attribute(value));
                format!("{a} = {v} AND {unexpired}")
            }
            Condition::AbsentOrLessThan(attr, value) => {
                let a = self.name(attr);
                let (v, type_name) = match value {
                    Value::Number(_) => (self.value(to_attribute(value)), "N"),
                    _ => (self.value(AttributeValue::S(value.as_str().unwrap_or_default().to_string())), "S"),
                };
                // Only values of one type compare; stating the type keeps a stored value of the
                // other type from ever passing.
                let type_name = self.value(AttributeValue::S(type_name.into()));
                format!("attribute_not_exists({a}) OR (attribute_type({a}, {type_name}) AND {a} < {v}) OR {expired}")
            }
        }
    }

    fn update(&mut self, update: &Update) -> Result<String, StoreError> {
        let touches_key = update.set.keys().chain(&update.remove).chain(update.add.iter().map(|(k, _)| k));
        for attr in touches_key {
            if attr == PK || attr == SK {
                return Err(StoreError::Invalid("an update cannot change the key".into()));
            }
        }
        let mut clauses = Vec::new();
        if !update.set.is_empty() {
            let sets: Vec<String> = update
                .set
                .iter()
                .map(|(k, v)| {
                    let (n, v) = (self.name(k), self.value(to_attribute(v)));
                    format!("{n} = {v}")
                })
                .collect();
            clauses.push(format!("SET {}", sets.join(", ")));
        }
        if !update.remove.is_empty() {
            let removes: Vec<String> = update.remove.iter().map(|k| self.name(k)).collect();
            clauses.push(format!("REMOVE {}", removes.join(", ")));
        }
        if !update.add.is_empty() {
            let adds: Vec<String> = update
                .add
                .iter()
                .map(|(k, by)| {
                    let (n, v) = (self.name(k), self.value(AttributeValue::N(by.to_string())));
                    format!("{n} {v}")
                })
                .collect();
            clauses.push(format!("ADD {}", adds.join(", ")));
        }
        if clauses.is_empty() {
            // An update expression cannot be empty; removing an absent attribute still creates the item.
            clauses.push(format!("REMOVE {}", self.name("confer_unused")));
        }
        Ok(clauses.join(" "))
    }

    fn key_condition(&mut self, pk_attr: &str, sk_attr: &str, pk: &str, sort: Option<&SortKey>) -> String {
        let pk_name = self.name(pk_attr);
        let pk_value = self.value(AttributeValue::S(pk.to_string()));
        let partition = format!("{pk_name} = {pk_value}");
        let Some(sort) = sort else { return partition };
        let sk = self.name(sk_attr);
        let mut s = |v: &String| self.value(AttributeValue::S(v.clone()));
        let range = match sort {
            SortKey::Eq(v) => format!("{sk} = {}", s(v)),
            SortKey::BeginsWith(p) => format!("begins_with({sk}, {})", s(p)),
            SortKey::Between(lo, hi) => {
                let (lo, hi) = (s(lo), s(hi));
                format!("{sk} BETWEEN {lo} AND {hi}")
            }
            SortKey::Lt(v) => format!("{sk} < {}", s(v)),
            SortKey::Le(v) => format!("{sk} <= {}", s(v)),
            SortKey::Gt(v) => format!("{sk} > {}", s(v)),
            SortKey::Ge(v) => format!("{sk} >= {}", s(v)),
        };
        format!("{partition} AND {range}")
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<AttributeMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

// ---- errors ----

fn error_message<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(e: &SdkError<E, R>) -> String {
    DisplayErrorContext(e).to_string()
}

fn store_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    match e.code() {
        Some("ConditionalCheckFailedException") => StoreError::ConditionFailed,
        Some("ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded") => {
            StoreError::Throttled(error_message(&e))
        }
        Some("ValidationException") => StoreError::Invalid(e.message().unwrap_or("validation failed").to_string()),
        _ => StoreError::Backend(error_message(&e)),
    }
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

fn transaction_error<R: std::fmt::Debug>(e: SdkError<TransactWriteItemsError, R>) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = e.as_service_error() {
        let codes: Vec<Option<&str>> = cancelled.cancellation_reasons().iter().map(|r| r.code()).collect();
        let reasons: Vec<bool> = codes.iter().map(|c| *c == Some("ConditionalCheckFailed")).collect();
        if reasons.iter().any(|r| *r) {
            return StoreError::TransactionCancelled { reasons };
        }
        if codes.iter().any(|c| matches!(c, Some("TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"))) {
            return StoreError::Throttled(error_message(&e));
        }
        if codes.iter().any(|c| matches!(c, Some("ValidationError" | "ItemCollectionSizeLimitExceeded"))) {
            return StoreError::Invalid(error_message(&e));
        }
    }
    store_error(e)
}

// ---- the port ----

impl DynamoTable {
    fn write_request(op: WriteOp) -> Result<WriteRequest, StoreError> {
        Ok(match op {
            WriteOp::Put(item) => WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(to_attributes(&item))).build().map_err(build_error)?)
                .build(),
            WriteOp::Delete(key) => WriteRequest::builder()
                .delete_request(DeleteRequest::builder().set_key(Some(key_attributes(&key))).build().map_err(build_error)?)
                .build(),
        })
    }

    fn transact_item(&self, op: TransactOp, now: i64) -> Result<TransactWriteItem, StoreError> {
        let mut expr = Expression::default();
        let item = match op {
            TransactOp::Put { item, condition } => {
                let condition = condition.map(|c| expr.condition(&c, now));
                TransactWriteItem::builder().put(
                    Put::builder()
                        .table_name(&self.table_name)
                        .set_item(Some(to_attributes(&item)))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(build_error)?,
                )
            }
            TransactOp::Update { key, update, condition } => {
                let update_expression = expr.update(&update)?;
                let condition = condition.map(|c| expr.condition(&c, now));
                TransactWriteItem::builder().update(
                    aws_sdk_dynamodb::types::Update::builder()
                        .table_name(&self.table_name)
                        .set_key(Some(key_attributes(&key)))
                        .update_expression(update_expression)
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(build_error)?,
                )
            }
            TransactOp::Delete { key, condition } => {
                let condition = condition.map(|c| expr.condition(&c, now));
                TransactWriteItem::builder().delete(
                    Delete::builder()
                        .table_name(&self.table_name)
                        .set_key(Some(key_attributes(&key)))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(build_error)?,
                )
            }
            TransactOp::Check { key, condition } => {
                let condition = expr.condition(&condition, now);
                TransactWriteItem::builder().condition_check(
                    ConditionCheck::builder()
                        .table_name(&self.table_name)
                        .set_key(Some(key_attributes(&key)))
                        .condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(build_error)?,
                )
            }
        };
        Ok(item.build())
    }

    /// The cursor of a page ending at `item`: its table key plus, on an index, its index key.
    fn cursor_of(item: &Item, index: Option<IndexSpec>) -> Item {
        let mut attrs = vec![PK, SK];
        if let Some(ix) = index {
            attrs.extend([ix.pk_attr, ix.sk_attr]);
        }
        attrs.into_iter().filter_map(|a| item.get(a).map(|v| (a.to_string(), v.clone()))).collect()
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table_name)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        match out.item() {
            Some(attrs) => Ok(live(from_attributes(attrs)?, now_epoch_seconds())),
            None => Ok(None),
        }
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        check_item(&item)?;
        let mut expr = Expression::default();
        let condition = condition.map(|c| expr.condition(&c, now_epoch_seconds()));
        self.client
            .put_item()
            .table_name(&self.table_name)
            .set_item(Some(to_attributes(&item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn update(&self, key: &Key, update: Update, condition: Option<Condition>) -> Result<Item, StoreError> {
        let mut expr = Expression::default();
        let update_expression = expr.update(&update)?;
        let condition = condition.map(|c| expr.condition(&c, now_epoch_seconds()));
        let out = self
            .client
            .update_item()
            .table_name(&self.table_name)
            .set_key(Some(key_attributes(key)))
            .update_expression(update_expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(store_error)?;
        let attrs = out.attributes().ok_or_else(|| StoreError::Backend("update returned no item".into()))?;
        from_attributes(attrs)
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        let now = now_epoch_seconds();
        let mut expr = Expression::default();
        let condition = condition.map(|c| expr.condition(&c, now));
        let out = self
            .client
            .delete_item()
            .table_name(&self.table_name)
            .set_key(Some(key_attributes(key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        match out.attributes() {
            Some(attrs) => Ok(live(from_attributes(attrs)?, now)),
            None => Ok(None),
        }
    }

    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        let (pk_attr, sk_attr) = match q.index {
            None => (PK, SK),
            Some(ix) if ix == GSI1 => (ix.pk_attr, ix.sk_attr),
            Some(ix) => return Err(StoreError::Invalid(format!("unknown index {}", ix.name))),
        };
        if q.limit == Some(0) {
            return Err(StoreError::Invalid("limit must be positive".into()));
        }
        let mut expr = Expression::default();
        let key_condition = expr.key_condition(pk_attr, sk_attr, &q.pk, q.sort.as_ref());
        // Beyond the attributes asked for, the keys (for the next page's cursor) and the TTL
        // (to hide expired items) are read, and cut out below.
        let projection = q.attributes.as_ref().map(|asked| {
            let mut read: Vec<&str> = vec![PK, SK, pk_attr, sk_attr, TTL];
            read.extend(asked.iter().map(String::as_str));
            read.sort_unstable();
            read.dedup();
            read.into_iter().map(|a| expr.name(a)).collect::<Vec<_>>().join(", ")
        });
        let now = now_epoch_seconds();
        // One item beyond the limit tells whether another page follows, as in the SQLite adapter.
        let wanted = q.limit.map(|l| l + 1);
        let mut items: Vec<Item> = Vec::new();
        let mut exclusive_start = q.start_after.as_ref().map(to_attributes);
        loop {
            let request_limit = wanted.map(|w| i32::try_from(w - items.len()).unwrap_or(i32::MAX));
            let out = self
                .client
                .query()
                .table_name(&self.table_name)
                .set_index_name(q.index.map(|ix| ix.name.to_string()))
                // Index reads cannot be strongly consistent; table reads are, like the SQLite adapter.
                .set_consistent_read(q.index.is_none().then_some(true))
                .key_condition_expression(&key_condition)
                .set_projection_expression(projection.clone())
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .scan_index_forward(q.forward)
                .set_limit(request_limit)
                .set_exclusive_start_key(exclusive_start.take())
                .send()
                .await
                .map_err(store_error)?;
            for attrs in out.items() {
                if let Some(item) = live(from_attributes(attrs)?, now) {
                    items.push(item);
                }
            }
            let full = wanted.is_some_and(|w| items.len() >= w);
            match out.last_evaluated_key() {
                Some(next) if !full => exclusive_start = Some(next.clone()),
                _ => break,
            }
        }
        let mut last_key = None;
        if let Some(limit) = q.limit {
            if items.len() > limit {
                items.truncate(limit);
                last_key = items.last().map(|last| Self::cursor_of(last, q.index));
            }
        }
        if q.attributes.is_some() {
            items = items.iter().map(|item| q.shape(item)).collect();
        }
        Ok(Page { items, last_key })
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        check_batch(&ops)?;
        // DynamoDB rejects a batch naming one key twice; applied in order, only the last write counts.
        let mut last_by_key: Vec<(Key, WriteOp)> = Vec::with_capacity(ops.len());
        for op in ops {
            let key = match &op {
                WriteOp::Put(item) => key_of(item).expect("checked"),
                WriteOp::Delete(key) => key.clone(),
            };
            last_by_key.retain(|(k, _)| *k != key);
            last_by_key.push((key, op));
        }
        if last_by_key.is_empty() {
            return Ok(());
        }
        let mut pending: Vec<WriteRequest> = last_by_key.into_iter().map(|(_, op)| Self::write_request(op)).collect::<Result<_, _>>()?;
        for attempt in 0..BATCH_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
            let out = self.client.batch_write_item().request_items(self.table_name.clone(), pending).send().await.map_err(store_error)?;
            pending = out.unprocessed_items().and_then(|u| u.get(&self.table_name)).cloned().unwrap_or_default();
            if pending.is_empty() {
                return Ok(());
            }
        }
        Err(StoreError::Throttled(format!("{} writes of a batch stayed unprocessed", pending.len())))
    }

    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        let now = now_epoch_seconds();
        let items: Vec<TransactWriteItem> = ops.into_iter().map(|op| self.transact_item(op, now)).collect::<Result<_, _>>()?;
        self.client.transact_write_items().set_transact_items(Some(items)).send().await.map_err(transaction_error)?;
        Ok(())
    }
}
