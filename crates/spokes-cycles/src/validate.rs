//! Whether a template can run: every problem at once, so that a partner fixes them in one
//! round. A template with any problem is refused whole.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::Serialize;

pub use crate::catalogue::{
    Chain, HUBSPOT, HubSpotCatalogue, MethodCatalogue, MethodInfo, ParamInfo,
};
use crate::dates;
use crate::graph::{Graph, TRIGGER};
use crate::mapping::{SYSTEM_DATES, SYSTEM_NAMES};
use crate::path;
use crate::sandbox::{CONTEXT_NAMES, Sandbox};
use crate::template::{ErrorPolicy, Mapping, Mappings, Source, Step, Template, Trigger};

/// The longest delay step: four weeks.
pub const MAX_DELAY_MINUTES: u32 = 4 * 10_080;
/// The longest wait before a retry: one week.
pub const MAX_RETRY_WAIT_MINUTES: u32 = 10_080;

/// One thing wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The step's id; none for the template itself and its trigger.
    pub step: Option<String>,
    /// The member at fault, dotted: `name`, `trigger.method`, `fields.domain.transform`.
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.step, &self.field) {
            (Some(step), Some(field)) => write!(f, "step `{step}`, `{field}`: ")?,
            (Some(step), None) => write!(f, "step `{step}`: ")?,
            (None, Some(field)) => write!(f, "`{field}`: ")?,
            (None, None) => {}
        }
        f.write_str(&self.reason)
    }
}

/// Every problem of the template, or none.
pub fn validate(template: &Template, methods: &dyn MethodCatalogue) -> Result<(), Vec<Problem>> {
    let mut check = Checker {
        template,
        methods,
        sandbox: Sandbox::new(),
        graph: Graph::new(template),
        problems: Vec::new(),
    };
    check.names();
    check.graph();
    check.trigger();
    for (i, step) in template.steps.iter().enumerate() {
        check.step(i + 1, step);
    }
    check.error_policy(None, &template.error_policy);
    if check.problems.is_empty() {
        Ok(())
    } else {
        Err(check.problems)
    }
}

/// The scopes each method step (and the trigger) needs, by step id; every entry must be
/// met. A HubSpot webhook trigger has one entry per object it hears of. Unknown methods are
/// left out: validation refuses them.
pub fn required_scopes(
    template: &Template,
    methods: &dyn MethodCatalogue,
) -> Vec<(String, Vec<Vec<String>>)> {
    let mut needs = Vec::new();
    let trigger_id = template.trigger.id().to_owned();
    match &template.trigger {
        Trigger::Poll {
            connector, method, ..
        } => needs.extend(methods.method(connector, method).map(|m| m.scopes)),
        Trigger::HubspotWebhook { events, .. } => {
            let objects: BTreeSet<&str> = events
                .iter()
                .filter_map(|event| event.split_once('.').map(|(object, _)| object))
                .collect();
            needs.extend(objects.into_iter().filter_map(|object| {
                if object == "conversation" {
                    return Some(vec![vec!["conversations.read".to_owned()]]);
                }
                let plural = match object {
                    "company" => "companies".to_owned(),
                    other => format!("{other}s"),
                };
                Some(methods.method(HUBSPOT, &format!("{plural}.get"))?.scopes)
            }));
        }
        Trigger::Webhook { .. } => {}
    }
    let mut scopes: Vec<_> = needs.into_iter().map(|s| (trigger_id.clone(), s)).collect();
    for step in &template.steps {
        if let Step::Method {
            id,
            connector,
            method,
            ..
        } = step
            && let Some(info) = methods.method(connector, method)
        {
            scopes.push((id.clone(), info.scopes));
        }
    }
    scopes.retain(|(_, sets)| !sets.is_empty());
    scopes
}

