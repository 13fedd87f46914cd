//! Criterion benchmarks of the pieces on the webhook hot path. `cargo bench` measures;
//! `cargo test --benches` runs each once so they keep compiling and working.
//!
//! Each group carries its own baseline where one makes sense (e.g. batched vs one-by-one
//! durable writes), so results read as ratios measured in the same run.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use botcadence::config::Durability;
use botcadence::model::{Action, Execution, ExecutionStatus, ExecutionTrigger, Limits, Persisted};
use botcadence::ratelimit::RateLimiter;
use botcadence::signature::{sign_hex, verify_hex};
use botcadence::steps::ActionDeps;
use botcadence::steps::email::Mailer;
use botcadence::steps::http::HttpCaller;
use botcadence::steps::runner::{self, Checkpoint, InlineRun};
use botcadence::steps::spec::{StepSpec, parse_step};
use botcadence::steps::template::Renderer;
use botcadence::store::{RocksStore, codec};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;

fn signatures(c: &mut Criterion) {
    let mut g = c.benchmark_group("signature");
    for size in [1024usize, 64 * 1024] {
        let body = vec![b'x'; size];
        let sig = sign_hex("whsec_bench", &body);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("sign", size), &body, |b, body| {
            b.iter(|| sign_hex("whsec_bench", black_box(body)))
        });
        g.bench_with_input(BenchmarkId::new("verify", size), &body, |b, body| {
            b.iter(|| verify_hex("whsec_bench", black_box(body), black_box(&sig)))
        });
    }
    g.finish();
}

fn templates(c: &mut Criterion) {
    let r = Renderer::new(100_000, 1 << 20, 16 << 20);
    let ctx = json!({"user": {"name": "Ada", "email": "ada@example.com"}, "n": 42});
    let mut g = c.benchmark_group("template");
    g.bench_function("plain string (baseline)", |b| {
        b.iter(|| r.render(black_box("Welcome!"), &ctx))
    });
    g.bench_function("one field", |b| {
        b.iter(|| r.render(black_box("Hi {{user.name}}"), &ctx))
    });
    g.bench_function("condition", |b| {
        b.iter(|| r.condition(black_box("n > 10"), &ctx))
    });
    // Only the variables a template names are converted: a large payload costs nothing extra.
    let mut big = ctx.clone();
    big["blob"] = json!(
        (0..2000)
            .map(|i| format!("item-{i:026}"))
            .collect::<Vec<_>>()
    );
    assert!(big.to_string().len() > 60 * 1024);
    g.bench_function("one field of a 64 KiB payload", |b| {
        b.iter(|| r.render(black_box("Hi {{user.name}}"), &big))
    });
    g.finish();
}

fn rate_limits(c: &mut Criterion) {
    let limits = Limits {
        requests_per_minute: u64::MAX / 2,
        requests_per_day: u64::MAX / 2,
        webhooks_per_second: 1 << 40,
    };
    let rl = Arc::new(RateLimiter::new());
    let mut g = c.benchmark_group("ratelimit");
    g.bench_function("check, uncontended", |b| {
        b.iter(|| rl.check_api(black_box("acct_1"), &limits, 1))
    });
    g.bench_function("check, 2 threads on one account", |b| {
        b.iter_custom(|iters| {
            let other = rl.clone();
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let stop2 = stop.clone();
            let t = std::thread::spawn(move || {
                while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                    other.check_api("acct_1", &limits, 1);
                }
            });
            let start = std::time::Instant::now();
            for _ in 0..iters {
                rl.check_api(black_box("acct_1"), &limits, 1);
            }
            let took = start.elapsed();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            t.join().unwrap();
            took
        })
    });
    g.finish();
}

fn execution(id_us: i64) -> Execution {
    Execution {
        id: botcadence::ids::execution_id(id_us),
        account_id: "acct_bench".into(),
        workflow_id: "wf_bench".into(),
        workflow_version: Some(1),
        status: ExecutionStatus::Queued,
        trigger: ExecutionTrigger {
            hook_id: Some("hook_bench".into()),
            event: "user.created".into(),
            received_at: id_us / 1000,
        },
        input: json!({"user": {"email": "ada@example.com", "name": "Ada"}, "n": 1234567}),
        steps: vec![],
        started_at: None,
        completed_at: None,
        duration_ms: None,
        error: None,
        resume_at: None,
        replay_of: None,
    }
}

