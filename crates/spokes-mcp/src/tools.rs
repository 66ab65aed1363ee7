//! The tools: a compact set agents handle well (see [`compact`]), or one tool per catalogue
//! method (`tools=all`). A tool is listed only when the installation was granted its scopes;
//! every call runs catalogue methods through the method layer. Writes are refused on a
//! read-only key or installation, and answer a preview of the HubSpot request unless called
//! with `confirm: true` (when the key asks for confirmation, the default).

mod compact;

use std::sync::Arc;

use rmcp::model::{CallToolResult, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};
use spokes_hubspot::catalogue::{self, Body, MethodDef};
use spokes_hubspot::connector::CONNECTOR_ID;
use spokes_hubspot::{MethodError, MethodInput, scopes};

use crate::{Access, Agents, resources};

/// Which tools a session lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolSet {
    /// A dozen generic tools (search, get, create, update, archive, associate, …).
    #[default]
    Compact,
    /// One tool per catalogue method, named after it (`contacts.create` → `contacts_create`).
    All,
}

impl ToolSet {
    /// `compact` or `all`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "compact" => Some(Self::Compact),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

/// How a tool call ended.
pub(crate) enum Outcome {
    /// What the method answered (`{data, paging}`), or the compact tool's answer.
    Done(Value),
    /// A write not confirmed: the request that would be sent.
    Preview(Value),
    Failed(MethodError),
}

impl Outcome {
    /// The audit's outcome: `ok`, `dry_run` or the error's code.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Done(_) => "ok",
            Self::Preview(_) => "dry_run",
            Self::Failed(error) => error.code,
        }
    }

    pub(crate) fn correlation_id(&self) -> Option<&str> {
        match self {
            Self::Failed(error) => error.correlation_id.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn into_result(self) -> CallToolResult {
        match self {
            Self::Done(value) => CallToolResult::structured(value),
            Self::Preview(request) => CallToolResult::structured(json!({
                "dry_run": true,
                "request": request,
                "message": "Nothing was sent to HubSpot. This is the exact request; call the tool again with the same arguments and `confirm: true` to send it.",
            })),
            Self::Failed(error) => CallToolResult::structured_error(error_body(&error)),
        }
    }
}

/// The partner API's error shape: `{"error": {code, message, details?, correlation_id?}}`.
pub(crate) fn error_body(error: &MethodError) -> Value {
    let mut body = json!({"code": error.code, "message": error.message});
    if !error.details.is_null() {
        body["details"] = error.details.clone();
    }
    if let Some(id) = &error.correlation_id {
        body["correlation_id"] = id.clone().into();
    }
    json!({ "error": body })
}

pub(crate) fn invalid(message: impl Into<String>) -> MethodError {
    MethodError::new(400, "invalid_parameters", message)
}

pub(crate) fn allowed(access: &Access, method: &MethodDef) -> bool {
    scopes::satisfies(access.installation.granted_scopes(), &method.scopes)
}

pub(crate) async fn list(agents: &Agents, access: &Access) -> Vec<Tool> {
    match access.tools {
        ToolSet::Compact => compact::tools(agents, access).await,
        ToolSet::All => all_tools(agents, access).await,
    }
}

pub(crate) async fn call(
    agents: &Agents,
    access: &Access,
    name: &str,
    arguments: &Map<String, Value>,
) -> Outcome {
    let plan = match access.tools {
        ToolSet::Compact => compact::plan(agents, access, name, arguments).await,
        ToolSet::All => all_plan(agents, access, name, arguments).await,
    };
    match plan {
        Ok(Plan::Answer(value)) => Outcome::Done(value),
        Ok(Plan::Run(run)) => run_one(agents, access, run, arguments).await,
        Ok(Plan::Each(runs)) => {
            use futures_util::StreamExt;
            let records: Vec<Value> = futures_util::stream::iter(runs)
                .map(|run| async move {
                    match run_one(agents, access, run, arguments).await {
                        Outcome::Done(mut answer) => answer["data"].take(),
                        Outcome::Failed(error) => error_body(&error),
                        Outcome::Preview(request) => request,
                    }
                })
                .buffered(EACH_AT_ONCE)
                .collect()
                .await;
            Outcome::Done(json!({ "data": records }))
        }
        Err(error) => Outcome::Failed(error),
    }
}

/// Requests of one `Plan::Each` in flight at once (the portal's budget paces them further).
const EACH_AT_ONCE: usize = 8;

/// What a tool call comes to.
pub(crate) enum Plan {
    /// Answered without HubSpot (the catalogue itself).
    Answer(Value),
    Run(Run),
    /// Several reads, answered as one list in order (an error in its place).
    Each(Vec<Run>),
}

/// One catalogue method and its input.
pub(crate) struct Run {
    pub(crate) method: &'static MethodDef,
    pub(crate) input: MethodInput,
}

/// Runs one method the way the partner API does, with the write rules of agents.
async fn run_one(
    agents: &Agents,
    access: &Access,
    run: Run,
    arguments: &Map<String, Value>,
) -> Outcome {
    let Run { method, input } = run;
    let installation = &access.installation;
    let tokens = access.tokens.as_ref();
    if input.paging.all {
        // One tool answer holding every record of a large list helps no agent and could
        // hold the whole portal in memory; agents page.
        return Outcome::Failed(invalid(
            "tools answer a page at a time: pass `paging.next` of the answer as `after` for the next page (`paging.all` is for the partner API and its NDJSON stream)",
        ));
    }
    if method.writes {
        if let Some(why) = &access.read_only {
            return Outcome::Failed(MethodError::new(
                403,
                "read_only",
                format!("`{}` writes, and {why}", method.id),
            ));
        }
        let confirmed = arguments.get("confirm").and_then(Value::as_bool) == Some(true);
        if access.confirm_writes && !confirmed {
            return match agents
                .methods
                .preview(installation, tokens, method, &input)
                .await
            {
                Ok(request) => Outcome::Preview(request),
                Err(error) => Outcome::Failed(error),
            };
        }
    }
    let key = match arguments.get("idempotency_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) if !key.is_empty() && key.len() <= 255 => Some(key.as_str()),
        Some(_) => {
            return Outcome::Failed(invalid(
                "`idempotency_key` must be text of 1 to 255 characters",
            ));
        }
    };
    let result = agents
        .methods
        .call(installation, tokens, method, &input, key)
        .await;
    if method.writes && changes_the_data_model(method) {
        agents.portal.forget(&installation.id);
    }
    match result {
        Ok(output) => {
            let mut answer = json!({ "data": output.data });
            if method.paging != catalogue::Paging::None {
                answer["paging"] = json!({ "next": output.next });
            }
            Outcome::Done(answer)
        }
        Err(error) => Outcome::Failed(error),
    }
}

/// Whether a write changes what [`resources`] knows (properties, custom object schemas).
fn changes_the_data_model(method: &MethodDef) -> bool {
    method.path.family == catalogue::Family::Properties || method.id.ends_with("_schema")
}

/// The arguments every write tool takes besides its input.
pub(crate) fn write_arguments(properties: &mut Map<String, Value>) {
    properties.insert(
        "confirm".into(),
        json!({"type": "boolean", "description": "Send the write. Without it the tool answers the exact HubSpot request it would send and changes nothing (unless the API key turned confirmation off)."}),
    );
    properties.insert(
        "idempotency_key".into(),
        json!({"type": "string", "maxLength": 255, "description": "Any unique text; a retry with the same key within 24 hours answers the first outcome and never writes twice."}),
    );
}

/// A tool with `schema` as its input; annotated as reading or writing.
pub(crate) fn tool(
    name: String,
    description: String,
    schema: Value,
    writes: bool,
    title: &str,
) -> Tool {
    let schema = match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let annotations = ToolAnnotations::with_title(title)
        .read_only(!writes)
        .destructive(writes)
        .idempotent(!writes)
        .open_world(true);
    Tool::new(name, description, Arc::new(schema)).annotate(annotations)
}

/// The description of a catalogue method as a tool: what it does and the scopes it uses.
pub(crate) fn describe(method: &MethodDef) -> String {
    let writes = if method.writes {
        " Writes: answers a preview unless `confirm: true`."
    } else {
        ""
    };
    format!("{} {}{writes}", method.description, scopes_text(method))
}

/// `Scopes: a + b or c.`: the method's scope sets, any one of which will do.
pub(crate) fn scopes_text(method: &MethodDef) -> String {
    if method.scopes.is_empty() {
        return "Scopes: HubSpot checks the object types' scopes.".into();
    }
    let sets: Vec<String> = method.scopes.iter().map(|set| set.join(" + ")).collect();
    format!("Scopes: {}.", sets.join(" or "))
}

fn tool_name(id: &str) -> String {
    id.replace('.', "_")
}

/// The partner's copies of the Custom Objects category, bound to their schemas.
async fn copies(agents: &Agents) -> Vec<MethodDef> {
    match agents.store.list_custom_object_copies(CONNECTOR_ID).await {
        Ok(copies) => catalogue::custom_objects::copied_methods(&copies),
        Err(error) => {
            tracing::error!(error = %error, "could not read the custom object copies");
            Vec::new()
        }
    }
}

/// `tools=all`: every granted catalogue method (and copy) as a tool with the method's own
/// input schema; record fields list the portal's properties, custom ones included.
async fn all_tools(agents: &Agents, access: &Access) -> Vec<Tool> {
    let copies = copies(agents).await;
    let mut tools = Vec::new();
    for method in catalogue::all().iter().chain(&copies) {
        if !allowed(access, method) {
            continue;
        }
        let mut schema = catalogue::input_schema(method);
        if let Some(paging) = schema["properties"]["paging"]["properties"].as_object_mut() {
            paging.remove("all");
        }
        if let Body::Properties { object_type, .. } = &method.body
            && let Some(properties) = resources::field_schemas(agents, access, object_type).await
        {
            schema["properties"]["fields"]["properties"] = properties;
        }
        if method.writes
            && let Some(properties) = schema["properties"].as_object_mut()
        {
            write_arguments(properties);
        }
        tools.push(tool(
            tool_name(&method.id),
            describe(method),
            schema,
            method.writes,
            &method.name,
        ));
    }
    tools
}

async fn all_plan(
    agents: &Agents,
    access: &Access,
    name: &str,
    arguments: &Map<String, Value>,
) -> Result<Plan, MethodError> {
    let input = method_input(arguments, &["confirm", "idempotency_key"])?;
    if let Some(method) = catalogue::all().iter().find(|m| tool_name(&m.id) == name) {
        return Ok(Plan::Run(Run { method, input }));
    }
    let copy = copies(agents)
        .await
        .into_iter()
        .find(|m| tool_name(&m.id) == name)
        .ok_or_else(|| unknown_tool(name))?;
    let of = copy.copy_of.as_ref().ok_or_else(|| unknown_tool(name))?;
    let portal_id = access.installation.portal.as_ref().map(|p| p.portal_id);
    let (method, input) = of.bind(portal_id, input)?;
    Ok(Plan::Run(Run { method, input }))
}

/// `{parameters, fields, paging}` from a tool's arguments, without the `skip` ones.
pub(crate) fn method_input(
    arguments: &Map<String, Value>,
    skip: &[&str],
) -> Result<MethodInput, MethodError> {
    let rest: Map<String, Value> = arguments
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::from_value(Value::Object(rest)).map_err(|e| {
        invalid(format!(
            "the arguments do not fit the tool's input schema: {e}"
        ))
    })
}

pub(crate) fn unknown_tool(name: &str) -> MethodError {
    MethodError::new(
        404,
        "not_found",
        format!("tool `{name}` does not exist for this installation; tools/list lists them"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn tool_names_of_methods_are_unique() {
        let mut names: Vec<String> = spokes_hubspot::catalogue::all()
            .iter()
            .map(|m| super::tool_name(&m.id))
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
        assert!(
            names
                .iter()
                .all(|n| n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        );
    }
}
