//! How the app talks to the Switchyard server: typed JSON calls ([`client`]), the reads started
//! at load in parallel with `whoami` ([`preload`]) and the live event stream ([`events`]). Every failure becomes one [`Error`] that the page shows in words.

pub mod client;
pub mod events;
pub mod graph;
pub mod plans;
pub mod preload;
pub mod rollout;

use std::fmt;
use switchyard_protocol::ApiError;

/// What a request that got no answer reads as on the page.
pub const NETWORK_MESSAGE: &str = "cannot reach the console — retrying";

/// Everything that can go wrong talking to the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The request did not get an answer (server down, network gone, request refused).
    Network(String),
    /// The server answered with an error body; its message is meant for people. Boxed: on a
    /// conflict it carries the whole current VirtualService.
    Api(Box<ApiError>),
    /// The server answered, but not with what this version of the app understands.
    Decode(String),
}

impl Error {
    /// The machine code of an API error (`conflict`, `invalid`, …), if that is what this is.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.code),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The browser's own words ("TypeError: Failed to fetch") mean nothing to a person;
            // the live stream keeps reconnecting, and the page refreshes when it is back.
            Error::Network(_) => f.write_str(NETWORK_MESSAGE),
            Error::Api(e) => f.write_str(&e.message),
            Error::Decode(detail) => write!(f, "could not read the server's answer: {detail}"),
        }
    }
}

impl std::error::Error for Error {}
