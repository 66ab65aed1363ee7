//! CRM object types and their built-in property definitions. What each built-in type
//! is (names, type id, scopes, properties, …) is data in [`crate::crm::types`]; this
//! module turns it into [`ObjectKind`] answers and [`PropertyDef`]s.

use serde_json::{Value, json};

use crate::crm::time;
use crate::crm::types::{Surface, TYPE_COUNT, TYPES, TypeDef};

pub use crate::crm::types::{DEAL_STAGES, TICKET_STAGES};

/// A CRM object type the simulator knows.
///
/// The eleven named kinds have behaviour of their own somewhere (pipelines, merge,
/// webhooks, seed data, associations); every other built-in type is a
/// [`ObjectKind::Standard`] entry of the table, known only through its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Contacts,
    Companies,
    Deals,
    Tickets,
    Products,
    LineItems,
    Notes,
    Calls,
    Emails,
    Meetings,
    Tasks,
    /// Another built-in type: its position in [`TYPES`].
    Standard(StandardType),
    /// A custom object of a portal: the number of its type id (`2-<n>`), see
    /// [`crate::crm::custom`].
    Custom(u32),
}

/// The position of a built-in type in [`TYPES`] (only the table's own types exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StandardType(u8);

/// The named kinds, in table order.
const NAMED: [ObjectKind; 11] = [
    ObjectKind::Contacts,
    ObjectKind::Companies,
    ObjectKind::Deals,
    ObjectKind::Tickets,
    ObjectKind::Products,
    ObjectKind::LineItems,
    ObjectKind::Notes,
    ObjectKind::Calls,
    ObjectKind::Emails,
    ObjectKind::Meetings,
    ObjectKind::Tasks,
];

/// Every built-in object kind, in index order (see [`ObjectKind::index`]).
pub const ALL_KINDS: [ObjectKind; TYPE_COUNT] = {
    let mut all = [ObjectKind::Contacts; TYPE_COUNT];
    let mut i = 0;
    while i < TYPE_COUNT {
        all[i] = if i < NAMED.len() {
            NAMED[i]
        } else {
            #[allow(clippy::cast_possible_truncation)]
            ObjectKind::Standard(StandardType(i as u8))
        };
        i += 1;
    }
    all
};

/// The number of the first custom object type of a portal (`2-1000001`); a portal's
/// custom types are numbered in creation order from it.
pub const FIRST_CUSTOM_NUMBER: u32 = 1_000_001;

/// The type id of a custom object (`2-<n>`), interned: each number is formatted once
/// and kept for the life of the process (so [`ObjectKind`] stays `Copy` with
/// `&'static str` names).
fn custom_type_id(number: u32) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static IDS: OnceLock<Mutex<HashMap<u32, &'static str>>> = OnceLock::new();
    let mut ids = IDS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    ids.entry(number)
        .or_insert_with(|| Box::leak(format!("2-{number}").into_boxed_str()))
}

/// Scopes of custom objects.
const CUSTOM_READ: &[&str] = &["crm.objects.custom.read"];
const CUSTOM_WRITE: &[&str] = &["crm.objects.custom.write"];

impl ObjectKind {
    /// The position of the object's store in a portal: built-in kinds in [`ALL_KINDS`]
    /// order, then the portal's custom objects in creation order.
    pub fn index(self) -> usize {
        match self {
            Self::Contacts => 0,
            Self::Companies => 1,
            Self::Deals => 2,
            Self::Tickets => 3,
            Self::Products => 4,
            Self::LineItems => 5,
            Self::Notes => 6,
            Self::Calls => 7,
            Self::Emails => 8,
            Self::Meetings => 9,
            Self::Tasks => 10,
            Self::Standard(StandardType(i)) => usize::from(i),
            Self::Custom(n) => n
                .checked_sub(FIRST_CUSTOM_NUMBER)
                .and_then(|d| usize::try_from(d).ok())
                .map_or(usize::MAX, |d| ALL_KINDS.len() + d),
        }
    }

