//! Marketing forms and form submissions.
//!
//! * `GET|POST /marketing/v3/forms`, `GET|PUT|PATCH|DELETE /marketing/v3/forms/{formId}`
//!   (scope `forms`): `HubSpotFormDefinition`s, per portal.
//! * `POST /submissions/v3/integration/secure/submit/{portalId}/{formGuid}` (bearer,
//!   scope `forms`): records a submission and creates or updates the contact by email
//!   through the CRM store, validated like the objects API and with the same webhooks.
//! * `GET /form-integrations/v1/submissions/forms/{formGuid}?limit&after` (scope
//!   `forms`): the form's submissions, newest first.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::auth::{self, Caller, Scopes};
use crate::crm::events::Events;
use crate::crm::http::{json_body, no_content, respond};
use crate::crm::schema::ObjectKind;
use crate::crm::time;
use crate::errors::ApiError;
use crate::ids::random_uuid;
use crate::state::{Sim, now_ms};

/// The scope of every forms endpoint.
pub const FORMS_SCOPES: &[&str] = &["forms"];
/// Default and largest `limit` of the forms list.
pub const FORMS_DEFAULT_LIMIT: usize = 20;
pub const FORMS_MAX_LIMIT: usize = 100;
/// Default and largest `limit` of the submissions listing.
pub const SUBMISSIONS_DEFAULT_LIMIT: usize = 20;
pub const SUBMISSIONS_MAX_LIMIT: usize = 50;
/// Most fields in one submission.
pub const MAX_SUBMITTED_FIELDS: usize = 1000;

/// A stored form.
#[derive(Debug, Clone)]
pub struct Form {
    /// Position in creation order (the list's paging cursor).
    pub seq: u64,
    pub id: String,
    pub name: String,
    pub field_groups: Value,
    pub configuration: Value,
    pub display_options: Value,
    pub legal_consent_options: Value,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
    pub submissions: Vec<Submission>,
}

/// A recorded submission.
#[derive(Debug, Clone)]
pub struct Submission {
    pub seq: u64,
    pub conversion_id: String,
    pub submitted_at: i64,
    /// `(objectTypeId, name, value)`.
    pub values: Vec<(String, String, String)>,
    pub page_url: Option<String>,
    /// The contact created or updated, if any.
    pub contact_id: Option<u64>,
}

/// The forms of every portal.
#[derive(Debug, Default)]
pub struct FormsState {
    portals: HashMap<i64, Vec<Form>>,
    next_seq: u64,
}

impl FormsState {
    fn forms(&mut self, portal: i64) -> &mut Vec<Form> {
        self.portals.entry(portal).or_default()
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}

fn default_configuration() -> Value {
    json!({
        "language": "en",
        "cloneable": true,
        "postSubmitAction": {"type": "thank_you", "value": "Thanks for submitting the form."},
        "editable": true,
        "archivable": true,
        "recaptchaEnabled": false,
        "notifyContactOwner": false,
        "notifyRecipients": [],
        "createNewContactForNewEmail": false,
        "prePopulateKnownValues": true,
        "allowLinkToResetKnownValues": false,
        "lifecycleStages": [],
    })
}

fn default_display_options() -> Value {
    json!({
        "renderRawHtml": false,
        "theme": "default_style",
        "submitButtonText": "Submit",
        "style": {},
        "cssClass": "",
    })
}

fn default_legal_consent() -> Value {
    json!({"type": "none"})
}

fn form_json(f: &Form) -> Value {
    let mut v = json!({
        "id": f.id,
        "name": f.name,
        "formType": "hubspot",
        "createdAt": time::iso(f.created_at),
        "updatedAt": time::iso(f.updated_at),
        "archived": f.archived_at.is_some(),
        "fieldGroups": f.field_groups,
        "configuration": f.configuration,
        "displayOptions": f.display_options,
        "legalConsentOptions": f.legal_consent_options,
    });
    if let (Some(at), Some(obj)) = (f.archived_at, v.as_object_mut()) {
        obj.insert("archivedAt".into(), json!(time::iso(at)));
    }
    v
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::validation(message)
}

fn form_not_found(id: &str) -> ApiError {
    let mut err = ApiError::not_found(format!("Form {id} was not found"));
    err.body.context.insert("formId".into(), json!([id]));
    err
}

fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(sim, headers)?;
    caller.require(Scopes::AnyOf(FORMS_SCOPES))?;
    Ok(caller)
}

