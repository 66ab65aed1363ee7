//! Templates, cycles and their transactions.

use std::collections::BTreeMap;

use spokes_core::{
    Cycle, CycleStatus, Incident, JobState, NewJob, StepState, TemplateRecord, Transaction,
    TransactionFilter, TransactionStatus, TransactionStep,
};
use spokes_store::{StoreError, TransactionWrite};

use crate::support::{Harness, T0};

fn cycle(id: &str, account: &str, installation: &str) -> Cycle {
    Cycle {
        id: id.to_owned(),
        account_id: account.to_owned(),
        template_id: Some("tpl_1".to_owned()),
        name: "New contacts".to_owned(),
        document: "{}".to_owned(),
        installations: BTreeMap::from([
            ("hubspot".to_owned(), installation.to_owned()),
            ("other".to_owned(), "inst_other".to_owned()),
        ]),
        variables: "{}".to_owned(),
        status: CycleStatus::Paused,
        interval_minutes: None,
        run_once: false,
        next_run_at: None,
        backfill_since: None,
        schedule_version: 0,
        webhook_secret_sealed: None,
        created_at: T0,
        updated_at: T0,
    }
}

fn transaction(id: &str, cycle: &str, item_key: Option<&str>, at: i64) -> (Transaction, NewJob) {
    let t = Transaction {
        id: id.to_owned(),
        cycle_id: cycle.to_owned(),
        account_id: "acme".to_owned(),
        item_key: item_key.map(str::to_owned),
        status: TransactionStatus::Queued,
        item: "{}".to_owned(),
        outputs: "{}".to_owned(),
        step_id: Some("first".to_owned()),
        step_attempt: 0,
        step_count: 0,
        resume_at: None,
        in_flight: None,
        error: None,
        created_at: at,
        updated_at: at,
        finished_at: None,
    };
    let job = NewJob {
        id: format!("job_{id}"),
        kind: "cycle.transaction".to_owned(),
        payload: "{}".to_owned(),
        dedupe_key: None,
        run_at: at,
        max_attempts: 3,
        created_at: at,
    };
    (t, job)
}

#[tokio::test]
async fn templates_are_stored_replaced_and_deleted() {
    let h = Harness::new().await;
    let store = &h.store;
    let mut template = TemplateRecord {
        id: "tpl_1".to_owned(),
        name: "One".to_owned(),
        document: r#"{"name":"One"}"#.to_owned(),
        created_at: T0,
        updated_at: T0,
    };
    store.create_template(&template).await.unwrap();
    assert!(matches!(
        store.create_template(&template).await,
        Err(StoreError::Conflict(_))
    ));
    template.name = "Two".to_owned();
    template.updated_at = T0 + 1;
    assert!(store.update_template(&template).await.unwrap());
    assert_eq!(
        store.get_template("tpl_1").await.unwrap(),
        Some(template.clone())
    );
    assert_eq!(store.list_templates().await.unwrap(), vec![template]);
    assert!(store.delete_template("tpl_1").await.unwrap());
    assert!(!store.delete_template("tpl_1").await.unwrap());
    assert_eq!(store.get_template("tpl_1").await.unwrap(), None);
}

