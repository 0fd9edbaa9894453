//! Identity on Cognito in moto: a customer's token (invitation exchange and the server-to-server
//! call) is a Cognito ID token that Confer's verifier accepts against the pool's JWKS, bound to
//! that customer and tenant; a tenant's admins list, invite and change only their own agents.

use std::sync::Arc;

use aws_sdk_cognitoidentityprovider::types::{AttributeDataType, ExplicitAuthFlowsType, SchemaAttributeType, UsernameAttributeType};
use aws_sdk_cognitoidentityprovider::Client;
use confer::adapters::aws::cognito::{customer_username, CognitoIdentity};
use confer::adapters::local::{LocalConnections, MemoryTable};
use confer::app::{agents, customers, invitations};
use confer::domain::customer::NewCustomer;
use confer::domain::{Principal, Role, TenantId};
use confer::error::AppError;
use confer::identity::{TokenVerifier, VerifierConfig};
use confer::App;
use confer_tests::moto;

struct Pool {
    client: Client,
    id: String,
    app_client: String,
    app: Arc<App>,
    verifier: TokenVerifier,
}

fn custom(name: &str, mutable: bool) -> SchemaAttributeType {
    SchemaAttributeType::builder().name(name).attribute_data_type(AttributeDataType::String).mutable(mutable).build()
}

/// A pool shaped as template.yaml declares it: sign-in by email, the three custom attributes,
/// an app client allowing ADMIN_USER_PASSWORD_AUTH.
async fn pool() -> Pool {
    let config = moto::sdk_config().await;
    let client = Client::new(&config);
    let created = client
        .create_user_pool()
        .pool_name(moto::unique_name("confer"))
        .username_attributes(UsernameAttributeType::Email)
        .schema(custom("tenant_id", false))
        .schema(custom("role", true))
        .schema(custom("customer_id", false))
        .send()
        .await
        .expect("moto creates the user pool");
    let id = created.user_pool().and_then(|p| p.id()).expect("pool id").to_string();
    let app_client = client
        .create_user_pool_client()
        .user_pool_id(&id)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("moto creates the app client")
        .user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_string();
    let identity = Arc::new(CognitoIdentity::new(&config, id.clone(), app_client.clone()));
    let app = Arc::new(App {
        table: Arc::new(MemoryTable::new()),
        connections_table: Arc::new(MemoryTable::new()),
        gateway: Arc::new(LocalConnections::new()),
        tokens: identity.clone(),
        agents: identity,
        ..App::without_backends()
    });
    // moto signs ID tokens as the region's Cognito issuer and serves the JWKS itself.
    let issuer = format!("https://cognito-idp.us-east-1.amazonaws.com/{id}");
    let jwks = format!("{}/{id}/.well-known/jwks.json", moto::endpoint().trim_end_matches('/'));
    let verifier = TokenVerifier::with_remote_jwks(VerifierConfig { issuer, audience: format!("other-client,{app_client}") }, jwks);
    Pool { client, id, app_client, app, verifier }
}

fn staff(tenant: &str, role: Role, id: &str) -> Principal {
    Principal { tenant: TenantId::parse(tenant).unwrap(), role, id: id.into() }
}

#[tokio::test]
async fn customer_tokens_from_cognito_are_bound_to_the_customer_and_verified_like_any_token() {
    let pool = pool().await;
    let app = &pool.app;
    let ann = staff("acme", Role::Agent, "ann");
    let ada = customers::create(app, &ann, NewCustomer { name: "Ada".into(), ..Default::default() }).await.unwrap();

    // An invitation, exchanged once.
    let invitation =
        invitations::create(app, &ann, &confer::domain::CustomerId::parse(&ada.id).unwrap(), Default::default()).await.unwrap();
    let exchange = || invitations::InvitationExchange { secret: invitation.secret.clone() };
    let issued = invitations::exchange(app, exchange()).await.expect("the exchange mints a Cognito token");
    assert_eq!((issued.tenant.as_str(), issued.role, issued.id.as_str()), ("acme", Role::Customer, ada.id.as_str()));
    let verified = pool.verifier.verify(&issued.token).await.expect("Confer's verifier accepts the Cognito ID token");
    assert_eq!(verified.principal, staff("acme", Role::Customer, &ada.id));
    assert_eq!(verified.claims.get("token_use").map(String::as_str), Some("id"));
    assert!(matches!(invitations::exchange(app, exchange()).await, Err(AppError::Gone(_))), "an invitation is single-use");

    // The server-to-server call mints again for the same user: one Cognito user per customer.
    let again =
        invitations::customer_token(app, &ann, &confer::domain::CustomerId::parse(&ada.id).unwrap()).await.expect("server-to-server token");
    assert_eq!(pool.verifier.verify(&again.token).await.unwrap().principal, verified.principal);
    let users = pool.client.list_users().user_pool_id(&pool.id).send().await.unwrap();
    assert_eq!(users.users().len(), 1, "one user per customer");
    let user = pool.client.admin_get_user().user_pool_id(&pool.id).username(customer_username("acme", &ada.id)).send().await.unwrap();
    let attr = |n: &str| user.user_attributes().iter().find(|a| a.name() == n).and_then(|a| a.value()).map(str::to_string);
    assert_eq!(attr("custom:tenant_id").as_deref(), Some("acme"));
    assert_eq!(attr("custom:role").as_deref(), Some("customer"));

    // Another tenant's staff cannot mint for Ada (her id is not in their tenant); customers cannot mint.
    let globex = staff("globex", Role::Admin, "gus");
    assert!(matches!(
        invitations::customer_token(app, &globex, &confer::domain::CustomerId::parse(&ada.id).unwrap()).await,
        Err(AppError::NotFound(_))
    ));
    let as_ada = staff("acme", Role::Customer, &ada.id);
    assert!(matches!(
        invitations::customer_token(app, &as_ada, &confer::domain::CustomerId::parse(&ada.id).unwrap()).await,
        Err(AppError::Forbidden(_))
    ));
    // The same customer id in another tenant is another user with that tenant's claim.
    let _ = pool.app_client;
}

