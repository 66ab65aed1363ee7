//! The webhook sender: one dispatcher task per simulator state takes queued events,
//! groups them per app into batches of up to `batch_size`, and spawns one delivery task
//! per batch (at most `maxConcurrentRequests` of an app at a time, in queue order).
//!
//! A delivery POSTs the JSON array to the app's current `targetUrl` with the v1 (or v2,
//! per `signature_version`) and v3 signature headers, and retries on 429 (after `Retry-After`), 5xx, timeouts and
//! connection errors, with `attemptNumber` counting up; other statuses end the batch.

use std::sync::{Arc, Once};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use tokio::sync::{Notify, Semaphore};

use super::{DeliveryOutcome, DeliveryRecord, EventPayload, SignatureVersion, signature};
use crate::state::{Sim, State, now_ms};

/// User agent of deliveries.
pub const USER_AGENT: &str = "HubSpot Connect 2.0 (http://dev.hubspot.com/)";
/// Header telling the receiver how long the sender waits.
pub const TIMEOUT_HEADER: &str = "X-HubSpot-Timeout-Millis";

/// A batch for one app.
#[derive(Debug)]
struct Job {
    app_id: i64,
    events: Vec<EventPayload>,
    semaphore: Arc<Semaphore>,
}

/// Where and how to send one attempt, read fresh from the state.
struct Target {
    url: String,
    client_secret: String,
    timeout_ms: u64,
    signature_version: SignatureVersion,
}

/// Builds the delivery client the way Spokes builds its own: rustls with the ring
/// provider, no redirects.
fn build_client() -> Result<reqwest::Client, reqwest::Error> {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Fails only when another provider was installed first, which is fine too.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .build()
}

/// Starts the dispatcher of the current state unless it runs already.
pub(crate) fn ensure_dispatcher(sim: &Sim) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let start = sim.with(|s| {
        let wh = &mut s.webhooks;
        if wh.dispatcher_running {
            None
        } else {
            wh.dispatcher_running = true;
            Some((wh.generation, wh.wake.clone()))
        }
    });
    if let Some((generation, wake)) = start {
        runtime.spawn(dispatch(sim.clone(), generation, wake));
    }
}

/// Takes the whole queue as batches (per app, in queue order). Events of apps without
/// settings are dropped.
fn take_jobs(s: &mut State) -> Vec<Job> {
    let wh = &mut s.webhooks;
    let size = wh.config.batch_size.max(1);
    let mut per_app: Vec<(i64, Vec<EventPayload>)> = Vec::new();
    for queued in wh.queue.drain(..) {
        match per_app.iter_mut().find(|(app, _)| *app == queued.app_id) {
            Some((_, events)) => events.push(queued.payload),
            None => per_app.push((queued.app_id, vec![queued.payload])),
        }
    }
    let mut jobs = Vec::new();
    for (app_id, events) in per_app {
        let Some(settings) = wh.settings.get(&app_id) else {
            continue;
        };
        let limit = settings.max_concurrent_requests.max(1);
        let semaphore = match wh.semaphores.get(&app_id) {
            Some((l, sem)) if *l == limit => sem.clone(),
            _ => {
                let sem = Arc::new(Semaphore::new(limit as usize));
                wh.semaphores.insert(app_id, (limit, sem.clone()));
                sem
            }
        };
        for chunk in events.chunks(size) {
            jobs.push(Job {
                app_id,
                events: chunk.to_vec(),
                semaphore: semaphore.clone(),
            });
        }
    }
    wh.in_flight += jobs.len();
    wh.notify_if_idle();
    jobs
}

async fn dispatch(sim: Sim, generation: u64, wake: Arc<Notify>) {
    let client = match build_client() {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(error = %err, "hubspot-sim: cannot build the webhook client");
            return;
        }
    };
    loop {
        let jobs = sim.with(|s| (s.webhooks.generation == generation).then(|| take_jobs(s)));
        let Some(jobs) = jobs else {
            // A reset replaced the state this dispatcher served.
            return;
        };
        if jobs.is_empty() {
            // Wake on new events; look now and then whether a reset retired us.
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        for job in jobs {
            tokio::spawn(deliver(sim.clone(), generation, client.clone(), job));
        }
    }
}

/// What the last attempt calls for.
enum Next {
    Done,
    Retry(Duration),
}

