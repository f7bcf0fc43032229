//! Sessions, CSRF protection and login rate limiting.
//!
//! A session is a random cookie (HttpOnly, SameSite=Strict, Secure behind
//! HTTPS) whose SHA-256 the registry keeps. Every state-changing request of
//! a session must echo the session's CSRF token (a form field or the
//! `X-CSRF-Token` header); forms before login use a double-submit cookie.

use crate::error::HubError;
use crate::registry::Session;
use crate::secrets::same_secret;
use crate::{AppState, i18n::Lang};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "sillage_session";
/// Name of the pre-login CSRF cookie.
pub const PRE_LOGIN_COOKIE: &str = "sillage_form";
/// Header carrying the CSRF token of API writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the request's headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value for a cookie scripts cannot read.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The citizen making a request, from their session cookie.
pub struct CitizenSession {
    /// The live session.
    pub session: Session,
    /// The session cookie (to log out).
    pub cookie: String,
}

impl CitizenSession {
    /// Fails unless `provided` is this session's CSRF token.
    pub fn check_csrf(&self, provided: &str) -> Result<(), HubError> {
        if same_secret(provided, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(HubError::Csrf)
        }
    }

    /// Fails unless the request carries this session's CSRF token in its
    /// `X-CSRF-Token` header (API writes).
    pub fn check_csrf_header(&self, headers: &HeaderMap) -> Result<(), HubError> {
        let provided = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        self.check_csrf(provided)
    }

    /// The language of this citizen's pages.
    pub fn lang(&self) -> Lang {
        Lang::from_code(&self.session.account.lang)
    }
}

impl FromRequestParts<AppState> for CitizenSession {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HubError> {
        let cookie = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or(HubError::LoginRequired)?
            .to_owned();
        let session = state
            .registry
            .session(&cookie)
            .await?
            .ok_or(HubError::LoginRequired)?;
        Ok(Self { session, cookie })
    }
}

/// Counts failed logins per name and per client address in a sliding
/// window, and refuses further attempts past a limit. Kept in memory: a
/// restart forgets it, which costs an attacker a restart per window.
pub struct LoginLimiter {
    window: Duration,
    per_name: u32,
    per_address: u32,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    /// At most `per_name` failures per account name and `per_address` per
    /// client address within `window`.
    pub fn new(window: Duration, per_name: u32, per_address: u32) -> Self {
        Self {
            window,
            per_name,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(name: &str, address: IpAddr) -> [(String, bool); 2] {
        [
            (format!("name:{}", name.to_lowercase()), true),
            (format!("addr:{address}"), false),
        ]
    }

    /// How long the caller must wait before trying again, if at all.
    pub fn retry_after(&self, name: &str, address: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("login limiter");
        Self::keys(name, address)
            .into_iter()
            .filter_map(|(key, is_name)| {
                let limit = if is_name {
                    self.per_name
                } else {
                    self.per_address
                };
                let times = failures.get_mut(&key)?;
                times.retain(|t| now.duration_since(*t) < self.window);
                (times.len() >= limit as usize)
                    .then(|| self.window.saturating_sub(now.duration_since(times[0])))
            })
            .max()
    }

    /// Records a failed attempt.
    pub fn failed(&self, name: &str, address: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("login limiter");
        for (key, _) in Self::keys(name, address) {
            failures.entry(key).or_default().push(now);
        }
    }

    /// Forgets the failures of a name after a successful login.
    pub fn succeeded(&self, name: &str) {
        let key = format!("name:{}", name.to_lowercase());
        self.failures.lock().expect("login limiter").remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_blocks_after_too_many_failures_and_forgets_on_success() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 3, 10);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.retry_after("Alice", ip).is_none());
            limiter.failed("alice", ip);
        }
        let wait = limiter.retry_after("ALICE", ip).expect("blocked");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(limiter.retry_after("bob", ip).is_none());
        limiter.succeeded("alice");
        assert!(limiter.retry_after("alice", ip).is_none());
    }

    #[test]
    fn the_limiter_blocks_an_address_trying_many_names() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 3, 5);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..5 {
            limiter.failed(&format!("user{i}"), ip);
        }
        assert!(limiter.retry_after("someone-else", ip).is_some());
        assert!(
            limiter
                .retry_after("someone-else", "10.0.0.2".parse().unwrap())
                .is_none()
        );
    }

    #[test]
    fn cookies_are_found_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=1; sillage_session=xyz; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
