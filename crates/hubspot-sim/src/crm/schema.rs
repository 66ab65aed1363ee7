//! CRM object types and their built-in property definitions.

use serde_json::{Value, json};

use crate::crm::time;

/// A CRM object type the simulator knows.
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
    /// A custom object of a portal: the number of its type id (`2-<n>`), see
    /// [`crate::crm::custom`].
    Custom(u32),
}

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

/// Every object kind, in index order (see [`ObjectKind::index`]).
pub const ALL_KINDS: [ObjectKind; 11] = [
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

/// Scopes of the contacts family (legacy `contacts` grants it too).
const CONTACTS_READ: &[&str] = &["crm.objects.contacts.read", "contacts"];
const CONTACTS_WRITE: &[&str] = &["crm.objects.contacts.write", "contacts"];

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
            Self::Custom(n) => n
                .checked_sub(FIRST_CUSTOM_NUMBER)
                .and_then(|d| usize::try_from(d).ok())
                .map_or(usize::MAX, |d| ALL_KINDS.len() + d),
        }
    }

    pub fn is_custom(self) -> bool {
        matches!(self, Self::Custom(_))
    }

    /// `0-1`, `0-2`, ...
    pub fn type_id(self) -> &'static str {
        match self {
            Self::Contacts => "0-1",
            Self::Companies => "0-2",
            Self::Deals => "0-3",
            Self::Tickets => "0-5",
            Self::Products => "0-7",
            Self::LineItems => "0-8",
            Self::Notes => "0-46",
            Self::Calls => "0-48",
            Self::Emails => "0-49",
            Self::Meetings => "0-47",
            Self::Tasks => "0-27",
            Self::Custom(n) => custom_type_id(n),
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Self::Contacts => "contacts",
            Self::Companies => "companies",
            Self::Deals => "deals",
            Self::Tickets => "tickets",
            Self::Products => "products",
            Self::LineItems => "line_items",
            Self::Notes => "notes",
            Self::Calls => "calls",
            Self::Emails => "emails",
            Self::Meetings => "meetings",
            Self::Tasks => "tasks",
            Self::Custom(n) => custom_type_id(n),
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            Self::Contacts => "contact",
            Self::Companies => "company",
            Self::Deals => "deal",
            Self::Tickets => "ticket",
            Self::Products => "product",
            Self::LineItems => "line_item",
            Self::Notes => "note",
            Self::Calls => "call",
            Self::Emails => "email",
            Self::Meetings => "meeting",
            Self::Tasks => "task",
            Self::Custom(n) => custom_type_id(n),
        }
    }

    /// Resolves a path segment: plural name, singular name (any case) or type id.
    pub fn parse(s: &str) -> Option<Self> {
        let lower = s.to_ascii_lowercase();
        ALL_KINDS
            .into_iter()
            .find(|k| k.plural() == lower || k.singular() == lower || k.type_id() == lower)
    }

    /// Scope alternatives for reading records.
    pub fn read_scopes(self) -> &'static [&'static str] {
        match self {
            Self::Contacts | Self::Notes | Self::Calls | Self::Emails | Self::Meetings => {
                CONTACTS_READ
            }
            Self::Tasks => CONTACTS_READ,
            Self::Companies => &["crm.objects.companies.read", "contacts"],
            Self::Deals => &["crm.objects.deals.read", "contacts"],
            Self::Tickets => &["tickets"],
            Self::Products => &["crm.objects.products.read", "e-commerce"],
            Self::LineItems => &["crm.objects.line_items.read", "e-commerce"],
            Self::Custom(_) => CUSTOM_READ,
        }
    }

    /// Scope alternatives for writing records.
    pub fn write_scopes(self) -> &'static [&'static str] {
        match self {
            Self::Contacts | Self::Notes | Self::Calls | Self::Emails | Self::Meetings => {
                CONTACTS_WRITE
            }
            Self::Tasks => CONTACTS_WRITE,
            Self::Companies => &["crm.objects.companies.write", "contacts"],
            Self::Deals => &["crm.objects.deals.write", "contacts"],
            Self::Tickets => &["tickets"],
            Self::Products => &["crm.objects.products.write", "e-commerce"],
            Self::LineItems => &["crm.objects.line_items.write", "e-commerce"],
            Self::Custom(_) => CUSTOM_WRITE,
        }
    }

    /// The object type in webhook event types (`contact.creation`), if webhooks cover it.
    pub fn webhook_type(self) -> Option<&'static str> {
        Some(match self {
            Self::Contacts => "contact",
            Self::Companies => "company",
            Self::Deals => "deal",
            Self::Tickets => "ticket",
            Self::Products => "product",
            Self::LineItems => "line_item",
            _ => return None,
        })
    }

    /// Whether the object needs a paid Sales Hub seat (the seed guide's rule).
    pub fn needs_sales_seat(self) -> bool {
        matches!(self, Self::Products | Self::LineItems)
    }

    /// Whether `POST .../merge` exists for the object.
    pub fn mergeable(self) -> bool {
        matches!(
            self,
            Self::Contacts | Self::Companies | Self::Deals | Self::Tickets
        )
    }

    pub fn is_engagement(self) -> bool {
        matches!(
            self,
            Self::Notes | Self::Calls | Self::Emails | Self::Meetings | Self::Tasks
        )
    }

    /// The property that carries the creation time.
    pub fn create_date_property(self) -> &'static str {
        if self.is_custom() {
            "hs_createdate"
        } else {
            "createdate"
        }
    }

    /// The property that carries the last modification time.
    pub fn last_modified_property(self) -> &'static str {
        if self == Self::Contacts {
            "lastmodifieddate"
        } else {
            "hs_lastmodifieddate"
        }
    }

    /// Properties returned when a request names none.
    pub fn default_properties(self) -> &'static [&'static str] {
        match self {
            Self::Contacts => &[
                "createdate",
                "email",
                "firstname",
                "hs_object_id",
                "lastmodifieddate",
                "lastname",
            ],
            Self::Companies => &[
                "createdate",
                "domain",
                "hs_lastmodifieddate",
                "hs_object_id",
                "name",
            ],
            Self::Deals => &[
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ],
            Self::Tickets => &[
                "content",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_pipeline",
                "hs_pipeline_stage",
                "hs_ticket_category",
                "hs_ticket_priority",
                "subject",
            ],
            Self::Products => &[
                "createdate",
                "description",
                "hs_lastmodifieddate",
                "hs_object_id",
                "name",
                "price",
            ],
            Self::LineItems => &[
                "amount",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "price",
                "quantity",
            ],
            Self::Notes => &[
                "createdate",
                "hs_lastmodifieddate",
                "hs_note_body",
                "hs_object_id",
                "hs_timestamp",
            ],
            Self::Calls => &[
                "createdate",
                "hs_call_title",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_timestamp",
            ],
            Self::Emails => &[
                "createdate",
                "hs_email_subject",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_timestamp",
            ],
            Self::Meetings => &[
                "createdate",
                "hs_lastmodifieddate",
                "hs_meeting_title",
                "hs_object_id",
                "hs_timestamp",
            ],
            Self::Tasks => &[
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_task_subject",
                "hs_timestamp",
            ],
            Self::Custom(_) => &["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
        }
    }

    /// Properties a create must carry (the simulator's choice, see the README).
    pub fn required_on_create(self) -> &'static [&'static str] {
        match self {
            Self::Deals => &["dealstage"],
            Self::Tickets => &["hs_pipeline_stage"],
            Self::Products => &["name"],
            k if k.is_engagement() => &["hs_timestamp"],
            _ => &[],
        }
    }

    /// Values set on create when the request leaves them out.
    pub fn create_defaults(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Deals => &[("pipeline", "default")],
            Self::Tickets => &[("hs_pipeline", "0")],
            _ => &[],
        }
    }

    /// The property groups of the object: `(name, label)`.
    pub fn groups(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Contacts => &[
                ("contactinformation", "Contact information"),
                ("emailinformation", "Email information"),
                ("conversioninformation", "Conversion information"),
            ],
            Self::Companies => &[
                ("companyinformation", "Company information"),
                ("social_media_information", "Social media information"),
            ],
            Self::Deals => &[("dealinformation", "Deal information")],
            Self::Tickets => &[("ticketinformation", "Ticket information")],
            Self::Products => &[("productinformation", "Product information")],
            Self::LineItems => &[("lineiteminformation", "Line item information")],
            Self::Notes => &[("engagement", "Engagement")],
            Self::Calls => &[("call", "Call"), ("engagement", "Engagement")],
            Self::Emails => &[("email", "Email"), ("engagement", "Engagement")],
            Self::Meetings => &[("meeting", "Meeting"), ("engagement", "Engagement")],
            Self::Tasks => &[("task", "Task"), ("engagement", "Engagement")],
            Self::Custom(_) => &[],
        }
    }

    /// The main group, where built-in properties go.
    fn main_group(self) -> &'static str {
        self.groups()[0].0
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

