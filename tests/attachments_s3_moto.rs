//! Attachments on the cloud adapters: the S3 adapter against moto's S3 (presigned PUT and GET,
//! head, read, copy, delete) and the `attachments-verify` trigger run with the sample S3 event
//! from events/, on DynamoDB in moto.

use std::sync::Arc;

use aws_sdk_s3::error::ProvideErrorMetadata;
use confer::adapters::aws::dynamodb::DynamoTable;
use confer::adapters::aws::s3::S3Blobs;
use confer::adapters::local::{LocalConnections, MemoryTable};
use confer::app::{attachments, customers, messages, sessions};
use confer::domain::attachment::NewUpload;
use confer::domain::customer::NewCustomer;
use confer::domain::session::NewSession;
use confer::domain::{Principal, Role, TenantId};
use confer::ports::blobs::{BlobStore, Download};
use confer::App;
use confer_tests::collected::Collected;
use confer_tests::moto;

async fn bucket(config: &aws_config::SdkConfig) -> String {
    let name = moto::unique_name("confer-attachments");
    let client = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build());
    match client.create_bucket().bucket(&name).send().await {
        Ok(_) => {}
        Err(e) => panic!("creating bucket {name} in moto failed: {:?} {}", e.code(), aws_sdk_s3::error::DisplayErrorContext(&e)),
    }
    name
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[tokio::test]
async fn the_s3_adapter_signs_urls_moto_accepts_and_manages_objects() {
    let config = moto::sdk_config().await;
    let name = bucket(&config).await;
    let blobs = S3Blobs::with_path_style(&config, name.clone());
    let http = reqwest::Client::new();

    let signed =
        blobs.sign_upload("uploads/acme/x/a1", "application/pdf", PDF.len() as u64, std::time::Duration::from_secs(300)).await.unwrap();
    assert_eq!(signed.method, "PUT");
    assert_eq!(signed.headers.get("content-type").map(String::as_str), Some("application/pdf"));
    let url = url::Url::parse(&signed.url).unwrap();
    let signed_headers = url.query_pairs().find(|(k, _)| k == "X-Amz-SignedHeaders").map(|(_, v)| v.to_string()).unwrap_or_default();
    assert!(
        signed_headers.contains("content-length") && signed_headers.contains("content-type"),
        "type and length are signed: {signed_headers}"
    );
    let mut put = http.put(&signed.url).body(PDF.to_vec());
    for (k, v) in &signed.headers {
        put = put.header(k, v);
    }
    let answer = put.send().await.unwrap();
    assert!(answer.status().is_success(), "moto accepted the presigned PUT: {}", answer.status());

    assert_eq!(blobs.head("uploads/acme/x/a1").await.unwrap().map(|m| m.size), Some(PDF.len() as u64));
    assert_eq!(blobs.read("uploads/acme/x/a1", 10_000).await.unwrap().as_deref(), Some(PDF));
    assert!(matches!(blobs.read("uploads/acme/x/a1", 10).await, Err(confer::ports::BlobError::TooLarge { .. })));
    blobs.copy("uploads/acme/x/a1", "media/acme/x/a1/file", "application/pdf").await.unwrap();
    blobs.delete("uploads/acme/x/a1").await.unwrap();
    blobs.delete("uploads/acme/x/a1").await.unwrap();
    assert_eq!(blobs.head("uploads/acme/x/a1").await.unwrap(), None);
    assert_eq!(blobs.read("uploads/acme/x/a1", 10_000).await.unwrap(), None);

    let download = Download { file_name: "note.pdf".into(), content_type: "application/pdf".into(), inline: false };
    let url = blobs.sign_download("media/acme/x/a1/file", &download, std::time::Duration::from_secs(300)).await.unwrap();
    let got = http.get(&url).send().await.unwrap();
    assert!(got.status().is_success());
    assert_eq!(got.headers().get("content-disposition").and_then(|v| v.to_str().ok()), Some(download.content_disposition().as_str()));
    assert_eq!(got.bytes().await.unwrap().as_ref(), PDF);
}

