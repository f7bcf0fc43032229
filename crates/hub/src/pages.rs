//! The citizen's pages: server-rendered HTML that works without scripts
//! (maps and upload progress are the only scripted parts), French by
//! default, every form protected by the session's CSRF token.

use crate::auth::{CitizenSession, PRE_LOGIN_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::error::HubError;
use crate::i18n::{Lang, Tr};
use crate::registry::SESSION_LIFETIME_MS;
use crate::secrets::{Token, same_secret};
use crate::views::{self, BikeDays, Dashboard, DayView, Period, TripView};
use crate::{AppState, charts};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use sillage_model::{ImportBatch, Mode, Place, PlaceLabel, Purpose};
use std::net::SocketAddr;

/// What every signed-in page needs for its header.
pub struct Nav {
    /// Account name.
    pub name: String,
    /// CSRF token for the page's forms.
    pub csrf: String,
    /// Which menu entry is current.
    pub active: &'static str,
    /// The page's own path (to come back after switching language).
    pub path: String,
}

/// The header of a signed-in page.
pub(crate) fn nav(citizen: &CitizenSession, active: &'static str, path: String) -> Option<Nav> {
    Some(Nav {
        name: citizen.session.account.name.clone(),
        csrf: citizen.session.csrf_token.clone(),
        active,
        path,
    })
}

/// What templates of signed-in pages read from their header: the CSRF
/// token of their forms and the account name.
#[macro_export]
#[doc(hidden)]
macro_rules! signed_in_pages {
    ($($page:ident),+) => {$(
        impl $page {
            fn csrf(&self) -> &str {
                self.nav.as_ref().map_or("", |n| n.csrf.as_str())
            }

            #[allow(dead_code)]
            fn account_name(&self) -> &str {
                self.nav.as_ref().map_or("", |n| n.name.as_str())
            }
        }
    )+};
}

signed_in_pages!(WelcomePage, TripPage, PlacesPage, BikeDaysPage, DataPage);

/// Escapes text for HTML (for the few strings built outside templates).
pub fn escape(text: &str) -> String {
    askama::filters::escape(text, askama::filters::Html)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// Renders a page.
pub(crate) fn render(template: &impl Template) -> Result<Response, HubError> {
    let html = template
        .render()
        .map_err(|e| HubError::Internal(format!("template: {e}")))?;
    Ok(Html(html).into_response())
}

// ---------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    nav: Option<Nav>,
    signup: bool,
    error: Option<String>,
    name: String,
    form_token: String,
}

/// `?lang=` on pages before login.
#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn login_page(
    headers: &HeaderMap,
    lang: Lang,
    signup: bool,
    error: Option<String>,
    name: String,
    status: StatusCode,
    secure: bool,
) -> Result<Response, HubError> {
    // Double-submit: the form echoes a random cookie, which another site
    // can neither read nor set.
    let form_token = cookie(headers, PRE_LOGIN_COOKIE)
        .map(str::to_owned)
        .unwrap_or_else(|| Token::generate().as_str().to_owned());
    let page = LoginPage {
        t: Tr(lang),
        nav: None,
        signup,
        error,
        name,
        form_token: form_token.clone(),
    };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PRE_LOGIN_COOKIE, &form_token, 3600, secure)
            .parse()
            .expect("cookie"),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        format!(
            "sillage_lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
            lang.code()
        )
        .parse()
        .expect("cookie"),
    );
    Ok(response)
}

fn guest_lang(headers: &HeaderMap, query: &LangQuery) -> Lang {
    query
        .lang
        .as_deref()
        .or_else(|| cookie(headers, "sillage_lang"))
        .map(Lang::from_code)
        .unwrap_or_default()
}

/// `GET /login`.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Result<Response, HubError> {
    let lang = guest_lang(&headers, &query);
    login_page(
        &headers,
        lang,
        false,
        None,
        String::new(),
        StatusCode::OK,
        state.config.secure_cookies(),
    )
}

