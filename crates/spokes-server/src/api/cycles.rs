//! `/v1/accounts/{account}/cycles`: templates installed into an account, their schedule,
//! their prerequisites, and their transactions with step data and retry.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use spokes_core::token::new_id;
use spokes_core::{
    Cycle, CycleStatus, InstallationStatus, Transaction, TransactionFilter, TransactionStatus,
    format_rfc3339,
};
use spokes_cycles::validate::required_scopes;
use spokes_cycles::{Template, Trigger};
use spokes_engine::cycles::{PollPayload, poll_job, template_of, transaction_job, variables_of};
use spokes_engine::step_catalogue;
use spokes_store::TransactionWrite;

use crate::AppState;
use crate::api::accounts;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::openapi::schema::ErrorBody;

/// The intervals a polling cycle may run at, in minutes (the seed platform's set).
pub const INTERVALS: &[i64] = &[1, 5, 15, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 10080];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCycle {
    /// The id of the template to install.
    template: String,
    /// Connector id → installation id of this account, e.g. `{"hubspot": "inst_…"}`.
    installations: BTreeMap<String, String>,
    /// Values of the template's configurable variables.
    #[serde(default)]
    #[schema(value_type = Object)]
    variables: serde_json::Map<String, Value>,
    /// The first poll lists records from here (RFC 3339) instead of from the activation.
    backfill_since: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    /// One of 1, 5, 15, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 10080 (polling triggers).
    interval_minutes: Option<i64>,
    /// The first run (RFC 3339); now when left out.
    start_time: Option<String>,
    /// Deactivate after one run.
    #[serde(default)]
    run_once: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deactivation {
    /// Let queued and waiting transactions finish (true), or cancel them.
    #[serde(default)]
    finish_queued: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CycleChanges {
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    variables: Option<serde_json::Map<String, Value>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Replaces the failed step's mapped input for this retry: `{parameters, fields}`.
    #[schema(value_type = Option<Object>)]
    input: Option<Value>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TransactionQuery {
    /// queued, running, waiting, succeeded, failed, cancelled, unknown
    status: Option<String>,
    /// Created at or after (RFC 3339).
    after: Option<String>,
    /// Created before (RFC 3339).
    before: Option<String>,
    /// 1 to 500; 100 when left out.
    limit: Option<u32>,
}

fn time(field: &str, text: &str) -> ApiResult<i64> {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_request",
                format!("`{field}` must be an RFC 3339 time such as 2026-12-07T09:00:00Z"),
            )
        })
}

pub(crate) fn view(cycle: &Cycle) -> Value {
    let template: Value = serde_json::from_str(&cycle.document).unwrap_or(Value::Null);
    json!({
        "id": cycle.id,
        "account": cycle.account_id,
        "template": cycle.template_id,
        "name": cycle.name,
        "status": cycle.status,
        "installations": cycle.installations,
        "variables": serde_json::from_str::<Value>(&cycle.variables).unwrap_or(Value::Null),
        "interval_minutes": cycle.interval_minutes,
        "run_once": cycle.run_once,
        "next_run_at": cycle.next_run_at.map(format_rfc3339),
        "backfill_since": cycle.backfill_since.map(format_rfc3339),
        "trigger": template["trigger"]["kind"],
        "created_at": format_rfc3339(cycle.created_at),
        "updated_at": format_rfc3339(cycle.updated_at),
    })
}

fn transaction_view(t: &Transaction) -> Value {
    json!({
        "id": t.id,
        "cycle": t.cycle_id,
        "status": t.status,
        "step": t.step_id,
        "item": serde_json::from_str::<Value>(&t.item).unwrap_or(Value::Null),
        "error": t.error,
        "resume_at": t.resume_at.map(format_rfc3339),
        "created_at": format_rfc3339(t.created_at),
        "updated_at": format_rfc3339(t.updated_at),
        "finished_at": t.finished_at.map(format_rfc3339),
    })
}