#[tokio::test]
async fn the_verify_trigger_turns_an_upload_into_one_message_on_s3_and_dynamodb() {
    let config = moto::sdk_config().await;
    let table_name = moto::unique_name("confer-media");
    moto::create_table(&config, &table_name).await;
    let bucket_name = bucket(&config).await;
    let connections = LocalConnections::new();
    let events = Arc::new(Collected::default());
    let app = Arc::new(App {
        table: Arc::new(DynamoTable::new(&config, table_name)),
        connections_table: Arc::new(MemoryTable::new()),
        gateway: Arc::new(connections.clone()),
        events: events.clone(),
        blobs: Arc::new(S3Blobs::with_path_style(&config, bucket_name.clone())),
        ..App::without_backends()
    });
    let tenant = TenantId::parse("acme").unwrap();
    let agent = Principal { tenant: tenant.clone(), role: Role::Agent, id: "agent-ann".into() };
    let customer = customers::create(&app, &agent, NewCustomer { name: "Ada".into(), ..Default::default() }).await.unwrap();
    let session =
        sessions::create(&app, &agent, NewSession { customer_id: customer.id.clone(), agent_ids: vec![], subject: None }).await.unwrap();
    let ada = Principal { tenant: tenant.clone(), role: Role::Customer, id: customer.id.clone() };

    let request = || NewUpload {
        client_upload_id: "up-1".into(),
        file_name: "delivery note.pdf".into(),
        content_type: "application/pdf".into(),
        size: PDF.len() as u64,
        caption: Some("the note".into()),
    };
    let ticket = attachments::request_upload(&app, &ada, &session.id, request()).await.unwrap();
    let again = attachments::request_upload(&app, &ada, &session.id, request()).await.unwrap();
    assert_eq!(again.attachment.id, ticket.attachment.id, "a retried request is the same attachment");
    let upload = ticket.upload.expect("a pending attachment has an upload URL");
    let mut put = reqwest::Client::new().put(&upload.url).body(PDF.to_vec());
    for (k, v) in &upload.headers {
        put = put.header(k, v);
    }
    assert!(put.send().await.unwrap().status().is_success());

    // The sample event, pointed at this upload, run through the trigger as Lambda would.
    let key = format!("uploads/acme/{}/{}", session.id, ticket.attachment.id);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/attachments-verify.json"))
        .unwrap()
        .replace("uploads/acme/ses_01M8NRRGNB7K9M1P3R5T7V9X1Z/att_01M8NT2K4C6E8G0J2M4P6R8T0V", &key)
        .replace("confer-dev-attachments-123456789012", &bucket_name);
    let event: aws_lambda_events::s3::S3Event = serde_json::from_str(&text).unwrap();
    let trigger = confer::inbound::trigger("attachments-verify").unwrap();
    assert!((trigger.handler)(app.clone(), event.clone()).await.failed.is_empty());
    // S3 delivers at least once: the same event again changes nothing.
    assert!((trigger.handler)(app.clone(), event).await.failed.is_empty());

    let page = messages::history(&app, &agent, &session.id, messages::HistoryQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(page.items.len(), 1, "one message for one upload");
    let message = &page.items[0];
    assert_eq!((message.seq, message.text.as_str(), message.client_message_id.as_str()), (1, "the note", "up-1"));
    let media = message.attachment.as_ref().expect("a file message");
    assert_eq!(
        (media.file_name.as_str(), media.content_type.as_str(), media.size),
        ("delivery note.pdf", "application/pdf", PDF.len() as u64)
    );
    let got = reqwest::get(media.urls.url.as_deref().expect("signed URL")).await.unwrap();
    assert!(got.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("").starts_with("attachment;"));
    assert_eq!(got.bytes().await.unwrap().as_ref(), PDF);
    assert_eq!(app.blobs.head(&key).await.unwrap(), None, "the upload is gone once verified");

    let files =
        attachments::list_customer_files(&app, &agent, &confer::domain::CustomerId::parse(&customer.id).unwrap(), Some("file"), 10, None)
            .await
            .unwrap();
    assert_eq!(files.items.len(), 1);
    assert_eq!(files.items[0].attachment_id, ticket.attachment.id);
    let ready = events.ids_of("attachment.ready");
    assert_eq!(ready, vec![format!("{}:ready", ticket.attachment.id)]);
}