/// `GET /signup`.
pub async fn signup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Result<Response, HubError> {
    let lang = guest_lang(&headers, &query);
    login_page(
        &headers,
        lang,
        true,
        None,
        String::new(),
        StatusCode::OK,
        state.config.secure_cookies(),
    )
}

/// The login and signup forms.
#[derive(Deserialize)]
pub struct Credentials {
    csrf: String,
    name: String,
    password: String,
    #[serde(default)]
    password2: Option<String>,
}

fn check_pre_login(headers: &HeaderMap, provided: &str) -> Result<(), HubError> {
    match cookie(headers, PRE_LOGIN_COOKIE) {
        Some(expected) if same_secret(expected, provided) => Ok(()),
        _ => Err(HubError::Csrf),
    }
}

fn session_response(state: &AppState, token: &Token, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            token.as_str(),
            SESSION_LIFETIME_MS / 1000,
            state.config.secure_cookies(),
        )
        .parse()
        .expect("cookie"),
    );
    response
}

/// `POST /login`.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Result<Response, HubError> {
    check_pre_login(&headers, &form.csrf)?;
    let lang = guest_lang(&headers, &LangQuery { lang: None });
    let secure = state.config.secure_cookies();
    if let Some(wait) = state.limiter.retry_after(&form.name, peer.ip()) {
        return Err(HubError::TooManyAttempts(wait));
    }
    match state
        .registry
        .verify_login(&form.name, &form.password)
        .await?
    {
        Some(account) => {
            state.limiter.succeeded(&form.name);
            let (token, _) = state.registry.open_session(&account).await?;
            Ok(session_response(&state, &token, "/timeline"))
        }
        None => {
            state.limiter.failed(&form.name, peer.ip());
            let error = Tr(lang).s("login.failed").to_owned();
            login_page(
                &headers,
                lang,
                false,
                Some(error),
                form.name,
                StatusCode::UNAUTHORIZED,
                secure,
            )
        }
    }
}

/// `POST /signup`: creates the account and its encrypted store, then
/// goes to step 2 of onboarding.
pub async fn signup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Result<Response, HubError> {
    check_pre_login(&headers, &form.csrf)?;
    let lang = guest_lang(&headers, &LangQuery { lang: None });
    let t = Tr(lang);
    let secure = state.config.secure_cookies();
    // Signups cost an Argon2 hash and a store: they count like failures.
    if let Some(wait) = state.limiter.retry_after("", peer.ip()) {
        return Err(HubError::TooManyAttempts(wait));
    }
    let refuse = |message: String| {
        login_page(
            &headers,
            lang,
            true,
            Some(message),
            form.name.clone(),
            StatusCode::BAD_REQUEST,
            secure,
        )
    };
    if form.password2.as_deref() != Some(form.password.as_str()) {
        return refuse(t.s("signup.mismatch").to_owned());
    }
    if sillage_store::CitizenName::new(&form.name).is_err() {
        return refuse(t.s("signup.name_hint").to_owned());
    }
    let account = match state
        .citizens
        .create(&state.registry, &form.name, &form.password)
        .await
    {
        Ok(account) => account,
        Err(crate::citizens::CitizenError::Registry(
            crate::registry::RegistryError::NameTaken(_),
        )) => {
            state.limiter.failed("", peer.ip());
            return refuse(t.s("signup.taken").to_owned());
        }
        Err(crate::citizens::CitizenError::Registry(
            crate::registry::RegistryError::WeakPassword,
        )) => {
            return refuse(t.s("signup.weak").to_owned());
        }
        Err(other) => return Err(other.into()),
    };
    state.registry.set_lang(account.id, lang.code()).await?;
    let (token, _) = state.registry.open_session(&account).await?;
    Ok(session_response(&state, &token, "/welcome"))
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Form(form): Form<CsrfForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    state.registry.close_session(&citizen.cookie).await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies())
            .parse()
            .expect("cookie"),
    );
    Ok(response)
}