const LIFECYCLE_STAGES: &[(&str, &str)] = &[
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
];

/// The stages of the default deal pipeline.
pub const DEAL_STAGES: &[(&str, &str)] = &[
    ("appointmentscheduled", "Appointment Scheduled"),
    ("qualifiedtobuy", "Qualified To Buy"),
    ("presentationscheduled", "Presentation Scheduled"),
    ("decisionmakerboughtin", "Decision Maker Bought-In"),
    ("contractsent", "Contract Sent"),
    ("closedwon", "Closed Won"),
    ("closedlost", "Closed Lost"),
];

const INDUSTRIES: &[(&str, &str)] = &[
    ("ACCOUNTING", "Accounting"),
    ("AIRLINES_AVIATION", "Airlines/Aviation"),
    ("BANKING", "Banking"),
    ("BIOTECHNOLOGY", "Biotechnology"),
    ("COMPUTER_HARDWARE", "Computer Hardware"),
    ("COMPUTER_SOFTWARE", "Computer Software"),
    ("CONSTRUCTION", "Construction"),
    ("CONSUMER_GOODS", "Consumer Goods"),
    ("EDUCATION_MANAGEMENT", "Education Management"),
    ("FINANCIAL_SERVICES", "Financial Services"),
    ("FOOD_BEVERAGES", "Food & Beverages"),
    ("HOSPITAL_HEALTH_CARE", "Hospital & Health Care"),
    (
        "INFORMATION_TECHNOLOGY_AND_SERVICES",
        "Information Technology and Services",
    ),
    ("INSURANCE", "Insurance"),
    ("INTERNET", "Internet"),
    ("LOGISTICS_AND_SUPPLY_CHAIN", "Logistics and Supply Chain"),
    ("MARKETING_AND_ADVERTISING", "Marketing and Advertising"),
    ("REAL_ESTATE", "Real Estate"),
    ("RETAIL", "Retail"),
    ("TELECOMMUNICATIONS", "Telecommunications"),
];

