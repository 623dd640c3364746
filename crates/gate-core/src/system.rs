//! [`Gate::system_admin`]: the caller the command line acts as. **CLI-only**: the HTTP
//! surfaces authenticate every request with a key and must never use it.
//!
//! `notion-gate user add`, `agent add`, `approvals approve` and the other administration
//! commands run on the machine that holds the database (and the vault key), so whoever can
//! run them already controls the gateway. Rather than asking for an admin key, they act as
//! the first administrator: the oldest enabled user with the admin flag. Every admin
//! operation still goes through the same authorization checks as over REST.

use gate_store::ApiKeyId;

use crate::caller::Caller;
use crate::error::GateError;
use crate::gate::Gate;

impl Gate {
    /// The first administrator (oldest enabled admin user) as a [`Caller`], for the command
    /// line only. Its key id is the nil UUID: no key authenticated it. `NotFound` when
    /// there is no enabled administrator yet.
    pub async fn system_admin(&self) -> Result<Caller, GateError> {
        let admin = self
            .inner
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| u.is_admin && !u.disabled)
            .min_by_key(|u| (u.created_at, u.id))
            .ok_or(GateError::NotFound {
                what: "administrator",
            })?;
        let connection = self.default_connection(admin.id).await?;
        Ok(Caller::user(
            admin.id,
            admin.name,
            true,
            connection,
            ApiKeyId::from_uuid(uuid::Uuid::nil()),
        ))
    }
}