/// The cycle's template as installed (stored valid: a failure to read it is Spokes' own).
fn installed_template(cycle: &Cycle) -> ApiResult<Template> {
    template_of(cycle).map_err(|e| {
        tracing::error!(cycle.id = %cycle.id, error = %e, "a stored cycle's template does not parse");
        ApiError::internal()
    })
}

/// 409 `prerequisites_unmet` with every unmet need, unless all are met.
async fn require_prerequisites(state: &AppState, cycle: &Cycle, action: &str) -> ApiResult<()> {
    let unmet = unmet_needs(state, cycle).await?;
    if unmet.is_empty() {
        return Ok(());
    }
    let mut error = ApiError::conflict(
        "prerequisites_unmet",
        format!("the cycle cannot {action} until every prerequisite is met"),
    );
    error.details = Some(json!({ "unmet": unmet }));
    Err(error)
}

async fn load(state: &AppState, caller: &Caller, account: &str, id: &str) -> ApiResult<Cycle> {
    accounts::load(state, caller, account).await?;
    match state.store.get_cycle(id).await? {
        Some(cycle) if cycle.account_id == account => Ok(cycle),
        _ => Err(ApiError::not_found(format!(
            "cycle `{id}` does not exist in account `{account}`"
        ))),
    }
}

/// The configurable variables' values, checked against the template.
fn checked_variables(
    template: &Template,
    values: serde_json::Map<String, Value>,
) -> ApiResult<String> {
    for name in values.keys() {
        match template.variables.iter().find(|v| &v.name == name) {
            Some(v) if v.configurable => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_variables",
                    format!("variable `{name}` is not configurable"),
                ));
            }
            None => {
                return Err(ApiError::bad_request(
                    "invalid_variables",
                    format!("the template has no variable `{name}`"),
                ));
            }
        }
    }
    Ok(Value::Object(values).to_string())
}

/// Install a template into an account: a paused cycle.
#[utoipa::path(
    post,
    path = "/v1/accounts/{account}/cycles",
    tag = "Cycles",
    operation_id = "cycles.create",
    params(("account" = String, Path, description = "Your id of the account")),
    request_body = NewCycle,
    responses(
        (status = 201, description = "The cycle, paused"),
        (status = 400, description = "`invalid_request`, `invalid_variables`, `invalid_installations`", body = ErrorBody),
        (status = 404, description = "`not_found`: the account or the template", body = ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
    ApiJson(body): ApiJson<NewCycle>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    accounts::load(&state, &caller, &account).await?;
    let record = super::templates::load(&state, &body.template).await?;
    let template: Template =
        serde_json::from_str(&record.document).map_err(|_| ApiError::internal())?;
    let connectors = connectors_of(&template);
    for connector in &connectors {
        let Some(id) = body.installations.get(connector) else {
            return Err(ApiError::bad_request(
                "invalid_installations",
                format!(
                    "the template needs a `{connector}` installation: {{\"installations\": {{\"{connector}\": \"<installation id>\"}}}}"
                ),
            ));
        };
        match state.store.get_installation(id).await? {
            Some(i) if i.account_id == account && &i.connector == connector => {}
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_installations",
                    format!(
                        "installation `{id}` is not a `{connector}` installation of account `{account}`"
                    ),
                ));
            }
        }
    }
    if let Some(extra) = body.installations.keys().find(|c| !connectors.contains(*c)) {
        return Err(ApiError::bad_request(
            "invalid_installations",
            format!("the template uses no connector `{extra}`"),
        ));
    }
    let variables = checked_variables(&template, body.variables)?;
    let backfill_since = body
        .backfill_since
        .as_deref()
        .map(|t| time("backfill_since", t))
        .transpose()?;
    let now = state.clock.now_ms();
    let cycle = Cycle {
        id: new_id("cyc"),
        account_id: account,
        template_id: Some(record.id.clone()),
        name: body.name.unwrap_or(record.name),
        document: record.document,
        installations: body.installations,
        variables,
        status: CycleStatus::Paused,
        interval_minutes: None,
        run_once: false,
        next_run_at: None,
        backfill_since,
        schedule_version: 0,
        webhook_secret_sealed: None,
        created_at: now,
        updated_at: now,
    };
    state.store.create_cycle(&cycle).await?;
    Ok((StatusCode::CREATED, Json(view(&cycle))))
}

