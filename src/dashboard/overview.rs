//! The overview: what an account's events did over the last hour and day, its plan limits
//! with what remains, and its backlog of due work.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::charts::{Bar, stacked_bars};
use super::guard::{DashError, SignedIn};
use super::render;
use crate::api::AppState;
use crate::model::ExecutionStatus;
use crate::ratelimit::effective_limits;
use crate::store::{DueRequest, ExecutionQuery};
use crate::timefmt::{now_ms, rfc3339};

const HOUR_MS: i64 = 3_600_000;
/// How long an account's chart is shown as counted before it is counted again.
const CHART_FOR_MS: i64 = 15_000;
/// Accounts whose charts are kept; past it, the stale ones are dropped.
const MAX_CACHED_CHARTS: usize = 10_000;

/// Each account's last 24 hours of bars, as last counted. Counting costs up to 72 index range
/// counts per workflow on the store's blocking pool, shared by every account: an account
/// reloading its overview, or with many tabs of it open, counts at most once every
/// [`CHART_FOR_MS`], and its views meanwhile wait for that one count instead of each starting
/// their own.
#[derive(Default)]
pub struct ChartCache {
    accounts: std::sync::Mutex<
        crate::fasthash::FastMap<String, Arc<tokio::sync::Mutex<Option<Counted>>>>,
    >,
}

/// Bars counted at `at` (unix ms), oldest hour first.
#[derive(Clone)]
struct Counted {
    at: i64,
    bars: Vec<Bar>,
}

impl ChartCache {
    /// The account's one slot (created on first use). When there are too many, the stale
    /// ones go, then if need be every one no view holds; a slot a view holds (it may be
    /// counting) always stays, so an account never has two.
    fn slot(&self, account_id: &str, now: i64) -> Arc<tokio::sync::Mutex<Option<Counted>>> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        if accounts.len() >= MAX_CACHED_CHARTS && !accounts.contains_key(account_id) {
            let held =
                |slot: &Arc<tokio::sync::Mutex<Option<Counted>>>| Arc::strong_count(slot) > 1;
            accounts.retain(|_, slot| {
                held(slot)
                    || slot
                        .try_lock()
                        .is_ok_and(|c| c.as_ref().is_some_and(|c| now - c.at < CHART_FOR_MS))
            });
            if accounts.len() >= MAX_CACHED_CHARTS {
                accounts.retain(|_, slot| held(slot));
            }
        }
        accounts.entry(account_id.to_string()).or_default().clone()
    }
}

/// The account's bars, counted again only when the last count is older than [`CHART_FOR_MS`].
async fn cached_hourly(
    state: &AppState,
    account_id: &str,
    workflow_ids: &[String],
    now: i64,
) -> Result<Counted, DashError> {
    let slot = state.dashboard.charts.slot(account_id, now);
    let mut counted = slot.lock().await;
    if let Some(c) = counted.as_ref().filter(|c| now - c.at < CHART_FOR_MS) {
        return Ok(c.clone());
    }
    let fresh = Counted {
        at: now,
        bars: hourly(state, workflow_ids, now).await?,
    };
    *counted = Some(fresh.clone());
    Ok(fresh)
}
/// Workflows counted in the charts; past this, the busiest are not told apart from the rest
/// (the page says so). Each costs 72 index range counts per view.
const MAX_CHARTED_WORKFLOWS: usize = 100;

/// Executions of `workflow_id` received in [from, to], with this status (or any).
async fn count(
    state: &AppState,
    workflow_id: &str,
    status: Option<ExecutionStatus>,
    from_ms: i64,
    to_ms: i64,
) -> Result<u64, DashError> {
    let query = ExecutionQuery {
        status,
        from_ms: Some(from_ms),
        to_ms: Some(to_ms),
        offset: 0,
        limit: 0,
    };
    let (_, total) = state
        .store
        .list_executions(workflow_id.to_string(), query)
        .await
        .map_err(crate::api::error::ApiError::from)?;
    Ok(total)
}

/// One bar per hour of the last 24, summed over the account's workflows.
async fn hourly(
    state: &AppState,
    workflow_ids: &[String],
    now: i64,
) -> Result<Vec<Bar>, DashError> {
    let start = now - 24 * HOUR_MS;
    let mut bars = vec![Bar::default(); 24];
    for wf in workflow_ids.iter().take(MAX_CHARTED_WORKFLOWS) {
        if count(state, wf, None, start, now).await? == 0 {
            continue; // Nothing in the whole day: skip its 72 hourly counts.
        }
        for (i, bar) in bars.iter_mut().enumerate() {
            let from = start + i as i64 * HOUR_MS;
            let to = (from + HOUR_MS - 1).min(now);
            bar.accepted += count(state, wf, None, from, to).await?;
            bar.succeeded += count(state, wf, Some(ExecutionStatus::Success), from, to).await?;
            bar.failed += count(state, wf, Some(ExecutionStatus::Failed), from, to).await?;
        }
    }
    Ok(bars)
}

