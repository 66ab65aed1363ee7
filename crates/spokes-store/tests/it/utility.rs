use spokes_core::{EntityRef, PreventerMark, StorageKind, StoragePut, StorageRef, StorageScope};
use spokes_store::StoreError;

use crate::support::{Harness, T0, account};

fn store_of(account_id: &str, scope: StorageScope, kind: StorageKind) -> StorageRef {
    StorageRef {
        account_id: account_id.to_owned(),
        scope,
        kind,
    }
}

fn cycle(id: &str) -> StorageScope {
    StorageScope::Cycle(id.to_owned())
}

fn entity(system: &str, id: &str) -> EntityRef {
    EntityRef {
        system: system.to_owned(),
        id: id.to_owned(),
    }
}

fn mark(system: &str, record_id: &str, expires_at: i64) -> PreventerMark {
    PreventerMark {
        account_id: "acme".to_owned(),
        system: system.to_owned(),
        record_id: record_id.to_owned(),
        cycle_id: "cyc_1".to_owned(),
        expires_at,
        created_at: T0,
    }
}

#[tokio::test]
async fn storage_items_are_set_read_replaced_and_deleted_per_store() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    let values = store_of("acme", cycle("cyc_1"), StorageKind::Values);
    let put = |s: StorageRef, k: &'static str, v: &'static str| {
        let store = store.clone();
        async move { store.put_storage_item(&s, k, v, 100, T0).await.unwrap() }
    };

    assert_eq!(put(values.clone(), "k", "one").await, StoragePut::Created);
    assert_eq!(put(values.clone(), "k", "two").await, StoragePut::Updated);
    assert_eq!(
        store
            .get_storage_item(&values, "k")
            .await
            .unwrap()
            .as_deref(),
        Some("two")
    );

    // The same key in every other store is another item.
    let others = [
        store_of("acme", cycle("cyc_2"), StorageKind::Values),
        store_of("acme", StorageScope::Account, StorageKind::Values),
        store_of("acme", cycle("cyc_1"), StorageKind::Objects),
    ];
    for other in &others {
        assert_eq!(store.get_storage_item(other, "k").await.unwrap(), None);
    }
    assert_eq!(
        put(others[1].clone(), "k", "global").await,
        StoragePut::Created
    );
    assert_eq!(
        store
            .get_storage_item(&values, "k")
            .await
            .unwrap()
            .as_deref(),
        Some("two")
    );

    assert!(store.delete_storage_item(&values, "k").await.unwrap());
    assert!(!store.delete_storage_item(&values, "k").await.unwrap());
    assert_eq!(store.get_storage_item(&values, "k").await.unwrap(), None);
    assert_eq!(
        store
            .get_storage_item(&others[1], "k")
            .await
            .unwrap()
            .as_deref(),
        Some("global")
    );

    // An account that does not exist.
    let err = store
        .put_storage_item(
            &store_of("nobody", StorageScope::Account, StorageKind::Values),
            "k",
            "v",
            100,
            T0,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn a_store_refuses_new_keys_at_its_limit_but_replaces_existing_ones() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    let s = store_of("acme", StorageScope::Account, StorageKind::Objects);
    for key in ["a", "b", "c"] {
        assert_eq!(
            store.put_storage_item(&s, key, "{}", 3, T0).await.unwrap(),
            StoragePut::Created
        );
    }
    assert_eq!(
        store.put_storage_item(&s, "d", "{}", 3, T0).await.unwrap(),
        StoragePut::LimitReached
    );
    assert_eq!(store.get_storage_item(&s, "d").await.unwrap(), None);
    // Replacing a key at the limit is fine.
    assert_eq!(
        store
            .put_storage_item(&s, "a", r#"{"x":1}"#, 3, T0)
            .await
            .unwrap(),
        StoragePut::Updated
    );
    // Another store of the account has its own count.
    let other = store_of("acme", cycle("cyc_1"), StorageKind::Objects);
    assert_eq!(
        store
            .put_storage_item(&other, "d", "{}", 3, T0)
            .await
            .unwrap(),
        StoragePut::Created
    );
    // A deleted key frees its place.
    assert!(store.delete_storage_item(&s, "b").await.unwrap());
    assert_eq!(
        store.put_storage_item(&s, "d", "{}", 3, T0).await.unwrap(),
        StoragePut::Created
    );
    assert_eq!(
        store.put_storage_item(&s, "e", "{}", 3, T0).await.unwrap(),
        StoragePut::LimitReached
    );
}

#[tokio::test]
async fn racing_writers_never_pass_the_limit() {
    let h = Harness::new().await;
    h.seed().await;
    let second = h.second_store().await;
    let s = store_of("acme", StorageScope::Account, StorageKind::Values);
    let writes = (0..20).map(|i| {
        let store = if i % 2 == 0 {
            h.store.clone()
        } else {
            second.clone()
        };
        let s = s.clone();
        // Every key twice: a key counts once.
        let key = format!("k{}", i / 2);
        tokio::spawn(async move { store.put_storage_item(&s, &key, "v", 5, T0).await.unwrap() })
    });
    let mut created = 0;
    for write in writes.collect::<Vec<_>>() {
        if write.await.unwrap() == StoragePut::Created {
            created += 1;
        }
    }
    assert_eq!(created, 5);
    let listed = h
        .store
        .list_storage_items(&s, None, None, 100)
        .await
        .unwrap();
    assert_eq!(listed.len(), 5);
}

#[tokio::test]
async fn storage_items_list_by_prefix_in_pages() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    let s = store_of("acme", cycle("cyc_1"), StorageKind::Objects);
    // Upper case sorts before lower case (code points) on both backends; `%` and `_` are
    // plain characters of a prefix.
    for key in [
        "user:b", "user:a", "User:c", "user:é", "user_x", "u%", "other",
    ] {
        store
            .put_storage_item(&s, key, &format!(r#"{{"k":"{key}"}}"#), 100, T0 + 5)
            .await
            .unwrap();
    }
    let keys = |items: Vec<spokes_core::StorageItem>| -> Vec<String> {
        items.into_iter().map(|i| i.key).collect()
    };
    let all = store.list_storage_items(&s, None, None, 100).await.unwrap();
    assert_eq!(all[0].value, r#"{"k":"User:c"}"#);
    assert_eq!(all[0].updated_at, T0 + 5);
    assert_eq!(
        keys(all),
        [
            "User:c", "other", "u%", "user:a", "user:b", "user:é", "user_x"
        ]
    );

    let page = store
        .list_storage_items(&s, Some("user:"), None, 2)
        .await
        .unwrap();
    assert_eq!(keys(page), ["user:a", "user:b"]);
    let page = store
        .list_storage_items(&s, Some("user:"), Some("user:b"), 2)
        .await
        .unwrap();
    assert_eq!(keys(page), ["user:é"]);
    let page = store
        .list_storage_items(&s, Some("u%"), None, 10)
        .await
        .unwrap();
    assert_eq!(keys(page), ["u%"]);
    let page = store
        .list_storage_items(&s, Some("user_"), None, 10)
        .await
        .unwrap();
    assert_eq!(keys(page), ["user_x"]);
    // Another store lists nothing.
    let other = store_of("acme", cycle("cyc_1"), StorageKind::Values);
    assert!(
        store
            .list_storage_items(&other, None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn deleting_a_cycles_storage_keeps_the_accounts_and_other_cycles() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    let stores = [
        store_of("acme", cycle("cyc_1"), StorageKind::Values),
        store_of("acme", cycle("cyc_1"), StorageKind::Objects),
        store_of("acme", cycle("cyc_2"), StorageKind::Values),
        store_of("acme", StorageScope::Account, StorageKind::Values),
    ];
    for s in &stores {
        store.put_storage_item(s, "k", "v", 1, T0).await.unwrap();
    }
    assert_eq!(
        store.delete_cycle_storage("acme", "cyc_1").await.unwrap(),
        2
    );
    assert_eq!(store.get_storage_item(&stores[0], "k").await.unwrap(), None);
    assert_eq!(store.get_storage_item(&stores[1], "k").await.unwrap(), None);
    assert!(
        store
            .get_storage_item(&stores[2], "k")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .get_storage_item(&stores[3], "k")
            .await
            .unwrap()
            .is_some()
    );
    // Its count went too: the limit of 1 admits a new key.
    assert_eq!(
        store
            .put_storage_item(&stores[0], "j", "v", 1, T0)
            .await
            .unwrap(),
        StoragePut::Created
    );
}

#[tokio::test]
async fn preventer_marks_expire_and_are_consumed_by_the_check() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    store
        .put_preventer_mark(&mark("hubspot", "101", T0 + 1000))
        .await
        .unwrap();
    // Another system's record of the same id is not marked.
    assert!(
        !store
            .check_preventer_mark("acme", "crm", "101", T0, true)
            .await
            .unwrap()
    );
    // A peek leaves the mark; a consuming check takes it.
    assert!(
        store
            .check_preventer_mark("acme", "hubspot", "101", T0, false)
            .await
            .unwrap()
    );
    assert!(
        store
            .check_preventer_mark("acme", "hubspot", "101", T0, true)
            .await
            .unwrap()
    );
    assert!(
        !store
            .check_preventer_mark("acme", "hubspot", "101", T0, true)
            .await
            .unwrap()
    );

    // An expired mark does not count.
    store
        .put_preventer_mark(&mark("hubspot", "102", T0 + 1000))
        .await
        .unwrap();
    assert!(
        !store
            .check_preventer_mark("acme", "hubspot", "102", T0 + 1000, false)
            .await
            .unwrap()
    );
    // Marking again renews it.
    store
        .put_preventer_mark(&mark("hubspot", "102", T0 + 5000))
        .await
        .unwrap();
    assert!(
        store
            .check_preventer_mark("acme", "hubspot", "102", T0 + 1000, false)
            .await
            .unwrap()
    );

    store
        .put_preventer_mark(&mark("hubspot", "103", T0 + 1000))
        .await
        .unwrap();
    assert_eq!(store.sweep_preventer_marks(T0 + 1000).await.unwrap(), 1);
    assert!(
        store
            .check_preventer_mark("acme", "hubspot", "102", T0 + 1000, true)
            .await
            .unwrap()
    );

    let mut orphan = mark("hubspot", "1", T0);
    orphan.account_id = "nobody".to_owned();
    let err = store.put_preventer_mark(&orphan).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn cross_references_link_one_record_per_system_both_ways() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    let lookup = |e: EntityRef| {
        let store = store.clone();
        async move { store.lookup_cross_references("acme", &e).await.unwrap() }
    };
    store
        .put_cross_reference("acme", &entity("hubspot", "1"), &entity("crm", "A"), T0)
        .await
        .unwrap();
    store
        .put_cross_reference("acme", &entity("hubspot", "1"), &entity("erp", "X"), T0)
        .await
        .unwrap();
    assert_eq!(
        lookup(entity("hubspot", "1")).await,
        [entity("crm", "A"), entity("erp", "X")]
    );
    assert_eq!(lookup(entity("crm", "A")).await, [entity("hubspot", "1")]);
    assert_eq!(lookup(entity("erp", "X")).await, [entity("hubspot", "1")]);
    assert!(lookup(entity("crm", "1")).await.is_empty());

    // Relinking hubspot:1 to crm:B replaces crm:A (which is left unlinked).
    store
        .put_cross_reference("acme", &entity("crm", "B"), &entity("hubspot", "1"), T0)
        .await
        .unwrap();
    assert_eq!(
        lookup(entity("hubspot", "1")).await,
        [entity("crm", "B"), entity("erp", "X")]
    );
    assert!(lookup(entity("crm", "A")).await.is_empty());
    // Linking crm:B to hubspot:2 unlinks hubspot:1 from crm.
    store
        .put_cross_reference("acme", &entity("hubspot", "2"), &entity("crm", "B"), T0)
        .await
        .unwrap();
    assert_eq!(lookup(entity("hubspot", "1")).await, [entity("erp", "X")]);
    assert_eq!(lookup(entity("crm", "B")).await, [entity("hubspot", "2")]);

    // Two records of one system (two portals under one name) link too.
    store
        .put_cross_reference("acme", &entity("hubspot", "7"), &entity("hubspot", "8"), T0)
        .await
        .unwrap();
    assert_eq!(
        lookup(entity("hubspot", "8")).await,
        [entity("hubspot", "7")]
    );

    // Deleting one system's link, then all.
    store
        .put_cross_reference("acme", &entity("hubspot", "1"), &entity("crm", "C"), T0)
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_cross_references("acme", &entity("hubspot", "1"), Some("crm"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(lookup(entity("hubspot", "1")).await, [entity("erp", "X")]);
    assert!(lookup(entity("crm", "C")).await.is_empty());
    assert_eq!(
        store
            .delete_cross_references("acme", &entity("erp", "X"), None)
            .await
            .unwrap(),
        1
    );
    assert!(lookup(entity("hubspot", "1")).await.is_empty());

    // Per account.
    store.create_account(&account("other")).await.unwrap();
    assert!(
        store
            .lookup_cross_references("other", &entity("crm", "B"))
            .await
            .unwrap()
            .is_empty()
    );
    let err = store
        .put_cross_reference("nobody", &entity("a", "1"), &entity("b", "2"), T0)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn deleting_an_account_deletes_its_utility_data() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    store.create_account(&account("other")).await.unwrap();
    for id in ["acme", "other"] {
        let s = store_of(id, cycle("cyc_1"), StorageKind::Values);
        store.put_storage_item(&s, "k", "v", 10, T0).await.unwrap();
        let mut m = mark("hubspot", "1", T0 + 1000);
        m.account_id = id.to_owned();
        store.put_preventer_mark(&m).await.unwrap();
        store
            .put_cross_reference(id, &entity("hubspot", "1"), &entity("crm", "A"), T0)
            .await
            .unwrap();
    }
    assert!(store.delete_account("acme").await.unwrap());

    let raw = h.raw().await;
    // Only the other account's rows are left.
    for (sql, rows) in [
        ("SELECT COUNT(*) FROM utility_storage", 1),
        ("SELECT COUNT(*) FROM utility_storage_sizes", 1),
        ("SELECT COUNT(*) FROM utility_preventer_marks", 1),
        ("SELECT COUNT(*) FROM utility_cross_references", 2),
    ] {
        assert_eq!(raw.scalar_i64(sql).await, rows, "{sql}");
    }
    raw.close().await;
    // The other account's data is whole.
    assert!(
        store
            .check_preventer_mark("other", "hubspot", "1", T0, false)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .lookup_cross_references("other", &entity("crm", "A"))
            .await
            .unwrap(),
        [entity("hubspot", "1")]
    );
}
