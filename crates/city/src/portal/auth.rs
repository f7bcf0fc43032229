//! Staff log-in for the portal: a session cookie scripts cannot read,
//! a CSRF token echoed by every form, and the role checks (an editor
//! designs, publishes and collects; a viewer reads).

use super::{LangQuery, escape, lang_of, page};
use crate::staff::{Role, SESSION_SECONDS, StaffSession, same_secret};
use crate::store::CityStore;
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The portal's session cookie.
pub const SESSION_COOKIE: &str = "sillage_city_session";

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A logged-in staff member (any role). Pages reached without a session
/// redirect to the log-in form, then back.
pub struct Staff(pub StaffSession);

/// A logged-in editor; viewers get a 403 naming the role needed.
pub struct Editor(pub StaffSession);

impl Staff {
    /// The refusal to answer when `provided` is not this session's CSRF
    /// token (a stale form, or one from another site).
    pub fn csrf_refusal(&self, provided: &str) -> Option<Response> {
        (!same_secret(provided, &self.0.csrf_token)).then(|| {
            (
                StatusCode::FORBIDDEN,
                "this form is stale or did not come from the portal: reload the page",
            )
                .into_response()
        })
    }
}

impl FromRequestParts<CityStore> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, store: &CityStore) -> Result<Self, Response> {
        let now = crate::publishing::now_s() as i64;
        if let Some(token) = cookie(&parts.headers, SESSION_COOKIE)
            && let Ok(Some(session)) = store.session(token, now).await
        {
            return Ok(Staff(session));
        }
        let next = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        if parts.method == axum::http::Method::GET {
            let target = format!("/login?next={}", urlencode(&next));
            Err(Redirect::to(&target).into_response())
        } else {
            Err((StatusCode::UNAUTHORIZED, "log in first").into_response())
        }
    }
}

impl FromRequestParts<CityStore> for Editor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, store: &CityStore) -> Result<Self, Response> {
        let Staff(session) = Staff::from_request_parts(parts, store).await?;
        if session.member.role == Role::Editor {
            Ok(Editor(session))
        } else {
            Err((
                StatusCode::FORBIDDEN,
                "this needs the editor role; viewers read campaigns and results",
            )
                .into_response())
        }
    }
}

impl Editor {
    /// The session as a [`Staff`] (for the CSRF check and page chrome).
    pub fn staff(&self) -> Staff {
        Staff(self.0.clone())
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only paths of this portal are followed after log-in.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        // Browsers read `/\host` and `/<tab>/host` as `//host`: another site.
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.contains('\\')
                && !next.chars().any(char::is_control) =>
        {
            next
        }
        _ => "/",
    }
}

#[derive(Deserialize)]
pub(super) struct LoginQuery {
    lang: Option<String>,
    next: Option<String>,
}

fn login_page(fr: bool, next: &str, error: Option<&str>) -> Response {
    let body = format!(
        "{error}<form method=\"post\" action=\"/login\" class=\"login\"><input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <p><label>{name} <input name=\"name\" autocomplete=\"username\" required></label></p>\
         <p><label>{password} <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label></p>\
         <p><button>{submit}</button></p></form><p>{note}</p>",
        error = error.map_or(String::new(), |e| format!(
            "<p role=\"alert\" class=\"error\">{}</p>",
            escape(e)
        )),
        next = escape(next),
        name = if fr { "Identifiant" } else { "Name" },
        password = if fr { "Mot de passe" } else { "Password" },
        submit = if fr { "Se connecter" } else { "Log in" },
        note = if fr {
            "Réservé aux agents de la ville. Les habitants utilisent l'application Sillage."
        } else {
            "For the city's staff. Residents use the Sillage app."
        },
    );
    page(
        None,
        fr,
        if fr {
            "Connexion au portail de la ville"
        } else {
            "City portal log-in"
        },
        &body,
    )
    .into_response()
}

pub(super) async fn login_form(Query(q): Query<LoginQuery>) -> Response {
    let fr = q.lang.as_deref() != Some("en");
    login_page(fr, safe_next(q.next.as_deref()), None)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

/// Log-ins checked at once: each costs an Argon2 hash (tens of MB, tens
/// of ms), so a flood of attempts waits instead of exhausting memory.
static LOGIN_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

pub(super) async fn login(
    State(store): State<CityStore>,
    Query(q): Query<LangQuery>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref()).to_owned();
    let fr = lang_of(&next).unwrap_or(q.fr());
    let Ok(_permit) = LOGIN_CHECKS.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    match store
        .log_in(&form.name, &form.password, crate::publishing::now_s() as i64)
        .await
    {
        Ok(Some(token)) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, next),
                (
                    header::SET_COOKIE,
                    format!(
                        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}"
                    ),
                ),
            ],
        )
            .into_response(),
        Ok(None) => {
            let mut response = login_page(
                fr,
                &next,
                Some(if fr {
                    "Identifiant ou mot de passe incorrect."
                } else {
                    "Wrong name or password."
                }),
            );
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_of_the_portal_are_followed() {
        assert_eq!(
            safe_next(Some("/campaigns/x?lang=en")),
            "/campaigns/x?lang=en"
        );
        for elsewhere in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(elsewhere)), "/", "{elsewhere:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(
    State(store): State<CityStore>,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = staff.csrf_refusal(&form.csrf) {
        return refused;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let _ = store.log_out(token).await;
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/login".to_owned()),
            (
                header::SET_COOKIE,
                format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
            ),
        ],
    )
        .into_response()
}