const COMPANY_TYPES: &[(&str, &str)] = &[
    ("PROSPECT", "Prospect"),
    ("PARTNER", "Partner"),
    ("RESELLER", "Reseller"),
    ("VENDOR", "Vendor"),
    ("OTHER", "Other"),
];

const DEAL_TYPES: &[(&str, &str)] = &[
    ("newbusiness", "New Business"),
    ("existingbusiness", "Existing Business"),
];

/// Ticket pipeline `0` ("Support Pipeline") and its stages.
pub const TICKET_STAGES: &[(&str, &str)] = &[
    ("1", "New"),
    ("2", "Waiting on contact"),
    ("3", "Waiting on us"),
    ("4", "Closed"),
];

const TICKET_PRIORITIES: &[(&str, &str)] = &[
    ("LOW", "Low"),
    ("MEDIUM", "Medium"),
    ("HIGH", "High"),
    ("URGENT", "Urgent"),
];

const TICKET_CATEGORIES: &[(&str, &str)] = &[
    ("PRODUCT_ISSUE", "Product issue"),
    ("BILLING_ISSUE", "Billing issue"),
    ("FEATURE_REQUEST", "Feature request"),
    ("GENERAL_INQUIRY", "General inquiry"),
];

const PRODUCT_TYPES: &[(&str, &str)] = &[
    ("inventory", "Inventory"),
    ("non_inventory", "Non-inventory"),
    ("service", "Service"),
];

