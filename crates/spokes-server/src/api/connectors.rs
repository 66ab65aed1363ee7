//! `/v1/connectors`: the connector catalogue, the partner's HubSpot app setup and the copies
//! of the Custom Objects category bound to a schema.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use spokes_core::{ConnectorSetup, CustomObjectCopy, Secret};
use spokes_hubspot::catalogue::custom_objects;
use spokes_hubspot::connector::{self, CONNECTOR_ID, CONNECTOR_NAME, PARAMETERS};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::openapi::schema::{self, ErrorBody};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupBody {
    /// The Client ID from the Auth tab of your HubSpot app.
    client_id: String,
    /// May be left out to keep the stored secret when the client id does not change.
    client_secret: Option<String>,
    /// The default `Scopes` and `OptionalScopes` of installations, space-separated.
    #[serde(default)]
    properties: BTreeMap<String, String>,
}

pub fn unknown_connector(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "connector `{id}` does not exist; GET /v1/connectors lists the connectors"
    ))
}

pub fn property_error(err: connector::PropertyError) -> ApiError {
    let code = match err {
        connector::PropertyError::UnknownProperty(_) => "unknown_property",
        connector::PropertyError::UnknownScopes { .. } => "unknown_scope",
    };
    ApiError::bad_request(code, err.to_string())
}

async fn view(state: &AppState, warnings: Vec<String>) -> ApiResult<Value> {
    let setup = state.store.get_connector_setup(CONNECTOR_ID).await?;
    let parameters: Vec<Value> = PARAMETERS
        .iter()
        .map(|p| json!({"name": p.name, "description": p.description, "default": p.default}))
        .collect();
    let mut body = json!({
        "id": CONNECTOR_ID,
        "name": CONNECTOR_NAME,
        "auth_type": "oauth2",
        "parameters": parameters,
        "configured": setup.is_some(),
        "client_id": setup.as_ref().map(|s| s.client_id.clone()),
        "properties": setup.as_ref().map(|s| s.properties.clone()).unwrap_or_default(),
        "redirect_url": state.config.callback_url(),
        "webhook_url": state.config.webhook_url(),
    });
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    Ok(body)
}

/// List the connectors.
#[utoipa::path(
    get,
    path = "/v1/connectors",
    tag = "Connectors",
    operation_id = "connectors.list",
    responses((status = 200, description = "The connectors (HubSpot)", body = schema::ConnectorList)),
)]
pub async fn list(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"data": [view(&state, Vec::new()).await?]})))
}

/// Get a connector: its parameters, setup and Redirect URL.
#[utoipa::path(
    get,
    path = "/v1/connectors/{connector}",
    tag = "Connectors",
    operation_id = "connectors.get",
    params(("connector" = String, Path, description = "`hubspot`")),
    responses(
        (status = 200, description = "The connector", body = schema::Connector),
        (status = 404, description = "`not_found`: no such connector", body = ErrorBody),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if id != CONNECTOR_ID {
        return Err(unknown_connector(&id));
    }
    Ok(Json(view(&state, Vec::new()).await?))
}

/// Store your HubSpot app's credentials and the default scopes.
#[utoipa::path(
    put,
    path = "/v1/connectors/{connector}/setup",
    tag = "Connectors",
    operation_id = "connectors.put_setup",
    params(("connector" = String, Path, description = "`hubspot`")),
    request_body = SetupBody,
    responses(
        (status = 200, description = "The connector with its new setup, and `warnings` about the scopes", body = schema::Connector),
        (status = 400, description = "`invalid_client_id`, `invalid_client_secret`, `unknown_property`, `unknown_scope`, `invalid_json`, `invalid_request`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key is restricted to one account", body = ErrorBody),
        (status = 404, description = "`not_found`: no such connector", body = ErrorBody),
    ),
)]
pub async fn put_setup(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetupBody>,
) -> ApiResult<Json<Value>> {
    caller.require_partner()?;
    if id != CONNECTOR_ID {
        return Err(unknown_connector(&id));
    }
    let client_id = body.client_id.trim().to_string();
    if client_id.is_empty() || client_id.len() > 256 {
        return Err(ApiError::bad_request(
            "invalid_client_id",
            "`client_id` must be the Client ID from the Auth tab of your HubSpot app",
        ));
    }
    let warnings = connector::validate_properties(&body.properties).map_err(property_error)?;
    let existing = state.store.get_connector_setup(CONNECTOR_ID).await?;
    let client_secret = match (body.client_secret, existing) {
        (Some(secret), _) if !secret.trim().is_empty() && secret.len() <= 512 => {
            Secret::from(secret.trim())
        }
        (None, Some(existing)) if existing.client_id == client_id => existing.client_secret,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_client_secret",
                "`client_secret` must be the Client Secret from the Auth tab of your HubSpot app",
            ));
        }
    };
    let setup = ConnectorSetup {
        connector: CONNECTOR_ID.into(),
        client_id,
        client_secret,
        properties: body.properties,
        updated_at: state.clock.now_ms(),
    };
    state.store.put_connector_setup(&setup).await?;
    tracing::info!(connector = CONNECTOR_ID, "connector setup saved");
    Ok(Json(view(&state, warnings).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyBody {
    /// The category the copied methods show, e.g. `Cars`.
    category: String,
}

fn copy_view(copy: &CustomObjectCopy) -> Value {
    let methods: Vec<String> = custom_objects::copy_for_schema(&copy.schema_name, &copy.category)
        .into_iter()
        .map(|m| m.id)
        .collect();
    json!({"schema": copy.schema_name, "category": copy.category, "methods": methods})
}

/// List the copies of the Custom Objects category.
#[utoipa::path(
    get,
    path = "/v1/connectors/{connector}/custom-objects",
    tag = "Connectors",
    operation_id = "custom_objects.list_copies",
    params(("connector" = String, Path, description = "`hubspot`")),
    responses(
        (status = 200, description = "The copies, by schema name", body = schema::CustomObjectCopyList),
        (status = 404, description = "`not_found`: no such connector", body = ErrorBody),
    ),
)]
pub async fn list_copies(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if id != CONNECTOR_ID {
        return Err(unknown_connector(&id));
    }
    let copies = state.store.list_custom_object_copies(CONNECTOR_ID).await?;
    Ok(Json(
        json!({"data": copies.iter().map(copy_view).collect::<Vec<_>>()}),
    ))
}

