//! The city's staff accounts and their sessions.
//!
//! Staff are not citizens: they log into the portal, never into a hub, and
//! their accounts live in the city's database. An editor designs, publishes
//! and collects campaigns; a viewer reads results and participation.
//! Passwords are kept as Argon2id hashes, sessions as the SHA-256 of their
//! cookie.

use crate::store::{CityError, CityStore};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::sync::OnceLock;

/// What a staff member may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Designs, publishes and collects campaigns; reads everything.
    Editor,
    /// Reads campaigns, participation and results.
    Viewer,
}

impl Role {
    /// The role's name as stored and typed (`editor`, `viewer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// Parses `editor` or `viewer`.
    pub fn parse(text: &str) -> Result<Self, CityError> {
        match text {
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            other => Err(CityError::Invalid(format!(
                "role {other:?}: expected \"editor\" or \"viewer\""
            ))),
        }
    }
}

/// A staff member, without their password.
#[derive(Clone, Debug, PartialEq)]
pub struct StaffMember {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// What they may do.
    pub role: Role,
}

/// A live portal session.
#[derive(Clone, Debug)]
pub struct StaffSession {
    /// Who is logged in.
    pub member: StaffMember,
    /// The token every form of this session must echo.
    pub csrf_token: String,
}

/// How long a portal session lasts.
pub const SESSION_SECONDS: i64 = 8 * 3600;

/// 256 random bits, URL-safe base64.
pub(crate) fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    digest(a)
        .iter()
        .zip(digest(b).iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A hash to verify unknown names against, so that a wrong name costs the
/// same Argon2 work as a wrong password and timing does not tell which
/// names exist.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        Argon2::default()
            .hash_password(random_token().as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

fn member_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<StaffMember, CityError> {
    Ok(StaffMember {
        id: row.get("id"),
        name: row.get("name"),
        role: Role::parse(row.get("role"))?,
    })
}

impl CityStore {
    /// Creates a staff account, or resets the password and role of an
    /// existing one. Passwords need at least 10 characters.
    pub async fn set_staff(&self, name: &str, password: &str, role: Role) -> Result<(), CityError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 {
            return Err(CityError::Invalid(
                "staff name: expected 1 to 64 characters".into(),
            ));
        }
        if password.chars().count() < 10 {
            return Err(CityError::Invalid(
                "staff password: expected at least 10 characters".into(),
            ));
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
        })
        .await
        .map_err(|e| CityError::Invalid(format!("hashing: {e}")))?
        .map_err(|e| CityError::Invalid(format!("hashing: {e}")))?;
        sqlx::query(
            "INSERT INTO staff (name, password_hash, role, created_at) VALUES (?, ?, ?, unixepoch())
             ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role",
        )
        .bind(name)
        .bind(hash)
        .bind(role.as_str())
        .execute(&self.pool)
        .await?;
        // A reset password ends the sessions opened with the old one.
        sqlx::query(
            "DELETE FROM staff_sessions WHERE staff_id = (SELECT id FROM staff WHERE name = ?)",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every staff member, by name.
    pub async fn staff(&self) -> Result<Vec<StaffMember>, CityError> {
        sqlx::query("SELECT id, name, role FROM staff ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(member_from_row)
            .collect()
    }

    /// Opens a session for `name` if `password` is theirs; returns the
    /// session cookie's value.
    pub async fn log_in(
        &self,
        name: &str,
        password: &str,
        now: i64,
    ) -> Result<Option<String>, CityError> {
        let row = sqlx::query("SELECT id, password_hash FROM staff WHERE name = ?")
            .bind(name.trim())
            .fetch_optional(&self.pool)
            .await?;
        let stored = match &row {
            Some(row) => row.get::<String, _>("password_hash"),
            None => dummy_hash().to_owned(),
        };
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
        })
        .await
        .map_err(|e| CityError::Invalid(format!("verifying: {e}")))?;
        let Some(row) = row.filter(|_| verified) else {
            return Ok(None);
        };
        let token = random_token();
        sqlx::query("DELETE FROM staff_sessions WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(digest(&token))
        .bind(row.get::<i64, _>("id"))
        .bind(random_token())
        .bind(now + SESSION_SECONDS)
        .execute(&self.pool)
        .await?;
        Ok(Some(token))
    }

    /// The live session of a cookie, if any.
    pub async fn session(&self, token: &str, now: i64) -> Result<Option<StaffSession>, CityError> {
        let row = sqlx::query(
            "SELECT staff.id, staff.name, staff.role, staff_sessions.csrf_token
             FROM staff_sessions JOIN staff ON staff.id = staff_sessions.staff_id
             WHERE staff_sessions.token_hash = ? AND staff_sessions.expires_at > ?",
        )
        .bind(digest(token))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StaffSession {
                member: member_from_row(&row)?,
                csrf_token: row.get("csrf_token"),
            })
        })
        .transpose()
    }

    /// Ends a session.
    pub async fn log_out(&self, token: &str) -> Result<(), CityError> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = ?")
            .bind(digest(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn staff_log_in_with_their_password_and_keep_their_role() {
        let dir = tempfile::tempdir().unwrap();
        let store = CityStore::open(dir.path()).await.unwrap();
        store
            .set_staff("urbaniste", "une phrase de passe", Role::Editor)
            .await
            .unwrap();
        store
            .set_staff("lecteur", "une autre phrase", Role::Viewer)
            .await
            .unwrap();
        assert!(
            store
                .set_staff("court", "trop", Role::Viewer)
                .await
                .is_err()
        );
        assert!(Role::parse("admin").is_err());

        assert!(
            store
                .log_in("urbaniste", "mauvaise phrase", 100)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .log_in("inconnu", "une phrase de passe", 100)
                .await
                .unwrap()
                .is_none()
        );
        let token = store
            .log_in("urbaniste", "une phrase de passe", 100)
            .await
            .unwrap()
            .unwrap();
        let session = store.session(&token, 200).await.unwrap().unwrap();
        assert_eq!(session.member.role, Role::Editor);
        assert!(same_secret(&session.csrf_token, &session.csrf_token));
        assert!(!same_secret(&session.csrf_token, &token));
        // Sessions expire, end at log-out and at a password reset.
        assert!(
            store
                .session(&token, 100 + SESSION_SECONDS)
                .await
                .unwrap()
                .is_none()
        );
        store.log_out(&token).await.unwrap();
        assert!(store.session(&token, 200).await.unwrap().is_none());
        let token = store
            .log_in("lecteur", "une autre phrase", 100)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .session(&token, 200)
                .await
                .unwrap()
                .unwrap()
                .member
                .role,
            Role::Viewer
        );
        store
            .set_staff("lecteur", "nouvelle phrase longue", Role::Editor)
            .await
            .unwrap();
        assert!(store.session(&token, 200).await.unwrap().is_none());
        let names: Vec<_> = store
            .staff()
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.name, m.role))
            .collect();
        assert_eq!(
            names,
            [
                ("lecteur".to_owned(), Role::Editor),
                ("urbaniste".to_owned(), Role::Editor)
            ]
        );
    }
}