fn age(ms: i64) -> String {
    let secs = ms / 1000;
    match secs {
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

pub async fn page(state: web::Data<AppState>, signed: SignedIn) -> Result<HttpResponse, DashError> {
    let account = signed.account()?.account.clone();
    let now = now_ms();
    let mut workflows = state.catalog.workflows_of(&account.id);
    workflows.sort_by_key(|w| std::cmp::Reverse(w.updated_at));
    let ids: Vec<String> = workflows.iter().map(|w| w.id.clone()).collect();
    let Counted { at, bars } = cached_hourly(&state, &account.id, &ids, now).await?;
    let labels: Vec<String> = (0..24)
        .map(|i| {
            let from = at - 24 * HOUR_MS + i * HOUR_MS;
            rfc3339(from)[..16].replace('T', " ")
        })
        .collect();
    let sum = |bars: &[Bar]| {
        bars.iter().fold(Bar::default(), |acc, b| Bar {
            accepted: acc.accepted + b.accepted,
            succeeded: acc.succeeded + b.succeeded,
            failed: acc.failed + b.failed,
        })
    };
    let day = sum(&bars);
    let hour = bars[23];
    let windows = [("Last hour", hour), ("Last 24 hours", day)].map(|(label, b)| {
        json!({"label": label, "accepted": b.accepted, "succeeded": b.succeeded, "failed": b.failed})
    });

    let limits = effective_limits(account.plan, account.limits, &state.settings.plans);
    let (minute_left, day_left) = state.limiter.remaining_api(&account.id, &limits, now);
    let due = state
        .store
        .due_work(
            vec![DueRequest {
                account_id: account.id.clone(),
                from_ms: 0,
                max_entries: 0,
            }],
            now,
        )
        .await
        .map_err(crate::api::error::ApiError::from)?;
    let oldest = match due.first().and_then(|d| d.earliest_due_ms) {
        Some(at) if at <= now => age(now - at),
        Some(at) => format!("next in {} s", (at - now + 999) / 1000),
        None => "nothing waiting".into(),
    };
    let context = json!({
        "windows": windows,
        "chart": stacked_bars(&bars, &labels),
        "plan": account.plan.as_str(),
        "limits": limits,
        "remaining": {"minute": minute_left, "day": day_left},
        "backlog": {
            "ready": state.engine.admission().pending_of(&account.id),
            "oldest": oldest,
        },
        "has_workflows": !workflows.is_empty(),
    });
    let mut context = context;
    // The chart is our own markup; everything else in the context is escaped.
    let chart = context
        .as_object_mut()
        .and_then(|m| m.remove("chart"))
        .and_then(|c| c.as_str().map(str::to_string))
        .unwrap_or_default();
    let context = minijinja::context! {
        chart => render::trusted_html(chart),
        ..minijinja::Value::from_serialize(&context)
    };
    Ok(render::page(
        Some(&signed),
        "/dashboard/overview",
        "Overview",
        "overview.html",
        &context,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_keeps_one_chart_slot_and_stale_slots_go_when_there_are_too_many() {
        let cache = ChartCache::default();
        let first = cache.slot("acct_a", 0);
        assert!(
            Arc::ptr_eq(&first, &cache.slot("acct_a", 0)),
            "one slot per account"
        );
        *first.try_lock().unwrap() = Some(Counted {
            at: 0,
            bars: Vec::new(),
        });
        for i in 1..MAX_CACHED_CHARTS {
            cache.slot(&format!("acct_{i}"), 0);
        }
        // Full: a new account's slot makes room by dropping the stale ones (all but acct_a,
        // counted at 0, still fresh at 1 s).
        let _ = cache.slot("acct_new", 1_000);
        let kept = cache.accounts.lock().unwrap().len();
        assert_eq!(kept, 2, "acct_a and acct_new");

        // Full of fresh slots: those no view holds go; a held one stays, even if stale.
        let held = cache.slot("acct_held", 1_000);
        for i in 0..MAX_CACHED_CHARTS {
            *cache.slot(&format!("fresh_{i}"), 1_000).try_lock().unwrap() = Some(Counted {
                at: 1_000,
                bars: Vec::new(),
            });
        }
        let _ = cache.slot("acct_last", 2_000);
        let accounts = cache.accounts.lock().unwrap();
        assert!(accounts.len() < MAX_CACHED_CHARTS, "{}", accounts.len());
        assert!(
            Arc::ptr_eq(&held, &accounts["acct_held"]),
            "the held slot stayed"
        );
    }
}