/// The language switch.
#[derive(Deserialize)]
pub struct LangForm {
    csrf: String,
    lang: String,
    back: String,
}

/// `POST /lang`.
pub async fn set_lang(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Form(form): Form<LangForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    let lang = Lang::from_code(&form.lang);
    state
        .registry
        .set_lang(citizen.session.account.id, lang.code())
        .await?;
    // Only a local path: never an open redirect.
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") {
        form.back
    } else {
        "/".to_owned()
    };
    Ok(Redirect::to(&back).into_response())
}

/// `GET /`.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, HubError> {
    let signed_in = match cookie(&headers, SESSION_COOKIE) {
        Some(value) => state.registry.session(value).await?.is_some(),
        None => false,
    };
    Ok(Redirect::to(if signed_in { "/timeline" } else { "/login" }).into_response())
}

// ---------------------------------------------------------------- onboarding and devices

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    t: Tr,
    nav: Option<Nav>,
}

/// `GET /welcome`: bring your data (step 2 of 3).
pub async fn welcome(citizen: CitizenSession) -> Result<Response, HubError> {
    render(&WelcomePage {
        t: Tr(citizen.lang()),
        nav: nav(&citizen, "welcome", "/welcome".into()),
    })
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    t: Tr,
    nav: Option<Nav>,
    label: String,
    token: String,
    base: String,
    qr_svg: String,
}

/// The new-device form.
#[derive(Deserialize)]
pub struct DeviceForm {
    csrf: String,
    label: String,
}

/// `POST /devices`: a device token, shown once, with a QR code carrying the
/// endpoint and the token.
pub async fn add_device(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Form(form): Form<DeviceForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    let (device, token) =
        crate::api::new_device(&state, &citizen.session.account, &form.label).await?;
    let base = state.config.public_url();
    let qr_svg = crate::qr::device_qr(&base, token.as_str())?;
    let page = DevicePage {
        t: Tr(citizen.lang()),
        nav: nav(&citizen, "welcome", "/welcome".into()),
        label: device.label,
        token: token.as_str().to_owned(),
        base,
        qr_svg,
    };
    let mut response = render(&page)?;
    // The token is shown once: never from a cache.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("header"));
    Ok(response)
}

/// `POST /devices/{id}/delete`.
pub async fn remove_device(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    state
        .registry
        .remove_device(citizen.session.account.id, id)
        .await?;
    Ok(Redirect::to("/data").into_response())
}

// ---------------------------------------------------------------- timeline and trips

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    t: Tr,
    nav: Option<Nav>,
    day: DayView,
}

/// `?day=YYYY-MM-DD`.
#[derive(Deserialize)]
pub struct DayQuery {
    day: Option<String>,
}

/// `GET /timeline`: one local day, the most recent with trips by default.
pub async fn timeline(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Query(query): Query<DayQuery>,
) -> Result<Response, HubError> {
    let store = state.citizens.store(&citizen.session.account).await?;
    let date = match query.day {
        Some(day) => day,
        None => views::latest_day(&store).await?,
    };
    let (day, _) = views::day(&store, &date).await?;
    render(&TimelinePage {
        t: Tr(citizen.lang()),
        nav: nav(&citizen, "timeline", format!("/timeline?day={date}")),
        day,
    })
}

#[derive(Template)]
#[template(path = "trip.html")]
struct TripPage {
    t: Tr,
    nav: Option<Nav>,
    trip: TripView,
    modes: Vec<&'static str>,
    purposes: Vec<&'static str>,
    notice: Option<String>,
}

/// `?done=1` after a correction.
#[derive(Deserialize)]
pub struct NoticeQuery {
    done: Option<String>,
}