    /// The table entry of a built-in kind (none for custom objects).
    pub fn def(self) -> Option<&'static TypeDef> {
        if self.is_custom() {
            None
        } else {
            TYPES.get(self.index())
        }
    }

    pub fn is_custom(self) -> bool {
        matches!(self, Self::Custom(_))
    }

    /// `0-1`, `0-2`, ... (empty for the few types HubSpot gives no id).
    pub fn type_id(self) -> &'static str {
        match (self, self.def()) {
            (Self::Custom(n), _) => custom_type_id(n),
            (_, Some(d)) => d.type_id,
            (_, None) => "",
        }
    }

    pub fn plural(self) -> &'static str {
        match (self, self.def()) {
            (Self::Custom(n), _) => custom_type_id(n),
            (_, Some(d)) => d.plural,
            (_, None) => "",
        }
    }

    pub fn singular(self) -> &'static str {
        match (self, self.def()) {
            (Self::Custom(n), _) => custom_type_id(n),
            (_, Some(d)) => d.singular,
            (_, None) => "",
        }
    }

    /// Resolves a path segment to a built-in type: plural name, singular name (any
    /// case) or type id. Whether an API serves the type is [`ObjectKind::surface`].
    pub fn parse(s: &str) -> Option<Self> {
        let lower = s.to_ascii_lowercase();
        if lower.is_empty() {
            return None;
        }
        ALL_KINDS.into_iter().find(|k| {
            k.def()
                .is_some_and(|d| d.plural == lower || d.singular == lower || d.type_id == lower)
        })
    }

    /// Scope alternatives for reading records.
    pub fn read_scopes(self) -> &'static [&'static str] {
        self.def().map_or(CUSTOM_READ, |d| d.read)
    }

    /// Scope alternatives for writing records (none for read-only types).
    pub fn write_scopes(self) -> &'static [&'static str] {
        self.def().map_or(CUSTOM_WRITE, |d| d.write)
    }

    /// Records of the type cannot be created, updated or archived through the API.
    pub fn read_only(self) -> bool {
        self.def().is_some_and(|d| d.read_only)
    }

    /// The type must be activated in a portal before use.
    pub fn activatable(self) -> bool {
        self.def().is_some_and(|d| d.activatable)
    }

    /// Which APIs serve the type (custom objects: records; their properties are not
    /// served yet, see [`crate::crm::custom`]).
    pub fn surface(self) -> Surface {
        self.def().map_or(Surface::Full, |d| d.surface)
    }

    /// The object type in webhook event types (`contact.creation`), if webhooks cover it.
    pub fn webhook_type(self) -> Option<&'static str> {
        self.def().filter(|d| d.webhooks).map(|d| d.singular)
    }

    /// Whether the object needs a paid Sales Hub seat (the seed guide's rule).
    pub fn needs_sales_seat(self) -> bool {
        self.def().is_some_and(|d| d.sales_seat)
    }

    /// Whether `POST .../merge` exists for the object.
    pub fn mergeable(self) -> bool {
        self.def().is_some_and(|d| d.merge)
    }

    /// The property that carries the creation time.
    pub fn create_date_property(self) -> &'static str {
        self.def().map_or("hs_createdate", |d| d.create_date)
    }

    /// The property that carries the last modification time.
    pub fn last_modified_property(self) -> &'static str {
        self.def()
            .map_or("hs_lastmodifieddate", |d| d.last_modified)
    }

    /// Properties returned when a request names none.
    pub fn default_properties(self) -> &'static [&'static str] {
        self.def().map_or(
            &["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
            |d| d.defaults,
        )
    }

    /// Properties a create must carry (the simulator's choice, see the README).
    pub fn required_on_create(self) -> &'static [&'static str] {
        self.def().map_or(&[], |d| d.required)
    }

    /// Values set on create when the request leaves them out.
    pub fn create_defaults(self) -> &'static [(&'static str, &'static str)] {
        self.def().map_or(&[], |d| d.create_defaults)
    }

    /// The properties search `query` looks at (a custom object's come from its schema,
    /// `ObjectStore::searchable`).
    pub fn searchable_properties(self) -> &'static [&'static str] {
        self.def().map_or(&[], |d| d.searchable)
    }

    /// The property groups of the object: `(name, label)`.
    pub fn groups(self) -> &'static [(&'static str, &'static str)] {
        self.def().map_or(&[], |d| d.groups)
    }

    /// The main group, where built-in properties go.
    fn main_group(self) -> &'static str {
        self.groups().first().map_or("", |g| g.0)
    }
}

/// A property's data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    Bool,
    Date,
    Datetime,
    Enumeration,
    Number,
    PhoneNumber,
    String,
}

