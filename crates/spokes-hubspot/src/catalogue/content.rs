//! Content: CMS blogs and blog posts (v3), the email campaigns of HubSpot's Email Analytics
//! API (v1, the campaigns the seed connector means) and HubSpot's newer marketing
//! campaigns (v3) beside them. All read-only but creating a marketing campaign.

use serde_json::{Value, json};

use super::crm::{fixed_path as fixed, param, sets};
use super::{Body, JsonType, Location, MethodDef, Pager, Paging, Param, Shape, Verb};

const CONTENT: &[&[&str]] = &[&["content"]];

fn blog_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "publicTitle": {"type": "string"},
        "description": {"type": "string"}, "slug": {"type": "string"},
        "absoluteUrl": {"type": "string"}, "language": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"}
    }})
}

fn post_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "slug": {"type": "string"},
        "contentGroupId": {"type": "string", "description": "The blog's id."},
        "state": {"type": "string", "description": "`PUBLISHED`, `DRAFT`, …"},
        "authorName": {"type": "string"}, "postSummary": {"type": "string"},
        "postBody": {"type": "string"}, "url": {"type": "string"},
        "publishDate": {"type": "string", "format": "date-time"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"}
    }})
}

fn email_campaign_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "appId": {"type": "integer"}, "appName": {"type": "string"},
        "name": {"type": "string"}, "subject": {"type": "string"}, "type": {"type": "string"},
        "numIncluded": {"type": "integer"},
        "counters": {"type": "object", "description": "sent, delivered, open, click, bounce, unsubscribed, …", "additionalProperties": {"type": "integer"}}
    }})
}

fn marketing_campaign_schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string", "description": "The campaign's GUID."},
        "properties": {"type": "object", "description": "`hs_name`, `hs_start_date`, `hs_end_date`, `hs_notes`, `hs_audience`, `hs_currency_code`, …", "additionalProperties": {"type": ["string", "null"]}},
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"}
    }})
}

fn path_id(name: &str, what: &str) -> Param {
    param(name, Location::Path, JsonType::String, true, what)
}

fn query(name: &str, json_type: JsonType, what: &str) -> Param {
    param(name, Location::Query, json_type, false, what)
}

fn base(category: &str) -> MethodDef {
    MethodDef::template(category, fixed(""), sets(CONTENT), Value::Null)
}

fn blogs() -> Vec<MethodDef> {
    let base = base("Blogs");
    vec![
        MethodDef {
            id: "blogs.list".into(),
            name: "List Blogs".into(),
            description: "The portal's blogs (their settings: name, title, slug, URL, language), a page at a time (or all pages with `paging.all`).".into(),
            path: fixed("/cms/v3/blog-settings/settings"),
            paging: Paging::Cursor,
            output: json!({"type": "array", "items": blog_schema()}),
            ..base.clone()
        },
        MethodDef {
            id: "blogs.get".into(),
            name: "Get Blog".into(),
            description: "One blog's settings by its id.".into(),
            path: fixed("/cms/v3/blog-settings/settings/{blogId}"),
            params: vec![path_id("blogId", "The blog's id.")],
            output: blog_schema(),
            ..base.clone()
        },
        MethodDef {
            id: "blogs.list_posts".into(),
            name: "List Blog Posts".into(),
            description: "Blog posts of every blog (or of one with `contentGroupId`), drafts included, in creation order unless sorted, a page at a time (or all pages with `paging.all`).".into(),
            path: fixed("/cms/v3/blogs/posts"),
            params: vec![
                query("contentGroupId", JsonType::String, "Only the posts of this blog (its id)."),
                query("state", JsonType::String, "Only posts in this state: `PUBLISHED`, `DRAFT`, `SCHEDULED`."),
                query("sort", JsonType::String, "`name`, `createdAt`, `updatedAt` or `publishDate`; `-` first for descending."),
                query("name__contains", JsonType::String, "Only posts whose name contains this text."),
                query("createdAfter", JsonType::String, "Only posts created after this RFC 3339 time."),
                query("updatedAfter", JsonType::String, "Only posts changed after this RFC 3339 time."),
            ],
            paging: Paging::Cursor,
            output: json!({"type": "array", "items": post_schema()}),
            ..base.clone()
        },
        MethodDef {
            id: "blogs.get_post".into(),
            name: "Get Blog Post".into(),
            description: "One blog post by its id, with its body.".into(),
            path: fixed("/cms/v3/blogs/posts/{postId}"),
            params: vec![path_id("postId", "The blog post's id.")],
            output: post_schema(),
            ..base
        },
    ]
}