/// The connectors a template's steps use (the utility connector needs no installation).
fn connectors_of(template: &Template) -> Vec<String> {
    let mut connectors = Vec::new();
    let mut add = |c: &str| {
        if c != "utility" && !connectors.iter().any(|k| k == c) {
            connectors.push(c.to_owned());
        }
    };
    match &template.trigger {
        Trigger::Poll { connector, .. } => add(connector),
        Trigger::HubspotWebhook { .. } => add(spokes_hubspot::connector::CONNECTOR_ID),
        Trigger::Webhook { .. } => {}
    }
    for step in &template.steps {
        if let spokes_cycles::Step::Method { connector, .. } = step {
            add(connector);
        }
    }
    connectors
}

/// List an account's cycles.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/cycles",
    tag = "Cycles",
    operation_id = "cycles.list",
    params(("account" = String, Path, description = "Your id of the account")),
    responses((status = 200, description = "The account's cycles")),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> ApiResult<Json<Value>> {
    accounts::load(&state, &caller, &account).await?;
    let cycles = state.store.list_cycles(&account).await?;
    Ok(Json(
        json!({ "cycles": cycles.iter().map(view).collect::<Vec<_>>() }),
    ))
}

/// Get a cycle.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/cycles/{cycle}",
    tag = "Cycles",
    operation_id = "cycles.get",
    params(("account" = String, Path), ("cycle" = String, Path)),
    responses((status = 200, description = "The cycle"), (status = 404, description = "`not_found`", body = ErrorBody)),
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(view(&load(&state, &caller, &account, &id).await?)))
}

/// Change a paused cycle's name or variables; an active cycle answers 409.
#[utoipa::path(
    patch,
    path = "/v1/accounts/{account}/cycles/{cycle}",
    tag = "Cycles",
    operation_id = "cycles.update",
    params(("account" = String, Path), ("cycle" = String, Path)),
    request_body = CycleChanges,
    responses(
        (status = 200, description = "The cycle"),
        (status = 409, description = "`cycle_active`: deactivate it first", body = ErrorBody),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, id)): Path<(String, String)>,
    ApiJson(changes): ApiJson<CycleChanges>,
) -> ApiResult<Json<Value>> {
    let mut cycle = load(&state, &caller, &account, &id).await?;
    if cycle.status == CycleStatus::Active {
        return Err(ApiError::conflict(
            "cycle_active",
            "an active cycle cannot be edited; PUT …/deactivate first",
        ));
    }
    let template = installed_template(&cycle)?;
    if let Some(name) = changes.name {
        cycle.name = name;
    }
    if let Some(values) = changes.variables {
        cycle.variables = checked_variables(&template, values)?;
    }
    cycle.updated_at = state.clock.now_ms();
    state.store.update_cycle(&cycle, &[]).await?;
    Ok(Json(view(&cycle)))
}

