//! Customer groups on DynamoDB (moto): members written 25 to a `BatchWriteItem` on both sides,
//! listed with cursors through real pages, removed, and a group's deletion taking its members.

use std::collections::BTreeSet;
use std::sync::Arc;

use confer::adapters::aws::dynamodb::DynamoTable;
use confer::app::{customers, groups};
use confer::domain::customer::NewCustomer;
use confer::domain::group::{MemberList, NewGroup};
use confer::domain::{CustomerId, Principal, Role, TenantId};
use confer::App;
use confer_tests::collected::Collected;
use confer_tests::moto;

fn principal(role: Role, id: &str) -> Principal {
    Principal { tenant: TenantId::parse("acme").unwrap(), role, id: id.into() }
}

#[tokio::test]
async fn members_are_batched_listed_removed_and_deleted_with_their_group() {
    let config = moto::sdk_config().await;
    let name = moto::unique_name("confer-groups");
    moto::create_table(&config, &name).await;
    let events = Arc::new(Collected::default());
    let app = App { table: Arc::new(DynamoTable::new(&config, name)), events: events.clone(), ..App::without_backends() };
    let agent = principal(Role::Agent, "agent-ann");
    let admin = principal(Role::Admin, "root");

    // 60 customers: three batches of memberships (two items each).
    let mut ids = Vec::new();
    for i in 0..60 {
        let c = customers::create(&app, &agent, NewCustomer { name: format!("Customer {i}"), ..Default::default() }).await.unwrap();
        ids.push(c.id);
    }
    let group = groups::create(&app, &agent, NewGroup { name: "Business".into(), description: None }).await.unwrap();
    let added = groups::add_members(&app, &agent, &group.id, MemberList { customer_ids: ids.clone() }).await.unwrap();
    assert_eq!((added.requested, added.changed), (60, 60));

    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = groups::members(&app, &agent, &group.id, 25, cursor.as_deref()).await.unwrap();
        seen.extend(page.items.into_iter().map(|m| m.customer_id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ids.iter().cloned().collect::<BTreeSet<_>>());
    let first = CustomerId::parse(&ids[0]).unwrap();
    let theirs = groups::of_customer(&app, &agent, &first, 10, None).await.unwrap();
    assert_eq!(theirs.items.len(), 1);
    assert_eq!(theirs.items[0].name, "Business");

    let removed = groups::remove_members(&app, &agent, &group.id, MemberList { customer_ids: ids[..30].to_vec() }).await.unwrap();
    assert_eq!(removed.changed, 30);
    assert_eq!(groups::members(&app, &agent, &group.id, 100, None).await.unwrap().items.len(), 30);
    assert!(groups::of_customer(&app, &agent, &first, 10, None).await.unwrap().items.is_empty());

    groups::delete(&app, &admin, &group.id).await.unwrap();
    let last = CustomerId::parse(&ids[59]).unwrap();
    assert!(groups::of_customer(&app, &agent, &last, 10, None).await.unwrap().items.is_empty());
    assert!(groups::get(&app, &agent, &group.id).await.is_err());
    let changes: Vec<String> = events.ids_of("group.updated").iter().map(|id| id.split(':').nth(1).unwrap().to_string()).collect();
    assert_eq!(changes, ["created", "members_added", "members_removed", "deleted"]);
}