fn records(c: &mut Criterion) {
    let e = execution(1);
    let bytes = codec::encode(&e);
    let mut g = c.benchmark_group("execution record");
    g.bench_function("encode", |b| b.iter(|| codec::encode(black_box(&e))));
    g.bench_function("decode", |b| {
        b.iter(|| codec::decode::<Execution>(black_box(&bytes)).unwrap())
    });
    g.finish();
}

fn durable_intake(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("durable intake");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for (mode, durability) in [("fsync", Durability::Fsync), ("wal", Durability::Wal)] {
        let dir = tempfile::tempdir().unwrap();
        let (store, guard) = RocksStore::open(dir.path(), durability, 1024, 65536).unwrap();
        let n = 64u64;
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::new("one at a time", mode), |b| {
            b.iter(|| {
                rt.block_on(async {
                    for _ in 0..n {
                        let e = execution(botcadence::timefmt::now_us());
                        store.accept_execution(&e, None).await.unwrap();
                    }
                })
            })
        });
        g.bench_function(
            BenchmarkId::new("64 concurrent (group commit)", mode),
            |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let tasks: Vec<_> = (0..n)
                            .map(|_| {
                                let store = store.clone();
                                tokio::spawn(async move {
                                    let e = execution(botcadence::timefmt::now_us());
                                    store.accept_execution(&e, None).await.unwrap();
                                })
                            })
                            .collect();
                        for t in tasks {
                            t.await.unwrap();
                        }
                    })
                })
            },
        );
        close(store, guard);
    }
    g.finish();
}

/// Closes a store before the process exits: RocksDB must not be torn down by C++ static
/// destructors while its writer thread still holds it.
fn close(store: RocksStore, guard: botcadence::store::StoreGuard) {
    store.close().unwrap();
    drop(store);
    guard.join();
}

struct StoreCheckpoint(RocksStore);

impl Checkpoint for StoreCheckpoint {
    async fn save(&self, exec: &Execution, previous: Persisted) -> Result<(), String> {
        self.0
            .save_execution(exec, previous)
            .await
            .map_err(|e| e.to_string())
    }
}

fn event_to_finished_execution(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, guard) = RocksStore::open(dir.path(), Durability::Wal, 1024, 65536).unwrap();
    let renderer = Renderer::new(100_000, 1 << 20, 16 << 20);
    let action: Action = serde_json::from_value(
        json!({"type": "transform", "config": {"set": {"greeting": "hello {{user.name}}"}}}),
    )
    .unwrap();
    let steps: Vec<StepSpec> = vec![parse_step(0, &action, &renderer).unwrap()];
    let deps = ActionDeps {
        renderer,
        mailer: Mailer::Recording {
            default_from: "bot@example.com".into(),
        },
        http: HttpCaller::new(vec![], 5, 1024),
        default_http_timeout: Duration::from_secs(1),
        max_http_timeout: Duration::from_secs(1),
    };
    let checkpoint = StoreCheckpoint(store.clone());
    let mut g = c.benchmark_group("event to finished execution");
    g.bench_function("transform only, no store (baseline)", |b| {
        struct Nothing;
        impl Checkpoint for Nothing {
            async fn save(&self, _: &Execution, _: Persisted) -> Result<(), String> {
                Ok(())
            }
        }
        b.iter(|| {
            rt.block_on(async {
                let mut e = execution(botcadence::timefmt::now_us());
                runner::run(&mut e, &steps, &deps, "s", &Nothing).await
            })
        })
    });
    g.bench_function("queued: accept + run + record, two writes (wal)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut e = execution(botcadence::timefmt::now_us());
                store.accept_execution(&e, None).await.unwrap();
                runner::run(&mut e, &steps, &deps, "s", &checkpoint).await
            })
        })
    });
    // What ingest does for a workflow of pure steps: run first, then one write.
    g.bench_function("inline: run + one write (wal)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut e = execution(botcadence::timefmt::now_us());
                let ran = runner::run_inline(&mut e, &steps, &deps);
                assert_eq!(ran, Some(InlineRun::Finished(ExecutionStatus::Success)));
                store.accept_execution(&e, None).await.unwrap()
            })
        })
    });
    g.finish();
    drop(checkpoint);
    close(store, guard);
}

criterion_group!(
    benches,
    signatures,
    templates,
    rate_limits,
    records,
    durable_intake,
    event_to_finished_execution
);
criterion_main!(benches);