const CALL_DIRECTIONS: &[(&str, &str)] = &[("INBOUND", "Inbound"), ("OUTBOUND", "Outbound")];

const CALL_STATUSES: &[(&str, &str)] = &[
    ("BUSY", "Busy"),
    ("CALLING_CRM_USER", "Calling CRM user"),
    ("CANCELED", "Canceled"),
    ("COMPLETED", "Completed"),
    ("CONNECTING", "Connecting"),
    ("FAILED", "Failed"),
    ("IN_PROGRESS", "In progress"),
    ("NO_ANSWER", "No answer"),
    ("QUEUED", "Queued"),
    ("RINGING", "Ringing"),
];

const EMAIL_DIRECTIONS: &[(&str, &str)] = &[
    ("EMAIL", "Logged email"),
    ("INCOMING_EMAIL", "Incoming email"),
    ("FORWARDED_EMAIL", "Forwarded email"),
];

const EMAIL_STATUSES: &[(&str, &str)] = &[
    ("BOUNCED", "Bounced"),
    ("FAILED", "Failed"),
    ("SCHEDULED", "Scheduled"),
    ("SENDING", "Sending"),
    ("SENT", "Sent"),
];

const MEETING_OUTCOMES: &[(&str, &str)] = &[
    ("SCHEDULED", "Scheduled"),
    ("COMPLETED", "Completed"),
    ("RESCHEDULED", "Rescheduled"),
    ("NO_SHOW", "No show"),
    ("CANCELED", "Canceled"),
];

const TASK_STATUSES: &[(&str, &str)] = &[
    ("NOT_STARTED", "Not started"),
    ("IN_PROGRESS", "In progress"),
    ("WAITING", "Waiting"),
    ("COMPLETED", "Completed"),
    ("DEFERRED", "Deferred"),
];

const TASK_PRIORITIES: &[(&str, &str)] = &[("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High")];

const TASK_TYPES: &[(&str, &str)] = &[("CALL", "Call"), ("EMAIL", "Email"), ("TODO", "To-do")];

