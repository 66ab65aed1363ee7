//! `/v1/connectors/hubspot/methods`: the method catalogue, for partners and their tools.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use spokes_hubspot::catalogue::{self, Body, Location, MethodDef, Paging, custom_objects};
use spokes_hubspot::connector::CONNECTOR_ID;

use super::connectors::unknown_connector;
use super::installations::unknown_method;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::openapi::schema::{self, ErrorBody};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Only this category (case-insensitive).
    category: Option<String>,
    /// Only methods whose id, name or description contains this text (case-insensitive).
    q: Option<String>,
}

/// List the methods of the catalogue.
#[utoipa::path(
    get,
    path = "/v1/connectors/{connector}/methods",
    tag = "Methods",
    operation_id = "methods.list",
    params(("connector" = String, Path, description = "`hubspot`"), Filter),
    responses(
        (status = 200, description = "The methods, by category then id", body = schema::MethodList),
        (status = 400, description = "An unknown query parameter"),
        (status = 404, description = "`not_found`: no such connector", body = ErrorBody),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Path(connector): Path<String>,
    Query(filter): Query<Filter>,
) -> ApiResult<Json<Value>> {
    if connector != CONNECTOR_ID {
        return Err(unknown_connector(&connector));
    }
    let q = filter.q.as_deref().map(str::to_lowercase);
    let copies = copied_methods(&state).await?;
    let methods: Vec<Value> = catalogue::all()
        .iter()
        .chain(&copies)
        .filter(|m| {
            filter
                .category
                .as_ref()
                .is_none_or(|c| m.category.eq_ignore_ascii_case(c))
        })
        .filter(|m| {
            q.as_ref().is_none_or(|q| {
                [&m.id, &m.name, &m.description]
                    .iter()
                    .any(|text| text.to_lowercase().contains(q))
            })
        })
        .map(|m| summary(&state, m))
        .collect();
    Ok(Json(json!({ "methods": methods })))
}

/// Get one method with the JSON Schemas of its input and output.
#[utoipa::path(
    get,
    path = "/v1/connectors/{connector}/methods/{method}",
    tag = "Methods",
    operation_id = "methods.get",
    params(
        ("connector" = String, Path, description = "`hubspot`"),
        ("method" = String, Path, description = "A method id, e.g. `contacts.create`"),
    ),
    responses(
        (status = 200, description = "The method", body = schema::MethodDetail),
        (status = 404, description = "`not_found`: no such connector or method (with close matches)", body = ErrorBody),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    Path((connector, method)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    if connector != CONNECTOR_ID {
        return Err(unknown_connector(&connector));
    }
    let copy;
    let method = match catalogue::find(&method) {
        Some(method) => method,
        None => {
            copy = find_copy(&state, &method)
                .await?
                .ok_or_else(|| unknown_method(&method))?;
            &copy
        }
    };
    let mut body = summary(&state, method);
    body["input_schema"] = catalogue::input_schema(method);
    body["output_schema"] = catalogue::output_schema(method);
    Ok(Json(body))
}

/// The methods of the partner's copies of the Custom Objects category, by schema name.
pub(crate) async fn copied_methods(state: &AppState) -> ApiResult<Vec<MethodDef>> {
    let copies = state.store.list_custom_object_copies(CONNECTOR_ID).await?;
    Ok(custom_objects::copied_methods(&copies))
}

/// The copied method `id` (`<schema>.<method>`), when the partner has that copy.
pub(crate) async fn find_copy(state: &AppState, id: &str) -> ApiResult<Option<MethodDef>> {
    if !id.contains('.') {
        return Ok(None);
    }
    Ok(copied_methods(state)
        .await?
        .into_iter()
        .find(|m| m.id == id))
}

fn summary(state: &AppState, m: &MethodDef) -> Value {
    let parameters: Vec<Value> = m
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "in": match p.location {
                    Location::Path => "path",
                    Location::Query => "query",
                    Location::Body => "body",
                },
                "type": p.json_type.as_str(),
                "required": p.required,
                "description": p.description,
            })
        })
        .collect();
    let fields = match &m.body {
        Body::Properties {
            object_type,
            required,
        } => json!({"properties_of": object_type, "required": required}),
        _ => Value::Null,
    };
    json!({
        "id": m.id,
        "category": m.category,
        "name": m.name,
        "description": m.description,
        "request": {"method": m.verb.as_str(), "path": state.config.hubspot.method_path(&m.path)},
        "parameters": parameters,
        "fields": fields,
        "required_scopes": m.scopes,
        "paging": match m.paging {
            Paging::None => "none",
            Paging::Cursor => "cursor",
            Paging::Window { .. } => "window",
        },
        "writes": m.writes,
    })
}
