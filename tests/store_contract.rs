//! The store's contract, one suite run against every backend: RocksDB in a temp directory and
//! PostgreSQL (a fresh database per test on the server `BOTCADENCE_TEST_POSTGRES_URL` names;
//! `scripts/start-test-postgres.sh` starts one). Without that variable the PostgreSQL half is
//! skipped, unless `BOTCADENCE_REQUIRE_POSTGRES=1` (set by the test suite), which makes it fail.

use std::sync::Arc;

use botcadence::model::{
    Account, Action, ApiKey, BackgroundJob, Execution, ExecutionStatus, ExecutionTrigger, Hook,
    HookVerify, JobKind, JobStatus, Plan, ReplayFilter, RunOutline, SecretText, ShadowResult,
    Trigger, Workflow, WorkflowStatus,
};
use botcadence::store::{
    Dedupe, DedupeEntry, DueRequest, ExecutionQuery, ExecutionScan, Lease, QuotaRequest,
    SharedStore, Store, StoreError, StoredReply, WriteOutcome,
};
use serde_json::json;

/// A store under test, and what must live as long as it.
struct Backend {
    name: &'static str,
    store: SharedStore,
    _dir: Option<tempfile::TempDir>,
}

async fn rocks() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = botcadence::store::RocksStore::open(
        dir.path(),
        botcadence::config::Durability::Fsync,
        256,
        1024,
    )
    .unwrap();
    Backend {
        name: "rocksdb",
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

/// A fresh database on the test server, and the store opened on it.
async fn postgres() -> Option<Backend> {
    let config = fresh_database().await?;
    let store = open_postgres(config, std::time::Duration::from_secs(10)).await;
    Some(Backend {
        name: "postgres",
        store: Arc::new(store),
        _dir: None,
    })
}

async fn open_postgres(
    config: tokio_postgres::Config,
    lease: std::time::Duration,
) -> botcadence::store::postgres::PgStore {
    botcadence::store::postgres::PgStore::open(config, 256, 1024, lease)
        .await
        .unwrap()
}

/// A new, empty database on the test server (`None` without one).
async fn fresh_database() -> Option<tokio_postgres::Config> {
    let Ok(url) = std::env::var("BOTCADENCE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("BOTCADENCE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "BOTCADENCE_REQUIRE_POSTGRES=1 but BOTCADENCE_TEST_POSTGRES_URL is not set"
        );
        eprintln!("BOTCADENCE_TEST_POSTGRES_URL not set: the PostgreSQL backend is not tested");
        return None;
    };
    let admin = botcadence::store::postgres::connection_config(&url, None).unwrap();
    let (client, connection) = admin.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let db = format!("contract_{:016x}", rand_u64());
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    let mut config = admin.clone();
    config.dbname(&db);
    Some(config)
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

async fn backends() -> Vec<Backend> {
    let mut all = vec![rocks().await];
    all.extend(postgres().await);
    all
}

fn account(id: &str) -> Account {
    Account {
        id: id.into(),
        name: "acme".into(),
        plan: Plan::Pro,
        limits: None,
        signing_secret: SecretText::new("whsec_x".into()),
        created_at: 1,
        updated_at: 1,
    }
}

fn workflow(id: &str, account: &str) -> Workflow {
    Workflow {
        id: id.into(),
        account_id: account.into(),
        name: "wf".into(),
        status: WorkflowStatus::Active,
        version: 1,
        trigger: Trigger {
            kind: "webhook".into(),
            event: None,
        },
        actions: Vec::new(),
        created_at: 1,
        updated_at: 1,
    }
}

/// An execution received at `received_ms` (its id carries that time).
fn execution(account: &str, workflow: &str, received_ms: i64, n: i64) -> Execution {
    Execution {
        id: botcadence::ids::execution_id(received_ms * 1000 + n),
        account_id: account.into(),
        workflow_id: workflow.into(),
        workflow_version: Some(1),
        status: ExecutionStatus::Queued,
        trigger: ExecutionTrigger {
            hook_id: Some("hook_1".into()),
            event: "e".into(),
            received_at: received_ms,
        },
        input: json!({"n": n}),
        steps: Vec::new(),
        started_at: None,
        completed_at: None,
        duration_ms: None,
        error: None,
        resume_at: None,
        replay_of: None,
    }
}

async fn finish(store: &SharedStore, lease: &Lease, e: &mut Execution, status: ExecutionStatus) {
    let previous = e.persisted();
    e.status = status;
    e.completed_at = Some(e.trigger.received_at + 5);
    e.duration_ms = Some(5);
    store.save_progress(e, previous, lease).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_round_trips() {
    for b in backends().await {
        let s = &b.store;
        assert!(!s.is_initialised().await.unwrap(), "{}", b.name);
        let key = ApiKey {
            id: "key_1".into(),
            account_id: "acct_1".into(),
            name: "k".into(),
            prefix: "bc_live_ab".into(),
            hash: "00".into(),
            created_at: 1,
        };
        s.initialise(&account("acct_1"), &key).await.unwrap();
        assert!(s.is_initialised().await.unwrap(), "{}", b.name);
        s.put_workflow(&workflow("wf_1", "acct_1"), None)
            .await
            .unwrap();
        s.put_workflow(&workflow("wf_2", "acct_1"), None)
            .await
            .unwrap();
        let hook = Hook {
            id: "hook_1".into(),
            account_id: "acct_1".into(),
            workflow_id: "wf_1".into(),
            event: "e".into(),
            secret: SecretText::new("whsec_y".into()),
            verify: HookVerify::None,
            created_at: 1,
            response: None,
        };
        s.put_hook(&hook).await.unwrap();
        let mut renamed = account("acct_1");
        renamed.name = "renamed".into();
        s.put_account(&renamed).await.unwrap();
        let c = s.load_catalog().await.unwrap();
        assert_eq!(c.accounts.len(), 1, "{}", b.name);
        assert_eq!(c.accounts[0].name, "renamed", "{}: upserted", b.name);
        assert_eq!(
            (c.api_keys.len(), c.workflows.len(), c.hooks.len()),
            (1, 2, 1),
            "{}",
            b.name
        );

        s.delete_workflow("wf_1", &["hook_1".to_string()])
            .await
            .unwrap();
        s.delete_api_key("key_1").await.unwrap();
        let c = s.load_catalog().await.unwrap();
        assert_eq!(
            (c.api_keys.len(), c.workflows.len(), c.hooks.len()),
            (0, 1, 0),
            "{}",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_accepts_once_within_its_window() {
    for b in backends().await {
        let s = &b.store;
        let first = execution("acct_1", "wf_1", 1_000, 1);
        let dedupe = |e: &Execution, not_before_ms| Dedupe {
            hook_id: "hook_1".into(),
            key: "k-1".into(),
            entry: DedupeEntry {
                execution_id: e.id.clone(),
                at_ms: e.trigger.received_at,
            },
            not_before_ms,
        };
        let w = s
            .accept_execution(&first, Some(dedupe(&first, 0)))
            .await
            .unwrap();
        assert_eq!(w, WriteOutcome::Written, "{}", b.name);
        let again = execution("acct_1", "wf_1", 2_000, 2);
        let w = s
            .accept_execution(&again, Some(dedupe(&again, 0)))
            .await
            .unwrap();
        assert_eq!(w, WriteOutcome::Duplicate(first.id.clone()), "{}", b.name);
        assert!(
            s.execution(again.id.clone()).await.unwrap().is_none(),
            "{}: nothing stored",
            b.name
        );
        // Past the window (the first entry is older than not_before), the key is free again.
        let later = execution("acct_1", "wf_1", 9_000, 3);
        let w = s
            .accept_execution(&later, Some(dedupe(&later, 5_000)))
            .await
            .unwrap();
        assert_eq!(w, WriteOutcome::Written, "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_are_newest_first_with_exact_totals_filters_and_windows() {
    for b in backends().await {
        let s = &b.store;
        let lease = s.lease("wf_1").expect("a lone store holds every shard");
        let mut all = Vec::new();
        for i in 0..10 {
            let mut e = execution("acct_1", "wf_1", 10_000 + i * 1000, i);
            s.accept_execution(&e, None).await.unwrap();
            if i % 3 == 0 {
                finish(s, &lease, &mut e, ExecutionStatus::Failed).await;
            } else if i % 2 == 0 {
                finish(s, &lease, &mut e, ExecutionStatus::Success).await;
            }
            all.push(e);
        }
        s.accept_execution(&execution("acct_1", "wf_other", 10_500, 99), None)
            .await
            .unwrap();
        let q = |status, from_ms, to_ms, offset, limit| ExecutionQuery {
            status,
            from_ms,
            to_ms,
            offset,
            limit,
        };
        let (page, total) = s
            .list_executions("wf_1".into(), q(None, None, None, 0, 4))
            .await
            .unwrap();
        assert_eq!(total, 10, "{}", b.name);
        let ids: Vec<_> = page.iter().map(|p| p.id.clone()).collect();
        let newest: Vec<_> = all.iter().rev().take(4).map(|e| e.id.clone()).collect();
        assert_eq!(ids, newest, "{}: newest first", b.name);
        let (page, _) = s
            .list_executions("wf_1".into(), q(None, None, None, 8, 4))
            .await
            .unwrap();
        assert_eq!(page.len(), 2, "{}: the last page", b.name);

        let (failed, total) = s
            .list_executions(
                "wf_1".into(),
                q(Some(ExecutionStatus::Failed), None, None, 0, 100),
            )
            .await
            .unwrap();
        assert_eq!(total, 4, "{}: 0, 3, 6, 9 failed", b.name);
        assert!(
            failed.iter().all(|e| e.status == ExecutionStatus::Failed),
            "{}",
            b.name
        );
        let (_, total) = s
            .list_executions(
                "wf_1".into(),
                q(Some(ExecutionStatus::Success), None, None, 0, 100),
            )
            .await
            .unwrap();
        assert_eq!(total, 3, "{}: 2, 4, 8 succeeded", b.name);
        // A window of received times, inclusive both ends, and an empty one.
        let (_, total) = s
            .list_executions("wf_1".into(), q(None, Some(12_000), Some(14_000), 0, 100))
            .await
            .unwrap();
        assert_eq!(total, 3, "{}", b.name);
        let (page, total) = s
            .list_executions("wf_1".into(), q(None, Some(14_000), Some(12_000), 0, 100))
            .await
            .unwrap();
        assert_eq!((page.len(), total), (0, 0), "{}", b.name);

        let got = s
            .executions(vec![
                all[1].id.clone(),
                "exec_missing".into(),
                all[0].id.clone(),
            ])
            .await
            .unwrap();
        assert_eq!(got[0].as_ref().unwrap().id, all[1].id, "{}", b.name);
        assert!(got[1].is_none(), "{}", b.name);
        assert_eq!(
            got[2].as_ref().unwrap().status,
            ExecutionStatus::Failed,
            "{}",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_work_is_per_account_oldest_first_and_a_delay_moves_it() {
    for b in backends().await {
        let s = &b.store;
        let lease = s.lease("wf_a").expect("a lone store holds every shard");
        let a1 = execution("acct_a", "wf_a", 1_000, 1);
        let mut a2 = execution("acct_a", "wf_a", 2_000, 2);
        let b1 = execution("acct_b", "wf_b", 1_500, 3);
        for e in [&a1, &a2, &b1] {
            s.accept_execution(e, None).await.unwrap();
        }
        assert_eq!(s.due_backlog().await.unwrap(), 3, "{}", b.name);
        // a2 waits on a delay until 50 000.
        let previous = a2.persisted();
        a2.status = ExecutionStatus::Running;
        a2.resume_at = Some(50_000);
        s.save_progress(&a2, previous, &lease).await.unwrap();

        let req = |account: &str, from_ms, max_entries| DueRequest {
            account_id: account.into(),
            from_ms,
            max_entries,
        };
        let due = s
            .due_work(
                vec![
                    req("acct_a", 0, 10),
                    req("acct_b", 0, 10),
                    req("acct_c", 0, 10),
                ],
                10_000,
            )
            .await
            .unwrap();
        assert_eq!(due[0].due_now, vec![a1.id.clone()], "{}", b.name);
        assert_eq!(due[0].earliest_due_ms, Some(1_000), "{}", b.name);
        assert_eq!(due[1].due_now, vec![b1.id.clone()], "{}", b.name);
        assert_eq!(
            (due[2].earliest_due_ms, due[2].due_now.len()),
            (None, 0),
            "{}",
            b.name
        );
        // From past a1's time, the account's next due time is the delay's end.
        let due = s
            .due_work(vec![req("acct_a", 1_001, 10)], 10_000)
            .await
            .unwrap();
        assert_eq!(
            (due[0].earliest_due_ms, due[0].due_now.len()),
            (Some(50_000), 0),
            "{}",
            b.name
        );
        let due = s
            .due_work(vec![req("acct_a", 0, 10)], 60_000)
            .await
            .unwrap();
        assert_eq!(
            due[0].due_now,
            vec![a1.id.clone(), a2.id.clone()],
            "{}",
            b.name
        );

        let mut a1 = a1;
        finish(s, &lease, &mut a1, ExecutionStatus::Success).await;
        assert_eq!(
            s.due_backlog().await.unwrap(),
            2,
            "{}: finished work is not due",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_under_an_old_epoch_is_refused() {
    for b in backends().await {
        let s = &b.store;
        let mut e = execution("acct_1", "wf_1", 1_000, 1);
        s.accept_execution(&e, None).await.unwrap();
        let current = s.lease("wf_1").expect("a lone store holds every shard");
        let stale = Lease {
            owner: "someone-else".into(),
            shard: current.shard,
            epoch: current.epoch + 1,
        };
        let previous = e.persisted();
        e.status = ExecutionStatus::Success;
        let refused = s.save_progress(&e, previous, &stale).await;
        assert!(
            matches!(refused, Err(StoreError::Fenced(_))),
            "{}: {refused:?}",
            b.name
        );
        let stored = s.execution(e.id.clone()).await.unwrap().unwrap();
        assert_eq!(
            stored.status,
            ExecutionStatus::Queued,
            "{}: nothing written",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_old_finished_work_and_expired_keys_only() {
    for b in backends().await {
        let s = &b.store;
        let lease = s.lease("wf_1").expect("a lone store holds every shard");
        let mut old_done = execution("acct_1", "wf_1", 1_000, 1);
        let old_waiting = execution("acct_1", "wf_1", 1_100, 2);
        let mut new_done = execution("acct_1", "wf_1", 90_000, 3);
        for e in [&old_done, &old_waiting, &new_done] {
            s.accept_execution(e, None).await.unwrap();
        }
        finish(s, &lease, &mut old_done, ExecutionStatus::Success).await;
        finish(s, &lease, &mut new_done, ExecutionStatus::Failed).await;
        let reply = |at_ms| StoredReply {
            fingerprint: "f".into(),
            status: 201,
            sealed_body: vec![1, 2, 3],
            at_ms,
        };
        s.put_stored_reply("old", &reply(10)).await.unwrap();
        s.put_stored_reply("new", &reply(90_000)).await.unwrap();
        assert_eq!(
            s.stored_reply("new".into()).await.unwrap(),
            Some(reply(90_000)),
            "{}",
            b.name
        );

        let deleted = s.purge(50_000, 50_000, 50_000).await.unwrap();
        assert_eq!(deleted, 1, "{}", b.name);
        assert!(
            s.execution(old_done.id.clone()).await.unwrap().is_none(),
            "{}",
            b.name
        );
        assert!(
            s.execution(old_waiting.id.clone()).await.unwrap().is_some(),
            "{}: unfinished stays",
            b.name
        );
        assert!(
            s.execution(new_done.id.clone()).await.unwrap().is_some(),
            "{}",
            b.name
        );
        let (_, total) = s
            .list_executions(
                "wf_1".into(),
                ExecutionQuery {
                    status: None,
                    from_ms: None,
                    to_ms: None,
                    offset: 0,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(total, 2, "{}: totals follow", b.name);
        assert!(
            s.stored_reply("old".into()).await.unwrap().is_none(),
            "{}",
            b.name
        );
        assert!(
            s.stored_reply("new".into()).await.unwrap().is_some(),
            "{}",
            b.name
        );
        s.probe_write(std::time::Duration::from_secs(5))
            .await
            .unwrap();
        let stats = s.stats().await.unwrap();
        assert_eq!(stats.due_backlog, 1, "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_kept_per_workflow_and_go_with_it() {
    for b in backends().await {
        let s = &b.store;
        let mut wf = workflow("wf_1", "acct_1");
        wf.actions = vec![Action {
            kind: "transform".into(),
            config: json!({}),
            retry: None,
        }];
        s.put_workflow(&wf, Some(&wf.current_version(1)))
            .await
            .unwrap();
        for v in 2..=5 {
            wf.version = v;
            wf.actions[0].config = json!({"set": {"v": v}});
            s.put_workflow(&wf, Some(&wf.current_version(v as i64)))
                .await
                .unwrap();
        }
        // A rename writes no version.
        wf.name = "renamed".into();
        s.put_workflow(&wf, None).await.unwrap();
        // Ids sorting just after and just before it: neither's versions may mix in.
        for other in [workflow("wf_10", "acct_1"), workflow("wf_0", "acct_1")] {
            s.put_workflow(&other, Some(&other.current_version(1)))
                .await
                .unwrap();
        }

        let page = s.workflow_versions("wf_1".into(), 4, 2).await.unwrap();
        let numbers: Vec<u64> = page.iter().map(|v| v.version).collect();
        assert_eq!(numbers, vec![4, 3], "{}: newest first from 4", b.name);
        assert_eq!(
            page[0].actions[0].config,
            json!({"set": {"v": 4}}),
            "{}",
            b.name
        );
        let all = s.workflow_versions("wf_1".into(), 5, 100).await.unwrap();
        assert_eq!(
            all.len(),
            5,
            "{}: another workflow's versions are not mixed in",
            b.name
        );
        let v2 = s.workflow_version("wf_1".into(), 2).await.unwrap().unwrap();
        assert_eq!(v2.created_at, 2, "{}", b.name);
        assert!(
            s.workflow_version("wf_1".into(), 9)
                .await
                .unwrap()
                .is_none()
        );

        s.delete_workflow("wf_1", &[]).await.unwrap();
        assert!(
            s.workflow_version("wf_1".into(), 2)
                .await
                .unwrap()
                .is_none(),
            "{}: versions go with their workflow",
            b.name
        );
        assert_eq!(
            s.workflow_versions("wf_10".into(), 1, 10)
                .await
                .unwrap()
                .len(),
            1,
            "{}",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_walks_finished_executions_oldest_first_from_a_cursor() {
    for b in backends().await {
        let s = &b.store;
        let lease = s.lease("wf_1").expect("a lone store holds every shard");
        let mut all = Vec::new();
        for i in 0..9 {
            let mut e = execution("acct_1", "wf_1", 10_000 + i * 1000, i);
            s.accept_execution(&e, None).await.unwrap();
            match i % 3 {
                0 => finish(s, &lease, &mut e, ExecutionStatus::Failed).await,
                1 => finish(s, &lease, &mut e, ExecutionStatus::Success).await,
                _ => {} // still queued: never scanned
            }
            all.push(e);
        }
        let scan = |status, after_id: Option<String>, limit| ExecutionScan {
            status,
            from_ms: None,
            to_ms: None,
            after_id,
            limit,
        };
        let ids = s
            .scan_executions("wf_1".into(), scan(None, None, 100))
            .await
            .unwrap();
        let finished: Vec<String> = all
            .iter()
            .filter(|e| e.status.is_terminal())
            .map(|e| e.id.clone())
            .collect();
        assert_eq!(ids, finished, "{}: finished ones, oldest first", b.name);
        let first = s
            .scan_executions("wf_1".into(), scan(None, None, 2))
            .await
            .unwrap();
        let rest = s
            .scan_executions("wf_1".into(), scan(None, first.last().cloned(), 100))
            .await
            .unwrap();
        assert_eq!(
            [first, rest].concat(),
            finished,
            "{}: the cursor resumes",
            b.name
        );
        let failed = s
            .scan_executions(
                "wf_1".into(),
                scan(Some(ExecutionStatus::Failed), Some(all[0].id.clone()), 100),
            )
            .await
            .unwrap();
        assert_eq!(
            failed,
            vec![all[3].id.clone(), all[6].id.clone()],
            "{}",
            b.name
        );
        let window = s
            .scan_executions(
                "wf_1".into(),
                ExecutionScan {
                    from_ms: Some(13_000),
                    to_ms: Some(16_000),
                    ..scan(None, None, 100)
                },
            )
            .await
            .unwrap();
        assert_eq!(
            window,
            vec![all[3].id.clone(), all[4].id.clone(), all[6].id.clone()]
        );
    }
}

fn job(id: &str, created_at: i64) -> BackgroundJob {
    BackgroundJob {
        id: id.into(),
        account_id: "acct_1".into(),
        workflow_id: "wf_1".into(),
        kind: JobKind::ShadowReplay,
        status: JobStatus::Running,
        filter: ReplayFilter {
            status: None,
            from: None,
            to: None,
            limit: 10,
        },
        draft: None,
        matched: 3,
        replayed: 0,
        skipped: 0,
        changed: 0,
        unchanged: 0,
        cursor: None,
        created_at,
        updated_at: created_at,
        finished_at: None,
        error: None,
        cancel_requested: false,
    }
}

fn result(execution_id: &str, changed: bool) -> ShadowResult {
    let outline = RunOutline {
        status: ExecutionStatus::Success,
        steps: vec![],
        error: None,
    };
    ShadowResult {
        execution_id: execution_id.into(),
        changed,
        original: outline.clone(),
        shadow: outline,
        differences: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_keep_progress_results_and_cancel_requests() {
    for b in backends().await {
        let s = &b.store;
        let mut j = job("shr_1", 1_000);
        s.put_job(&j, &[]).await.unwrap();
        j.unchanged = 1;
        j.changed = 2;
        j.cursor = Some("exec_c".into());
        s.put_job(
            &j,
            &[
                result("exec_a", false),
                result("exec_b", true),
                result("exec_c", true),
            ],
        )
        .await
        .unwrap();
        let got = s.job("shr_1".into()).await.unwrap().unwrap();
        assert_eq!(
            (got.changed, got.cursor.as_deref()),
            (2, Some("exec_c")),
            "{}",
            b.name
        );
        assert!(!got.cancel_requested);

        let ids =
            |rs: Vec<ShadowResult>| rs.into_iter().map(|r| r.execution_id).collect::<Vec<_>>();
        let page = s.job_results("shr_1".into(), false, 0, 10).await.unwrap();
        assert_eq!(
            ids(page),
            vec!["exec_b", "exec_c", "exec_a"],
            "{}: changed first",
            b.name
        );
        let page = s.job_results("shr_1".into(), true, 1, 10).await.unwrap();
        assert_eq!(ids(page), vec!["exec_c"], "{}", b.name);

        // A cancel request survives the job's own later progress write.
        s.cancel_job("shr_1".into()).await.unwrap();
        j.unchanged = 2;
        s.put_job(&j, &[]).await.unwrap();
        let got = s.job("shr_1".into()).await.unwrap().unwrap();
        assert!(got.cancel_requested, "{}", b.name);
        assert_eq!(got.visible_status(), JobStatus::Cancelled, "{}", b.name);
        let running = s.unfinished_jobs().await.unwrap();
        assert_eq!(running.len(), 1, "{}", b.name);
        assert!(running[0].cancel_requested, "{}", b.name);

        // Finished and old: retention takes it with its results; running ones stay.
        j.status = JobStatus::Cancelled;
        s.put_job(&j, &[]).await.unwrap();
        s.put_job(&job("rpl_2", 1_500), &[]).await.unwrap();
        assert!(
            s.unfinished_jobs()
                .await
                .unwrap()
                .iter()
                .all(|j| j.id == "rpl_2")
        );
        s.purge(5_000, 0, 0).await.unwrap();
        assert!(s.job("shr_1".into()).await.unwrap().is_none(), "{}", b.name);
        assert!(
            s.job_results("shr_1".into(), false, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(s.job("rpl_2".into()).await.unwrap().is_some(), "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_window_never_grants_more_than_its_limit() {
    for b in backends().await {
        let s = b.store.clone();
        let ask = |kind: &'static str, window_ms: i64, want: u64| QuotaRequest {
            account_id: "acct_1".into(),
            kind,
            window_ms,
            aligned: false,
            limit: 100,
            want,
        };
        let Some(first) = s.take_quota(ask("minute", 60_000, 30)).await.unwrap() else {
            // The embedded store is one daemon's: its own counters are exact.
            assert_eq!(b.name, "rocksdb");
            continue;
        };
        assert_eq!((first.granted, first.used), (30, 30), "{}", b.name);
        // Many daemons asking at once: the grants add up to the limit, never more.
        let mut asks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let s = s.clone();
            let r = ask("minute", 60_000, 7);
            asks.spawn(async move { s.take_quota(r).await.unwrap().unwrap().granted });
        }
        let mut granted = first.granted;
        while let Some(g) = asks.join_next().await {
            granted += g.unwrap();
        }
        assert_eq!(granted, 100, "{}", b.name);
        let spent = s
            .take_quota(ask("minute", 60_000, 5))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((spent.granted, spent.used), (0, 100), "{}", b.name);
        assert_eq!(spent.window_start_ms, first.window_start_ms, "{}", b.name);
        // Another kind and another account are windows of their own.
        let day = s
            .take_quota(ask("day", 86_400_000, 5))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(day.granted, 5, "{}", b.name);
        // A short window rolls over: a fresh one with its own limit.
        let short = s
            .take_quota(ask("ingest", 200, 100))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(short.granted, 100);
        let none_left = s.take_quota(ask("ingest", 200, 1)).await.unwrap().unwrap();
        assert_eq!(none_left.granted, 0);
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let next = s.take_quota(ask("ingest", 200, 1)).await.unwrap().unwrap();
        assert_eq!((next.granted, next.used), (1, 1), "{}", b.name);
        assert!(
            next.window_start_ms >= short.window_start_ms + 200,
            "{}",
            b.name
        );
        assert!(next.now_ms >= next.window_start_ms, "{}", b.name);
    }
}

/// A workflow id in each shard.
fn one_workflow_per_shard() -> Vec<String> {
    let mut by_shard = vec![None; botcadence::store::SHARDS as usize];
    for n in 0.. {
        let id = format!("wf_{n}");
        let shard = botcadence::store::shard_of(&id) as usize;
        by_shard[shard].get_or_insert(id);
        if by_shard.iter().all(Option::is_some) {
            break;
        }
    }
    by_shard.into_iter().map(Option::unwrap).collect()
}

async fn eventually(what: &str, seconds: u64, check: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {seconds} s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Two daemons on one database share the shards: each holds its half, exactly one may run a
/// given workflow, the due reads return only the reader's shards, a write under a shard that
/// moved is fenced, and a daemon that leaves hands its shards to the other at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemons_share_the_shards_and_fence_what_moved() {
    let Some(config) = fresh_database().await else {
        return;
    };
    // Long enough that a slow round on a busy machine never lets a shard look unheld.
    let lease = std::time::Duration::from_secs(4);
    let a = open_postgres(config.clone(), lease).await;
    let workflows = one_workflow_per_shard();
    assert!(
        workflows.iter().all(|wf| a.lease(wf).is_some()),
        "a lone daemon holds every shard"
    );
    let leases_of_a: Vec<Lease> = workflows.iter().map(|wf| a.lease(wf).unwrap()).collect();
    let mut executions = Vec::new();
    for (i, wf) in workflows.iter().enumerate() {
        let e = execution("acct_1", wf, 1_000 + i as i64, i as i64);
        a.accept_execution(&e, None).await.unwrap();
        executions.push(e);
    }

    let b = open_postgres(config.clone(), lease).await;
    let held = |s: &botcadence::store::postgres::PgStore| {
        workflows.iter().filter(|wf| s.lease(wf).is_some()).count()
    };
    eventually("the shards spread evenly", 20, || {
        held(&a) == 8 && held(&b) == 8
    })
    .await;
    for wf in &workflows {
        assert!(
            a.lease(wf).is_some() != b.lease(wf).is_some(),
            "{wf}: exactly one daemon runs it"
        );
    }

    // Each daemon's due reads see its own shards' work only.
    let request = || DueRequest {
        account_id: "acct_1".into(),
        from_ms: 0,
        max_entries: 100,
    };
    let due_a = a.due_work(vec![request()], 1_000_000).await.unwrap()[0]
        .due_now
        .clone();
    let due_b = b.due_work(vec![request()], 1_000_000).await.unwrap()[0]
        .due_now
        .clone();
    assert_eq!((due_a.len(), due_b.len()), (8, 8));
    for e in &executions {
        let on_a = due_a.contains(&e.id);
        assert_eq!(on_a, a.lease(&e.workflow_id).is_some(), "{}", e.workflow_id);
        assert_eq!(!on_a, due_b.contains(&e.id), "{}", e.workflow_id);
    }

    // A's lease from before B joined is fenced in the shards that moved; B's lease holds.
    for (i, e) in executions.iter().enumerate() {
        let mut done = e.clone();
        done.status = ExecutionStatus::Success;
        let by_a = a.save_progress(&done, e.persisted(), &leases_of_a[i]).await;
        match b.lease(&e.workflow_id) {
            Some(lease_of_b) => {
                assert!(matches!(by_a, Err(StoreError::Fenced(_))), "{by_a:?}");
                b.save_progress(&done, e.persisted(), &lease_of_b)
                    .await
                    .unwrap();
            }
            None => by_a.unwrap(),
        }
    }
    assert_eq!(a.due_backlog().await.unwrap(), 0);

    // A clean stop hands every shard over at once (well before a lease could expire twice).
    b.close().await.unwrap();
    eventually("the survivor taking every shard", 5, || held(&a) == 16).await;
    a.close().await.unwrap();
}

/// Two daemons changing one workflow from the same cached state (each refreshes its catalog
/// every second): the first change wins, the second is refused with `Conflict` and writes
/// nothing, so a version once recorded never changes and a stale rename cannot undo a newer
/// definition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_change_from_a_stale_state_is_refused() {
    let Some(config) = fresh_database().await else {
        return;
    };
    let s = open_postgres(config, std::time::Duration::from_secs(10)).await;
    let mut wf = workflow("wf_1", "acct_1");
    s.put_workflow(&wf, Some(&wf.current_version(1)))
        .await
        .unwrap();
    // Both daemons saw version 1; each makes version 2 of its own.
    let mut first = wf.clone();
    first.version = 2;
    first.actions = vec![Action {
        kind: "transform".into(),
        config: json!({"set": {"by": "first"}}),
        retry: None,
    }];
    let mut second = first.clone();
    second.actions[0].config = json!({"set": {"by": "second"}});
    s.put_workflow(&first, Some(&first.current_version(2)))
        .await
        .unwrap();
    let refused = s
        .put_workflow(&second, Some(&second.current_version(2)))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let v2 = s.workflow_version("wf_1".into(), 2).await.unwrap().unwrap();
    assert_eq!(v2.actions, first.actions, "version 2 is the first change's");

    // A rename based on version 1 would put version 1's definition back: refused.
    wf.name = "renamed".into();
    let refused = s.put_workflow(&wf, None).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let stored = s.load_catalog().await.unwrap().workflows;
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].version, &stored[0].actions), (2, &first.actions));
    // Based on the current version, it goes through.
    let mut renamed = first.clone();
    renamed.name = "renamed".into();
    renamed.updated_at = 3;
    s.put_workflow(&renamed, None).await.unwrap();

    // Updates as the API makes them, from what each daemon read: a pause made on one and a
    // rename made on the other from the same state — the rename would undo the pause.
    let read = renamed.clone();
    let mut paused = read.clone();
    paused.status = WorkflowStatus::Paused;
    paused.updated_at = 4;
    s.update_workflow(&read, &paused, None).await.unwrap();
    let mut stale = read.clone();
    stale.name = "stale".into();
    stale.updated_at = 4;
    let refused = s.update_workflow(&read, &stale, None).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    // A new definition from the stale state writes neither the workflow nor its version.
    let mut stale_definition = stale.clone();
    stale_definition.version = 3;
    let refused = s
        .update_workflow(
            &read,
            &stale_definition,
            Some(&stale_definition.current_version(4)),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert!(
        s.workflow_version("wf_1".into(), 3)
            .await
            .unwrap()
            .is_none()
    );
    let stored = s.load_catalog().await.unwrap().workflows;
    assert_eq!(
        (stored[0].status, stored[0].name.as_str()),
        (WorkflowStatus::Paused, "renamed")
    );
    // From what is stored now, a new definition goes through, with its version.
    let mut next = paused.clone();
    next.version = 3;
    next.updated_at = 5;
    s.update_workflow(&paused, &next, Some(&next.current_version(5)))
        .await
        .unwrap();
    assert!(
        s.workflow_version("wf_1".into(), 3)
            .await
            .unwrap()
            .is_some()
    );
}

/// An Idempotency-Key claimed by one daemon is refused by another while its request runs,
/// replays the answer once stored, can be claimed again once released, and a claim left by
/// a daemon that died expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_is_claimed_by_one_daemon_at_a_time() {
    use botcadence::store::{REPLY_CLAIM_MS, ReplyClaim};
    let Some(config) = fresh_database().await else {
        return;
    };
    let lease = std::time::Duration::from_secs(10);
    let a = open_postgres(config.clone(), lease).await;
    let b = open_postgres(config, lease).await;
    let now = 1_000_000_000;
    assert_eq!(
        a.claim_reply("k".into(), now).await.unwrap(),
        ReplyClaim::Claimed
    );
    assert_eq!(
        b.claim_reply("k".into(), now + 5).await.unwrap(),
        ReplyClaim::Running
    );
    assert_eq!(
        b.stored_reply("k".into()).await.unwrap(),
        None,
        "a claim is no answer"
    );

    let reply = StoredReply {
        fingerprint: "f".into(),
        status: 201,
        sealed_body: vec![1, 2, 3],
        at_ms: now + 10,
    };
    a.put_stored_reply("k", &reply).await.unwrap();
    assert_eq!(
        b.claim_reply("k".into(), now + 20).await.unwrap(),
        ReplyClaim::Stored(reply.clone())
    );

    // A failed request gives its claim up: the key is free again at once.
    assert_eq!(
        a.claim_reply("j".into(), now).await.unwrap(),
        ReplyClaim::Claimed
    );
    a.release_reply("j".into()).await.unwrap();
    assert_eq!(
        b.claim_reply("j".into(), now + 1).await.unwrap(),
        ReplyClaim::Claimed
    );
    // A claim whose daemon died expires; an answer is never released.
    assert_eq!(
        a.claim_reply("j".into(), now + 1 + REPLY_CLAIM_MS + 1)
            .await
            .unwrap(),
        ReplyClaim::Claimed
    );
    b.release_reply("k".into()).await.unwrap();
    assert_eq!(a.stored_reply("k".into()).await.unwrap(), Some(reply));
}
