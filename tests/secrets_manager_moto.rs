//! The tenants' video app credentials in AWS Secrets Manager, on moto: one secret per tenant and
//! app under the stack's prefix, tagged; set, read, rotated (a new version, the previous kept as
//! AWSPREVIOUS), removed and set again; tenants apart; and the credential use cases (admins only,
//! never shown again) over it with the table on DynamoDB.

use std::sync::Arc;

use aws_sdk_secretsmanager::types::Tag;
use confer::adapters::aws::dynamodb::DynamoTable;
use confer::adapters::aws::secrets_manager::SecretsManagerSecrets;
use confer::app::video_apps;
use confer::domain::provider::{ExternalProvider, JitsiToken, ProviderCredentials};
use confer::domain::{Principal, Role, TenantId};
use confer::ports::secrets::{ProviderSecrets, SecretsError};
use confer::App;
use confer_tests::moto;

fn jitsi(secret: &str) -> ProviderCredentials {
    ProviderCredentials::Jitsi {
        base_url: "https://meet.example.com".into(),
        token: Some(JitsiToken { app_id: "confer".into(), app_secret: secret.into() }),
    }
}

fn zoom() -> ProviderCredentials {
    ProviderCredentials::Zoom {
        account_id: "Kx3PqR7sT9uVwXyZ".into(),
        client_id: "zA1bC2dE3fG4hI5j".into(),
        client_secret: "k6L7m8N9o0P1q2R3s4T5u6V7w8X9y0Z1".into(),
        webhook_secret_token: "wH4tEvEr-th3-Z00m-s3cr3t-t0k3n".into(),
        host_user: "me".into(),
    }
}

#[tokio::test]
async fn secrets_manager_keeps_each_tenants_credentials_in_its_own_tagged_secret_rotated_and_removed() {
    let config = moto::sdk_config().await;
    let prefix = format!("{}/video-apps/", moto::unique_name("confer/test"));
    let secrets = SecretsManagerSecrets::new(&config, prefix.clone());
    let raw = aws_sdk_secretsmanager::Client::new(&config);
    let first = "a-jitsi-app-secret-of-32-bytes-or-more-1";

    assert_eq!(secrets.get("acme", ExternalProvider::Jitsi).await, Ok(None));
    secrets.put("acme", &jitsi(first), "2026-12-05T10:00:00Z").await.unwrap();
    let stored = secrets.get("acme", ExternalProvider::Jitsi).await.unwrap().expect("stored");
    assert_eq!((stored.credentials, stored.updated_at.as_str()), (jitsi(first), "2026-12-05T10:00:00Z"));

    // Its own secret, named and tagged for the tenant and the app.
    let name = format!("{prefix}acme/jitsi");
    assert_eq!(secrets.name("acme", ExternalProvider::Jitsi), name);
    let described = raw.describe_secret().secret_id(&name).send().await.unwrap();
    let tags: Vec<(String, String)> = described
        .tags()
        .iter()
        .map(|t: &Tag| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
        .collect();
    assert!(
        tags.contains(&("confer:tenant".into(), "acme".into())) && tags.contains(&("confer:provider".into(), "jitsi".into())),
        "{tags:?}"
    );

    // Another tenant, another app: nothing of acme's.
    assert_eq!(secrets.get("globex", ExternalProvider::Jitsi).await, Ok(None));
    assert_eq!(secrets.get("acme", ExternalProvider::Zoom).await, Ok(None));
    secrets.put("acme", &zoom(), "2026-12-05T10:01:00Z").await.unwrap();
    assert_eq!(secrets.get("acme", ExternalProvider::Zoom).await.unwrap().unwrap().credentials, zoom());

    // Rotation: a new version; the previous one is kept by Secrets Manager.
    let second = "a-jitsi-app-secret-of-32-bytes-or-more-2";
    secrets.put("acme", &jitsi(second), "2026-12-05T11:00:00Z").await.unwrap();
    let rotated = secrets.get("acme", ExternalProvider::Jitsi).await.unwrap().unwrap();
    assert_eq!((rotated.credentials, rotated.updated_at.as_str()), (jitsi(second), "2026-12-05T11:00:00Z"));
    let versions = raw.list_secret_version_ids().secret_id(&name).send().await.unwrap();
    let stages: Vec<String> = versions.versions().iter().flat_map(|v| v.version_stages().iter().cloned()).collect();
    assert!(stages.contains(&"AWSCURRENT".to_string()) && stages.contains(&"AWSPREVIOUS".to_string()), "{stages:?}");

    // Removed at once; removing again says there was nothing; setting again works.
    assert_eq!(secrets.delete("acme", ExternalProvider::Jitsi).await, Ok(true));
    assert_eq!(secrets.get("acme", ExternalProvider::Jitsi).await, Ok(None));
    assert_eq!(secrets.delete("acme", ExternalProvider::Jitsi).await, Ok(false));
    secrets.put("acme", &jitsi(first), "2026-12-05T12:00:00Z").await.unwrap();
    assert_eq!(secrets.get("acme", ExternalProvider::Jitsi).await.unwrap().unwrap().credentials, jitsi(first));

    // A secret under the name that is not Confer's (or holds another app's credentials) is an
    // error, never taken for credentials.
    raw.create_secret().name(format!("{prefix}acme/meet")).secret_string("{\"password\": \"x\"}").send().await.unwrap();
    assert!(matches!(secrets.get("acme", ExternalProvider::Meet).await, Err(SecretsError::Backend(_))));
}

#[tokio::test]
async fn secrets_manager_backs_the_credential_use_cases_for_admins_only() {
    let config = moto::sdk_config().await;
    let table = moto::unique_name("confer-secrets");
    moto::create_table(&config, &table).await;
    let prefix = format!("{}/video-apps/", moto::unique_name("confer/test"));
    let app = Arc::new(App {
        table: Arc::new(DynamoTable::new(&config, table)),
        secrets: Arc::new(SecretsManagerSecrets::new(&config, prefix)),
        ..App::without_backends()
    });
    let admin = Principal { tenant: TenantId::parse("acme").unwrap(), role: Role::Admin, id: "root".into() };
    let agent = Principal { tenant: TenantId::parse("acme").unwrap(), role: Role::Agent, id: "agent-ann".into() };
    let other = Principal { tenant: TenantId::parse("globex").unwrap(), role: Role::Admin, id: "root".into() };

    assert!(video_apps::connect(&app, &agent, "zoom", zoom()).await.is_err(), "agents do not set credentials");
    let connected = video_apps::connect(&app, &admin, "zoom", zoom()).await.unwrap();
    assert!(connected.connected && connected.updated_at.is_some());
    let listed = video_apps::list(&app, &admin).await.unwrap();
    let zoom_entry = listed.iter().find(|c| c.provider == ExternalProvider::Zoom).unwrap();
    assert!(zoom_entry.connected);
    // What the API says never holds the secrets.
    let text = serde_json::to_string(&listed).unwrap();
    assert!(!text.contains("k6L7m8N9o0P1q2R3s4T5u6V7w8X9y0Z1") && !text.contains("wH4tEvEr"), "{text}");
    assert!(video_apps::list(&app, &other).await.unwrap().iter().all(|c| !c.connected), "globex sees nothing of acme's");
    assert!(!video_apps::disconnect(&app, &admin, "zoom").await.unwrap().connected);
    assert!(video_apps::list(&app, &admin).await.unwrap().iter().all(|c| !c.connected));
}
