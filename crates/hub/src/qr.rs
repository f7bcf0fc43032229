//! The QR code that connects a phone's tracker app: it carries the hub's
//! OwnTracks endpoint and the device token, so the citizen types nothing.

use crate::error::HubError;
use qrcode::QrCode;
use qrcode::render::svg;

/// What the QR code encodes: the endpoint URL with the token, which every
/// supported app accepts as `?token=` (OwnTracks also as its password).
pub fn device_url(base: &str, token: &str) -> String {
    format!("{base}/ingest/owntracks?token={token}")
}

/// An SVG QR code of [`device_url`].
pub fn device_qr(base: &str, token: &str) -> Result<String, HubError> {
    let code = QrCode::new(device_url(base, token).as_bytes())
        .map_err(|e| HubError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}