/// `GET /trips/{id}`.
pub async fn trip(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<i64>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, HubError> {
    let store = state.citizens.store(&citizen.session.account).await?;
    let trip = views::trip(&store, id).await?;
    let places = views::places_by_id(&store).await?;
    let t = Tr(citizen.lang());
    render(&TripPage {
        t,
        nav: nav(&citizen, "timeline", format!("/trips/{id}")),
        trip: views::trip_view(&trip, &places),
        modes: Mode::ALL.iter().map(|m| m.as_str()).collect(),
        purposes: Purpose::ALL.iter().map(|p| p.as_str()).collect(),
        notice: query.done.map(|_| t.s("trip.corrected").to_owned()),
    })
}

/// A correction form: a leg's mode, the purpose, privacy, a cut or a merge.
#[derive(Deserialize)]
pub struct CorrectionForm {
    csrf: String,
    leg: Option<usize>,
    mode: Option<String>,
    purpose: Option<String>,
    private: Option<bool>,
    split_at: Option<String>,
    merge_with_next: Option<bool>,
}

/// `POST /trips/{id}/correct`.
pub async fn correct(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<i64>,
    Form(form): Form<CorrectionForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    let change = crate::api::trip_correction(&crate::api::CorrectionBody {
        leg: form.leg,
        mode: form.mode,
        purpose: form.purpose,
        private: form.private,
        split_at: form.split_at,
        merge_with_next: form.merge_with_next,
    })?;
    let new_id =
        crate::api::apply_correction(&state, &citizen.session.account, id, &change).await?;
    Ok(Redirect::to(&format!("/trips/{new_id}?done=1")).into_response())
}

// ---------------------------------------------------------------- dashboard

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    t: Tr,
    nav: Option<Nav>,
    board: Dashboard,
    km_chart: String,
    co2_chart: String,
    share_chart: String,
}

/// `?period=week|month|year`.
#[derive(Deserialize)]
pub struct PeriodQuery {
    period: Option<String>,
}

/// `GET /dashboard`.
pub async fn dashboard(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, HubError> {
    let period =
        Period::from_name(query.period.as_deref().unwrap_or("month")).unwrap_or(Period::Month);
    let store = state.citizens.store(&citizen.session.account).await?;
    let board = views::dashboard(&store, period, 12).await?;
    let t = Tr(citizen.lang());
    render(&DashboardPage {
        km_chart: charts::stacked_bars(&board, t, charts::Measure::Km),
        co2_chart: charts::stacked_bars(&board, t, charts::Measure::Co2Kg),
        share_chart: charts::modal_share(&board, t),
        t,
        nav: nav(
            &citizen,
            "dashboard",
            format!("/dashboard?period={}", period.as_str()),
        ),
        board,
    })
}

// ---------------------------------------------------------------- places

#[derive(Template)]
#[template(path = "places.html")]
struct PlacesPage {
    t: Tr,
    nav: Option<Nav>,
    places: Vec<Place>,
    labels: Vec<&'static str>,
}

/// `GET /places`.
pub async fn places(
    State(state): State<AppState>,
    citizen: CitizenSession,
) -> Result<Response, HubError> {
    let store = state.citizens.store(&citizen.session.account).await?;
    let mut places = store.places().await?;
    places.sort_by_key(|p| std::cmp::Reverse(p.visits));
    render(&PlacesPage {
        t: Tr(citizen.lang()),
        nav: nav(&citizen, "places", "/places".into()),
        places,
        labels: PlaceLabel::ALL.iter().map(|l| l.as_str()).collect(),
    })
}

/// The place form.
#[derive(Deserialize)]
pub struct PlaceForm {
    csrf: String,
    name: String,
    label: String,
    private: Option<bool>,
}

/// `POST /places/{id}`.
pub async fn edit_place(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<i64>,
    Form(form): Form<PlaceForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    let edit = crate::api::place_edit(
        Some(&form.name),
        Some(&form.label),
        Some(form.private.unwrap_or(false)),
    )?;
    crate::api::apply_place_edit(&state, &citizen.session.account, id, &edit).await?;
    Ok(Redirect::to("/places").into_response())
}

/// `POST /places/{id}/delete`.
pub async fn delete_place(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    crate::api::remove_place(&state, &citizen.session.account, id).await?;
    Ok(Redirect::to("/places").into_response())
}

// ---------------------------------------------------------------- bike days

#[derive(Template)]
#[template(path = "bikedays.html")]
struct BikeDaysPage {
    t: Tr,
    nav: Option<Nav>,
    goal: BikeDays,
    name: String,
    employer: String,
}

/// `?year=`.
#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<i64>,
}

