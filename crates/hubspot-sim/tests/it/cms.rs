//! CMS blogs v3: the seeded blogs and posts, paging, filters, sorting, scope `content`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::crm_support::*;
use crate::support::*;

fn names(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn blogs_and_posts_are_seeded_per_portal() {
    let c = crm_with(ACME_INC, &["content"]).await;
    let r = c.get("/cms/v3/blog-settings/settings").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 2);
    let blog = &r.body["results"][0];
    assert_eq!(blog["name"], "Acme Blog");
    assert_eq!(blog["absoluteUrl"], "https://acme-inc.hs-sites.com/blog");
    assert!(is_iso(&blog["created"]));
    let blog_id = blog["id"].as_str().unwrap().to_owned();
    let r = c.get("/cms/v3/blog-settings/settings?limit=1").await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["paging"]["next"]["after"], "1");
    let r = c
        .get("/cms/v3/blog-settings/settings?limit=1&after=1")
        .await;
    assert_eq!(r.body["results"][0]["name"], "Engineering");
    assert!(r.body.get("paging").is_none());
    let r = c
        .get(&format!("/cms/v3/blog-settings/settings/{blog_id}"))
        .await;
    assert_eq!(r.body["id"], blog_id.as_str());
    let r = c.get("/cms/v3/blog-settings/settings/1").await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    // Posts: every post, then one blog's, paged; sorted; a single post.
    let r = c.get("/cms/v3/blogs/posts").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 7);
    let post = &r.body["results"][0];
    assert_eq!(post["name"], "Hello, world");
    assert_eq!(post["state"], "PUBLISHED");
    assert_eq!(post["contentGroupId"], blog_id.as_str());
    assert!(is_iso(&post["publishDate"]));
    let r = c
        .get(&format!(
            "/cms/v3/blogs/posts?contentGroupId={blog_id}&limit=2"
        ))
        .await;
    assert_eq!(r.body["total"], 4);
    assert_eq!(names(&r.body), ["Hello, world", "The spring launch"]);
    let after = r.body["paging"]["next"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .get(&format!(
            "/cms/v3/blogs/posts?contentGroupId={blog_id}&limit=2&after={after}"
        ))
        .await;
    assert_eq!(
        names(&r.body),
        ["Customer story: Cobalt", "A pricing update"]
    );
    assert!(r.body.get("paging").is_none());
    let r = c
        .get("/cms/v3/blogs/posts?sort=-publishDate&limit=1&state=PUBLISHED")
        .await;
    assert_eq!(names(&r.body), ["March incident review"]);
    let r = c.get("/cms/v3/blogs/posts?sort=nonsense").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let id = post["id"].as_str().unwrap();
    let r = c.get(&format!("/cms/v3/blogs/posts/{id}")).await;
    assert_eq!(r.body["name"], "Hello, world");
    let r = c.get("/cms/v3/blogs/posts/42").await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    // Another portal has its own ids.
    let other = sim_token(&c.sim, 24_682_003, &["content"]).await;
    let r = c.get_as(&other, "/cms/v3/blogs/posts?limit=1").await;
    assert_ne!(r.body["results"][0]["id"], post["id"]);
    let r = c.get_as(&other, &format!("/cms/v3/blogs/posts/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let no_content = sim_token(&c.sim, ACME_INC, &["crm.objects.contacts.read"]).await;
    let r = c.get_as(&no_content, "/cms/v3/blogs/posts").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let r = c
        .get_as(&no_content, "/cms/v3/blog-settings/settings")
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
}