/// The fields of the field groups: `(objectTypeId, name, required)`.
fn form_fields(groups: &Value) -> Vec<(String, String, bool)> {
    groups
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("fields").and_then(Value::as_array))
        .flatten()
        .map(|f| {
            (
                f.get("objectTypeId")
                    .and_then(Value::as_str)
                    .unwrap_or("0-1")
                    .to_owned(),
                f.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                f.get("required").and_then(Value::as_bool).unwrap_or(false),
            )
        })
        .collect()
}

/// Checks `fieldGroups`: an array of `{fields: [{objectTypeId, name, fieldType, ...}]}`
/// whose fields name existing properties of known object types, each once.
fn check_field_groups(sim: &Sim, portal: i64, groups: &Value) -> Result<(), ApiError> {
    let list = groups
        .as_array()
        .ok_or_else(|| bad("fieldGroups must be an array"))?;
    let mut seen = HashSet::new();
    for g in list {
        let fields = g
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("every field group needs a `fields` array"))?;
        for f in fields {
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| bad("every field needs a `name`"))?;
            let type_id = f
                .get("objectTypeId")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("field {name} needs an `objectTypeId`")))?;
            if f.get("fieldType").and_then(Value::as_str).is_none() {
                return Err(bad(format!("field {name} needs a `fieldType`")));
            }
            let kind = ObjectKind::parse(type_id)
                .filter(|k| k.type_id() == type_id)
                .ok_or_else(|| bad(format!("field {name}: unknown objectTypeId {type_id}")))?;
            let exists = sim.with(|s| s.crm.portal(portal).store(kind).prop_index(name).is_some());
            if !exists {
                return Err(bad(format!(
                    "field {name}: property {name} does not exist on {}",
                    kind.plural()
                )));
            }
            if !seen.insert((type_id.to_owned(), name.to_owned())) {
                return Err(bad(format!("field {name} appears twice")));
            }
        }
    }
    Ok(())
}

/// The parts of a create / PUT body: all of them (`name`, `formType: "hubspot"`,
/// `fieldGroups`; `configuration`, `displayOptions`, `legalConsentOptions` default).
struct FormInput {
    name: String,
    field_groups: Value,
    configuration: Value,
    display_options: Value,
    legal_consent_options: Value,
}

fn object_or(
    body: &Map<String, Value>,
    key: &str,
    default: fn() -> Value,
) -> Result<Value, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(default()),
        Some(v @ Value::Object(_)) => Ok(merge_objects(default(), v)),
        Some(other) => Err(bad(format!("{key} must be an object, got {other}"))),
    }
}

/// `base` with the keys of `over` replaced.
fn merge_objects(mut base: Value, over: &Value) -> Value {
    if let (Some(b), Some(o)) = (base.as_object_mut(), over.as_object()) {
        for (k, v) in o {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

fn form_input(sim: &Sim, portal: i64, body: &Value) -> Result<FormInput, ApiError> {
    let body = body
        .as_object()
        .ok_or_else(|| bad("Invalid input JSON: the body must be an object"))?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("Invalid input JSON: missing field `name`"))?
        .to_owned();
    match body.get("formType").and_then(Value::as_str) {
        Some("hubspot") => {}
        Some(other) => {
            return Err(bad(format!(
                "formType {other} is not supported; only hubspot forms can be created"
            )));
        }
        None => return Err(bad("Invalid input JSON: missing field `formType`")),
    }
    let field_groups = body
        .get("fieldGroups")
        .cloned()
        .ok_or_else(|| bad("Invalid input JSON: missing field `fieldGroups`"))?;
    check_field_groups(sim, portal, &field_groups)?;
    Ok(FormInput {
        name,
        field_groups,
        configuration: object_or(body, "configuration", default_configuration)?,
        display_options: object_or(body, "displayOptions", default_display_options)?,
        legal_consent_options: object_or(body, "legalConsentOptions", default_legal_consent)?,
    })
}

fn check_unique_name(forms: &[Form], name: &str, own: Option<&str>) -> Result<(), ApiError> {
    if forms
        .iter()
        .any(|f| f.archived_at.is_none() && f.name == name && Some(f.id.as_str()) != own)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CONFLICT",
            format!("A form named {name} already exists"),
        ));
    }
    Ok(())
}

/// Query parameters of the two list endpoints.
struct ListQuery {
    limit: usize,
    after: Option<u64>,
    archived: bool,
    form_types: Vec<String>,
}

