//! `GET /v1/openapi.json`: the OpenAPI 3.1 document of the partner API, generated from the
//! handlers' `#[utoipa::path]` annotations, plus one path per method of the catalogue whose
//! request and answer are that method's JSON Schemas.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};
use spokes_hubspot::catalogue::{self, Body, MethodDef};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;
use crate::api::{accounts, connectors, cycles, installations, mcp_calls, methods, templates};

/// Every `/v1` route the router serves, as `(verb, path)` in axum's path syntax (`{*path}` for
/// a tail); verb `any` takes every HTTP method. The router is built from the same table.
pub fn route_table() -> &'static [(&'static str, &'static str)] {
    crate::api::ROUTES
}

/// The name of the bearer API key scheme in the document (also in `security` above).
const API_KEY: &str = "api_key";

/// Where a catalogue method's own path starts; the method id follows.
const METHOD_PATH: &str = "/v1/accounts/{account}/connectors/{installation}/methods/";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Spokes partner API",
        description = "Accounts (your customers), the HubSpot connector and its setup, \
            installations and their consent links, and the HubSpot methods of the catalogue. \
            Every error answers `{\"error\": {\"code\", \"message\", \"details\"?, \"correlation_id\"?}}`.",
    ),
    paths(
        document,
        accounts::list,
        accounts::create,
        accounts::get,
        accounts::update,
        accounts::delete,
        connectors::list,
        connectors::get,
        connectors::put_setup,
        connectors::list_copies,
        connectors::put_copy,
        connectors::delete_copy,
        methods::list,
        methods::get,
        installations::list,
        installations::create,
        installations::get,
        installations::update,
        installations::delete,
        installations::auth_link,
        installations::deauthenticate,
        installations::call_method,
        installations::proxy,
        mcp_calls::list,
        templates::list,
        templates::create,
        templates::get,
        templates::update,
        templates::delete,
        templates::export,
        cycles::list,
        cycles::create,
        cycles::get,
        cycles::update,
        cycles::delete,
        cycles::prerequisites,
        cycles::activate,
        cycles::deactivate,
        cycles::run,
        cycles::transactions,
        cycles::transaction,
        cycles::retry,
        cycles::incidents,
    ),
    modifiers(&ApiKeyScheme),
    security(("api_key" = [])),
    tags(
        (name = "Accounts", description = "Your customers, by your own id."),
        (name = "Connectors", description = "The HubSpot connector and your HubSpot app's setup."),
        (name = "Installations", description = "The connector installed into an account: consent, status, disconnection."),
        (name = "Methods", description = "The method catalogue, and calling a method for an installation. \
            Each method also has a path of its own below, tagged with its category."),
        (name = "Proxy", description = "Any HubSpot API path with an installation's token."),
        (name = "Cycles", description = "Templates installed into accounts as cycles: triggers, steps, transactions and their retry."),
        (name = "Agents", description = "AI agents over MCP: the audit of their tool calls."),
        (name = "Meta", description = "This document."),
    ),
)]
struct ApiDoc;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("spk_…")
                    .description(Some(
                        "A partner API key (`spokes keys create`), or one restricted to an account \
                         (`--account`), as `Authorization: Bearer <key>`.",
                    ))
                    .build(),
            ),
        );
    }
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

/// The OpenAPI 3.1 document of the partner API.
///
/// No key needed: it describes the API and reveals no data.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "Meta",
    operation_id = "openapi",
    security(()),
    responses((status = 200, description = "This document", body = Object)),
)]
pub async fn document(State(state): State<AppState>) -> Json<Value> {
    let mut doc = DOCUMENT.clone();
    doc["servers"] = json!([{"url": state.config.public_url.trim_end_matches('/')}]);
    Json(doc)
}