impl PropType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Enumeration => "enumeration",
            Self::Number => "number",
            Self::PhoneNumber => "phone_number",
            Self::String => "string",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "bool" => Self::Bool,
            "date" => Self::Date,
            "datetime" => Self::Datetime,
            "enumeration" => Self::Enumeration,
            "number" => Self::Number,
            "phone_number" => Self::PhoneNumber,
            "string" => Self::String,
            _ => return None,
        })
    }

    pub fn default_field_type(self) -> &'static str {
        match self {
            Self::Bool => "booleancheckbox",
            Self::Date | Self::Datetime => "date",
            Self::Enumeration => "select",
            Self::Number => "number",
            Self::PhoneNumber => "phonenumber",
            Self::String => "text",
        }
    }

    /// Field types allowed with this type.
    pub fn allows_field_type(self, field_type: &str) -> bool {
        match self {
            Self::Bool => matches!(field_type, "booleancheckbox" | "calculation_equation"),
            Self::Date | Self::Datetime => field_type == "date",
            Self::Enumeration => matches!(
                field_type,
                "booleancheckbox" | "checkbox" | "radio" | "select" | "calculation_equation"
            ),
            Self::Number => matches!(field_type, "number" | "calculation_equation"),
            Self::PhoneNumber => matches!(field_type, "phonenumber" | "text"),
            Self::String => matches!(
                field_type,
                "text" | "textarea" | "html" | "file" | "phonenumber" | "calculation_equation"
            ),
        }
    }
}

/// A value the simulator derives from the record instead of storing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    ObjectId,
    CreateDate,
    LastModified,
    /// Line item `amount`: `price * quantity`.
    LineItemAmount,
}

/// One option of an enumeration property.
#[derive(Debug, Clone)]
pub struct PropOption {
    pub value: String,
    pub label: String,
    pub display_order: i64,
    pub hidden: bool,
}

/// A property definition.
#[derive(Debug, Clone)]
pub struct PropertyDef {
    pub name: String,
    pub label: String,
    pub kind: PropType,
    pub field_type: String,
    pub group: String,
    pub description: String,
    pub options: Vec<PropOption>,
    /// Values cannot be written through the API.
    pub read_only: bool,
    pub unique: bool,
    pub hubspot_defined: bool,
    pub hidden: bool,
    pub form_field: bool,
    pub display_order: i64,
    pub archived: bool,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub computed: Option<Computed>,
}

/// When the built-in definitions were "created" (fixed, so output is stable).
const BUILTIN_CREATED_AT: i64 = 1_577_836_800_000; // 2020-01-01T00:00:00Z

impl PropertyDef {
    fn builtin(name: &str, label: &str, kind: PropType, group: &str) -> Self {
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            kind,
            field_type: kind.default_field_type().to_owned(),
            group: group.to_owned(),
            description: String::new(),
            options: Vec::new(),
            read_only: false,
            unique: false,
            hubspot_defined: true,
            hidden: false,
            form_field: true,
            display_order: -1,
            archived: false,
            archived_at: None,
            created_at: BUILTIN_CREATED_AT,
            updated_at: BUILTIN_CREATED_AT,
            computed: None,
        }
    }

    fn ro(mut self) -> Self {
        self.read_only = true;
        self.form_field = false;
        self
    }

    fn computed(mut self, c: Computed) -> Self {
        self.computed = Some(c);
        self.ro()
    }

    fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    fn field(mut self, field_type: &str) -> Self {
        self.field_type = field_type.to_owned();
        self
    }

    fn opts(mut self, options: &[(&str, &str)]) -> Self {
        self.options = options
            .iter()
            .enumerate()
            .map(|(i, (value, label))| PropOption {
                value: (*value).to_owned(),
                label: (*label).to_owned(),
                display_order: i64::try_from(i).unwrap_or_default(),
                hidden: false,
            })
            .collect();
        self
    }

    /// The v3 `Property` JSON.
    pub fn to_v3_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "label": self.label,
            "type": self.kind.as_str(),
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": self.options.iter().map(|o| json!({
                "label": o.label,
                "value": o.value,
                "displayOrder": o.display_order,
                "hidden": o.hidden,
            })).collect::<Vec<_>>(),
            "displayOrder": self.display_order,
            "calculated": self.computed.is_some(),
            "externalOptions": false,
            "hasUniqueValue": self.unique,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": !self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "formField": self.form_field,
            "dataSensitivity": "non_sensitive",
            "createdAt": time::iso(self.created_at),
            "updatedAt": time::iso(self.updated_at),
            "archived": self.archived,
        });
        if let (Some(at), Some(obj)) = (self.archived_at, v.as_object_mut()) {
            obj.insert("archivedAt".into(), json!(time::iso(at)));
        }
        v
    }

    /// The legacy `/properties/v2` JSON.
    pub fn to_v2_json(&self) -> Value {
        json!({
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "groupName": self.group,
            "type": self.kind.as_str(),
            "fieldType": self.field_type,
            "options": self.options.iter().map(|o| json!({
                "label": o.label,
                "value": o.value,
                "displayOrder": o.display_order,
                "hidden": o.hidden,
                "description": "",
                "readOnly": false,
            })).collect::<Vec<_>>(),
            "displayOrder": self.display_order,
            "readOnlyValue": self.read_only,
            "readOnlyDefinition": self.hubspot_defined,
            "hidden": self.hidden,
            "mutableDefinitionNotDeletable": self.hubspot_defined,
            "calculated": self.computed.is_some(),
            "externalOptions": false,
            "deleted": self.archived,
            "hubspotDefined": self.hubspot_defined,
            "formField": self.form_field,
            "hasUniqueValue": self.unique,
            "favorited": false,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        })
    }
}