async fn deliver(sim: Sim, generation: u64, client: reqwest::Client, job: Job) {
    let _permit = job.semaphore.clone().acquire_owned().await;
    let mut events = job.events;
    let mut attempt: u32 = 0;
    loop {
        let current = sim.with(|s| {
            if s.webhooks.generation != generation {
                return None;
            }
            let config = s.webhooks.config.clone();
            let target = s.webhooks.settings.get(&job.app_id).and_then(|settings| {
                s.apps
                    .iter()
                    .find(|a| a.app_id == job.app_id)
                    .map(|app| Target {
                        url: settings.target_url.clone(),
                        client_secret: app.client_secret.clone(),
                        timeout_ms: config.timeout_ms,
                        signature_version: config.signature_version,
                    })
            });
            Some((config, target))
        });
        let Some((config, target)) = current else {
            return;
        };
        let mut record = DeliveryRecord {
            at_ms: now_ms(),
            app_id: job.app_id,
            url: String::new(),
            attempt,
            event_count: events.len(),
            status: None,
            error: None,
            outcome: DeliveryOutcome::Dropped,
            retry_in_ms: None,
        };
        let Some(target) = target else {
            // Settings (or the app) are gone: the subscriptions are paused.
            sim.with(|s| s.webhooks.record(record));
            break;
        };
        record.url = target.url.clone();
        for event in &mut events {
            event.attempt_number = attempt;
        }
        let body = serde_json::to_vec(&events).unwrap_or_default();
        let next = match send(&client, &target, body).await {
            Ok((status, retry_after)) => {
                record.status = Some(status);
                if (200..300).contains(&status) {
                    record.outcome = DeliveryOutcome::Delivered;
                    Next::Done
                } else if status == 429 {
                    let wait = retry_after.unwrap_or_else(|| config.backoff(attempt));
                    Next::Retry(wait.min(Duration::from_millis(config.backoff_max_ms)))
                } else if status >= 500 {
                    Next::Retry(config.backoff(attempt))
                } else {
                    record.outcome = DeliveryOutcome::Rejected;
                    Next::Done
                }
            }
            Err(err) => {
                record.error = Some(
                    if err.is_timeout() {
                        "timeout"
                    } else if err.is_connect() {
                        "connection"
                    } else {
                        "request"
                    }
                    .to_owned(),
                );
                Next::Retry(config.backoff(attempt))
            }
        };
        let wait = match next {
            Next::Done => None,
            Next::Retry(_) if attempt + 1 >= config.max_attempts => {
                record.outcome = DeliveryOutcome::Exhausted;
                None
            }
            Next::Retry(wait) => {
                record.outcome = DeliveryOutcome::Retrying;
                record.retry_in_ms = Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
                Some(wait)
            }
        };
        let stale = sim.with(|s| {
            if s.webhooks.generation != generation {
                return true;
            }
            s.webhooks.record(record);
            false
        });
        match wait {
            Some(wait) if !stale => {
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            _ => break,
        }
    }
    sim.with(|s| {
        if s.webhooks.generation == generation {
            s.webhooks.in_flight = s.webhooks.in_flight.saturating_sub(1);
            s.webhooks.notify_if_idle();
        }
    });
}

/// One POST; the status and a `Retry-After` (in seconds) when a response arrived.
async fn send(
    client: &reqwest::Client,
    target: &Target,
    body: Vec<u8>,
) -> Result<(u16, Option<Duration>), reqwest::Error> {
    // The URI as requested on the wire (e.g. `http://host` gains its `/`).
    let uri = url::Url::parse(&target.url)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| target.url.clone());
    let timestamp = now_ms();
    let primary = match target.signature_version {
        SignatureVersion::V1 => signature::v1(&target.client_secret, &body),
        SignatureVersion::V2 => signature::v2(&target.client_secret, "POST", &uri, &body),
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let values = [
        (signature::SIGNATURE_HEADER, primary),
        (
            signature::SIGNATURE_VERSION_HEADER,
            target.signature_version.as_str().to_owned(),
        ),
        (
            signature::SIGNATURE_V3_HEADER,
            signature::v3(&target.client_secret, "POST", &uri, &body, timestamp),
        ),
        (signature::TIMESTAMP_HEADER, timestamp.to_string()),
        (TIMEOUT_HEADER, target.timeout_ms.to_string()),
    ];
    for (name, value) in values {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
    let response = client
        .post(uri)
        .headers(headers)
        .timeout(Duration::from_millis(target.timeout_ms))
        .body(body)
        .send()
        .await?;
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    Ok((response.status().as_u16(), retry_after))
}
