//! One refusal type for every "no" the server answers: an HTTP status and a
//! one-line reason, which the client reads in the answer's body and the
//! operator in the connection's log line (escaped there, since a reason may
//! echo what the client sent). The request head reader, the query parser,
//! the access rules and the routes all refuse with it; `http::refuse`
//! writes it, with the header its status requires.

use std::borrow::Cow;
use std::fmt;

/// Why a request is not served: its status (4xx/5xx) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    status: u16,
    reason: Cow<'static, str>,
}

impl Refusal {
    pub fn new(status: u16, reason: impl Into<Cow<'static, str>>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
        }
    }

    /// 400: the request cannot be understood.
    pub fn bad_request(reason: impl Into<Cow<'static, str>>) -> Self {
        Refusal::new(400, reason)
    }

    /// 403: understood, but not allowed.
    pub fn forbidden(reason: impl Into<Cow<'static, str>>) -> Self {
        Refusal::new(403, reason)
    }

    /// 404: inside a root, but nothing is there.
    pub fn not_found() -> Self {
        Refusal::new(404, "no such file under the served roots")
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}