/// Delete a cycle with its transactions.
#[utoipa::path(
    delete,
    path = "/v1/accounts/{account}/cycles/{cycle}",
    tag = "Cycles",
    operation_id = "cycles.delete",
    params(("account" = String, Path), ("cycle" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "`not_found`", body = ErrorBody)),
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    load(&state, &caller, &account, &id).await?;
    state.store.delete_cycle(&id).await?;
    // The cycle's own data stores go with it; the account's stay.
    state.store.delete_cycle_storage(&account, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a cycle still needs before it can be activated.
async fn unmet_needs(state: &AppState, cycle: &Cycle) -> ApiResult<Vec<Value>> {
    let template = installed_template(cycle)?;
    let mut unmet = Vec::new();
    let mut granted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (connector, id) in &cycle.installations {
        match state.store.get_installation(id).await? {
            None => unmet.push(json!({
                "code": "installation_missing",
                "connector": connector,
                "message": format!("installation `{id}` was deleted; install the connector again and create the cycle anew"),
            })),
            Some(i) if i.status != InstallationStatus::Authenticated => unmet.push(json!({
                "code": "unauthenticated_installation",
                "connector": connector,
                "installation": id,
                "message": format!("installation `{id}` is {}: send the customer an auth link (POST /v1/accounts/{}/connectors/{id}/auth-link)", i.status.as_str(), cycle.account_id),
            })),
            Some(i) => {
                granted.insert(connector.clone(), i.granted_scopes().to_vec());
            }
        }
    }
    if let Some(hubspot) = granted.get(spokes_hubspot::connector::CONNECTOR_ID) {
        for (step, sets) in required_scopes(&template, &step_catalogue()) {
            if !spokes_hubspot::scopes::satisfies(hubspot, &sets) {
                unmet.push(json!({
                    "code": "missing_scope",
                    "step": step,
                    "scopes": sets,
                    "message": format!("step `{step}` needs one of these scope sets, which the HubSpot installation was not granted: {sets:?}; add them to the setup's Scopes and have the customer connect again"),
                }));
            }
        }
    }
    let values = variables_of(cycle, &template);
    for variable in &template.variables {
        if variable.required && !values.contains_key(&variable.name) {
            unmet.push(json!({
                "code": "missing_variable",
                "variable": variable.name,
                "message": format!("variable `{}` needs a value (PATCH the cycle's variables)", variable.name),
            }));
        }
    }
    Ok(unmet)
}

/// Each unmet need of the cycle, with a code.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/cycles/{cycle}/prerequisites",
    tag = "Cycles",
    operation_id = "cycles.prerequisites",
    params(("account" = String, Path), ("cycle" = String, Path)),
    responses((status = 200, description = "`{met, unmet: [{code, message, …}]}`: codes unauthenticated_installation, installation_missing, missing_scope, missing_variable")),
)]
pub async fn prerequisites(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let cycle = load(&state, &caller, &account, &id).await?;
    let unmet = unmet_needs(&state, &cycle).await?;
    Ok(Json(json!({ "met": unmet.is_empty(), "unmet": unmet })))
}

/// Activate a cycle: its trigger runs on the interval (polling) or takes events (webhooks).
#[utoipa::path(
    put,
    path = "/v1/accounts/{account}/cycles/{cycle}/activate",
    tag = "Cycles",
    operation_id = "cycles.activate",
    params(("account" = String, Path), ("cycle" = String, Path)),
    request_body = Activation,
    responses(
        (status = 200, description = "The cycle, active"),
        (status = 400, description = "`invalid_interval`", body = ErrorBody),
        (status = 409, description = "`prerequisites_unmet` with `details.unmet`", body = ErrorBody),
    ),
)]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Activation>,
) -> ApiResult<Json<Value>> {
    let mut cycle = load(&state, &caller, &account, &id).await?;
    require_prerequisites(&state, &cycle, "be activated").await?;
    let template = installed_template(&cycle)?;
    let polls = matches!(template.trigger, Trigger::Poll { .. });
    let interval = match (polls, body.interval_minutes) {
        (true, Some(minutes)) if INTERVALS.contains(&minutes) => Some(minutes),
        (true, None) if body.run_once => None,
        (true, _) => {
            return Err(ApiError::bad_request(
                "invalid_interval",
                format!("a polling cycle needs `interval_minutes`, one of {INTERVALS:?}"),
            ));
        }
        (false, _) => None,
    };
    let now = state.clock.now_ms();
    let start = body
        .start_time
        .as_deref()
        .map(|t| time("start_time", t))
        .transpose()?
        .unwrap_or(now);
    cycle.status = CycleStatus::Active;
    cycle.interval_minutes = interval;
    cycle.run_once = body.run_once;
    cycle.schedule_version += 1;
    cycle.updated_at = now;
    let mut jobs = Vec::new();
    if polls {
        cycle.next_run_at = Some(start);
        let payload = PollPayload {
            cycle: cycle.id.clone(),
            version: Some(cycle.schedule_version),
            first_since: now,
        };
        jobs.push(poll_job(&cycle, start, &payload, now));
    }
    state.store.update_cycle(&cycle, &jobs).await?;
    state.worker_waker.notify_one();
    Ok(Json(view(&cycle)))
}