fn list_query(query: Option<&str>, default: usize, max: usize) -> Result<ListQuery, ApiError> {
    let mut q = ListQuery {
        limit: default,
        after: None,
        archived: false,
        form_types: Vec::new(),
    };
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "limit" => {
                q.limit = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|l| (1..=max).contains(l))
                    .ok_or_else(|| bad(format!("limit must be between 1 and {max}, got '{v}'")))?;
            }
            "after" if !v.trim().is_empty() => {
                q.after = Some(
                    v.trim()
                        .parse()
                        .map_err(|_| bad(format!("Invalid paging cursor after='{v}'")))?,
                );
            }
            "archived" => {
                q.archived = match v.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" | "" => false,
                    _ => return Err(bad(format!("archived must be true or false, got '{v}'"))),
                };
            }
            "formTypes" => q.form_types.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }
    Ok(q)
}

fn paging(next: u64) -> Value {
    json!({"next": {"after": next.to_string(), "link": format!("?after={next}")}})
}

/// `GET /marketing/v3/forms?after&limit&archived&formTypes` → `{results, paging?}` in
/// creation order; `after` is the next page's first form position.
pub async fn list(
    State(sim): State<Sim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let q = list_query(query.as_deref(), FORMS_DEFAULT_LIMIT, FORMS_MAX_LIMIT)?;
    let hubspot =
        q.form_types.is_empty() || q.form_types.iter().any(|t| t == "hubspot" || t == "all");
    let body = sim.with(|s| {
        let forms = s.forms.forms(caller.portal.id);
        let matching: Vec<&Form> = forms
            .iter()
            .filter(|f| hubspot && f.archived_at.is_some() == q.archived)
            .filter(|f| q.after.is_none_or(|a| f.seq >= a))
            .collect();
        let mut body = json!({
            "results": matching.iter().take(q.limit).map(|f| form_json(f)).collect::<Vec<_>>(),
        });
        if let (Some(next), Some(obj)) = (matching.get(q.limit), body.as_object_mut()) {
            obj.insert("paging".into(), paging(next.seq));
        }
        body
    });
    Ok(respond(&caller, StatusCode::OK, body))
}

/// `POST /marketing/v3/forms` → 201, the form.
pub async fn create(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let body = json_body(&headers, &body)?;
    let input = form_input(&sim, caller.portal.id, &body)?;
    let json = sim.with(|s| {
        let seq = s.forms.seq();
        let forms = s.forms.forms(caller.portal.id);
        check_unique_name(forms, &input.name, None)?;
        let now = now_ms();
        let form = Form {
            seq,
            id: random_uuid(),
            name: input.name,
            field_groups: input.field_groups,
            configuration: input.configuration,
            display_options: input.display_options,
            legal_consent_options: input.legal_consent_options,
            created_at: now,
            updated_at: now,
            archived_at: None,
            submissions: Vec::new(),
        };
        let json = form_json(&form);
        forms.push(form);
        Ok::<_, ApiError>(json)
    })?;
    Ok(respond(&caller, StatusCode::CREATED, json))
}

fn archived_param(query: Option<&str>) -> Result<bool, ApiError> {
    Ok(list_query(query, 1, 1)?.archived)
}