#[tokio::test]
async fn cycles_are_read_with_their_installations_and_found_by_installation_when_active() {
    let h = Harness::new().await;
    let (account, installation) = h.seed().await;
    let store = &h.store;
    let mut first = cycle("cyc_1", &account.id, &installation.id);
    store.create_cycle(&first).await.unwrap();
    let second = Cycle {
        created_at: T0 + 1,
        ..cycle("cyc_2", &account.id, &installation.id)
    };
    store.create_cycle(&second).await.unwrap();
    assert!(matches!(
        store
            .create_cycle(&cycle("cyc_3", "nobody", "inst_x"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.get_cycle("cyc_1").await.unwrap(), Some(first.clone()));
    assert_eq!(
        store.list_cycles(&account.id).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    // Only active cycles are found by their installation.
    assert!(
        store
            .active_cycles_of_installation(&installation.id)
            .await
            .unwrap()
            .is_empty()
    );
    first.status = CycleStatus::Active;
    first.schedule_version = 1;
    let poll = NewJob {
        id: "job_poll".to_owned(),
        kind: "cycle.poll".to_owned(),
        payload: "{}".to_owned(),
        dedupe_key: Some("cycle.poll:cyc_1:1:0".to_owned()),
        run_at: T0,
        max_attempts: 5,
        created_at: T0,
    };
    assert!(store.update_cycle(&first, &[poll]).await.unwrap());
    assert_eq!(
        store
            .active_cycles_of_installation(&installation.id)
            .await
            .unwrap(),
        vec![first.clone()]
    );
    // The job was queued with the change.
    assert_eq!(
        store.get_job("job_poll").await.unwrap().unwrap().state,
        JobState::Queued
    );
    assert!(
        !store
            .update_cycle(&cycle("cyc_9", &account.id, "x"), &[])
            .await
            .unwrap()
    );

    // Deleting the account deletes its cycles.
    assert!(store.delete_account(&account.id).await.unwrap());
    assert_eq!(store.get_cycle("cyc_1").await.unwrap(), None);
}

#[tokio::test]
async fn items_are_queued_once_with_their_jobs_and_the_polls_state() {
    let h = Harness::new().await;
    let (account, installation) = h.seed().await;
    let store = &h.store;
    store
        .create_cycle(&cycle("cyc_1", &account.id, &installation.id))
        .await
        .unwrap();
    let state = StepState {
        last_successful_run_date: None,
        cursor: Some("1700:5".to_owned()),
        window_since: Some(T0),
    };
    let stored = store
        .queue_transactions(
            &[
                transaction("txn_1", "cyc_1", Some("1@a"), T0),
                transaction("txn_2", "cyc_1", Some("2@a"), T0),
                transaction("txn_3", "cyc_1", None, T0),
            ],
            Some(("cyc_1", "trigger", &state)),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(stored, ["txn_1", "txn_2", "txn_3"]);
    assert_eq!(
        store.get_step_state("cyc_1", "trigger").await.unwrap(),
        state
    );
    assert_eq!(
        store.get_step_state("cyc_1", "other").await.unwrap(),
        StepState::default()
    );
    // An item seen again is skipped with its job; items without a key are always new.
    let stored = store
        .queue_transactions(
            &[
                transaction("txn_4", "cyc_1", Some("1@a"), T0 + 1),
                transaction("txn_5", "cyc_1", None, T0 + 1),
            ],
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(stored, ["txn_5"]);
    assert!(store.get_job("job_txn_4").await.unwrap().is_none());
    assert!(store.get_job("job_txn_5").await.unwrap().is_some());
    assert_eq!(store.get_transaction("txn_4").await.unwrap(), None);
}

#[tokio::test]
async fn a_transactions_state_is_saved_with_its_step_record_incident_and_cycle_pause() {
    let h = Harness::new().await;
    let (account, installation) = h.seed().await;
    let store = &h.store;
    let mut c = cycle("cyc_1", &account.id, &installation.id);
    c.status = CycleStatus::Active;
    store.create_cycle(&c).await.unwrap();
    let (mut t, job) = transaction("txn_1", "cyc_1", Some("1@a"), T0);
    store
        .queue_transactions(&[(t.clone(), job)], None, &[])
        .await
        .unwrap();

    t.status = TransactionStatus::Failed;
    t.step_count = 1;
    t.error = Some("validation_failed: no".to_owned());
    t.finished_at = Some(T0 + 5);
    t.updated_at = T0 + 5;
    let step = TransactionStep {
        transaction_id: t.id.clone(),
        seq: 0,
        step_id: "first".to_owned(),
        status: "failed".to_owned(),
        attempt: 1,
        request: Some("{}".to_owned()),
        response: None,
        error: t.error.clone(),
        started_at: T0 + 1,
        finished_at: T0 + 5,
    };
    let incident = Incident {
        id: "inc_1".to_owned(),
        cycle_id: "cyc_1".to_owned(),
        transaction_id: Some(t.id.clone()),
        step_id: Some("first".to_owned()),
        severity: "error".to_owned(),
        code: "validation_failed".to_owned(),
        message: "no".to_owned(),
        created_at: T0 + 5,
    };
    assert!(
        store
            .save_transaction(&TransactionWrite {
                step: Some(&step),
                incident: Some(&incident),
                pause_cycle: true,
                ..TransactionWrite::state(&t)
            })
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_transaction("txn_1").await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(
        store.list_transaction_steps("txn_1").await.unwrap(),
        vec![step]
    );
    assert_eq!(
        store.list_incidents("cyc_1", 10).await.unwrap(),
        vec![incident]
    );
    let paused = store.get_cycle("cyc_1").await.unwrap().unwrap();
    assert_eq!(paused.status, CycleStatus::Paused);
    assert_eq!(paused.schedule_version, c.schedule_version + 1);

    // Filters: by status and creation time.
    let failed = TransactionFilter {
        status: Some(TransactionStatus::Failed),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        store
            .list_transactions("cyc_1", &failed)
            .await
            .unwrap()
            .len(),
        1
    );
    let later = TransactionFilter {
        after: Some(T0 + 1),
        limit: 10,
        ..Default::default()
    };
    assert!(
        store
            .list_transactions("cyc_1", &later)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting the cycle deletes its transactions; saving one then changes nothing.
    assert!(store.delete_cycle("cyc_1").await.unwrap());
    assert!(
        !store
            .save_transaction(&TransactionWrite::state(&t))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn queued_transactions_are_cancelled_and_finished_ones_swept_by_their_retention() {
    let h = Harness::new().await;
    let (account, installation) = h.seed().await;
    let store = &h.store;
    store
        .create_cycle(&cycle("cyc_1", &account.id, &installation.id))
        .await
        .unwrap();
    let items: Vec<_> = (1..=4)
        .map(|i| transaction(&format!("txn_{i}"), "cyc_1", Some(&format!("{i}@a")), T0))
        .collect();
    store.queue_transactions(&items, None, &[]).await.unwrap();
    let finish = |id: &str, status: TransactionStatus, at: i64| Transaction {
        status,
        step_id: None,
        finished_at: Some(at),
        updated_at: at,
        ..items.iter().find(|(t, _)| t.id == id).unwrap().0.clone()
    };
    for t in [
        finish("txn_1", TransactionStatus::Succeeded, T0 + 10),
        finish("txn_2", TransactionStatus::Failed, T0 + 10),
    ] {
        store
            .save_transaction(&TransactionWrite::state(&t))
            .await
            .unwrap();
    }
    // txn_3 and txn_4 are still queued: cancelled.
    assert_eq!(
        store.cancel_transactions("cyc_1", T0 + 20).await.unwrap(),
        2
    );
    let cancelled = store.get_transaction("txn_3").await.unwrap().unwrap();
    assert_eq!(cancelled.status, TransactionStatus::Cancelled);
    assert_eq!(cancelled.finished_at, Some(T0 + 20));

    // Successful and cancelled ones go first; errored ones are kept longer.
    assert_eq!(store.sweep_transactions(T0 + 15, T0).await.unwrap(), 1);
    assert_eq!(store.get_transaction("txn_1").await.unwrap(), None);
    assert!(store.get_transaction("txn_2").await.unwrap().is_some());
    assert_eq!(store.sweep_transactions(T0 + 30, T0 + 11).await.unwrap(), 3);
    assert_eq!(store.get_transaction("txn_2").await.unwrap(), None);
}
