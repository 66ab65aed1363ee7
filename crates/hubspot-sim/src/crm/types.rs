//! The table of every built-in CRM object type the simulator knows: HubSpot's standard
//! objects (names, type ids, scopes, what the API allows) and their built-in property
//! definitions, as data. [`crate::crm::schema::ObjectKind`] reads everything from here;
//! a type's position in [`TYPES`] is the index of its record store in a portal.
//!
//! Sources: `shared/reference/hubspot-api.md` §10.1 (type ids and scopes) and HubSpot's
//! object guides where they name properties (required `hs_timestamp`, quotes'
//! `hs_title`/`hs_expiration_date`, invoices' `hs_currency`, payments'
//! `hs_initial_amount`/`hs_initiated_date`, leads' `hs_lead_name`, the discount, fee and
//! tax `hs_label`/`hs_type`/`hs_value`, the appointment fields, deal split
//! `hs_deal_split_percentage`). Labels, groups, options and the remaining properties are
//! the simulator's (see the README's choices table).

use crate::crm::schema::{Computed, PropType};

use PropType::{Bool, Date, Datetime, Enumeration, Number, PhoneNumber, String as Str};

/// Which APIs serve a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Records (objects and search APIs) and property definitions (v3 and v2).
    Full,
    /// Property definitions only (v3 and v2), e.g. deal splits, whose records have
    /// their own API.
    Properties,
    /// Only the legacy `/properties/v2/{object}/properties` list (form submissions).
    LegacyProperties,
}

/// One built-in object type.
#[derive(Debug)]
pub struct TypeDef {
    pub plural: &'static str,
    pub singular: &'static str,
    /// `0-…`; empty when HubSpot names none (then the type is not found by id).
    pub type_id: &'static str,
    /// Scope alternatives for reading records (and the type's own property reads).
    pub read: &'static [&'static str],
    /// Scope alternatives for writing records; empty for read-only types.
    pub write: &'static [&'static str],
    /// Records cannot be created, updated or archived through the API.
    pub read_only: bool,
    /// The portal must activate the type before its records and properties can be used.
    pub activatable: bool,
    pub surface: Surface,
    /// Webhook events exist for the type (`contact.creation`, …; named by the singular).
    pub webhooks: bool,
    /// Needs a paid Sales Hub seat (the seed guide's rule).
    pub sales_seat: bool,
    /// `POST …/merge` exists.
    pub merge: bool,
    /// The property that carries the creation time.
    pub create_date: &'static str,
    /// The property that carries the last modification time.
    pub last_modified: &'static str,
    /// The type has `hubspot_owner_id` (after the three computed properties).
    pub owner: bool,
    /// Property groups `(name, label)`; built-in properties go in the first.
    pub groups: &'static [(&'static str, &'static str)],
    /// Properties returned when a request names none.
    pub defaults: &'static [&'static str],
    /// Properties a create must carry.
    pub required: &'static [&'static str],
    /// Values set on create when the request leaves them out.
    pub create_defaults: &'static [(&'static str, &'static str)],
    /// The properties search `query` looks at (undefined ones are skipped).
    pub searchable: &'static [&'static str],
    /// The type's own built-in properties (after the computed ones and the owner).
    pub props: &'static [P],
}

/// A built-in property definition as data.
#[derive(Debug, Clone, Copy)]
pub struct P {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: PropType,
    /// The field type; empty for the type's default.
    pub field: &'static str,
    pub options: &'static [(&'static str, &'static str)],
    pub read_only: bool,
    pub unique: bool,
    pub computed: Option<Computed>,
}

const fn p(name: &'static str, label: &'static str, kind: PropType) -> P {
    P {
        name,
        label,
        kind,
        field: "",
        options: &[],
        read_only: false,
        unique: false,
        computed: None,
    }
}

/// An enumeration with options.
const fn e(
    name: &'static str,
    label: &'static str,
    options: &'static [(&'static str, &'static str)],
) -> P {
    p(name, label, Enumeration).opts(options)
}

impl P {
    const fn field(self, field: &'static str) -> Self {
        Self { field, ..self }
    }

    const fn opts(self, options: &'static [(&'static str, &'static str)]) -> Self {
        Self { options, ..self }
    }

    const fn ro(self) -> Self {
        Self {
            read_only: true,
            ..self
        }
    }

    const fn unique(self) -> Self {
        Self {
            unique: true,
            ..self
        }
    }

    const fn computed(self, computed: Computed) -> Self {
        Self {
            computed: Some(computed),
            read_only: true,
            ..self
        }
    }
}

/// The number of built-in types.
pub const TYPE_COUNT: usize = 35;

// Scope lists.
const CONTACTS_READ: &[&str] = &["crm.objects.contacts.read", "contacts"];
const CONTACTS_WRITE: &[&str] = &["crm.objects.contacts.write", "contacts"];
const LINE_ITEMS_READ: &[&str] = &["crm.objects.line_items.read", "e-commerce"];
const LINE_ITEMS_WRITE: &[&str] = &["crm.objects.line_items.write", "e-commerce"];