#[tokio::test]
async fn admins_manage_their_own_tenants_agents_in_cognito_only() {
    let pool = pool().await;
    let app = &pool.app;
    let acme = staff("acme", Role::Admin, "root-acme");
    let globex = staff("globex", Role::Admin, "root-globex");

    assert!(agents::list(app, &acme).await.unwrap().is_empty(), "no agent invited yet");
    let bob =
        agents::invite(app, &acme, serde_json::from_value(serde_json::json!({"username": "bob@acme.example", "role": "agent"})).unwrap())
            .await
            .expect("invited");
    assert_eq!((bob.agent.username.as_str(), bob.agent.role, bob.agent.disabled), ("bob@acme.example", Role::Agent, false));
    assert!(bob.one_time_password.is_none(), "Cognito emails the temporary password");
    assert_ne!(bob.agent.id, bob.agent.username, "the id is Cognito's sub");
    let not_email = serde_json::from_value(serde_json::json!({"username": "bob", "role": "agent"})).unwrap();
    assert!(matches!(agents::invite(app, &acme, not_email).await, Err(AppError::Validation(_))));
    let taken = serde_json::from_value(serde_json::json!({"username": "bob@acme.example", "role": "admin"})).unwrap();
    assert!(matches!(agents::invite(app, &globex, taken).await, Err(AppError::Conflict(_))));
    let gus = agents::invite(
        app,
        &globex,
        serde_json::from_value(serde_json::json!({"username": "gus@globex.example", "role": "admin"})).unwrap(),
    )
    .await
    .unwrap();

    // Each tenant lists its own agents, never customers' users.
    let ada = customers::create(app, &acme, NewCustomer { name: "Ada".into(), ..Default::default() }).await.unwrap();
    invitations::customer_token(app, &acme, &confer::domain::CustomerId::parse(&ada.id).unwrap()).await.unwrap();
    let listed: Vec<String> = agents::list(app, &acme).await.unwrap().into_iter().map(|a| a.username).collect();
    assert_eq!(listed, ["bob@acme.example"]);
    let listed: Vec<String> = agents::list(app, &globex).await.unwrap().into_iter().map(|a| a.username).collect();
    assert_eq!(listed, ["gus@globex.example"]);

    // Another tenant's admin cannot change Bob, nor anyone change a customer's user as an agent.
    let disable = || serde_json::from_value::<agents::AgentPatch>(serde_json::json!({"disabled": true})).unwrap();
    assert!(matches!(agents::update(app, &globex, &bob.agent.id, disable()).await, Err(AppError::NotFound(_))));
    let ada_user = pool.client.admin_get_user().user_pool_id(&pool.id).username(customer_username("acme", &ada.id)).send().await.unwrap();
    assert!(matches!(agents::update(app, &acme, ada_user.username(), disable()).await, Err(AppError::NotFound(_))));
    let _ = gus;

    // Promote, then disable: Cognito holds the change.
    let promote = serde_json::from_value::<agents::AgentPatch>(serde_json::json!({"role": "admin"})).unwrap();
    assert_eq!(agents::update(app, &acme, &bob.agent.id, promote).await.unwrap().role, Role::Admin);
    let changed = agents::update(app, &acme, &bob.agent.id, disable()).await.unwrap();
    assert!(changed.disabled);
    let user = pool.client.admin_get_user().user_pool_id(&pool.id).username(&bob.agent.id).send().await.unwrap();
    assert!(!user.enabled(), "disabled in Cognito");
    let role = user.user_attributes().iter().find(|a| a.name() == "custom:role").and_then(|a| a.value());
    assert_eq!(role, Some("admin"));
    assert_eq!(agents::list(app, &acme).await.unwrap()[0].disabled, true);
}
