//! The API's refusals: [`ApiError`], answered as JSON `{code, message}` with its status.

use actix_web::{error::JsonPayloadError, http::StatusCode, HttpResponse, ResponseError};
use tandem_shared::{ids::Invalid, ErrorCode, ServerMsg};

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The body, query or path does not say what the API needs.
    #[error("{0}")]
    BadRequest(String),
    /// A field fails validation (its code says which: `invalid_room`, `invalid_text`…).
    #[error("{1}")]
    Invalid(ErrorCode, String),
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The room refuses (read-only, or a moderation that cannot apply).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// With the methods it does take.
    #[error("this endpoint takes {0} only; see /api/openapi.json")]
    MethodNotAllowed(&'static str),
    /// An idempotency key already named another message.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("the body must be JSON (Content-Type: application/json)")]
    NotJson,
    #[error("too many requests with this key: at most {0} per second; retry in a second")]
    RateLimited(u32),
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    fn code(&self) -> String {
        let code = match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Invalid(code, _) => return wire_name(*code),
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Conflict(_) => "client_id_reused",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::NotJson => "unsupported_media_type",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
        };
        code.to_owned()
    }

    /// The room's refusal of a request (an `error` frame) as the API answers it.
    pub(crate) fn from_room(msg: ServerMsg) -> ApiError {
        match msg {
            ServerMsg::Error { code, message, .. } => match code {
                ErrorCode::Forbidden => ApiError::Forbidden(message),
                ErrorCode::ClientIdReused => ApiError::Conflict(message),
                ErrorCode::Unavailable => ApiError::Unavailable(message),
                code => ApiError::Invalid(code, message),
            },
            other => ApiError::Unavailable(format!("unexpected answer from the room: {other:?}")),
        }
    }

    pub(crate) fn unavailable() -> ApiError {
        ApiError::Unavailable(
            "the room is unavailable right now (the store, or shutdown); retry".into(),
        )
    }
}

/// An error code as the wire spells it (`text_too_long`).
fn wire_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "invalid".into())
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::Invalid(e.code, e.message)
    }
}

impl From<JsonPayloadError> for ApiError {
    fn from(err: JsonPayloadError) -> Self {
        match err {
            JsonPayloadError::Overflow { limit }
            | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                ApiError::TooLarge(format!("the body is larger than {limit} bytes"))
            }
            JsonPayloadError::ContentType => ApiError::NotJson,
            err => ApiError::BadRequest(format!("body: {err}")),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::Invalid(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthorized(_) => {
                res.insert_header(("WWW-Authenticate", "Bearer"));
            }
            ApiError::RateLimited(_) => {
                res.insert_header(("Retry-After", "1"));
            }
            ApiError::MethodNotAllowed(allow) => {
                res.insert_header(("Allow", *allow));
            }
            _ => {}
        }
        res.json(serde_json::json!({"code": self.code(), "message": self.to_string()}))
    }
}
