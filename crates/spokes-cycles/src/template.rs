//! The template document: what a partner builds once and installs into each customer's
//! account as a cycle. It is JSON (`POST /v1/templates`, `GET …/export`); its JSON Schema is
//! made from these types (`schema::template_schema`) and committed as
//! `schemas/template.schema.json` for editors.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The id the trigger step has unless the template names it otherwise.
pub const DEFAULT_TRIGGER_ID: &str = "trigger";

/// A cycle template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Values the steps' mappings read with the `variable` source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Variable>,
    /// Where the cycle's items come from; one transaction runs per item.
    pub trigger: Trigger,
    /// The steps after the trigger, joined by their `next` (and a decision's `on_true` /
    /// `on_false`) edges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// What a failing method step does unless the step says otherwise.
    #[serde(default)]
    pub error_policy: ErrorPolicy,
}

/// A value a cycle is installed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The value when the cycle does not set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Whether the partner (or the customer) may set it when installing a cycle.
    #[serde(default)]
    pub configurable: bool,
    /// A required variable without a default is a prerequisite the cycle must meet before
    /// it can be activated.
    #[serde(default)]
    pub required: bool,
}

/// The first step of a cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A method run on the cycle's interval, with `since` = the step's Last Successful Run
    /// Date: every record it lists is one item. The method must have a `since` parameter
    /// (e.g. `contacts.list_new`).
    Poll {
        #[serde(default = "default_trigger_id")]
        id: String,
        connector: String,
        method: String,
        /// The method's other parameters (`since` is Spokes').
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        parameters: Mappings,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// HubSpot's webhook events of the given subscription types (`contact.creation`,
    /// `deal.propertyChange`, …) for the installation's portal: every event is one item.
    HubspotWebhook {
        #[serde(default = "default_trigger_id")]
        id: String,
        events: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// `POST /api/webhook/{cycle}`: the JSON body is one item, or each element of a JSON
    /// array body is.
    Webhook {
        #[serde(default = "default_trigger_id")]
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
}

fn default_trigger_id() -> String {
    DEFAULT_TRIGGER_ID.to_owned()
}

impl Trigger {
    pub fn id(&self) -> &str {
        match self {
            Self::Poll { id, .. } | Self::HubspotWebhook { id, .. } | Self::Webhook { id, .. } => {
                id
            }
        }
    }

    pub fn next(&self) -> Option<&str> {
        match self {
            Self::Poll { next, .. }
            | Self::HubspotWebhook { next, .. }
            | Self::Webhook { next, .. } => next.as_deref(),
        }
    }
}

/// A step after the trigger.
// A template has a handful of steps, read once per transaction: boxing the mappings would
// save little memory and make every step harder to build and match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Calls a connector's method: a HubSpot method of the catalogue (`connector: "hubspot"`)
    /// or a utility method (`connector: "utility"`).
    Method {
        id: String,
        connector: String,
        method: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        parameters: Mappings,
        /// For methods that write a record: property name → mapping.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        fields: Mappings,
        /// Overrides the template's policy for this step.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_policy: Option<ErrorPolicy>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Compares `left` with `right` and goes on along `on_true` or `on_false`; a missing edge
    /// ends the transaction there, successfully.
    Decision {
        id: String,
        left: Mapping,
        operator: Operator,
        /// Not needed by `is_empty` and `is_not_empty`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        right: Option<Mapping>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_true: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_false: Option<String>,
    },
    /// Waits `minutes` before the next step.
    Delay {
        id: String,
        minutes: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Waits until the time `until` evaluates to (RFC 3339 or Unix milliseconds); a time in
    /// the past goes on at once.
    WaitUntil {
        id: String,
        until: Mapping,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Ends the transaction, successfully.
    Stop { id: String },
}

impl Step {
    pub fn id(&self) -> &str {
        match self {
            Self::Method { id, .. }
            | Self::Decision { id, .. }
            | Self::Delay { id, .. }
            | Self::WaitUntil { id, .. }
            | Self::Stop { id } => id,
        }
    }

    /// The steps this one may lead to.
    pub fn edges(&self) -> Vec<&str> {
        match self {
            Self::Method { next, .. } | Self::Delay { next, .. } | Self::WaitUntil { next, .. } => {
                next.as_deref().into_iter().collect()
            }
            Self::Decision {
                on_true, on_false, ..
            } => on_true
                .as_deref()
                .into_iter()
                .chain(on_false.as_deref())
                .collect(),
            Self::Stop { .. } => Vec::new(),
        }
    }
}

/// Parameter or field name → where its value comes from.
pub type Mappings = BTreeMap<String, Mapping>;

/// Where one value comes from. Which other members a source needs:
///
/// | `source` | needs | value |
/// |---|---|---|
/// | `ignore` | | nothing is sent |
/// | `static` | `value` | `value` |
/// | `variable` | `name` | the cycle's value of the variable (else its default) |
/// | `step` | `step`, `path` | a field of an earlier step's output (or the trigger item): a dotted `path` (`properties.email`), `[list].field` for a field of every element (`[results].id`), `list.0.id` for one |
/// | `text` | `text` | the text with its merge fields (`{{ steps.trigger.properties.email }}`) filled in by the sandboxed template language |
/// | `system` | `name` | `LastSuccessfulRunDate` (in `format`, default RFC 3339), `CycleId`, `AccountId`, `TransactionId`, `Now` (in `format`) |
///
/// `transform`, when set, is a template-language expression applied to the value (named
/// `value` in it), e.g. `value | lower` or `value | email_domain`; `default` is used when the
/// value is missing or null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// For dates: a `strftime` format (`%Y-%m-%d`), or `unix_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Ignore,
    Static,
    Variable,
    Step,
    Text,
    System,
}

/// A decision's comparison. Text comparisons are case-sensitive; `greater_*` and `less_*`
/// compare numbers, or dates when both sides are dates, else text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Equals,
    NotEquals,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    GreaterThan,
    GreaterOrEqual,
    LessThan,
    LessOrEqual,
    IsEmpty,
    IsNotEmpty,
}

impl Operator {
    /// Whether the operator compares with a `right` operand.
    pub fn takes_right(self) -> bool {
        !matches!(self, Self::IsEmpty | Self::IsNotEmpty)
    }
}

/// What a failing method step does. The default retries on the growing waits 5 min, 35 min,
/// 1 h 35, 4 h 35, 10 h 35, then stops the transaction (failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ErrorPolicy {
    /// Records a warning and goes on to the next step as if the step had answered nothing.
    Ignore,
    /// Retries after each of `waits_minutes` in turn; when they are used up, `then`.
    Retry {
        #[serde(default = "default_waits_minutes")]
        waits_minutes: Vec<u32>,
        #[serde(default)]
        then: FinalAction,
    },
    /// Ends the transaction as failed.
    Stop,
    /// Ends the transaction as failed and pauses the cycle.
    Pause,
}

impl Default for ErrorPolicy {
    fn default() -> Self {
        Self::Retry {
            waits_minutes: default_waits_minutes(),
            then: FinalAction::Stop,
        }
    }
}

/// The default retry waits, in minutes.
pub fn default_waits_minutes() -> Vec<u32> {
    vec![5, 35, 95, 275, 635]
}

/// What a retried step does when its retries are used up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FinalAction {
    Ignore,
    #[default]
    Stop,
    Pause,
}

impl Template {
    /// The step with this id (not the trigger).
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id() == id)
    }
}
