//! How accounts and installations look in API responses. Never a token or a secret.

use serde_json::{Value, json};
use spokes_core::{Account, ConnectorSetup, Installation, format_rfc3339};
use spokes_hubspot::connector::{EffectiveScopes, effective_scopes};
use spokes_hubspot::scopes;

pub fn account(a: &Account) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "timezone": a.timezone,
        "created_at": format_rfc3339(a.created_at),
        "updated_at": format_rfc3339(a.updated_at),
    })
}

pub fn scopes_for(installation: &Installation, setup: Option<&ConnectorSetup>) -> EffectiveScopes {
    let empty = Default::default();
    effective_scopes(
        &installation.properties,
        setup.map(|s| &s.properties).unwrap_or(&empty),
    )
}

pub fn installation(i: &Installation, setup: Option<&ConnectorSetup>) -> Value {
    let effective = scopes_for(i, setup);
    let mut all = effective.scopes.clone();
    all.extend(effective.optional_scopes.iter().cloned());
    let last_error = i
        .last_error
        .as_ref()
        .map(|e| json!({"code": e.code, "message": e.message, "at": format_rfc3339(e.at)}));
    let hubspot = i.portal.as_ref().map(|p| {
        json!({
            "portal_id": p.portal_id,
            "account_type": p.account_type,
            "ui_domain": p.ui_domain,
            "hub_domain": p.hub_domain,
            "user": p.user,
            "granted_scopes": p.granted_scopes,
            "token_expires_at": i.token_expires_at.map(format_rfc3339),
            "warnings": p.warnings,
            "last_error": last_error,
        })
    });
    json!({
        "id": i.id,
        "account_id": i.account_id,
        "connector": i.connector,
        "name": i.name,
        "status": i.status.as_str(),
        "properties": i.properties,
        "effective_scopes": {
            "Scopes": effective.scopes,
            "OptionalScopes": effective.optional_scopes,
        },
        "warnings": scopes::check(&all).warnings,
        "hubspot": hubspot,
        "last_error": last_error,
        "read_only": i.read_only,
        "created_at": format_rfc3339(i.created_at),
        "updated_at": format_rfc3339(i.updated_at),
    })
}