/// `GET /marketing/v3/forms/{formId}?archived`.
pub async fn get_one(
    State(sim): State<Sim>,
    Path(form_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let archived = archived_param(query.as_deref())?;
    let json = sim.with(|s| {
        s.forms
            .forms(caller.portal.id)
            .iter()
            .find(|f| f.id == form_id && f.archived_at.is_some() == archived)
            .map(form_json)
            .ok_or_else(|| form_not_found(&form_id))
    })?;
    Ok(respond(&caller, StatusCode::OK, json))
}

/// `PUT` (a whole definition, as for create) or `PATCH` (any of `name`, `fieldGroups`,
/// `configuration`, `displayOptions`, `legalConsentOptions`; objects are merged key by
/// key, `fieldGroups` replaced) of a live form.
async fn change(
    sim: Sim,
    form_id: String,
    headers: HeaderMap,
    body: Bytes,
    replace: bool,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let body = json_body(&headers, &body)?;
    let portal = caller.portal.id;
    let current = sim.with(|s| {
        s.forms
            .forms(portal)
            .iter()
            .find(|f| f.id == form_id && f.archived_at.is_none())
            .cloned()
            .ok_or_else(|| form_not_found(&form_id))
    })?;
    let input = if replace {
        form_input(&sim, portal, &body)?
    } else {
        let obj = body
            .as_object()
            .ok_or_else(|| bad("Invalid input JSON: the body must be an object"))?;
        let merged = |key: &str, old: &Value| -> Result<Value, ApiError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(old.clone()),
                Some(v @ Value::Object(_)) => Ok(merge_objects(old.clone(), v)),
                Some(other) => Err(bad(format!("{key} must be an object, got {other}"))),
            }
        };
        let name = match obj.get("name") {
            None | Some(Value::Null) => current.name.clone(),
            Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_owned(),
            Some(_) => return Err(bad("name must be a non-empty string")),
        };
        if let Some(t) = obj.get("formType").and_then(Value::as_str)
            && t != "hubspot"
        {
            return Err(bad(format!("formType cannot be changed to {t}")));
        }
        let field_groups = match obj.get("fieldGroups") {
            None | Some(Value::Null) => current.field_groups.clone(),
            Some(g) => {
                check_field_groups(&sim, portal, g)?;
                g.clone()
            }
        };
        FormInput {
            name,
            field_groups,
            configuration: merged("configuration", &current.configuration)?,
            display_options: merged("displayOptions", &current.display_options)?,
            legal_consent_options: merged("legalConsentOptions", &current.legal_consent_options)?,
        }
    };
    let json = sim.with(|s| {
        let forms = s.forms.forms(portal);
        check_unique_name(forms, &input.name, Some(&form_id))?;
        let form = forms
            .iter_mut()
            .find(|f| f.id == form_id && f.archived_at.is_none())
            .ok_or_else(|| form_not_found(&form_id))?;
        form.name = input.name;
        form.field_groups = input.field_groups;
        form.configuration = input.configuration;
        form.display_options = input.display_options;
        form.legal_consent_options = input.legal_consent_options;
        form.updated_at = now_ms();
        Ok::<_, ApiError>(form_json(form))
    })?;
    Ok(respond(&caller, StatusCode::OK, json))
}