/// The built-in property definitions of `kind`.
pub fn builtin_properties(kind: ObjectKind) -> Vec<PropertyDef> {
    if kind.is_custom() {
        // A custom object's definitions come from its schema.
        return Vec::new();
    }
    use PropType::{Bool, Date, Datetime, Enumeration, Number, PhoneNumber, String as Str};
    let g = kind.main_group();
    let p = |name: &str, label: &str, t: PropType| PropertyDef::builtin(name, label, t, g);
    let mut props = vec![
        p("hs_object_id", "Record ID", Number).computed(Computed::ObjectId),
        p("createdate", "Create Date", Datetime).computed(Computed::CreateDate),
        p(
            kind.last_modified_property(),
            "Last Modified Date",
            Datetime,
        )
        .computed(Computed::LastModified),
        p("hubspot_owner_id", "Owner", Enumeration),
    ];
    let specific: Vec<PropertyDef> = match kind {
        ObjectKind::Custom(_) => Vec::new(),
        ObjectKind::Contacts => vec![
            p("email", "Email", Str).unique(),
            p("firstname", "First Name", Str),
            p("lastname", "Last Name", Str),
            p("phone", "Phone Number", PhoneNumber),
            p("mobilephone", "Mobile Phone Number", PhoneNumber),
            p("company", "Company Name", Str),
            p("website", "Website URL", Str),
            p("jobtitle", "Job Title", Str),
            p("address", "Street Address", Str),
            p("city", "City", Str),
            p("state", "State/Region", Str),
            p("zip", "Postal Code", Str),
            p("country", "Country/Region", Str),
            p("lifecyclestage", "Lifecycle Stage", Enumeration)
                .field("radio")
                .opts(LIFECYCLE_STAGES),
            p("hs_lead_status", "Lead Status", Enumeration)
                .field("radio")
                .opts(&[
                    ("NEW", "New"),
                    ("OPEN", "Open"),
                    ("IN_PROGRESS", "In Progress"),
                    ("OPEN_DEAL", "Open Deal"),
                    ("UNQUALIFIED", "Unqualified"),
                    ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
                    ("CONNECTED", "Connected"),
                    ("BAD_TIMING", "Bad Timing"),
                ]),
            p("hs_email_optout", "Unsubscribed from all email", Bool).ro(),
            p("date_of_birth", "Date of birth", Date),
            p("notes_last_updated", "Last Activity Date", Datetime).ro(),
        ],
        ObjectKind::Companies => vec![
            p("name", "Company name", Str),
            p("domain", "Company Domain Name", Str),
            p("website", "Website URL", Str),
            p("industry", "Industry", Enumeration).opts(INDUSTRIES),
            p("type", "Type", Enumeration).opts(COMPANY_TYPES),
            p("phone", "Phone Number", PhoneNumber),
            p("address", "Street Address", Str),
            p("city", "City", Str),
            p("state", "State/Region", Str),
            p("zip", "Postal Code", Str),
            p("country", "Country/Region", Str),
            p("numberofemployees", "Number of Employees", Number),
            p("annualrevenue", "Annual Revenue", Number),
            p("description", "Description", Str).field("textarea"),
            p("lifecyclestage", "Lifecycle Stage", Enumeration)
                .field("radio")
                .opts(LIFECYCLE_STAGES),
            p("founded_year", "Year Founded", Str),
            p("is_public", "Is Public", Bool),
        ],
        ObjectKind::Deals => vec![
            p("dealname", "Deal Name", Str),
            p("amount", "Amount", Number),
            // The options of `dealstage` / `pipeline` (and the tickets' `hs_pipeline` /
            // `hs_pipeline_stage`) start as the default pipeline's and are replaced by
            // the portal's pipelines (`crm::pipelines::sync_options`), which also check
            // that a stage belongs to its pipeline.
            p("dealstage", "Deal Stage", Enumeration)
                .field("radio")
                .opts(DEAL_STAGES),
            p("pipeline", "Pipeline", Enumeration).opts(&[("default", "Sales Pipeline")]),
            p("closedate", "Close Date", Datetime),
            p("dealtype", "Deal Type", Enumeration)
                .field("radio")
                .opts(DEAL_TYPES),
            p("description", "Deal Description", Str).field("textarea"),
            p("hs_priority", "Priority", Enumeration).opts(&[
                ("low", "Low"),
                ("medium", "Medium"),
                ("high", "High"),
            ]),
            p("deal_currency_code", "Currency", Enumeration).opts(&[
                ("USD", "US Dollar"),
                ("EUR", "Euro"),
                ("GBP", "British Pound"),
                ("JPY", "Japanese Yen"),
                ("INR", "Indian Rupee"),
            ]),
            p("hs_is_closed", "Is Deal Closed?", Bool).ro(),
        ],
        ObjectKind::Tickets => vec![
            p("subject", "Ticket name", Str),
            p("content", "Ticket description", Str).field("textarea"),
            p("hs_pipeline", "Pipeline", Enumeration).opts(&[("0", "Support Pipeline")]),
            p("hs_pipeline_stage", "Ticket status", Enumeration).opts(TICKET_STAGES),
            p("hs_ticket_priority", "Priority", Enumeration).opts(TICKET_PRIORITIES),
            p("hs_ticket_category", "Category", Enumeration)
                .field("checkbox")
                .opts(TICKET_CATEGORIES),
            p("source_type", "Source", Enumeration).opts(&[
                ("CHAT", "Chat"),
                ("EMAIL", "Email"),
                ("FORM", "Form"),
                ("PHONE", "Phone"),
            ]),
            p("closed_date", "Close date", Datetime),
        ],
        ObjectKind::Products => vec![
            p("name", "Name", Str),
            p("description", "Description", Str).field("textarea"),
            p("price", "Unit price", Number),
            p("hs_sku", "SKU", Str),
            p("hs_cost_of_goods_sold", "Unit cost", Number),
            p("hs_recurring_billing_period", "Term", Str),
            p(
                "recurringbillingfrequency",
                "Billing frequency",
                Enumeration,
            )
            .opts(&[
                ("weekly", "Weekly"),
                ("biweekly", "Biweekly"),
                ("monthly", "Monthly"),
                ("quarterly", "Quarterly"),
                ("per_six_months", "Every six months"),
                ("annually", "Annually"),
            ]),
            p("hs_product_type", "Product type", Enumeration).opts(PRODUCT_TYPES),
            p("hs_url", "URL", Str),
        ],
        ObjectKind::LineItems => vec![
            p("name", "Name", Str),
            p("description", "Description", Str).field("textarea"),
            p("quantity", "Quantity", Number),
            p("price", "Unit price", Number),
            p("amount", "Net price", Number).computed(Computed::LineItemAmount),
            p("hs_product_id", "Product ID", Number),
            p("hs_sku", "SKU", Str),
            p("discount", "Unit discount", Number),
            p("hs_recurring_billing_period", "Term", Str),
            p(
                "recurringbillingfrequency",
                "Billing frequency",
                Enumeration,
            )
            .opts(&[
                ("monthly", "Monthly"),
                ("quarterly", "Quarterly"),
                ("annually", "Annually"),
            ]),
        ],
        ObjectKind::Notes => vec![
            p("hs_timestamp", "Activity date", Datetime),
            p("hs_note_body", "Note body", Str).field("html"),
            p("hs_attachment_ids", "Attached file IDs", Enumeration).field("checkbox"),
        ],
        ObjectKind::Calls => vec![
            p("hs_timestamp", "Activity date", Datetime),
            p("hs_call_title", "Call Title", Str),
            p("hs_call_body", "Call notes", Str).field("html"),
            p("hs_call_duration", "Call duration", Number),
            p("hs_call_direction", "Call direction", Enumeration).opts(CALL_DIRECTIONS),
            p("hs_call_status", "Call status", Enumeration).opts(CALL_STATUSES),
            p("hs_call_from_number", "From number", Str),
            p("hs_call_to_number", "To number", Str),
            p("hs_call_recording_url", "Recording URL", Str),
        ],
        ObjectKind::Emails => vec![
            p("hs_timestamp", "Activity date", Datetime),
            p("hs_email_subject", "Email subject", Str),
            p("hs_email_text", "Email body", Str).field("textarea"),
            p("hs_email_html", "Email HTML body", Str).field("html"),
            p("hs_email_direction", "Email direction", Enumeration).opts(EMAIL_DIRECTIONS),
            p("hs_email_status", "Email send status", Enumeration).opts(EMAIL_STATUSES),
            p("hs_email_headers", "Email headers", Str).field("textarea"),
        ],
        ObjectKind::Meetings => vec![
            p("hs_timestamp", "Activity date", Datetime),
            p("hs_meeting_title", "Meeting name", Str),
            p("hs_meeting_body", "Meeting description", Str).field("html"),
            p("hs_internal_meeting_notes", "Internal notes", Str).field("html"),
            p("hs_meeting_external_url", "External URL", Str),
            p("hs_meeting_location", "Location", Str),
            p("hs_meeting_start_time", "Start time", Datetime),
            p("hs_meeting_end_time", "End time", Datetime),
            p("hs_meeting_outcome", "Outcome", Enumeration).opts(MEETING_OUTCOMES),
        ],
        ObjectKind::Tasks => vec![
            p("hs_timestamp", "Due date", Datetime),
            p("hs_task_subject", "Task Title", Str),
            p("hs_task_body", "Notes", Str).field("html"),
            p("hs_task_status", "Task Status", Enumeration).opts(TASK_STATUSES),
            p("hs_task_priority", "Priority", Enumeration).opts(TASK_PRIORITIES),
            p("hs_task_type", "Task Type", Enumeration).opts(TASK_TYPES),
            p("hs_task_reminders", "Reminders", Str),
        ],
    };
    props.extend(specific);
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
            assert_eq!(ObjectKind::parse(k.type_id()), Some(k));
            assert_eq!(
                k.index(),
                ALL_KINDS.iter().position(|x| *x == k).unwrap_or(99)
            );
        }
        assert_eq!(ObjectKind::parse("CONTACT"), Some(ObjectKind::Contacts));
        assert_eq!(ObjectKind::parse("widgets"), None);
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
            let mut names: Vec<&str> = props.iter().map(|p| p.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), props.len(), "{k:?} duplicates");
            for p in &props {
                assert!(p.kind.allows_field_type(&p.field_type), "{k:?} {}", p.name);
            }
        }
    }
}