/// HubSpot's webhook subscription types (`contact.creation`, …).
pub fn is_subscription_type(event: &str) -> bool {
    const OBJECTS: [&str; 6] = [
        "contact",
        "company",
        "deal",
        "ticket",
        "line_item",
        "product",
    ];
    const EVENTS: [&str; 6] = [
        "creation",
        "deletion",
        "propertyChange",
        "associationChange",
        "merge",
        "restore",
    ];
    const OTHERS: [&str; 6] = [
        "contact.privacyDeletion",
        "conversation.creation",
        "conversation.deletion",
        "conversation.privacyDeletion",
        "conversation.propertyChange",
        "conversation.newMessage",
    ];
    if OTHERS.contains(&event) {
        return true;
    }
    match event.split_once('.') {
        Some(("product", "associationChange")) => false,
        Some((object, kind)) => OBJECTS.contains(&object) && EVENTS.contains(&kind),
        None => false,
    }
}

struct Checker<'t> {
    template: &'t Template,
    methods: &'t dyn MethodCatalogue,
    sandbox: Sandbox,
    graph: Graph<'t>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    /// A problem of a node: the trigger's are the template's, under `trigger.`.
    fn at(&mut self, node: usize, field: Option<&str>, reason: impl Into<String>) {
        let (step, field) = if node == TRIGGER {
            let field = field.map_or("trigger".to_owned(), |f| format!("trigger.{f}"));
            (None, Some(field))
        } else {
            (
                Some(self.graph.ids[node].to_owned()),
                field.map(str::to_owned),
            )
        };
        self.problems.push(Problem {
            step,
            field,
            reason: reason.into(),
        });
    }

    fn template_level(&mut self, field: String, reason: impl Into<String>) {
        self.problems.push(Problem {
            step: None,
            field: Some(field),
            reason: reason.into(),
        });
    }

    fn names(&mut self) {
        if self.template.name.trim().is_empty() {
            self.template_level("name".into(), "a template needs a name");
        }
        let mut seen = HashSet::new();
        for (i, variable) in self.template.variables.iter().enumerate() {
            if variable.name.trim().is_empty() {
                self.template_level(format!("variables.{i}.name"), "a variable needs a name");
            } else if !seen.insert(variable.name.as_str()) {
                let reason = format!("variable `{}` is declared twice", variable.name);
                self.template_level(format!("variables.{i}.name"), reason);
            }
        }
        let mut seen = HashSet::new();
        for node in 0..self.graph.ids.len() {
            let id = self.graph.ids[node];
            if id.is_empty() {
                self.at(node, Some("id"), "a step needs an id");
            } else if !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                let reason = format!("`{id}` may only have letters, digits, `_` and `-`");
                self.at(node, Some("id"), reason);
            }
            if !seen.insert(id) {
                self.at(node, Some("id"), format!("another step has the id `{id}`"));
            }
        }
    }

    fn graph(&mut self) {
        for node in 0..self.graph.ids.len() {
            let mut problems = Vec::new();
            for edge in &self.graph.edges[node] {
                match edge.to {
                    None => problems.push((edge.field, format!("no step `{}`", edge.target))),
                    Some(TRIGGER) => {
                        problems.push((edge.field, "no step may lead back to the trigger".into()))
                    }
                    Some(_) => {}
                }
            }
            for (field, reason) in problems {
                self.at(node, Some(field), reason);
            }
        }
        for (node, field, around) in self.graph.loops() {
            let mut names: Vec<&str> = around.iter().map(|&n| self.graph.ids[n]).collect();
            names.push(names[0]);
            let reason = format!(
                "the steps loop ({}); a transaction must come to an end",
                names.join(" → ")
            );
            self.at(node, Some(field), reason);
        }
        let reached = self.graph.reached(None);
        for (node, reached) in reached.into_iter().enumerate().skip(1) {
            // A repeated id is reported as such; edges lead to its first holder only.
            let repeated = self.graph.node(self.graph.ids[node]) != Some(node);
            if !reached && !repeated {
                self.at(node, None, "no path from the trigger leads to this step");
            }
        }
    }

    fn trigger(&mut self) {
        match &self.template.trigger {
            Trigger::Poll {
                connector,
                method,
                parameters,
                ..
            } => {
                if let Some(info) = self.method(TRIGGER, connector, method) {
                    if !info.has_since {
                        let reason = format!(
                            "`{method}` lists no records by time (it has no `since`): a poll \
                             trigger needs a method such as `contacts.list_new`"
                        );
                        self.at(TRIGGER, Some("method"), reason);
                    }
                    self.parameters(TRIGGER, &info, parameters);
                }
                if parameters.contains_key("since") {
                    let reason = "`since` is Spokes' own: the trigger's Last Successful Run Date";
                    self.at(TRIGGER, Some("parameters.since"), reason);
                }
                self.mappings(TRIGGER, "parameters", parameters);
            }
            Trigger::HubspotWebhook { events, .. } => {
                if events.is_empty() {
                    self.at(TRIGGER, Some("events"), "name at least one event");
                }
                let mut seen = HashSet::new();
                for (i, event) in events.iter().enumerate() {
                    let field = format!("events.{i}");
                    if !is_subscription_type(event) {
                        let reason = format!(
                            "`{event}` is not a HubSpot subscription type: `<object>.<event>` \
                             of contact, company, deal, ticket, line_item, product and \
                             creation, deletion, propertyChange, associationChange, merge, \
                             restore; or contact.privacyDeletion; or conversation.creation, \
                             .deletion, .privacyDeletion, .propertyChange, .newMessage"
                        );
                        self.at(TRIGGER, Some(&field), reason);
                    } else if !seen.insert(event) {
                        self.at(TRIGGER, Some(&field), format!("`{event}` is named twice"));
                    }
                }
            }
            Trigger::Webhook { .. } => {}
        }
    }

    fn step(&mut self, node: usize, step: &Step) {
        match step {
            Step::Method {
                connector,
                method,
                parameters,
                fields,
                error_policy,
                ..
            } => {
                if let Some(info) = self.method(node, connector, method) {
                    self.parameters(node, &info, parameters);
                    if !fields.is_empty() && !info.takes_fields {
                        let reason = format!("`{method}` takes no `fields`");
                        self.at(node, Some("fields"), reason);
                    }
                }
                self.mappings(node, "parameters", parameters);
                self.mappings(node, "fields", fields);
                if let Some(policy) = error_policy {
                    self.error_policy(Some(node), policy);
                }
            }
            Step::Decision {
                left,
                operator,
                right,
                ..
            } => {
                self.mapping(node, "left", left);
                let name = serde_json::to_value(operator)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                match (operator.takes_right(), right) {
                    (true, None) => {
                        self.at(node, Some("right"), format!("`{name}` needs a `right`"));
                    }
                    (false, Some(_)) => {
                        self.at(node, Some("right"), format!("`{name}` takes no `right`"));
                    }
                    (true, Some(right)) => self.mapping(node, "right", right),
                    (false, None) => {}
                }
            }
            Step::Delay { minutes, .. } => {
                if !(1..=MAX_DELAY_MINUTES).contains(minutes) {
                    let reason = format!("a delay is 1 to {MAX_DELAY_MINUTES} minutes (4 weeks)");
                    self.at(node, Some("minutes"), reason);
                }
            }
            Step::WaitUntil { until, .. } => self.mapping(node, "until", until),
            Step::Stop { .. } => {}
        }
    }

    /// The method, or a problem saying which name is wrong.
    fn method(&mut self, node: usize, connector: &str, method: &str) -> Option<MethodInfo> {
        if let Some(info) = self.methods.method(connector, method) {
            return Some(info);
        }
        if !self.methods.has_connector(connector) {
            self.at(
                node,
                Some("connector"),
                format!("no connector `{connector}`"),
            );
            return None;
        }
        let mut reason = format!("`{connector}` has no method `{method}`");
        let close = self.methods.close_matches(connector, method);
        if !close.is_empty() {
            reason.push_str(&format!("; did you mean {}?", close.join(", ")));
        }
        self.at(node, Some("method"), reason);
        None
    }

    fn parameters(&mut self, node: usize, info: &MethodInfo, parameters: &Mappings) {
        for name in parameters.keys() {
            if info.param(name).is_none() {
                let known: Vec<&str> = info.params.iter().map(|p| p.name.as_str()).collect();
                let reason = if known.is_empty() {
                    format!("`{}` takes no parameters", info.id)
                } else {
                    format!("no parameter `{name}` (there are {})", known.join(", "))
                };
                self.at(node, Some(&format!("parameters.{name}")), reason);
            }
        }
        for param in info.params.iter().filter(|p| p.required) {
            // A poll trigger's `since` is its Last Successful Run Date.
            if node == TRIGGER && param.name == "since" {
                continue;
            }
            let mapped = parameters
                .get(&param.name)
                .is_some_and(|m| m.source != Source::Ignore);
            if !mapped {
                let field = format!("parameters.{}", param.name);
                self.at(node, Some(&field), "a required parameter needs a mapping");
            }
        }
    }

    fn error_policy(&mut self, node: Option<usize>, policy: &ErrorPolicy) {
        let ErrorPolicy::Retry { waits_minutes, .. } = policy else {
            return;
        };
        let report = |check: &mut Self, field: String, reason: String| match node {
            Some(node) => check.at(node, Some(&field), reason),
            None => check.template_level(field, reason),
        };
        if waits_minutes.is_empty() {
            let reason = "a retry needs at least one wait".to_owned();
            report(self, "error_policy.waits_minutes".into(), reason);
        }
        for (i, wait) in waits_minutes.iter().enumerate() {
            if !(1..=MAX_RETRY_WAIT_MINUTES).contains(wait) {
                let reason = format!("a wait is 1 to {MAX_RETRY_WAIT_MINUTES} minutes (a week)");
                report(self, format!("error_policy.waits_minutes.{i}"), reason);
            }
        }
    }

    fn mappings(&mut self, node: usize, prefix: &str, mappings: &Mappings) {
        for (name, mapping) in mappings {
            self.mapping(node, &format!("{prefix}.{name}"), mapping);
        }
    }

    fn mapping(&mut self, node: usize, field: &str, mapping: &Mapping) {
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut problem = |piece: &str, reason: String| {
            problems.push((format!("{field}.{piece}"), reason));
        };
        let source = source_name(mapping.source);
        let needs: &[&str] = match mapping.source {
            Source::Ignore => &[],
            Source::Static => &["value"],
            Source::Variable | Source::System => &["name"],
            Source::Step => &["step", "path"],
            Source::Text => &["text"],
        };
        let present = [
            ("value", mapping.value.is_some()),
            ("name", mapping.name.is_some()),
            ("step", mapping.step.is_some()),
            ("path", mapping.path.is_some()),
            ("text", mapping.text.is_some()),
            ("format", mapping.format.is_some()),
            ("transform", mapping.transform.is_some()),
            ("default", mapping.default.is_some()),
        ];
        for (piece, is_present) in present {
            let belongs = needs.contains(&piece)
                || (mapping.source != Source::Ignore && matches!(piece, "transform" | "default"))
                || (mapping.source == Source::System && piece == "format");
            match (needs.contains(&piece), is_present, belongs) {
                (true, false, _) => {
                    problem(piece, format!("a `{source}` mapping needs a `{piece}`"))
                }
                (_, true, false) => problem(
                    piece,
                    format!("`{piece}` does not belong to a `{source}` mapping"),
                ),
                _ => {}
            }
        }
        match mapping.source {
            Source::Variable => {
                if let Some(name) = &mapping.name
                    && !self.template.variables.iter().any(|v| &v.name == name)
                {
                    problem("name", format!("no variable `{name}` is declared"));
                }
            }
            Source::Step => {
                if let Some(step) = &mapping.step
                    && let Some(reason) = self.earlier_step(node, step)
                {
                    problem("step", reason);
                }
                if let Some(text) = &mapping.path
                    && let Err(e) = path::parse(text)
                {
                    problem("path", e.to_string());
                }
            }
            Source::Text => {
                if let Some(text) = &mapping.text {
                    match self.sandbox.compile_text(text) {
                        Ok(names) => {
                            for reason in self.merge_field_problems(node, &names, false) {
                                problem("text", reason);
                            }
                        }
                        Err(e) => problem("text", e.to_string()),
                    }
                }
            }
            Source::System => {
                if let Some(name) = &mapping.name {
                    if !SYSTEM_NAMES.contains(&name.as_str()) {
                        let reason = format!(
                            "no system value `{name}` (there are {})",
                            SYSTEM_NAMES.join(", ")
                        );
                        problem("name", reason);
                    } else if mapping.format.is_some() && !SYSTEM_DATES.contains(&name.as_str()) {
                        problem(
                            "format",
                            format!("`{name}` is not a date: it takes no `format`"),
                        );
                    }
                }
                if let Some(format) = &mapping.format
                    && format != dates::UNIX_MS
                    && let Err(reason) = dates::check_format(format)
                {
                    problem("format", reason);
                }
            }
            Source::Ignore | Source::Static => {}
        }
        if let Some(expr) = &mapping.transform {
            match self.sandbox.compile_expression(expr) {
                Ok(names) => {
                    for reason in self.merge_field_problems(node, &names, true) {
                        problem("transform", reason);
                    }
                }
                Err(e) => problem("transform", e.to_string()),
            }
        }
        for (field, reason) in problems {
            self.at(node, Some(&field), reason);
        }
    }

    /// Why `step` cannot be read at `node`, if it cannot.
    fn earlier_step(&self, node: usize, step: &str) -> Option<String> {
        match self.graph.node(step) {
            None => Some(format!("no step `{step}`")),
            Some(earlier) if !self.graph.runs_before(earlier, node) => Some(format!(
                "step `{step}` does not run before this one on every path"
            )),
            Some(_) => None,
        }
    }

    /// The names a text or a transform reads that nothing provides: unknown names, steps
    /// that have not run yet, undeclared variables. Only plain attribute reads
    /// (`steps.find.id`) are seen; `steps[name]` is left to run time.
    fn merge_field_problems(
        &self,
        node: usize,
        names: &BTreeSet<String>,
        in_expression: bool,
    ) -> BTreeSet<String> {
        let mut problems = BTreeSet::new();
        for name in names {
            let mut parts = name.split('.');
            let top = parts.next().unwrap_or_default();
            let second = parts.next();
            if !self.sandbox.knows_name(top, in_expression) {
                problems.insert(format!(
                    "`{top}` is not a name merge fields know ({})",
                    CONTEXT_NAMES.join(", ")
                ));
            } else if let ("steps", Some(step)) = (top, second)
                && let Some(reason) = self.earlier_step(node, step)
            {
                problems.insert(reason);
            } else if let ("variables", Some(variable)) = (top, second)
                && !self.template.variables.iter().any(|v| v.name == variable)
            {
                problems.insert(format!("no variable `{variable}` is declared"));
            } else if top == "trigger" && node == TRIGGER {
                problems.insert("the trigger's own item is not there yet".into());
            }
        }
        problems
    }
}

fn source_name(source: Source) -> &'static str {
    match source {
        Source::Ignore => "ignore",
        Source::Static => "static",
        Source::Variable => "variable",
        Source::Step => "step",
        Source::Text => "text",
        Source::System => "system",
    }
}

#[cfg(test)]
mod tests;
