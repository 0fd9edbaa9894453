//! Jitsi: a room needs no account. Its name is unguessable (the link is the key); a self-hosted
//! server with token authentication gets a signed JWT per attendee (HS256, the claims
//! prosody's `token_verification` reads: `aud`, `iss` = the app id, `sub` = the server's host,
//! `room`, `exp`, and `context.user` with `moderator` for agents).

use rand::Rng;
use serde_json::json;

use crate::ports::meetings::{Attendee, ExternalMeeting};
use crate::ports::video::{CallRef, VideoError};

/// How long a join token is good for.
pub const TOKEN_SECONDS: i64 = 4 * 60 * 60;

/// A new room for `call` on the server at `base_url`.
pub fn create(base_url: &str, call: &CallRef) -> ExternalMeeting {
    let secret: String = rand::thread_rng().sample_iter(&rand::distributions::Alphanumeric).take(24).map(char::from).collect();
    let room = format!("confer-{}-{}", call.call_id.trim_start_matches("call_").to_lowercase(), secret.to_lowercase());
    let join_url = format!("{}/{room}", base_url.trim_end_matches('/'));
    ExternalMeeting { external_id: room.clone(), join_url, room: Some(room) }
}

/// The room's link, with a token naming `who` when the server checks tokens (`app`: id, secret).
pub fn join_url(base_url: &str, app: Option<(&str, &str)>, meeting: &ExternalMeeting, who: &Attendee) -> Result<String, VideoError> {
    let Some((app_id, secret)) = app else { return Ok(meeting.join_url.clone()) };
    let host = url::Url::parse(base_url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    let now = crate::domain::now_epoch_seconds();
    let claims = json!({
        "aud": "jitsi",
        "iss": app_id,
        "sub": host,
        "room": meeting.room.clone().unwrap_or_else(|| meeting.external_id.clone()),
        "nbf": now - 10,
        "exp": now + TOKEN_SECONDS,
        "context": { "user": { "id": who.id, "name": who.name, "moderator": who.host } },
    });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| VideoError::Rejected(format!("Jitsi: the join token could not be signed: {e}")))?;
    Ok(format!("{}?jwt={token}", meeting.join_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_unguessable_and_tokens_carry_what_prosody_checks() {
        let call = CallRef { tenant: "acme".into(), session_id: "ses_1".into(), call_id: "call_01ABC".into() };
        let a = create("https://meet.example.com/", &call);
        let b = create("https://meet.example.com", &call);
        assert_ne!(a.external_id, b.external_id);
        assert!(a.join_url.starts_with("https://meet.example.com/confer-01abc-") && a.external_id.len() > 30, "{}", a.join_url);
        let who = Attendee { id: "agent:ann".into(), name: "Ann".into(), host: true };
        assert_eq!(join_url("https://meet.jit.si", None, &a, &who).unwrap(), a.join_url, "no token without an app");
        let secret = "0123456789abcdef0123456789abcdef";
        let link = join_url("https://meet.example.com", Some(("confer", secret)), &a, &who).unwrap();
        let token = link.split("?jwt=").nth(1).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_audience(&["jitsi"]);
        validation.set_issuer(&["confer"]);
        let claims =
            jsonwebtoken::decode::<serde_json::Value>(token, &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()), &validation)
                .unwrap()
                .claims;
        assert_eq!(claims["room"], a.external_id.as_str());
        assert_eq!(claims["sub"], "meet.example.com");
        assert_eq!(claims["context"]["user"]["moderator"], true);
        assert!(jsonwebtoken::decode::<serde_json::Value>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(b"another secret of 32 bytes at least!"),
            &validation
        )
        .is_err());
    }
}