/// `GET /bike-days`.
pub async fn bike_days(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Query(query): Query<YearQuery>,
) -> Result<Response, HubError> {
    let store = state.citizens.store(&citizen.session.account).await?;
    let year = query.year.unwrap_or_else(views::this_year);
    let goal = views::bike_days(&store, year).await?;
    render(&BikeDaysPage {
        t: Tr(citizen.lang()),
        nav: nav(&citizen, "bike-days", format!("/bike-days?year={year}")),
        goal,
        name: store
            .setting(views::NAME_SETTING)
            .await?
            .unwrap_or_default(),
        employer: store
            .setting(views::EMPLOYER_SETTING)
            .await?
            .unwrap_or_default(),
    })
}

/// The bike-days settings form.
#[derive(Deserialize)]
pub struct BikeDaysForm {
    csrf: String,
    year: i64,
    target: u32,
    name: String,
    employer: String,
}

/// `POST /bike-days`.
pub async fn save_bike_days(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Form(form): Form<BikeDaysForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    crate::api::save_bike_settings(
        &state,
        &citizen.session.account,
        form.target,
        &form.name,
        &form.employer,
    )
    .await?;
    Ok(Redirect::to(&format!("/bike-days?year={}", form.year)).into_response())
}

/// `GET /bike-days/attestation.pdf`.
pub async fn attestation(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Query(query): Query<YearQuery>,
) -> Result<Response, HubError> {
    let year = query.year.unwrap_or_else(views::this_year);
    crate::api::attestation_pdf(&state, &citizen.session.account, year, citizen.lang()).await
}

// ---------------------------------------------------------------- my data

#[derive(Template)]
#[template(path = "data.html")]
struct DataPage {
    t: Tr,
    nav: Option<Nav>,
    imports: Vec<ImportBatch>,
    devices: Vec<crate::registry::Device>,
    notice: Option<String>,
}

/// `?undone=N` after an undo.
#[derive(Deserialize)]
pub struct UndoneQuery {
    undone: Option<u64>,
}

/// `GET /data`.
pub async fn data(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Query(query): Query<UndoneQuery>,
) -> Result<Response, HubError> {
    let store = state.citizens.store(&citizen.session.account).await?;
    let mut imports = store.imports().await?;
    imports.reverse();
    let t = Tr(citizen.lang());
    render(&DataPage {
        t,
        nav: nav(&citizen, "data", "/data".into()),
        imports,
        devices: state.registry.devices(citizen.session.account.id).await?,
        notice: query.undone.map(|n| t.f("data.undone", n)),
    })
}

/// `POST /data/imports/{id}/undo`.
pub async fn undo_import(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    let removed = crate::api::undo(&state, &citizen.session.account, id).await?;
    Ok(Redirect::to(&format!("/data?undone={removed}")).into_response())
}

/// The delete-account form: the citizen types their name to confirm.
#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: String,
    confirm: String,
}

/// `POST /account/delete`: everything goes, then back to the login page.
pub async fn delete_account(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Form(form): Form<DeleteForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    if form.confirm.trim() != citizen.session.account.name {
        return Err(HubError::BadRequest(
            Tr(citizen.lang()).s("data.delete_mismatch").to_owned(),
        ));
    }
    state
        .citizens
        .delete(&state.registry, &citizen.session.account)
        .await?;
    let mut response = Redirect::to("/login?deleted=1").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies())
            .parse()
            .expect("cookie"),
    );
    Ok(response)
}