/// Deactivate a cycle; its queued transactions finish or are cancelled.
#[utoipa::path(
    put,
    path = "/v1/accounts/{account}/cycles/{cycle}/deactivate",
    tag = "Cycles",
    operation_id = "cycles.deactivate",
    params(("account" = String, Path), ("cycle" = String, Path)),
    request_body = Deactivation,
    responses((status = 200, description = "The cycle, paused, with `cancelled`: transactions cancelled")),
)]
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Deactivation>,
) -> ApiResult<Json<Value>> {
    let mut cycle = load(&state, &caller, &account, &id).await?;
    let now = state.clock.now_ms();
    cycle.status = CycleStatus::Paused;
    cycle.next_run_at = None;
    cycle.schedule_version += 1;
    cycle.updated_at = now;
    state.store.update_cycle(&cycle, &[]).await?;
    let cancelled = if body.finish_queued {
        0
    } else {
        state.store.cancel_transactions(&cycle.id, now).await?
    };
    let mut view = view(&cycle);
    view["cancelled"] = cancelled.into();
    Ok(Json(view))
}

/// Run a polling cycle's trigger once, now, whatever its schedule.
#[utoipa::path(
    post,
    path = "/v1/accounts/{account}/cycles/{cycle}/run",
    tag = "Cycles",
    operation_id = "cycles.run",
    params(("account" = String, Path), ("cycle" = String, Path)),
    responses(
        (status = 202, description = "The run is queued"),
        (status = 409, description = "`not_polling` or `prerequisites_unmet`", body = ErrorBody),
    ),
)]
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let cycle = load(&state, &caller, &account, &id).await?;
    let template = installed_template(&cycle)?;
    if !matches!(template.trigger, Trigger::Poll { .. }) {
        return Err(ApiError::conflict(
            "not_polling",
            "only a polling trigger runs on demand; a webhook trigger runs when its events arrive",
        ));
    }
    require_prerequisites(&state, &cycle, "run").await?;
    let now = state.clock.now_ms();
    let payload = PollPayload {
        cycle: cycle.id.clone(),
        version: None,
        first_since: now,
    };
    let job = poll_job(&cycle, now, &payload, now);
    let outcome = state.store.enqueue_job(&job).await?;
    state.worker_waker.notify_one();
    let queued = matches!(outcome, spokes_core::EnqueueOutcome::Enqueued(_));
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": queued }))))
}

/// A cycle's transactions, newest first.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/cycles/{cycle}/transactions",
    tag = "Cycles",
    operation_id = "cycles.transactions",
    params(("account" = String, Path), ("cycle" = String, Path), TransactionQuery),
    responses((status = 200, description = "`{transactions: […]}`")),
)]
pub async fn transactions(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, id)): Path<(String, String)>,
    Query(query): Query<TransactionQuery>,
) -> ApiResult<Json<Value>> {
    load(&state, &caller, &account, &id).await?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            TransactionStatus::parse(s).ok_or_else(|| {
                ApiError::bad_request("invalid_request", format!("unknown status `{s}`"))
            })
        })
        .transpose()?;
    let filter = TransactionFilter {
        status,
        after: query
            .after
            .as_deref()
            .map(|t| time("after", t))
            .transpose()?,
        before: query
            .before
            .as_deref()
            .map(|t| time("before", t))
            .transpose()?,
        limit: query.limit.unwrap_or(100).clamp(1, 500),
    };
    let list = state.store.list_transactions(&id, &filter).await?;
    Ok(Json(
        json!({ "transactions": list.iter().map(transaction_view).collect::<Vec<_>>() }),
    ))
}

async fn load_transaction(
    state: &AppState,
    caller: &Caller,
    account: &str,
    cycle: &str,
    id: &str,
) -> ApiResult<Transaction> {
    load(state, caller, account, cycle).await?;
    match state.store.get_transaction(id).await? {
        Some(t) if t.cycle_id == cycle => Ok(t),
        _ => Err(ApiError::not_found(format!(
            "transaction `{id}` does not exist in cycle `{cycle}`"
        ))),
    }
}

