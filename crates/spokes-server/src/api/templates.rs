//! `/v1/templates`: cycle templates, imported and exported as JSON documents (the JSON Schema
//! is `schemas/template.schema.json`). A template that does not validate is refused whole,
//! with every problem listed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use spokes_core::token::new_id;
use spokes_core::{TemplateRecord, format_rfc3339};
use spokes_cycles::Template;
use spokes_cycles::validate::{Problem, validate};
use spokes_engine::step_catalogue;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::openapi::schema::ErrorBody;

/// Parses and validates a template document: 400 `invalid_template` with every problem.
/// Answers its name and the document to store.
fn parse_template(body: &[u8]) -> ApiResult<(String, String)> {
    let template: Template = serde_json::from_slice(body).map_err(|e| {
        invalid(vec![Problem {
            step: None,
            field: None,
            reason: format!("the document does not read as a template: {e}"),
        }])
    })?;
    validate(&template, &step_catalogue()).map_err(invalid)?;
    let document = serde_json::to_string(&template).map_err(|_| ApiError::internal())?;
    Ok((template.name, document))
}

fn template_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("template `{id}` does not exist"))
}

fn invalid(problems: Vec<Problem>) -> ApiError {
    let mut error = ApiError::bad_request(
        "invalid_template",
        format!(
            "the template has {} problem{}; nothing was stored",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ),
    );
    error.details = Some(json!({ "problems": problems }));
    error
}

pub(crate) fn view(record: &TemplateRecord) -> Value {
    json!({
        "id": record.id,
        "name": record.name,
        "created_at": format_rfc3339(record.created_at),
        "updated_at": format_rfc3339(record.updated_at),
        "template": serde_json::from_str::<Value>(&record.document).unwrap_or(Value::Null),
    })
}

pub(crate) async fn load(state: &AppState, id: &str) -> ApiResult<TemplateRecord> {
    state
        .store
        .get_template(id)
        .await?
        .ok_or_else(|| template_not_found(id))
}

/// Import a template.
#[utoipa::path(
    post,
    path = "/v1/templates",
    tag = "Cycles",
    operation_id = "templates.create",
    request_body(content = Object, description = "The template document (see schemas/template.schema.json)"),
    responses(
        (status = 201, description = "The stored template"),
        (status = 400, description = "`invalid_template` with `details.problems`: every problem, each with step, field and reason", body = ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_partner()?;
    let (name, document) = parse_template(&body)?;
    let now = state.clock.now_ms();
    let record = TemplateRecord {
        id: new_id("tpl"),
        name,
        document,
        created_at: now,
        updated_at: now,
    };
    state.store.create_template(&record).await?;
    Ok((StatusCode::CREATED, Json(view(&record))))
}

/// List the templates.
#[utoipa::path(
    get,
    path = "/v1/templates",
    tag = "Cycles",
    operation_id = "templates.list",
    responses((status = 200, description = "Every template, oldest first")),
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_partner()?;
    let templates = state.store.list_templates().await?;
    Ok(Json(
        json!({ "templates": templates.iter().map(view).collect::<Vec<_>>() }),
    ))
}

/// Get a template.
#[utoipa::path(
    get,
    path = "/v1/templates/{template}",
    tag = "Cycles",
    operation_id = "templates.get",
    params(("template" = String, Path, description = "The template's id")),
    responses(
        (status = 200, description = "The template"),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_partner()?;
    Ok(Json(view(&load(&state, &id).await?)))
}

/// Replace a template. Cycles installed from it keep the template as they were installed.
#[utoipa::path(
    put,
    path = "/v1/templates/{template}",
    tag = "Cycles",
    operation_id = "templates.update",
    params(("template" = String, Path, description = "The template's id")),
    request_body(content = Object, description = "The template document"),
    responses(
        (status = 200, description = "The stored template"),
        (status = 400, description = "`invalid_template`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_partner()?;
    let mut record = load(&state, &id).await?;
    (record.name, record.document) = parse_template(&body)?;
    record.updated_at = state.clock.now_ms();
    if !state.store.update_template(&record).await? {
        return Err(template_not_found(&id));
    }
    Ok(Json(view(&record)))
}

/// Delete a template. Cycles installed from it go on running.
#[utoipa::path(
    delete,
    path = "/v1/templates/{template}",
    tag = "Cycles",
    operation_id = "templates.delete",
    params(("template" = String, Path, description = "The template's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_partner()?;
    if !state.store.delete_template(&id).await? {
        return Err(template_not_found(&id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Export a template: the document alone, importable as it is.
#[utoipa::path(
    get,
    path = "/v1/templates/{template}/export",
    tag = "Cycles",
    operation_id = "templates.export",
    params(("template" = String, Path, description = "The template's id")),
    responses(
        (status = 200, description = "The template document"),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
)]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_partner()?;
    let record = load(&state, &id).await?;
    Ok(Json(
        serde_json::from_str(&record.document).map_err(|_| ApiError::internal())?,
    ))
}
