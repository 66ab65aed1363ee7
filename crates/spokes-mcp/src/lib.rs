//! Spokes for AI agents: a Model Context Protocol server that gives one installation (one
//! customer's HubSpot portal) to the partner's agent. Its tools and resources are made from
//! the method catalogue and every call runs through the method layer (scope gate,
//! idempotency, rate limiter, retries, normalised errors), like `POST …/methods/{method}`.
//!
//! The transport is the caller's: the server mounts [`SpokesMcp::for_http`] behind its API
//! key check at `/mcp`, the CLI serves [`SpokesMcp::local`] over stdio.

mod audit;
mod resources;
mod tools;

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, DiscoverResult, Implementation,
    InitializeRequestParams, InitializeResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::json;
use spokes_core::{Clock, Installation, InstallationStatus, TokenSet};
use spokes_engine::Methods;
use spokes_store::Store;

pub use tools::ToolSet;

/// What the agents' server works with; one per process, shared by every session.
pub struct Agents {
    pub methods: Arc<Methods>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    portal: resources::PortalCache,
    audit: audit::AuditLog,
}

impl Agents {
    /// Starts the audit's writer on the current tokio runtime.
    pub fn new(methods: Arc<Methods>, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            audit: audit::AuditLog::start(store.clone()),
            methods,
            store,
            clock,
            portal: resources::PortalCache::default(),
        }
    }

    /// Waits until every tool call so far is in the audit (before the process ends).
    pub async fn flush_audit(&self) {
        self.audit.flush().await;
    }
}

/// Who calls, on which installation and with which rights; decided for every request (over
/// HTTP by the server from the API key, so a revoked key stops at once).
#[derive(Debug, Clone)]
pub struct Access {
    /// The partner API key's id; `None` for the local stdio transport.
    pub key_id: Option<String>,
    pub installation: Installation,
    /// The installation's tokens when they were read with it.
    pub tokens: Option<TokenSet>,
    /// Why writes are refused (a read-only key, installation or session), when they are.
    pub read_only: Option<String>,
    /// Whether a write tool answers a preview unless called with `confirm: true`.
    pub confirm_writes: bool,
    pub tools: ToolSet,
}

/// Why a request has no installation to act on: each MCP request answers it as its error.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// A stable code, as in the partner API (`not_found`, `unauthorized`, …).
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn to_mcp(&self) -> McpError {
        McpError::invalid_request(self.message.clone(), Some(json!({"code": self.code})))
    }
}

/// What the HTTP server puts in each MCP request's extensions.
pub type AccessResult = Result<Access, Refusal>;

/// The local (stdio) session's installation and rights.
#[derive(Debug, Clone)]
pub struct Local {
    pub installation_id: String,
    pub read_only: bool,
    pub confirm_writes: bool,
    pub tools: ToolSet,
}

/// The MCP server handler: one per session, cheap to make.
#[derive(Clone)]
pub struct SpokesMcp {
    agents: Arc<Agents>,
    local: Option<Arc<Local>>,
}

impl SpokesMcp {
    /// For requests that carry an [`AccessResult`] in their HTTP extensions.
    pub fn for_http(agents: Arc<Agents>) -> Self {
        Self {
            agents,
            local: None,
        }
    }

    /// For a local session on one installation (stdio): it is read again for every request.
    pub fn local(agents: Arc<Agents>, local: Local) -> Self {
        Self {
            agents,
            local: Some(Arc::new(local)),
        }
    }

    /// The request's access, refused (with why, and what to do) when the installation is
    /// not connected.
    async fn access(&self, context: &RequestContext<RoleServer>) -> Result<Access, McpError> {
        let access = self.find_access(context).await?;
        connected(&access.installation).map_err(|refusal| refusal.to_mcp())?;
        Ok(access)
    }