/// A transaction with what each step sent and got.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/cycles/{cycle}/transactions/{transaction}",
    tag = "Cycles",
    operation_id = "cycles.transaction",
    params(("account" = String, Path), ("cycle" = String, Path), ("transaction" = String, Path)),
    responses((status = 200, description = "The transaction with `steps`"), (status = 404, description = "`not_found`", body = ErrorBody)),
)]
pub async fn transaction(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, cycle, id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let t = load_transaction(&state, &caller, &account, &cycle, &id).await?;
    let steps = state.store.list_transaction_steps(&id).await?;
    let mut view = transaction_view(&t);
    view["steps"] = steps
        .iter()
        .map(|s| {
            json!({
                "seq": s.seq,
                "step": s.step_id,
                "status": s.status,
                "attempt": s.attempt,
                "request": s.request.as_deref().and_then(|r| serde_json::from_str::<Value>(r).ok()),
                "response": s.response.as_deref().and_then(|r| serde_json::from_str::<Value>(r).ok()),
                "error": s.error,
                "started_at": format_rfc3339(s.started_at),
                "finished_at": format_rfc3339(s.finished_at),
            })
        })
        .collect();
    Ok(Json(view))
}

/// Run a failed (or unknown) transaction again from the step it stopped at.
#[utoipa::path(
    post,
    path = "/v1/accounts/{account}/cycles/{cycle}/transactions/{transaction}/retry",
    tag = "Cycles",
    operation_id = "cycles.retry",
    params(("account" = String, Path), ("cycle" = String, Path), ("transaction" = String, Path)),
    request_body = Retry,
    responses(
        (status = 202, description = "Queued again"),
        (status = 409, description = "`not_retryable`: only failed, unknown and cancelled transactions are", body = ErrorBody),
    ),
)]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, cycle, id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<Retry>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut t = load_transaction(&state, &caller, &account, &cycle, &id).await?;
    if !matches!(
        t.status,
        TransactionStatus::Failed | TransactionStatus::Unknown | TransactionStatus::Cancelled
    ) {
        return Err(ApiError::conflict(
            "not_retryable",
            format!(
                "the transaction is {}; only failed, unknown and cancelled ones can be retried",
                t.status.as_str()
            ),
        ));
    }
    let Some(step) = t.step_id.clone() else {
        return Err(ApiError::conflict(
            "not_retryable",
            "the transaction has no step to retry",
        ));
    };
    if let Some(input) = body.input {
        if !input.is_object() {
            return Err(ApiError::bad_request(
                "invalid_request",
                "`input` must be an object `{parameters, fields}`",
            ));
        }
        let mut outputs: serde_json::Map<String, Value> =
            serde_json::from_str(&t.outputs).unwrap_or_default();
        outputs.insert(spokes_engine::cycles::retry_input_key(&step), input);
        t.outputs = Value::Object(outputs).to_string();
    }
    let now = state.clock.now_ms();
    t.status = TransactionStatus::Queued;
    t.step_attempt = 0;
    t.in_flight = None;
    t.resume_at = None;
    t.error = None;
    t.finished_at = None;
    t.updated_at = now;
    let job = transaction_job(&t.id, now, now);
    state
        .store
        .save_transaction(&TransactionWrite {
            job: Some(&job),
            ..TransactionWrite::state(&t)
        })
        .await?;
    state.worker_waker.notify_one();
    Ok((StatusCode::ACCEPTED, Json(transaction_view(&t))))
}

/// A cycle's errors and warnings, newest first.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/cycles/{cycle}/incidents",
    tag = "Cycles",
    operation_id = "cycles.incidents",
    params(("account" = String, Path), ("cycle" = String, Path)),
    responses((status = 200, description = "`{incidents: […]}`")),
)]
pub async fn incidents(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    load(&state, &caller, &account, &id).await?;
    let list = state.store.list_incidents(&id, 200).await?;
    Ok(Json(json!({ "incidents": list })))
}
