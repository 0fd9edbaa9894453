//! Calls in the local runtime: peer to peer WebRTC between the browsers, signalled over Confer's
//! own WebSocket (`signal` frames). No media passes through confer-local; the STUN/TURN servers
//! it hands out (none by default: one machine or a LAN needs none) let browsers behind NATs
//! reach each other.

use async_trait::async_trait;

use crate::domain::call::{CallProvider, IceServer, JoinInfo, Quality};
use crate::domain::ParticipantRef;
use crate::ports::video::{CallRef, Created, VideoError, VideoProvider};

#[derive(Debug, Clone, Default)]
pub struct LocalVideo {
    ice_servers: Vec<IceServer>,
}

impl LocalVideo {
    pub fn new(ice_servers: Vec<IceServer>) -> Self {
        LocalVideo { ice_servers }
    }

    /// Reads `stun:host:port` or `turn:user:password@host:port` (also `turns:`), as an operator
    /// writes them on the command line.
    pub fn parse_server(text: &str) -> Result<IceServer, String> {
        let (scheme, rest) =
            text.split_once(':').ok_or_else(|| format!("{text}: expected stun:host:port or turn:user:password@host:port"))?;
        match scheme {
            "stun" => Ok(IceServer { urls: vec![text.to_string()], username: None, credential: None }),
            "turn" | "turns" => {
                let (auth, host) = rest.rsplit_once('@').ok_or_else(|| format!("{text}: a TURN server needs user:password@"))?;
                let (user, password) = auth.split_once(':').ok_or_else(|| format!("{text}: a TURN server needs user:password@"))?;
                if host.is_empty() || user.is_empty() {
                    return Err(format!("{text}: empty host or user"));
                }
                Ok(IceServer { urls: vec![format!("{scheme}:{host}")], username: Some(user.into()), credential: Some(password.into()) })
            }
            other => Err(format!("{text}: unknown scheme {other} (stun, turn or turns)")),
        }
    }
}

#[async_trait]
impl VideoProvider for LocalVideo {
    fn provider(&self) -> CallProvider {
        CallProvider::Webrtc
    }
    /// The browsers capture and encode what they are asked for: every preset, at any time.
    fn max_quality(&self, _: Quality) -> Quality {
        Quality::K4
    }
    async fn create(&self, _: &CallRef, _: Quality, _: &ParticipantRef) -> Result<Created, VideoError> {
        Ok(Created { meeting: None, external_id: None, join: JoinInfo::Webrtc { ice_servers: self.ice_servers.clone(), peers: vec![] } })
    }
    async fn join(&self, _: Option<&serde_json::Value>, _: &ParticipantRef, peers: Vec<ParticipantRef>) -> Result<JoinInfo, VideoError> {
        Ok(JoinInfo::Webrtc { ice_servers: self.ice_servers.clone(), peers })
    }
    async fn end(&self, _: Option<&serde_json::Value>) -> Result<(), VideoError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_read_as_operators_write_them() {
        assert_eq!(LocalVideo::parse_server("stun:stun.example.org:3478").unwrap().urls, ["stun:stun.example.org:3478"]);
        let turn = LocalVideo::parse_server("turn:ann:s3cr:et@turn.example.org:3478").unwrap();
        assert_eq!(turn.urls, ["turn:turn.example.org:3478"]);
        assert_eq!((turn.username.as_deref(), turn.credential.as_deref()), (Some("ann"), Some("s3cr:et")));
        assert!(LocalVideo::parse_server("turn:turn.example.org:3478").is_err());
        assert!(LocalVideo::parse_server("http://x").is_err());
    }
}