/// The built-in property definitions of `kind`: `hs_object_id`, the creation and
/// last-modified dates, the owner where the type has one, then the table's own.
pub fn builtin_properties(kind: ObjectKind) -> Vec<PropertyDef> {
    let Some(def) = kind.def() else {
        // A custom object's definitions come from its schema.
        return Vec::new();
    };
    use PropType::{Datetime, Enumeration, Number};
    let g = kind.main_group();
    let p = |name: &str, label: &str, t: PropType| PropertyDef::builtin(name, label, t, g);
    let mut props = vec![
        p("hs_object_id", "Record ID", Number).computed(Computed::ObjectId),
        p(def.create_date, "Create Date", Datetime).computed(Computed::CreateDate),
        p(def.last_modified, "Last Modified Date", Datetime).computed(Computed::LastModified),
    ];
    if def.owner {
        props.push(p("hubspot_owner_id", "Owner", Enumeration));
    }
    props.extend(def.props.iter().map(|d| {
        let mut prop = p(d.name, d.label, d.kind).opts(d.options);
        if !d.field.is_empty() {
            prop = prop.field(d.field);
        }
        if d.unique {
            prop = prop.unique();
        }
        match d.computed {
            Some(c) => prop.computed(c),
            None if d.read_only => prop.ro(),
            None => prop,
        }
    }));
    for (i, prop) in props.iter_mut().enumerate() {
        prop.display_order = i64::try_from(i).unwrap_or_default();
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_by_every_name() {
        for k in ALL_KINDS {
            assert_eq!(ObjectKind::parse(k.plural()), Some(k));
            assert_eq!(ObjectKind::parse(k.singular()), Some(k));
            if !k.type_id().is_empty() {
                assert_eq!(ObjectKind::parse(k.type_id()), Some(k));
            }
            assert_eq!(
                k.index(),
                ALL_KINDS.iter().position(|x| *x == k).unwrap_or(99)
            );
        }
        assert_eq!(ObjectKind::parse("CONTACT"), Some(ObjectKind::Contacts));
        assert_eq!(
            ObjectKind::parse("0-14").map(ObjectKind::plural),
            Some("quotes")
        );
        assert_eq!(
            ObjectKind::parse("tax").map(ObjectKind::type_id),
            Some("0-86")
        );
        assert_eq!(ObjectKind::parse("widgets"), None);
        assert_eq!(ObjectKind::parse(""), None);
    }

    #[test]
    fn table_names_are_unique_and_scopes_known() {
        let mut names = Vec::new();
        for d in &TYPES {
            assert!(!d.plural.is_empty() && !d.singular.is_empty());
            assert!(!d.groups.is_empty(), "{} has no group", d.plural);
            assert!(!d.read.is_empty(), "{} has no read scope", d.plural);
            assert_eq!(d.write.is_empty(), d.read_only, "{}", d.plural);
            for s in d.read.iter().chain(d.write) {
                assert!(crate::catalogue::is_known(s), "{}: {s}", d.plural);
            }
            names.push(d.plural);
            if d.singular != d.plural {
                names.push(d.singular);
            }
            if !d.type_id.is_empty() {
                names.push(d.type_id);
            }
        }
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a name or id is used twice");
    }

    #[test]
    fn defaults_and_required_properties_exist() {
        for k in ALL_KINDS {
            let props = builtin_properties(k);
            let has = |n: &str| props.iter().any(|p| p.name == n);
            for n in k.default_properties() {
                assert!(has(n), "{k:?} {n}");
            }
            for n in k.required_on_create() {
                assert!(has(n), "{k:?} {n}");
            }
            for (n, _) in k.create_defaults() {
                assert!(has(n), "{k:?} {n}");
            }
            assert!(has(k.create_date_property()), "{k:?}");
            assert!(has(k.last_modified_property()), "{k:?}");
            let mut names: Vec<&str> = props.iter().map(|p| p.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), props.len(), "{k:?} duplicates");
            for p in &props {
                assert!(p.kind.allows_field_type(&p.field_type), "{k:?} {}", p.name);
                assert!(
                    p.options.is_empty() || p.kind == PropType::Enumeration,
                    "{k:?} {}",
                    p.name
                );
            }
        }
    }
}