    async fn find_access(&self, context: &RequestContext<RoleServer>) -> Result<Access, McpError> {
        let Some(local) = &self.local else {
            return context
                .extensions
                .get::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<AccessResult>())
                .ok_or_else(|| {
                    McpError::internal_error(
                        "the request reached MCP without an API key check",
                        None,
                    )
                })?
                .clone()
                .map_err(|refusal| refusal.to_mcp());
        };
        let installation = self
            .agents
            .store
            .get_installation(&local.installation_id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not read the installation");
                McpError::internal_error("could not read the installation; the log has the details", None)
            })?
            .ok_or_else(|| {
                Refusal {
                    code: "not_found",
                    message: format!(
                        "installation `{}` does not exist; `GET /v1/accounts/{{account}}/connectors` lists them",
                        local.installation_id
                    ),
                }
                .to_mcp()
            })?;
        let read_only = if local.read_only {
            Some("this session was started with --read-only".to_string())
        } else {
            installation.read_only_reason()
        };
        Ok(Access {
            key_id: None,
            read_only,
            confirm_writes: local.confirm_writes,
            tools: local.tools,
            tokens: None,
            installation,
        })
    }
}

/// Only a connected installation is served: before the first consent, and after HubSpot
/// refused its tokens, nothing an agent asks for can work, so every request says why.
fn connected(installation: &Installation) -> Result<(), Refusal> {
    let reconnect = format!(
        "create an auth link (POST /v1/accounts/{}/connectors/{}/auth-link) and have the customer consent",
        installation.account_id, installation.id
    );
    match installation.status {
        InstallationStatus::Authenticated => Ok(()),
        InstallationStatus::Unauthenticated => Err(Refusal {
            code: "not_connected",
            message: format!(
                "installation `{}` is not connected to HubSpot yet: {reconnect}",
                installation.id
            ),
        }),
        InstallationStatus::NeedsReauth => Err(Refusal {
            code: "needs_reauth",
            message: format!(
                "installation `{}` must be reconnected to HubSpot ({}): {reconnect} again",
                installation.id,
                installation
                    .last_error
                    .as_ref()
                    .map_or("the connection was lost", |e| e.message.as_str())
            ),
        }),
    }
}

impl ServerHandler for SpokesMcp {
    fn get_info(&self) -> ServerConfig {
        InitializeResult::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("spokes", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS)
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        let access = self.access(&context).await?;
        context.peer.set_peer_info(request.clone());
        let info = self.negotiate_initialize(&request)?;
        Ok(info.with_instructions(format!("{INSTRUCTIONS}\n\n{}", describe(&access))))
    }

    /// The 2026-07-28 revision's handshake (no `initialize`): refused and described as
    /// `initialize` is, so a client learns at once that it cannot use the installation.
    async fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, McpError> {
        let access = self.access(&context).await?;
        let info = self
            .get_info()
            .with_instructions(format!("{INSTRUCTIONS}\n\n{}", describe(&access)));
        Ok(DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            info,
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let access = self.access(&context).await?;
        Ok(ListToolsResult::with_all_items(
            tools::list(&self.agents, &access).await,
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let access = self.access(&context).await?;
        let arguments = request.arguments.unwrap_or_default();
        let started = std::time::Instant::now();
        let outcome = tools::call(&self.agents, &access, &request.name, &arguments).await;
        audit::record(
            &self.agents,
            &access,
            &request.name,
            &arguments,
            &outcome,
            started,
        )
        .await;
        Ok(outcome.into_result().into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let access = self.access(&context).await?;
        Ok(ListResourcesResult::with_all_items(
            resources::list(&self.agents, &access).await,
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        self.access(&context).await?;
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let access = self.access(&context).await?;
        resources::read_resource(&self.agents, &access, &request.uri)
            .await
            .map(Into::into)
    }
}

const INSTRUCTIONS: &str = "Spokes gives you one customer's HubSpot portal. Learn the data model first (the resources, or list_properties and list_pipelines), then search or read records. Write tools (create, update, archive, associate) answer a preview of the exact HubSpot request and change nothing unless called with `confirm: true`; pass an `idempotency_key` so a retried write happens once. Errors carry a stable `code` (missing_scopes, not_found, validation_failed, needs_reauth, rate_limited, …) and say what to do next.";

/// The installation in a few lines, for the agent's instructions.
fn describe(access: &Access) -> String {
    let i = &access.installation;
    let portal = i.portal.as_ref().map_or(String::new(), |p| {
        format!(": HubSpot portal {}", p.portal_id)
    });
    let mut text = format!(
        "Installation `{}` of account `{}`{portal}.",
        i.id, i.account_id
    );
    if let Some(why) = &access.read_only {
        text.push_str(&format!(" Read-only: {why}."));
    } else if !access.confirm_writes {
        text.push_str(" Writes run without confirmation.");
    }
    text
}