/// The whole document: the annotated routes, a 401 on each route that needs a key, and a path
/// for every method of the catalogue.
pub fn build() -> Value {
    let mut doc = match serde_json::to_value(ApiDoc::openapi()) {
        Ok(doc) => doc,
        Err(err) => {
            tracing::error!(error = %err, "the OpenAPI document does not serialise");
            return json!({"openapi": "3.1.0", "paths": {}});
        }
    };
    let error = json!({"$ref": "#/components/schemas/ErrorBody"});
    doc["components"]["responses"]["Unauthorized"] = json!({
        "description": "`unauthorized`: no API key, or not a valid one",
        "content": {"application/json": {"schema": error}},
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            let ids: Vec<Value> = item.values().map(|op| op["operationId"].clone()).collect();
            for (verb, operation) in item.iter_mut() {
                // One handler for several verbs (the proxy): operation ids must stay unique.
                let id = &operation["operationId"];
                if id.is_string() && ids.iter().filter(|other| *other == id).count() > 1 {
                    operation["operationId"] =
                        format!("{}.{verb}", id.as_str().unwrap_or("")).into();
                }
                let public = operation["security"] == json!([{}]);
                if let Some(responses) = operation["responses"].as_object_mut()
                    && !public
                {
                    responses.insert(
                        "401".into(),
                        json!({"$ref": "#/components/responses/Unauthorized"}),
                    );
                }
            }
        }
    }
    // The generic call's error answers apply to every method.
    let generic = &doc["paths"][format!("{METHOD_PATH}{{method}}")]["post"];
    let mut errors = generic["responses"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    errors.remove("200");
    let parameters: Vec<Value> = generic["parameters"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|p| p["name"] != "method")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    for method in catalogue::all() {
        doc["paths"][format!("{METHOD_PATH}{}", method.id)] =
            json!({"post": method_operation(method, &parameters, &errors)});
    }
    doc
}

/// `POST …/methods/{id}` for one method: its input schema as the body, its output schema as the
/// answer.
fn method_operation(
    method: &MethodDef,
    parameters: &[Value],
    errors: &Map<String, Value>,
) -> Value {
    let scopes = if method.scopes.is_empty() {
        "HubSpot checks the scopes.".to_string()
    } else {
        let sets: Vec<String> = method
            .scopes
            .iter()
            .map(|set| format!("`{}`", set.join(" + ")))
            .collect();
        format!("Scopes (any one set): {}.", sets.join(" or "))
    };
    let parameters: Vec<Value> = parameters
        .iter()
        .filter(|p| method.writes || p["name"] != "Idempotency-Key")
        .cloned()
        .collect();
    let required = method.params.iter().any(|p| p.required)
        || matches!(&method.body, Body::Properties { required, .. } if !required.is_empty());
    let mut responses = errors.clone();
    responses.insert(
        "200".into(),
        json!({
            "description": "The method's answer",
            "content": {"application/json": {"schema": without_dialect(catalogue::output_schema(method))}},
        }),
    );
    json!({
        "tags": [method.category],
        "summary": method.name,
        "description": format!("{} {scopes}", method.description),
        "operationId": format!("methods.{}", method.id),
        "parameters": parameters,
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": without_dialect(catalogue::input_schema(method))}},
        },
        "responses": responses,
    })
}

/// OpenAPI 3.1's schemas are JSON Schema 2020-12 already; some validators trip over `$schema`.
fn without_dialect(mut schema: Value) -> Value {
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
    }
    schema
}

/// The shapes of the JSON the handlers build, for the document only (never built: the
/// handlers answer with `serde_json` values).
#[allow(dead_code)]
pub(crate) mod schema {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::Value;
    use utoipa::ToSchema;

    /// Every error answer.
    #[derive(Serialize, ToSchema)]
    pub struct ErrorBody {
        pub error: ErrorDetail,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ErrorDetail {
        /// A snake_case code, e.g. `not_found`, `invalid_parameters`, `missing_scopes`.
        pub code: String,
        /// What went wrong and what to do next.
        pub message: String,
        /// Machine-readable particulars, e.g. the invalid parameters or `existing_id`.
        #[schema(value_type = Option<Object>)]
        pub details: Option<Value>,
        /// HubSpot's id of a failed call.
        pub correlation_id: Option<String>,
    }

    /// One of your customers.
    #[derive(Serialize, ToSchema)]
    pub struct Account {
        /// Your own id of the customer.
        pub id: String,
        pub name: String,
        /// An IANA time zone name.
        pub timezone: Option<String>,
        #[schema(format = DateTime)]
        pub created_at: String,
        #[schema(format = DateTime)]
        pub updated_at: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct AccountList {
        pub data: Vec<Account>,
    }

