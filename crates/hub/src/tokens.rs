//! The hub's side of "one contribution per citizen per wave, unlinkable":
//! it issues each consenting citizen one anonymous token per aggregation
//! task (RFC 9474 RSA blind signatures). It checks who asks (the session),
//! that the task belongs to a campaign published here, that the citizen's
//! store holds their consent, and that no token was issued to them for
//! this task before; it signs a *blinded* message, so the token the leader
//! later sees cannot be linked to the citizen, by the leader or by the hub.

use crate::AppState;
use crate::error::HubError;
use crate::registry::Account;
use sillage_campaign::{CampaignSpec, SignedCampaign};
use sillage_dap::bytes::Bytes;
use sillage_dap::task::{TaskId, TaskParams};
use sillage_dap::token::TokenIssuer;
use sillage_model::Timestamp;
use tokio::sync::OnceCell;

/// The issuer, loaded (or created) on first use: RSA key generation takes
/// a moment and most hubs' processes never need it.
#[derive(Default)]
pub struct TokenDesk {
    issuer: OnceCell<(TokenIssuer, Bytes)>,
}

impl TokenDesk {
    async fn issuer(&self, state: &AppState) -> Result<&(TokenIssuer, Bytes), HubError> {
        self.issuer
            .get_or_try_init(|| async {
                let (der, public) = crate::keys::hub_key_pair(
                    &state.registry,
                    state.citizens.master(),
                    "token-issuer",
                    async || {
                        let issuer = tokio::task::spawn_blocking(TokenIssuer::generate)
                            .await
                            .map_err(internal)?
                            .map_err(internal)?;
                        let public = issuer.public_key().map_err(internal)?;
                        Ok((issuer.to_der().map_err(internal)?, public.0))
                    },
                )
                .await?;
                Ok((
                    TokenIssuer::from_der(&der).map_err(internal)?,
                    Bytes(public),
                ))
            })
            .await
    }

    /// The issuer's public key (DER, SPKI), which the city puts in its
    /// campaigns so that the leader can check tokens.
    pub async fn public_key(&self, state: &AppState) -> Result<Bytes, HubError> {
        Ok(self.issuer(state).await?.1.clone())
    }

    /// Signs `blinded` for `account` on task `task_id`, at most once.
    pub async fn issue(
        &self,
        state: &AppState,
        account: &Account,
        task_id: &TaskId,
        blinded: &Bytes,
    ) -> Result<Bytes, HubError> {
        let (spec, task) = published_task(state, task_id).await?;
        let (issuer, public) = self.issuer(state).await?;
        if task.token_issuer_key != *public {
            return Err(HubError::Conflict(
                "this campaign's tokens are issued by another hub".into(),
            ));
        }
        let now = (Timestamp::now().0 / 1000) as u64;
        if !(task.wave.start..task.wave.end).contains(&now) {
            return Err(HubError::Conflict(
                "the wave does not accept contributions now".into(),
            ));
        }
        let store = state.citizens.store(account).await?;
        let consent = sillage_contribution::consent_state(&store, &spec.id)
            .await
            .map_err(internal)?;
        if !consent.allows_contributions() {
            return Err(HubError::Forbidden(format!(
                "no consent to campaign {:?} (state: {consent})",
                spec.id
            )));
        }
        // Recorded before signing: a failure after this costs the citizen
        // this wave's token, never gives them two.
        if !state
            .registry
            .record_issuance(account.id, &task_id.to_string())
            .await?
        {
            return Err(HubError::Conflict(
                "a token was already issued to you for this wave".into(),
            ));
        }
        issuer
            .sign(blinded)
            .map_err(|e| HubError::BadRequest(e.to_string()))
    }
}

/// The published campaign a task belongs to, with the task.
pub async fn published_task(
    state: &AppState,
    task_id: &TaskId,
) -> Result<(CampaignSpec, TaskParams), HubError> {
    for spec in published_campaigns(state).await? {
        if let Some(task) = spec.tasks().into_iter().find(|t| t.task_id == *task_id) {
            return Ok((spec, task));
        }
    }
    Err(HubError::NotFound("task"))
}

/// Every campaign published on this hub.
pub async fn published_campaigns(state: &AppState) -> Result<Vec<CampaignSpec>, HubError> {
    state
        .registry
        .campaigns()
        .await?
        .iter()
        .map(|json| {
            let signed: SignedCampaign = serde_json::from_str(json).map_err(internal)?;
            serde_json::from_str(&signed.spec).map_err(internal)
        })
        .collect()
}

fn internal(error: impl std::fmt::Display) -> HubError {
    HubError::Internal(error.to_string())
}