fn campaigns() -> Vec<MethodDef> {
    let base = base("Campaigns");
    // Email Analytics v1 pages with a position: `offset`/`limit` in, `offset` and `hasMore`
    // out, records in `campaigns`.
    let email_pages = Shape {
        records: "campaigns",
        pager: Pager::Offset {
            offset: "offset",
            limit: "limit",
            next: "offset",
            has_more: "hasMore",
        },
        ..Shape::DEFAULT
    };
    let marketing_read = sets(&[&["marketing.campaigns.read"]]);
    vec![
        MethodDef {
            id: "campaigns.list".into(),
            name: "List Email Campaigns".into(),
            description: "Every email campaign (a marketing email's sends) by id: `id`, `appId`, `appName`; `campaigns.get` has the rest. A page at a time (or all pages with `paging.all`).".into(),
            path: fixed("/email/public/v1/campaigns/by-id"),
            paging: Paging::Cursor,
            output: json!({"type": "array", "items": email_campaign_schema()}),
            shape: email_pages,
            ..base.clone()
        },
        MethodDef {
            id: "campaigns.recent".into(),
            name: "List Email Campaigns with Recent Activity".into(),
            description: "The email campaigns with recent activity, most recent first (`lastUpdatedTime`), a page at a time (or all pages with `paging.all`).".into(),
            path: fixed("/email/public/v1/campaigns"),
            paging: Paging::Cursor,
            output: json!({"type": "array", "items": email_campaign_schema()}),
            shape: email_pages,
            ..base.clone()
        },
        MethodDef {
            id: "campaigns.get".into(),
            name: "Get Email Campaign".into(),
            description: "One email campaign with its name, subject and counters (sent, delivered, opened, clicked, bounced, unsubscribed, …).".into(),
            path: fixed("/email/public/v1/campaigns/{campaignId}"),
            params: vec![
                path_id("campaignId", "The email campaign's id."),
                query("appId", JsonType::String, "The campaign's `appId` (from the lists)."),
            ],
            output: email_campaign_schema(),
            ..base.clone()
        },
        MethodDef {
            id: "marketing_campaigns.list".into(),
            name: "List Marketing Campaigns".into(),
            description: "The portal's marketing campaigns (Campaigns v3: `hs_name`, dates, budget, …), optionally by a part of the name, a page at a time (or all pages with `paging.all`).".into(),
            path: fixed("/marketing/v3/campaigns"),
            params: vec![
                query("name", JsonType::String, "Only campaigns whose `hs_name` contains this text (ignoring case)."),
                query("sort", JsonType::String, "`hs_name`, `createdAt` or `updatedAt`; `-` first for descending."),
                query("properties", JsonType::String, "Comma-separated properties to return (default: all with a value)."),
            ],
            scopes: marketing_read.clone(),
            paging: Paging::Cursor,
            output: json!({"type": "array", "items": marketing_campaign_schema()}),
            ..base.clone()
        },
        MethodDef {
            id: "marketing_campaigns.get".into(),
            name: "Get Marketing Campaign".into(),
            description: "One marketing campaign by its GUID, with its properties and `assets`.".into(),
            path: fixed("/marketing/v3/campaigns/{campaignGuid}"),
            params: vec![
                path_id("campaignGuid", "The campaign's GUID (`id`)."),
                query("properties", JsonType::String, "Comma-separated properties to return (default: all with a value)."),
            ],
            scopes: marketing_read,
            output: marketing_campaign_schema(),
            ..base.clone()
        },
        MethodDef {
            id: "marketing_campaigns.create".into(),
            name: "Create Marketing Campaign".into(),
            description: "Creates a marketing campaign; `hs_name` is required and unique among the portal's campaigns (a name in use is a conflict).".into(),
            verb: Verb::Post,
            path: fixed("/marketing/v3/campaigns"),
            params: vec![param(
                "properties",
                Location::Body,
                JsonType::Object,
                true,
                "`{hs_name, hs_start_date?, hs_end_date? (YYYY-MM-DD), hs_notes?, hs_audience?, hs_currency_code?, hs_campaign_status?, hs_owner?, hs_color_hex?, hs_utm?, hs_goal?}`.",
            )],
            body: Body::Params,
            scopes: sets(&[&["marketing.campaigns.write"]]),
            writes: true,
            output: marketing_campaign_schema(),
            ..base
        },
    ]
}

pub(super) fn methods() -> Vec<MethodDef> {
    let mut methods = blogs();
    methods.extend(campaigns());
    methods
}