/// `PUT /marketing/v3/forms/{formId}`.
pub async fn replace(
    State(sim): State<Sim>,
    Path(form_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    change(sim, form_id, headers, body, true).await
}

/// `PATCH /marketing/v3/forms/{formId}`.
pub async fn update(
    State(sim): State<Sim>,
    Path(form_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    change(sim, form_id, headers, body, false).await
}

/// `DELETE /marketing/v3/forms/{formId}` → 204: archives the form (unknown → 404).
pub async fn archive(
    State(sim): State<Sim>,
    Path(form_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    sim.with(|s| {
        let form = s
            .forms
            .forms(caller.portal.id)
            .iter_mut()
            .find(|f| f.id == form_id && f.archived_at.is_none())
            .ok_or_else(|| form_not_found(&form_id))?;
        let now = now_ms();
        form.archived_at = Some(now);
        form.updated_at = now;
        Ok::<_, ApiError>(())
    })?;
    Ok(no_content(&caller))
}

/// A submission error, in the shape of HubSpot's submission API: the standard body
/// with `errors: [{message, errorType}]`.
fn submission_error(errors: Vec<(String, &'static str)>) -> ApiError {
    let mut err = bad("The request is not valid");
    err.body.errors = errors
        .into_iter()
        .map(|(message, error_type)| json!({"message": message, "errorType": error_type}))
        .collect();
    err
}

/// The text of a submitted value (strings, numbers and booleans).
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `submittedAt`: epoch ms as a number or a string; absent → now.
fn submitted_at(v: Option<&Value>) -> Result<i64, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(now_ms()),
        Some(v) => value_text(v)
            .and_then(|t| t.trim().parse::<i64>().ok())
            .filter(|ms| *ms > 0)
            .ok_or_else(|| {
                submission_error(vec![(
                    format!("Error in 'submittedAt'. {v} is not a timestamp in milliseconds"),
                    "INVALID_METADATA",
                )])
            }),
    }
}

/// `POST /submissions/v3/integration/secure/submit/{portalId}/{formGuid}`.
pub async fn submit(
    State(sim): State<Sim>,
    Path((portal_id, form_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    if portal_id.trim() != caller.portal.id.to_string() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!(
                "The access token belongs to portal {}, not to portal {portal_id}",
                caller.portal.id
            ),
        ));
    }
    let portal = caller.portal.id;
    let body = json_body(&headers, &body)?;
    let obj = body
        .as_object()
        .ok_or_else(|| bad("Invalid input JSON: the body must be an object"))?;
    let fields = obj
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("Invalid input JSON: missing field `fields`"))?;
    let skip_validation = obj
        .get("skipValidation")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let at = submitted_at(obj.get("submittedAt"))?;
    let page_url = obj
        .get("context")
        .and_then(|c| c.get("pageUri"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let hutk = obj
        .get("context")
        .and_then(|c| c.get("hutk"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let form = sim.with(|s| {
        s.forms
            .forms(portal)
            .iter()
            .find(|f| f.id == form_id && f.archived_at.is_none())
            .cloned()
            .ok_or_else(|| form_not_found(&form_id))
    })?;
    if fields.len() > MAX_SUBMITTED_FIELDS {
        return Err(submission_error(vec![(
            format!(
                "Error in 'fields'. {} values were submitted; at most {MAX_SUBMITTED_FIELDS} are allowed",
                fields.len()
            ),
            "MAX_NUMBER_OF_SUBMITTED_VALUES_EXCEEDED",
        )]));
    }
    let mut values = Vec::with_capacity(fields.len());
    let mut errors = Vec::new();
    for f in fields {
        let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
        let type_id = f
            .get("objectTypeId")
            .and_then(Value::as_str)
            .unwrap_or("0-1");
        let Some(value) = f.get("value").and_then(value_text) else {
            errors.push((
                format!("Error in 'fields.{name}'. A field needs a name and a string value"),
                "INVALID_METADATA",
            ));
            continue;
        };
        if name.is_empty() {
            errors.push((
                "Error in 'fields'. A field needs a name and a string value".to_owned(),
                "INVALID_METADATA",
            ));
            continue;
        }
        values.push((type_id.to_owned(), name.to_owned(), value));
    }
    let defined = form_fields(&form.field_groups);
    if !skip_validation {
        for (t, n, _) in &values {
            if !defined.iter().any(|(dt, dn, _)| dt == t && dn == n) {
                errors.push((
                    format!(
                        "Error in 'fields.{n}'. Field '{n}' is not part of the form definition"
                    ),
                    "FIELD_NOT_IN_FORM_DEFINITION",
                ));
            }
        }
        for (t, n, required) in &defined {
            if *required
                && !values
                    .iter()
                    .any(|(vt, vn, v)| vt == t && vn == n && !v.trim().is_empty())
            {
                errors.push((
                    format!("Error in 'fields.{n}'. Required field '{n}' is missing"),
                    "REQUIRED_FIELD",
                ));
            }
        }
    }
    if let Some((_, _, email)) = values.iter().find(|(t, n, _)| t == "0-1" && n == "email") {
        let e = email.trim();
        let valid = e
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !e.contains(' '));
        if !valid {
            errors.push((
                "Error in 'fields.email'. Invalid email address".to_owned(),
                "INVALID_EMAIL",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(submission_error(errors));
    }
    let app = caller.token.app_id;
    let (contact_id, ev) = sim.with(|s| {
        let (id, ev) = upsert_contact(s, portal, app, &values)?;
        // The submission's `hutk` names the contact; a new contact without one gets a
        // fresh token (see `contacts_v1`).
        if let Some(id) = id {
            let store = s.crm.portal(portal).store(ObjectKind::Contacts);
            let has_token = store
                .live
                .get(&id)
                .and_then(|r| crate::contacts_v1::utk_of(&s.user_tokens, portal, id, r))
                .is_some();
            match &hutk {
                Some(t) => s.user_tokens.set(portal, id, t),
                None if !has_token => {
                    s.user_tokens
                        .set(portal, id, &crate::contacts_v1::random_utk());
                }
                None => {}
            }
        }
        Ok::<_, ApiError>((id, ev))
    })?;
    ev.emit(&sim, portal);
    sim.with(|s| {
        let seq = s.forms.seq();
        if let Some(f) = s.forms.forms(portal).iter_mut().find(|f| f.id == form_id) {
            f.submissions.push(Submission {
                seq,
                conversion_id: random_uuid(),
                submitted_at: at,
                values,
                page_url,
                contact_id,
            });
        }
    });
    let action = form.configuration.get("postSubmitAction");
    let kind = action
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("thank_you");
    let text = action
        .and_then(|a| a.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("Thanks for submitting the form.");
    let reply = if kind == "redirect_url" {
        json!({"redirectUri": text})
    } else {
        json!({"inlineMessage": text})
    };
    Ok(respond(&caller, StatusCode::OK, reply))
}

/// Creates or updates the contact of a submission (by `email`; without an email no
/// contact is touched), validated like the objects API, with its webhook events.
fn upsert_contact(
    s: &mut crate::state::State,
    portal: i64,
    app: i64,
    values: &[(String, String, String)],
) -> Result<(Option<u64>, Events), ApiError> {
    let kind = ObjectKind::Contacts;
    let mut ev = Events::new(s, kind, app);
    let mut props = Map::new();
    for (t, n, v) in values {
        if t == "0-1" {
            props.insert(n.clone(), Value::String(v.clone()));
        }
    }
    let Some(email) = props
        .get("email")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Ok((None, ev));
    };
    let crm = s.crm.portal(portal);
    let store = crm.store(kind);
    let existing = store
        .prop_index("email")
        .and_then(|idx| store.find_unique(idx, &email));
    let now = now_ms();
    let id = match existing {
        Some(id) => {
            // A form never clears a value: empty fields are left out of the update.
            props.retain(|_, v| v.as_str().is_some_and(|t| !t.is_empty()));
            let changes = store.validate(&props, false)?;
            store.check_unique(&changes, Some(id), &mut HashSet::new())?;
            let store = crm.store_mut(kind);
            let changed = store.update(id, changes, now, app);
            ev.changed(store, id, &changed);
            id
        }
        None => {
            let changes =
                crate::crm::objects::prepare_create(crm, kind, props, &mut HashSet::new())?;
            let id = crm.alloc_id();
            let store = crm.store_mut(kind);
            ev.created(store, id, &changes);
            store.insert(id, changes, now, app);
            id
        }
    };
    Ok((Some(id), ev))
}

/// `GET /form-integrations/v1/submissions/forms/{formGuid}?limit&after` →
/// `{results: [{conversionId, submittedAt, values: [{name, value, objectTypeId}],
/// pageUrl}], paging?}`, newest first; `after` is the next page's first submission.
pub async fn list_submissions(
    State(sim): State<Sim>,
    Path(form_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&sim, &headers)?;
    let q = list_query(
        query.as_deref(),
        SUBMISSIONS_DEFAULT_LIMIT,
        SUBMISSIONS_MAX_LIMIT,
    )?;
    let body = sim.with(|s| {
        let form = s
            .forms
            .forms(caller.portal.id)
            .iter()
            .find(|f| f.id == form_id)
            .ok_or_else(|| form_not_found(&form_id))?;
        let matching: Vec<&Submission> = form
            .submissions
            .iter()
            .rev()
            .filter(|sub| q.after.is_none_or(|a| sub.seq <= a))
            .collect();
        let results: Vec<Value> = matching
            .iter()
            .take(q.limit)
            .map(|sub| {
                let values: Vec<Value> = sub
                    .values
                    .iter()
                    .map(|(t, n, v)| json!({"name": n, "value": v, "objectTypeId": t}))
                    .collect();
                let mut r = json!({
                    "conversionId": sub.conversion_id,
                    "submittedAt": sub.submitted_at,
                    "values": values,
                });
                if let (Some(url), Some(obj)) = (&sub.page_url, r.as_object_mut()) {
                    obj.insert("pageUrl".into(), json!(url));
                }
                r
            })
            .collect();
        let mut body = json!({ "results": results });
        if let (Some(next), Some(obj)) = (matching.get(q.limit), body.as_object_mut()) {
            obj.insert("paging".into(), paging(next.seq));
        }
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(&caller, StatusCode::OK, body))
}

/// The forms routes (the list also with a trailing slash, as the official clients send).
pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/marketing/v3/forms", get(list).post(create))
        .route("/marketing/v3/forms/", get(list).post(create))
        .route(
            "/marketing/v3/forms/{form_id}",
            get(get_one).put(replace).patch(update).delete(archive),
        )
        .route(
            "/submissions/v3/integration/secure/submit/{portal_id}/{form_id}",
            post(submit),
        )
        .route(
            "/form-integrations/v1/submissions/forms/{form_id}",
            get(list_submissions),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_groups() {
        let g = json!([{"fields": [{"objectTypeId": "0-1", "name": "email", "required": true}]},
                       {"fields": [{"name": "firstname"}]}]);
        assert_eq!(
            form_fields(&g),
            vec![
                ("0-1".to_owned(), "email".to_owned(), true),
                ("0-1".to_owned(), "firstname".to_owned(), false)
            ]
        );
        assert_eq!(
            merge_objects(json!({"a": 1, "b": 2}), &json!({"b": 3})),
            json!({"a": 1, "b": 3})
        );
    }
}