/// The defaults of most newer types (HubSpot's guides show these three).
const BASIC_DEFAULTS: &[&str] = &["hs_createdate", "hs_lastmodifieddate", "hs_object_id"];

/// A type with the usual shape: records and properties, writable, no webhooks, no
/// seat, no merge, `hs_createdate` / `hs_lastmodifieddate`, an owner, the three default
/// properties, nothing required.
const BASE: TypeDef = TypeDef {
    plural: "",
    singular: "",
    type_id: "",
    read: &[],
    write: &[],
    read_only: false,
    activatable: false,
    surface: Surface::Full,
    webhooks: false,
    sales_seat: false,
    merge: false,
    create_date: "hs_createdate",
    last_modified: "hs_lastmodifieddate",
    owner: true,
    groups: &[],
    defaults: BASIC_DEFAULTS,
    required: &[],
    create_defaults: &[],
    searchable: &[],
    props: &[],
};

/// An engagement (activity) of the classic kind: `createdate`, required `hs_timestamp`.
const ENGAGEMENT: TypeDef = TypeDef {
    read: CONTACTS_READ,
    write: CONTACTS_WRITE,
    create_date: "createdate",
    required: &["hs_timestamp"],
    ..BASE
};

/// Every built-in type; the first eleven keep the store indexes they always had.
pub static TYPES: [TypeDef; TYPE_COUNT] = [
    // 0
    TypeDef {
        plural: "contacts",
        singular: "contact",
        type_id: "0-1",
        read: CONTACTS_READ,
        write: CONTACTS_WRITE,
        webhooks: true,
        merge: true,
        create_date: "createdate",
        last_modified: "lastmodifieddate",
        groups: &[
            ("contactinformation", "Contact information"),
            ("emailinformation", "Email information"),
            ("conversioninformation", "Conversion information"),
        ],
        defaults: &[
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname",
        ],
        searchable: &[
            "firstname",
            "lastname",
            "email",
            "hs_additional_emails",
            "phone",
            "mobilephone",
            "fax",
            "company",
        ],
        props: CONTACT_PROPS,
        ..BASE
    },
    // 1
    TypeDef {
        plural: "companies",
        singular: "company",
        type_id: "0-2",
        read: &["crm.objects.companies.read", "contacts"],
        write: &["crm.objects.companies.write", "contacts"],
        webhooks: true,
        merge: true,
        create_date: "createdate",
        groups: &[
            ("companyinformation", "Company information"),
            ("social_media_information", "Social media information"),
        ],
        defaults: &[
            "createdate",
            "domain",
            "hs_lastmodifieddate",
            "hs_object_id",
            "name",
        ],
        searchable: &["name", "domain", "website", "phone"],
        props: COMPANY_PROPS,
        ..BASE
    },
    // 2
    TypeDef {
        plural: "deals",
        singular: "deal",
        type_id: "0-3",
        read: &["crm.objects.deals.read", "contacts"],
        write: &["crm.objects.deals.write", "contacts"],
        webhooks: true,
        merge: true,
        create_date: "createdate",
        groups: &[("dealinformation", "Deal information")],
        defaults: &[
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "pipeline",
        ],
        required: &["dealstage"],
        create_defaults: &[("pipeline", "default")],
        searchable: &[
            "dealname",
            "pipeline",
            "dealstage",
            "description",
            "dealtype",
        ],
        props: DEAL_PROPS,
        ..BASE
    },
    // 3
    TypeDef {
        plural: "tickets",
        singular: "ticket",
        type_id: "0-5",
        read: &["tickets"],
        write: &["tickets"],
        webhooks: true,
        merge: true,
        create_date: "createdate",
        groups: &[("ticketinformation", "Ticket information")],
        defaults: &[
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
        required: &["hs_pipeline_stage"],
        create_defaults: &[("hs_pipeline", "0")],
        searchable: &[
            "subject",
            "content",
            "hs_pipeline_stage",
            "hs_ticket_category",
            "hs_ticket_id",
        ],
        props: TICKET_PROPS,
        ..BASE
    },
    // 4
    TypeDef {
        plural: "products",
        singular: "product",
        type_id: "0-7",
        read: &["crm.objects.products.read", "e-commerce"],
        write: &["crm.objects.products.write", "e-commerce"],
        webhooks: true,
        sales_seat: true,
        create_date: "createdate",
        groups: &[("productinformation", "Product information")],
        defaults: &[
            "createdate",
            "description",
            "hs_lastmodifieddate",
            "hs_object_id",
            "name",
            "price",
        ],
        required: &["name"],
        searchable: &["name", "description", "price", "hs_sku"],
        props: PRODUCT_PROPS,
        ..BASE
    },
    // 5
    TypeDef {
        plural: "line_items",
        singular: "line_item",
        type_id: "0-8",
        read: LINE_ITEMS_READ,
        write: LINE_ITEMS_WRITE,
        webhooks: true,
        sales_seat: true,
        create_date: "createdate",
        groups: &[("lineiteminformation", "Line item information")],
        defaults: &[
            "amount",
            "createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
            "price",
            "quantity",
        ],
        searchable: &["name", "description", "price", "quantity", "hs_sku"],
        props: LINE_ITEM_PROPS,
        ..BASE
    },
    // 6
    TypeDef {
        plural: "notes",
        singular: "note",
        type_id: "0-46",
        groups: &[("engagement", "Engagement")],
        defaults: &[
            "createdate",
            "hs_lastmodifieddate",
            "hs_note_body",
            "hs_object_id",
            "hs_timestamp",
        ],
        searchable: &["hs_note_body"],
        props: NOTE_PROPS,
        ..ENGAGEMENT
    },
    // 7
    TypeDef {
        plural: "calls",
        singular: "call",
        type_id: "0-48",
        groups: &[("call", "Call"), ("engagement", "Engagement")],
        defaults: &[
            "createdate",
            "hs_call_title",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hs_timestamp",
        ],
        searchable: &["hs_call_title", "hs_call_body"],
        props: CALL_PROPS,
        ..ENGAGEMENT
    },
    // 8
    TypeDef {
        plural: "emails",
        singular: "email",
        type_id: "0-49",
        read: &["crm.objects.contacts.read", "sales-email-read", "contacts"],
        groups: &[("email", "Email"), ("engagement", "Engagement")],
        defaults: &[
            "createdate",
            "hs_email_subject",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hs_timestamp",
        ],
        searchable: &["hs_email_subject", "hs_email_text"],
        props: EMAIL_PROPS,
        ..ENGAGEMENT
    },
    // 9
    TypeDef {
        plural: "meetings",
        singular: "meeting",
        type_id: "0-47",
        groups: &[("meeting", "Meeting"), ("engagement", "Engagement")],
        defaults: &[
            "createdate",
            "hs_lastmodifieddate",
            "hs_meeting_title",
            "hs_object_id",
            "hs_timestamp",
        ],
        searchable: &["hs_meeting_title", "hs_meeting_body"],
        props: MEETING_PROPS,
        ..ENGAGEMENT
    },
    // 10
    TypeDef {
        plural: "tasks",
        singular: "task",
        type_id: "0-27",
        groups: &[("task", "Task"), ("engagement", "Engagement")],
        defaults: &[
            "createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hs_task_subject",
            "hs_timestamp",
        ],
        searchable: &["hs_task_subject", "hs_task_body"],
        props: TASK_PROPS,
        ..ENGAGEMENT
    },
    // 11: the other activities.
    TypeDef {
        plural: "communications",
        singular: "communication",
        type_id: "0-18",
        read: CONTACTS_READ,
        write: CONTACTS_WRITE,
        groups: &[
            ("communication", "Communication"),
            ("engagement", "Engagement"),
        ],
        defaults: &[
            "hs_communication_body",
            "hs_communication_channel_type",
            "hs_communication_logged_from",
            "hs_createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hs_timestamp",
        ],
        required: &["hs_timestamp", "hs_communication_channel_type"],
        create_defaults: &[("hs_communication_logged_from", "CRM")],
        searchable: &["hs_communication_body"],
        props: &[
            p("hs_timestamp", "Activity date", Datetime),
            e(
                "hs_communication_channel_type",
                "Channel type",
                &[
                    ("SMS", "SMS"),
                    ("WHATS_APP", "WhatsApp"),
                    ("LINKEDIN_MESSAGE", "LinkedIn"),
                ],
            ),
            e(
                "hs_communication_logged_from",
                "Logged from",
                &[("CRM", "CRM")],
            ),
            p("hs_communication_body", "Body", Str).field("html"),
        ],
        ..BASE
    },
    // 12
    TypeDef {
        plural: "postal_mail",
        singular: "postal_mail",
        type_id: "0-116",
        read: CONTACTS_READ,
        write: CONTACTS_WRITE,
        groups: &[("postal_mail", "Postal mail"), ("engagement", "Engagement")],
        defaults: &[
            "hs_createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hs_postal_mail_body",
            "hs_timestamp",
        ],
        required: &["hs_timestamp"],
        searchable: &["hs_postal_mail_body"],
        props: &[
            p("hs_timestamp", "Activity date", Datetime),
            p("hs_postal_mail_body", "Postal mail body", Str).field("html"),
        ],
        ..BASE
    },
    // 13: commerce.
    TypeDef {
        plural: "quotes",
        singular: "quote",
        type_id: "0-14",
        read: &["crm.objects.quotes.read", "e-commerce"],
        write: &["crm.objects.quotes.write", "e-commerce"],
        groups: &[("quoteinformation", "Quote information")],
        defaults: &[
            "hs_createdate",
            "hs_expiration_date",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hs_public_url_key",
            "hs_status",
            "hs_title",
        ],
        required: &["hs_title", "hs_expiration_date"],
        create_defaults: &[("hs_status", "DRAFT")],
        searchable: &["hs_title", "hs_quote_number"],
        props: &[
            p("hs_title", "Quote name", Str),
            p("hs_expiration_date", "Expiration date", Date),
            e(
                "hs_status",
                "Quote approval status",
                &[
                    ("DRAFT", "Draft"),
                    ("APPROVAL_NOT_NEEDED", "Approval not needed"),
                    ("PENDING_APPROVAL", "Pending approval"),
                    ("APPROVED", "Approved"),
                    ("REJECTED", "Rejected"),
                ],
            ),
            p("hs_quote_amount", "Quote amount", Number).ro(),
            e("hs_currency", "Currency", CURRENCIES),
            p("hs_quote_number", "Quote number", Str).ro(),
            p("hs_public_url_key", "Public URL key", Str).ro(),
            p("hs_language", "Language", Str),
            p("hs_sender_firstname", "Sender first name", Str),
            p("hs_sender_lastname", "Sender last name", Str),
            p("hs_sender_email", "Sender email", Str),
            p("hs_esign_enabled", "E-signature enabled", Bool),
            p("hs_comments", "Comments", Str).field("textarea"),
            p("hs_terms", "Terms", Str).field("textarea"),
        ],
        ..BASE
    },
    // 14
    TypeDef {
        plural: "invoices",
        singular: "invoice",
        type_id: "0-53",
        read: &["crm.objects.invoices.read"],
        write: &["crm.objects.invoices.write"],
        groups: &[("invoiceinformation", "Invoice information")],
        required: &["hs_currency"],
        create_defaults: &[("hs_invoice_status", "draft")],
        searchable: &["hs_number", "hs_purchase_order_number"],
        props: &[
            e("hs_currency", "Currency", CURRENCIES),
            p("hs_invoice_date", "Invoice date", Datetime),
            p("hs_due_date", "Due date", Datetime),
            e(
                "hs_invoice_status",
                "Invoice status",
                &[
                    ("draft", "Draft"),
                    ("open", "Open"),
                    ("paid", "Paid"),
                    ("voided", "Voided"),
                ],
            ),
            p("hs_number", "Invoice number", Str).ro(),
            p("hs_amount_billed", "Amount billed", Number).ro(),
            p("hs_balance_due", "Balance due", Number).ro(),
            p("hs_purchase_order_number", "Purchase order number", Str),
            p("hs_comments", "Comments", Str).field("textarea"),
        ],
        ..BASE
    },
    // 15
    TypeDef {
        plural: "orders",
        singular: "order",
        type_id: "0-123",
        read: &["crm.objects.orders.read"],
        write: &["crm.objects.orders.write"],
        groups: &[("orderinformation", "Order information")],
        searchable: &["hs_order_name", "hs_external_order_id"],
        props: &[
            p("hs_order_name", "Name", Str),
            e("hs_currency_code", "Currency code", CURRENCIES),
            p("hs_source_store", "Source store", Str),
            p("hs_fulfillment_status", "Fulfillment status", Str),
            p("hs_external_order_id", "External order ID", Str),
            p(
                "hs_external_created_date",
                "External created date",
                Datetime,
            ),
            p("hs_subtotal_price", "Subtotal", Number),
            p("hs_total_price", "Total", Number),
            p("hs_shipping_address_city", "Shipping city", Str),
            p("hs_shipping_address_country", "Shipping country", Str),
        ],
        ..BASE
    },
    // 16
    TypeDef {
        plural: "carts",
        singular: "cart",
        type_id: "0-142",
        read: &["crm.objects.carts.read"],
        write: &["crm.objects.carts.write"],
        groups: &[("cartinformation", "Cart information")],
        searchable: &["hs_cart_name", "hs_external_cart_id"],
        props: &[
            p("hs_cart_name", "Name", Str),
            p("hs_external_cart_id", "External cart ID", Str),
            p("hs_source_store", "Source store", Str),
            e("hs_currency_code", "Currency code", CURRENCIES),
            p("hs_cart_discount", "Cart discount", Number),
            p("hs_total_price", "Total", Number),
            p("hs_cart_url", "Cart URL", Str),
        ],
        ..BASE
    },
    // 17
    TypeDef {
        plural: "discounts",
        singular: "discount",
        type_id: "0-84",
        read: LINE_ITEMS_READ,
        write: LINE_ITEMS_WRITE,
        owner: false,
        groups: &[("discountinformation", "Discount information")],
        required: PRICE_MODIFIER_REQUIRED,
        searchable: &["hs_label"],
        props: &[
            p("hs_label", "Label", Str),
            e("hs_type", "Type", PRICE_MODIFIER_TYPES),
            p("hs_value", "Value", Number),
            e(
                "hs_duration",
                "Duration",
                &[("ONCE", "Once"), ("FOREVER", "Forever")],
            ),
            p("hs_sort_order", "Sort order", Number),
        ],
        ..BASE
    },
    // 18
    TypeDef {
        plural: "fees",
        singular: "fee",
        type_id: "0-85",
        read: LINE_ITEMS_READ,
        write: LINE_ITEMS_WRITE,
        owner: false,
        groups: &[("feeinformation", "Fee information")],
        required: PRICE_MODIFIER_REQUIRED,
        searchable: &["hs_label"],
        props: PRICE_MODIFIER_PROPS,
        ..BASE
    },
    // 19
    TypeDef {
        plural: "taxes",
        singular: "tax",
        type_id: "0-86",
        read: &["crm.objects.line_items.read"],
        write: &["crm.objects.line_items.write"],
        owner: false,
        groups: &[("taxinformation", "Tax information")],
        required: PRICE_MODIFIER_REQUIRED,
        searchable: &["hs_label"],
        props: PRICE_MODIFIER_PROPS,
        ..BASE
    },
    // 20
    TypeDef {
        plural: "commerce_payments",
        singular: "commerce_payment",
        type_id: "0-101",
        read: &["crm.objects.commercepayments.read"],
        write: &["crm.objects.commercepayments.write"],
        owner: false,
        groups: &[("paymentinformation", "Payment information")],
        required: &["hs_initial_amount", "hs_initiated_date"],
        searchable: &["hs_customer_email"],
        props: &[
            p("hs_initial_amount", "Gross amount", Number),
            p("hs_initiated_date", "Payment date", Datetime),
            e("hs_currency_code", "Currency code", CURRENCIES),
            e(
                "hs_latest_status",
                "Status",
                &[
                    ("processing", "Processing"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed"),
                    ("refunded", "Refunded"),
                    ("partially_refunded", "Partially refunded"),
                ],
            ),
            p("hs_payment_method_type", "Payment method", Str),
            p("hs_customer_email", "Customer email", Str),
            p("hs_fees_amount", "Fees", Number).ro(),
            p("hs_net_amount", "Net amount", Number).ro(),
        ],
        ..BASE
    },
    // 21
    TypeDef {
        plural: "subscriptions",
        singular: "subscription",
        type_id: "0-69",
        read: &["crm.objects.subscriptions.read"],
        write: &["crm.objects.subscriptions.write"],
        groups: &[("subscriptioninformation", "Subscription information")],
        searchable: &["hs_name"],
        props: &[
            p("hs_name", "Name", Str),
            e(
                "hs_status",
                "Status",
                &[
                    ("active", "Active"),
                    ("past_due", "Past due"),
                    ("canceled", "Canceled"),
                    ("expired", "Expired"),
                    ("scheduled", "Scheduled"),
                ],
            ),
            p("hs_recurring_billing_start_date", "Start date", Date),
            p("hs_next_payment_due_date", "Next payment due date", Date),
            e("hs_currency_code", "Currency code", CURRENCIES),
            p("hs_last_payment_amount", "Last payment amount", Number).ro(),
        ],
        ..BASE
    },
    // 22: other standard objects.
    TypeDef {
        plural: "leads",
        singular: "lead",
        type_id: "0-136",
        read: &["crm.objects.leads.read"],
        write: &["crm.objects.leads.write"],
        groups: &[("leadinformation", "Lead information")],
        required: &["hs_lead_name"],
        searchable: &["hs_lead_name"],
        props: &[
            p("hs_lead_name", "Lead name", Str),
            e(
                "hs_lead_type",
                "Lead type",
                &[
                    ("NEW_BUSINESS", "New Business"),
                    ("UPSELL", "Upsell"),
                    ("RE_ATTEMPTING", "Re-attempting"),
                ],
            ),
            e(
                "hs_lead_label",
                "Lead label",
                &[("COLD", "Cold"), ("WARM", "Warm"), ("HOT", "Hot")],
            ),
        ],
        ..BASE
    },
    // 23
    TypeDef {
        plural: "goal_targets",
        singular: "goal_target",
        type_id: "0-74",
        read: &["crm.objects.goals.read"],
        write: &["crm.objects.goals.write"],
        groups: &[("goaltargetinformation", "Goal target information")],
        searchable: &["hs_goal_name"],
        props: &[
            p("hs_goal_name", "Goal name", Str),
            p("hs_target_amount", "Target", Number),
            p("hs_start_datetime", "Start date", Datetime),
            p("hs_end_datetime", "End date", Datetime),
            p("hs_group_correlation_uuid", "Goal family ID", Str).ro(),
            p("hs_created_by_user_id", "Created by user ID", Number).ro(),
        ],
        ..BASE
    },
    // 24
    TypeDef {
        plural: "feedback_submissions",
        singular: "feedback_submission",
        type_id: "0-19",
        read: &[
            "crm.objects.feedback_submissions.read",
            "crm.objects.contacts.read",
        ],
        write: &[],
        read_only: true,
        owner: false,
        groups: &[(
            "feedbacksubmissioninformation",
            "Feedback submission information",
        )],
        searchable: &["hs_survey_name", "hs_content"],
        props: &[
            p("hs_survey_id", "Survey ID", Str),
            p("hs_survey_name", "Survey name", Str),
            e(
                "hs_survey_type",
                "Survey type",
                &[
                    ("NPS", "Net Promoter Score"),
                    ("CSAT", "Customer satisfaction"),
                    ("CES", "Customer effort score"),
                    ("CUSTOM", "Custom"),
                ],
            ),
            p("hs_survey_channel", "Survey channel", Str),
            p("hs_sentiment", "Sentiment", Str),
            p("hs_value", "Response value", Number),
            p("hs_content", "Response", Str).field("textarea"),
            p("hs_submission_timestamp", "Submitted at", Datetime),
        ],
        ..BASE
    },
    // 25
    TypeDef {
        plural: "users",
        singular: "user",
        type_id: "0-115",
        read: &["crm.objects.users.read"],
        write: &["crm.objects.users.write"],
        owner: false,
        groups: &[("userinformation", "User information")],
        searchable: &["hs_email", "hs_given_name", "hs_family_name"],
        props: &[
            p("hs_internal_user_id", "User ID", Number).ro(),
            p("hs_email", "Email", Str),
            p("hs_given_name", "First name", Str),
            p("hs_family_name", "Last name", Str),
            p("hs_job_title", "Job title", Str),
            e(
                "hs_availability_status",
                "Availability status",
                &[("available", "Available"), ("away", "Away")],
            ),
            p("hs_standard_time_zone", "Time zone", Str),
        ],
        ..BASE
    },
    // 26
    TypeDef {
        plural: "marketing_events",
        singular: "marketing_event",
        type_id: "0-54",
        read: &["crm.objects.marketing_events.read"],
        write: &["crm.objects.marketing_events.write"],
        groups: &[("marketingeventinformation", "Marketing event information")],
        searchable: &["hs_event_name", "hs_event_description"],
        props: &[
            p("hs_event_name", "Event name", Str),
            p("hs_event_description", "Event description", Str).field("textarea"),
            p("hs_event_organizer", "Organizer", Str),
            p("hs_event_type", "Event type", Str),
            p("hs_start_datetime", "Start date", Datetime),
            p("hs_end_datetime", "End date", Datetime),
            p("hs_event_url", "Event URL", Str),
            p("hs_event_cancelled", "Cancelled", Bool),
        ],
        ..BASE
    },
    // 27
    TypeDef {
        plural: "campaigns",
        singular: "campaign",
        type_id: "0-35",
        read: &["marketing.campaigns.read"],
        write: &["marketing.campaigns.write"],
        groups: &[("campaigninformation", "Campaign information")],
        searchable: &["hs_name"],
        props: &[
            p("hs_name", "Campaign name", Str),
            p("hs_start_date", "Start date", Date),
            p("hs_end_date", "End date", Date),
            p("hs_notes", "Notes", Str).field("textarea"),
            p("hs_audience", "Audience", Str),
            e("hs_currency_code", "Currency code", CURRENCIES),
        ],
        ..BASE
    },
    // 28
    TypeDef {
        plural: "projects",
        singular: "project",
        type_id: "0-970",
        read: &["crm.objects.projects.read"],
        write: &["crm.objects.projects.write"],
        groups: &[("projectinformation", "Project information")],
        searchable: &["hs_name", "hs_description"],
        props: &[
            p("hs_name", "Project name", Str),
            p("hs_description", "Description", Str).field("textarea"),
            p("hs_start_date", "Start date", Date),
            p("hs_target_due_date", "Target due date", Date),
        ],
        ..BASE
    },
    // 29: the activatable types.
    TypeDef {
        plural: "appointments",
        singular: "appointment",
        type_id: "0-421",
        read: &["crm.objects.appointments.read"],
        write: &["crm.objects.appointments.write"],
        activatable: true,
        groups: &[("appointmentinformation", "Appointment information")],
        searchable: &["hs_appointment_name"],
        props: &[
            p("hs_appointment_name", "Appointment name", Str),
            p("hs_appointment_start", "Start", Datetime),
            p("hs_appointment_end", "End", Datetime),
            e(
                "hs_appointment_status",
                "Status",
                &[
                    ("SCHEDULED", "Scheduled"),
                    ("COMPLETED", "Completed"),
                    ("RESCHEDULED", "Rescheduled"),
                    ("NO_SHOW", "No show"),
                    ("CANCELED", "Canceled"),
                ],
            ),
        ],
        ..BASE
    },
    // 30
    TypeDef {
        plural: "courses",
        singular: "course",
        type_id: "0-410",
        read: &["crm.objects.courses.read"],
        write: &["crm.objects.courses.write"],
        activatable: true,
        groups: &[("courseinformation", "Course information")],
        searchable: &["hs_course_name", "hs_course_description"],
        props: &[
            p("hs_course_name", "Course name", Str),
            p("hs_course_description", "Course description", Str).field("textarea"),
            p("hs_course_start_date", "Start date", Date),
            p("hs_course_end_date", "End date", Date),
        ],
        ..BASE
    },
    // 31
    TypeDef {
        plural: "listings",
        singular: "listing",
        type_id: "0-420",
        read: &["crm.objects.listings.read"],
        write: &["crm.objects.listings.write"],
        activatable: true,
        groups: &[("listinginformation", "Listing information")],
        searchable: &["hs_name", "hs_address_1", "hs_city"],
        props: &[
            p("hs_name", "Listing name", Str),
            p("hs_price", "Price", Number),
            p("hs_address_1", "Address 1", Str),
            p("hs_city", "City", Str),
            p("hs_state", "State/Region", Str),
            p("hs_zip", "Postal code", Str),
            p("hs_bedrooms", "Bedrooms", Number),
            p("hs_bathrooms", "Bathrooms", Number),
            p("hs_square_footage", "Square footage", Number),
            e(
                "hs_listing_type",
                "Listing type",
                &[
                    ("house", "House"),
                    ("townhouse", "Townhouse"),
                    ("multi_family", "Multi-family"),
                    ("condos_co_ops", "Condos/Co-ops"),
                    ("lots_land", "Lots/Land"),
                    ("apartments", "Apartments"),
                ],
            ),
        ],
        ..BASE
    },
    // 32
    TypeDef {
        plural: "services",
        singular: "service",
        type_id: "0-162",
        read: &["crm.objects.services.read"],
        write: &["crm.objects.services.write"],
        activatable: true,
        groups: &[("serviceinformation", "Service information")],
        searchable: &["hs_name", "hs_description"],
        props: &[
            p("hs_name", "Service name", Str),
            p("hs_description", "Description", Str).field("textarea"),
            p("hs_target_end_date", "Target end date", Date),
        ],
        ..BASE
    },
    // 33: property definitions without records here.
    TypeDef {
        plural: "deal_splits",
        singular: "deal_split",
        type_id: "",
        read: &["crm.dealsplits.read_write"],
        write: &["crm.dealsplits.read_write"],
        surface: Surface::Properties,
        groups: &[("dealsplitinformation", "Deal split information")],
        props: &[p("hs_deal_split_percentage", "Split percentage", Number)],
        ..BASE
    },
    // 34
    TypeDef {
        plural: "forms",
        singular: "form",
        type_id: "",
        read: &["forms"],
        write: &["forms"],
        surface: Surface::LegacyProperties,
        owner: false,
        groups: &[("forminformation", "Form submission information")],
        props: &[
            p("hs_form_id", "Form ID", Str).ro(),
            p("hs_form_title", "Form title", Str).ro(),
            p("hs_page_url", "Page URL", Str).ro(),
            p("hs_submission_timestamp", "Submitted at", Datetime).ro(),
        ],
        ..BASE
    },
];

/// Discounts, fees and taxes: the fields HubSpot's guides create them with.
const PRICE_MODIFIER_REQUIRED: &[&str] = &["hs_label", "hs_type", "hs_value"];
const PRICE_MODIFIER_TYPES: &[(&str, &str)] = &[("PERCENT", "Percent"), ("FIXED", "Fixed")];
const PRICE_MODIFIER_PROPS: &[P] = &[
    p("hs_label", "Label", Str),
    e("hs_type", "Type", PRICE_MODIFIER_TYPES),
    p("hs_value", "Value", Number),
    p("hs_sort_order", "Sort order", Number),
];

/// The currencies of the portals (company and additional ones).
const CURRENCIES: &[(&str, &str)] = &[
    ("USD", "US Dollar"),
    ("EUR", "Euro"),
    ("GBP", "British Pound"),
    ("JPY", "Japanese Yen"),
    ("INR", "Indian Rupee"),
];

const CONTACT_PROPS: &[P] = &[
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
    e("lifecyclestage", "Lifecycle Stage", LIFECYCLE_STAGES).field("radio"),
    e(
        "hs_lead_status",
        "Lead Status",
        &[
            ("NEW", "New"),
            ("OPEN", "Open"),
            ("IN_PROGRESS", "In Progress"),
            ("OPEN_DEAL", "Open Deal"),
            ("UNQUALIFIED", "Unqualified"),
            ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
            ("CONNECTED", "Connected"),
            ("BAD_TIMING", "Bad Timing"),
        ],
    )
    .field("radio"),
    p("hs_email_optout", "Unsubscribed from all email", Bool).ro(),
    p("date_of_birth", "Date of birth", Date),
    p("notes_last_updated", "Last Activity Date", Datetime).ro(),
];

const COMPANY_PROPS: &[P] = &[
    p("name", "Company name", Str),
    p("domain", "Company Domain Name", Str),
    p("website", "Website URL", Str),
    e("industry", "Industry", INDUSTRIES),
    e("type", "Type", COMPANY_TYPES),
    p("phone", "Phone Number", PhoneNumber),
    p("address", "Street Address", Str),
    p("city", "City", Str),
    p("state", "State/Region", Str),
    p("zip", "Postal Code", Str),
    p("country", "Country/Region", Str),
    p("numberofemployees", "Number of Employees", Number),
    p("annualrevenue", "Annual Revenue", Number),
    p("description", "Description", Str).field("textarea"),
    e("lifecyclestage", "Lifecycle Stage", LIFECYCLE_STAGES).field("radio"),
    p("founded_year", "Year Founded", Str),
    p("is_public", "Is Public", Bool),
];

const DEAL_PROPS: &[P] = &[
    p("dealname", "Deal Name", Str),
    p("amount", "Amount", Number),
    // The options of `dealstage` / `pipeline` (and the tickets' `hs_pipeline` /
    // `hs_pipeline_stage`) start as the default pipeline's and are replaced by the
    // portal's pipelines (`crm::pipelines::sync_options`), which also check that a stage
    // belongs to its pipeline.
    e("dealstage", "Deal Stage", DEAL_STAGES).field("radio"),
    e("pipeline", "Pipeline", &[("default", "Sales Pipeline")]),
    p("closedate", "Close Date", Datetime),
    e("dealtype", "Deal Type", DEAL_TYPES).field("radio"),
    p("description", "Deal Description", Str).field("textarea"),
    e(
        "hs_priority",
        "Priority",
        &[("low", "Low"), ("medium", "Medium"), ("high", "High")],
    ),
    e("deal_currency_code", "Currency", CURRENCIES),
    p("hs_is_closed", "Is Deal Closed?", Bool).ro(),
];

const TICKET_PROPS: &[P] = &[
    p("subject", "Ticket name", Str),
    p("content", "Ticket description", Str).field("textarea"),
    e("hs_pipeline", "Pipeline", &[("0", "Support Pipeline")]),
    e("hs_pipeline_stage", "Ticket status", TICKET_STAGES),
    e("hs_ticket_priority", "Priority", TICKET_PRIORITIES),
    e("hs_ticket_category", "Category", TICKET_CATEGORIES).field("checkbox"),
    e(
        "source_type",
        "Source",
        &[
            ("CHAT", "Chat"),
            ("EMAIL", "Email"),
            ("FORM", "Form"),
            ("PHONE", "Phone"),
        ],
    ),
    p("closed_date", "Close date", Datetime),
];

const PRODUCT_PROPS: &[P] = &[
    p("name", "Name", Str),
    p("description", "Description", Str).field("textarea"),
    p("price", "Unit price", Number),
    p("hs_sku", "SKU", Str),
    p("hs_cost_of_goods_sold", "Unit cost", Number),
    p("hs_recurring_billing_period", "Term", Str),
    e(
        "recurringbillingfrequency",
        "Billing frequency",
        &[
            ("weekly", "Weekly"),
            ("biweekly", "Biweekly"),
            ("monthly", "Monthly"),
            ("quarterly", "Quarterly"),
            ("per_six_months", "Every six months"),
            ("annually", "Annually"),
        ],
    ),
    e("hs_product_type", "Product type", PRODUCT_TYPES),
    p("hs_url", "URL", Str),
];

const LINE_ITEM_PROPS: &[P] = &[
    p("name", "Name", Str),
    p("description", "Description", Str).field("textarea"),
    p("quantity", "Quantity", Number),
    p("price", "Unit price", Number),
    p("amount", "Net price", Number).computed(Computed::LineItemAmount),
    p("hs_product_id", "Product ID", Number),
    p("hs_sku", "SKU", Str),
    p("discount", "Unit discount", Number),
    p("hs_recurring_billing_period", "Term", Str),
    e(
        "recurringbillingfrequency",
        "Billing frequency",
        &[
            ("monthly", "Monthly"),
            ("quarterly", "Quarterly"),
            ("annually", "Annually"),
        ],
    ),
];

const NOTE_PROPS: &[P] = &[
    p("hs_timestamp", "Activity date", Datetime),
    p("hs_note_body", "Note body", Str).field("html"),
    p("hs_attachment_ids", "Attached file IDs", Enumeration).field("checkbox"),
];

const CALL_PROPS: &[P] = &[
    p("hs_timestamp", "Activity date", Datetime),
    p("hs_call_title", "Call Title", Str),
    p("hs_call_body", "Call notes", Str).field("html"),
    p("hs_call_duration", "Call duration", Number),
    e("hs_call_direction", "Call direction", CALL_DIRECTIONS),
    e("hs_call_status", "Call status", CALL_STATUSES),
    p("hs_call_from_number", "From number", Str),
    p("hs_call_to_number", "To number", Str),
    p("hs_call_recording_url", "Recording URL", Str),
];

const EMAIL_PROPS: &[P] = &[
    p("hs_timestamp", "Activity date", Datetime),
    p("hs_email_subject", "Email subject", Str),
    p("hs_email_text", "Email body", Str).field("textarea"),
    p("hs_email_html", "Email HTML body", Str).field("html"),
    e("hs_email_direction", "Email direction", EMAIL_DIRECTIONS),
    e("hs_email_status", "Email send status", EMAIL_STATUSES),
    p("hs_email_headers", "Email headers", Str).field("textarea"),
];

const MEETING_PROPS: &[P] = &[
    p("hs_timestamp", "Activity date", Datetime),
    p("hs_meeting_title", "Meeting name", Str),
    p("hs_meeting_body", "Meeting description", Str).field("html"),
    p("hs_internal_meeting_notes", "Internal notes", Str).field("html"),
    p("hs_meeting_external_url", "External URL", Str),
    p("hs_meeting_location", "Location", Str),
    p("hs_meeting_start_time", "Start time", Datetime),
    p("hs_meeting_end_time", "End time", Datetime),
    e("hs_meeting_outcome", "Outcome", MEETING_OUTCOMES),
];

const TASK_PROPS: &[P] = &[
    p("hs_timestamp", "Due date", Datetime),
    p("hs_task_subject", "Task Title", Str),
    p("hs_task_body", "Notes", Str).field("html"),
    e("hs_task_status", "Task Status", TASK_STATUSES),
    e("hs_task_priority", "Priority", TASK_PRIORITIES),
    e("hs_task_type", "Task Type", TASK_TYPES),
    p("hs_task_reminders", "Reminders", Str),
];

// Options.

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
