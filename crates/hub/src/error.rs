//! Errors of the hub's routes and how they answer: HTML (pages redirect to
//! the login page) or JSON (`ApiError`, for the API and tracker apps).

use crate::citizens::CitizenError;
use crate::registry::RegistryError;
use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sillage_store::StoreError;
use std::time::Duration;

/// Writes one of our own failures to the server's log (stderr), never to a
/// client. Messages name operations and store errors, never personal data
/// or secrets.
pub fn report(what: &str, error: &dyn std::fmt::Display) {
    eprintln!("sillage hub: {what}: {error}");
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// No valid session.
    #[error("login required")]
    LoginRequired,
    /// A state-changing request without this session's CSRF token.
    #[error("missing or wrong CSRF token: reload the page and try again")]
    Csrf,
    /// A tracker request without a valid device token.
    #[error("unknown or missing device token")]
    DeviceToken,
    /// Too many failed logins.
    #[error("too many failed attempts: try again in {} s", .0.as_secs().max(1))]
    TooManyAttempts(Duration),
    /// Allowed to nobody in this state (e.g. a token without consent).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing with that id belongs to this citizen.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is malformed; the text says which field and why.
    #[error("{0}")]
    BadRequest(String),
    /// The request conflicts with existing data.
    #[error("{0}")]
    Conflict(String),
    /// A failure on our side (details are logged, not shown).
    #[error("internal error")]
    Internal(String),
}

impl HubError {
    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::LoginRequired | Self::DeviceToken => StatusCode::UNAUTHORIZED,
            Self::Csrf | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn log(&self) {
        if let Self::Internal(detail) = self {
            report("request failed", detail);
        }
    }

    fn retry_after(&self) -> Option<String> {
        match self {
            Self::TooManyAttempts(wait) => Some(wait.as_secs().max(1).to_string()),
            _ => None,
        }
    }
}

impl From<RegistryError> for HubError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::NotFound(what) => Self::NotFound(what),
            RegistryError::NameTaken(_) | RegistryError::DeviceLabelTaken(_) => {
                Self::Conflict(error.to_string())
            }
            RegistryError::WeakPassword => Self::BadRequest(error.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for HubError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NoSuchImport(_) => Self::NotFound("import"),
            StoreError::NoSuchPlace(_) => Self::NotFound("place"),
            StoreError::InvalidCitizenName(_) => Self::BadRequest(error.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<CitizenError> for HubError {
    fn from(error: CitizenError) -> Self {
        match error {
            CitizenError::Registry(e) => e.into(),
            CitizenError::Store(e) => e.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for HubError {
    /// Pages: a missing session goes to the login page; other errors are a
    /// short page with the message.
    fn into_response(self) -> Response {
        self.log();
        if matches!(self, Self::LoginRequired) {
            return Redirect::to("/login").into_response();
        }
        let body = format!(
            "<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>Sillage</title>\
             <main><h1>{}</h1><p>{}</p><p><a href=\"/\">Sillage</a></p></main></html>",
            self.status(),
            crate::pages::escape(&self.to_string())
        );
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
        if let Some(wait) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, wait.parse().expect("digits"));
        }
        response
    }
}

/// An error answered as JSON `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(pub HubError);

impl<E: Into<HubError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let mut response = (
            self.0.status(),
            Json(serde_json::json!({ "error": self.0.to_string() })),
        )
            .into_response();
        if let Some(wait) = self.0.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, wait.parse().expect("digits"));
        }
        response
    }
}