    /// A parameter of the connector (the seed's `Scopes` and `OptionalScopes`).
    #[derive(Serialize, ToSchema)]
    pub struct ConnectorParameter {
        pub name: String,
        pub description: String,
        pub default: String,
    }

    /// The HubSpot connector, with your app's setup when it has one. Never the client secret.
    #[derive(Serialize, ToSchema)]
    pub struct Connector {
        /// `hubspot`.
        pub id: String,
        pub name: String,
        /// `oauth2`.
        pub auth_type: String,
        pub parameters: Vec<ConnectorParameter>,
        /// True once `PUT /v1/connectors/hubspot/setup` stored your app's credentials.
        pub configured: bool,
        pub client_id: Option<String>,
        /// The default `Scopes` / `OptionalScopes` of installations.
        pub properties: BTreeMap<String, String>,
        /// The Redirect URL to paste into your HubSpot app.
        pub redirect_url: String,
        /// The Target URL to paste into your HubSpot app's Webhooks settings.
        pub webhook_url: String,
        /// Advice about the scopes just saved (only in the answer to a setup).
        pub warnings: Option<Vec<String>>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ConnectorList {
        pub data: Vec<Connector>,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum InstallationStatus {
        Unauthenticated,
        Authenticated,
        NeedsReauth,
    }

    /// The scopes the consent asks for: the installation's own, else the setup's defaults.
    #[derive(Serialize, ToSchema)]
    pub struct EffectiveScopes {
        #[schema(rename = "Scopes")]
        pub scopes: Vec<String>,
        #[schema(rename = "OptionalScopes")]
        pub optional_scopes: Vec<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct LastError {
        pub code: String,
        pub message: String,
        #[schema(format = DateTime)]
        pub at: String,
    }

    /// The HubSpot portal an installation is connected to.
    #[derive(Serialize, ToSchema)]
    pub struct HubSpotPortal {
        pub portal_id: i64,
        /// HubSpot's account type, e.g. `STANDARD`.
        pub account_type: String,
        pub ui_domain: Option<String>,
        pub hub_domain: Option<String>,
        /// The email of the HubSpot user who authorised.
        pub user: Option<String>,
        pub granted_scopes: Vec<String>,
        #[schema(format = DateTime)]
        pub token_expires_at: Option<String>,
        pub warnings: Vec<String>,
        pub last_error: Option<LastError>,
    }

    /// The HubSpot connector installed into an account. Never a token.
    #[derive(Serialize, ToSchema)]
    pub struct Installation {
        pub id: String,
        pub account_id: String,
        pub connector: String,
        pub name: String,
        pub status: InstallationStatus,
        /// `Scopes` / `OptionalScopes` given on this installation.
        pub properties: BTreeMap<String, String>,
        pub effective_scopes: EffectiveScopes,
        /// Advice about the effective scopes.
        pub warnings: Vec<String>,
        /// Set once a portal is connected.
        pub hubspot: Option<HubSpotPortal>,
        pub last_error: Option<LastError>,
        /// Every write is refused (403 `read_only`), whatever the key; PATCH the installation
        /// with `{"read_only": false}` to allow them.
        pub read_only: bool,
        #[schema(format = DateTime)]
        pub created_at: String,
        #[schema(format = DateTime)]
        pub updated_at: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct InstallationList {
        pub data: Vec<Installation>,
    }

    /// A one-time consent link for the customer's browser.
    #[derive(Serialize, ToSchema)]
    pub struct AuthLink {
        pub url: String,
        #[schema(format = DateTime)]
        pub expires_at: String,
    }

    /// The HubSpot request behind a method.
    #[derive(Serialize, ToSchema)]
    pub struct MethodRequest {
        /// The HTTP verb, e.g. `POST`.
        pub method: String,
        pub path: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct MethodParameter {
        pub name: String,
        #[schema(rename = "in")]
        pub location: ParameterLocation,
        /// A JSON type: `string`, `integer`, `number`, `boolean`, `array` or `object`.
        #[schema(rename = "type")]
        pub json_type: String,
        pub required: bool,
        pub description: String,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum ParameterLocation {
        Path,
        Query,
        Body,
    }

    /// The record a create or update writes.
    #[derive(Serialize, ToSchema)]
    pub struct MethodFields {
        /// The HubSpot object type whose property names `fields` takes.
        pub properties_of: String,
        pub required: Vec<String>,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum PagingKind {
        None,
        Cursor,
        Window,
    }

    /// One method of the catalogue.
    #[derive(Serialize, ToSchema)]
    pub struct MethodSummary {
        /// Stable id, e.g. `contacts.create`.
        pub id: String,
        pub category: String,
        pub name: String,
        pub description: String,
        pub request: MethodRequest,
        pub parameters: Vec<MethodParameter>,
        pub fields: Option<MethodFields>,
        /// Alternatives: the method runs when every scope of one set is granted.
        pub required_scopes: Vec<Vec<String>>,
        pub paging: PagingKind,
        /// Changes data at HubSpot.
        pub writes: bool,
    }

    /// A copy of the Custom Objects category bound to one schema.
    #[derive(Serialize, ToSchema)]
    pub struct CustomObjectCopy {
        /// The custom object schema's `name`.
        pub schema: String,
        /// The category its methods show.
        pub category: String,
        /// The copy's method ids, e.g. `cars.create`.
        pub methods: Vec<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct CustomObjectCopyList {
        pub data: Vec<CustomObjectCopy>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct MethodList {
        pub methods: Vec<MethodSummary>,
    }

    /// One method with the JSON Schemas (2020-12) of its input and output.
    #[derive(Serialize, ToSchema)]
    pub struct MethodDetail {
        #[serde(flatten)]
        pub summary: MethodSummary,
        #[schema(value_type = Object)]
        pub input_schema: Value,
        #[schema(value_type = Object)]
        pub output_schema: Value,
    }

    /// A method's input. Each method's own path shows exactly which `parameters`, `fields` and
    /// `paging` it takes.
    #[derive(Serialize, ToSchema)]
    pub struct MethodInput {
        /// The method's path, query and body parameters.
        #[schema(required = false)]
        pub parameters: BTreeMap<String, Value>,
        /// HubSpot property names and values of the record a create or update writes.
        #[schema(required = false)]
        pub fields: BTreeMap<String, Value>,
        #[schema(required = false)]
        pub paging: PagingInput,
    }

    #[derive(Serialize, ToSchema)]
    pub struct PagingInput {
        /// The `paging.next` of the previous answer.
        pub after: Option<String>,
        #[schema(minimum = 1, maximum = 100)]
        pub limit: Option<u32>,
        /// Follow every page and answer all records at once.
        #[schema(required = false)]
        pub all: bool,
    }

    /// A method's answer.
    #[derive(Serialize, ToSchema)]
    pub struct MethodOutput {
        #[schema(value_type = Object)]
        pub data: Value,
        /// For methods that page.
        pub paging: Option<Paging>,
    }

    /// One tool call of an AI agent over MCP.
    #[derive(Serialize, ToSchema)]
    pub struct McpCall {
        pub id: String,
        pub account_id: String,
        pub installation_id: String,
        /// The API key the agent used; null for the local stdio transport.
        pub key_id: Option<String>,
        /// The MCP tool, e.g. `contacts_create`.
        pub tool: String,
        /// The tool's arguments, secrets left out.
        #[schema(value_type = Object)]
        pub arguments: Value,
        /// `ok`, `dry_run` (a write previewed, not done), or the error's code.
        pub outcome: String,
        /// HubSpot's id of a failed call.
        pub correlation_id: Option<String>,
        pub duration_ms: i64,
        #[schema(format = DateTime)]
        pub created_at: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct McpCallList {
        /// Newest first.
        pub calls: Vec<McpCall>,
        /// Pass as `before` for the next, older page; null on the last.
        pub next_before: Option<i64>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Paging {
        /// Pass as `paging.after` for the next page; absent or null on the last.
        pub next: Option<String>,
    }
}