/// Copy the Custom Objects category for one custom object schema.
///
/// The copy's methods (`<schema>.create`, `<schema>.get`, `<schema>.list`, …) are the record
/// methods of the Custom Objects category without their `objectType` parameter: in each
/// portal they act on `p<portalId>_<schema>`. They are listed with the catalogue under the
/// category given here, and called like any method. Putting an existing copy renames its
/// category.
#[utoipa::path(
    put,
    path = "/v1/connectors/{connector}/custom-objects/{schema}",
    tag = "Connectors",
    operation_id = "custom_objects.put_copy",
    params(
        ("connector" = String, Path, description = "`hubspot`"),
        ("schema" = String, Path, description = "The custom object schema's `name`, e.g. `cars`"),
    ),
    request_body = CopyBody,
    responses(
        (status = 200, description = "The copy and its method ids", body = schema::CustomObjectCopy),
        (status = 400, description = "`invalid_parameters`: not a schema name, a name whose methods the catalogue has, or an empty category", body = ErrorBody),
        (status = 403, description = "`forbidden`: the key is restricted to one account", body = ErrorBody),
        (status = 404, description = "`not_found`: no such connector", body = ErrorBody),
    ),
)]
pub async fn put_copy(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, schema_name)): Path<(String, String)>,
    ApiJson(body): ApiJson<CopyBody>,
) -> ApiResult<Json<Value>> {
    caller.require_partner()?;
    if id != CONNECTOR_ID {
        return Err(unknown_connector(&id));
    }
    if let Some(problem) = custom_objects::copy_name_problem(&schema_name) {
        return Err(ApiError::bad_request("invalid_parameters", problem));
    }
    let category = body.category.trim();
    if category.is_empty() || category.len() > 100 {
        return Err(ApiError::bad_request(
            "invalid_parameters",
            "`category` must be 1 to 100 characters, e.g. `Cars`",
        ));
    }
    let copy = CustomObjectCopy {
        connector: CONNECTOR_ID.into(),
        schema_name,
        category: category.into(),
        created_at: state.clock.now_ms(),
    };
    state.store.put_custom_object_copy(&copy).await?;
    tracing::info!(connector = CONNECTOR_ID, schema = %copy.schema_name, "custom objects category copied");
    Ok(Json(copy_view(&copy)))
}

/// Delete a copy of the Custom Objects category: its methods are gone from the catalogue.
#[utoipa::path(
    delete,
    path = "/v1/connectors/{connector}/custom-objects/{schema}",
    tag = "Connectors",
    operation_id = "custom_objects.delete_copy",
    params(
        ("connector" = String, Path, description = "`hubspot`"),
        ("schema" = String, Path, description = "The custom object schema's `name`"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`forbidden`: the key is restricted to one account", body = ErrorBody),
        (status = 404, description = "`not_found`: no such connector or copy", body = ErrorBody),
    ),
)]
pub async fn delete_copy(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, schema_name)): Path<(String, String)>,
) -> ApiResult<axum::http::StatusCode> {
    caller.require_partner()?;
    if id != CONNECTOR_ID {
        return Err(unknown_connector(&id));
    }
    if !state
        .store
        .delete_custom_object_copy(CONNECTOR_ID, &schema_name)
        .await?
    {
        return Err(ApiError::not_found(format!(
            "there is no copy of the Custom Objects category for `{schema_name}`; GET /v1/connectors/hubspot/custom-objects lists them"
        )));
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}
