//! Get mode: plain `GET`s at a steady rate, each on a new connection and
//! timed from connect to the last byte of the response, as a visitor of the
//! site would see them (the site row: is the site still served while
//! thousands of WebSockets are open?).
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::{interval, timeout, Instant, MissedTickBehavior};

use crate::keepalive::HttpConn;
use crate::target::Target;

pub struct GetConfig {
    pub rate: u32,
    pub duration: Duration,
    /// A request not answered within this is a failure.
    pub timeout: Duration,
}

pub struct GetReport {
    pub requests: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    /// p50, p99, max of the answered requests, in microseconds (None if
    /// none was answered).
    pub latency_us: Option<[u64; 3]>,
}

pub async fn run(target: Rc<Target>, config: &GetConfig) -> GetReport {
    let latency = Rc::new(RefCell::new(
        Histogram::<u64>::new(3).expect("3 digits is valid"),
    ));
    let errors: Rc<RefCell<Vec<String>>> = Rc::default();
    let local = tokio::task::LocalSet::new();
    let requests = local
        .run_until(async {
            let mut ticks = interval(Duration::from_secs_f64(1.0 / config.rate as f64));
            // A late tick is sent late, not in a burst.
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let end = Instant::now() + config.duration;
            let mut tasks = Vec::new();
            while ticks.tick().await < end {
                let (target, latency, errors) = (target.clone(), latency.clone(), errors.clone());
                let limit = config.timeout;
                tasks.push(tokio::task::spawn_local(async move {
                    let started = Instant::now();
                    let answer = timeout(limit, async {
                        HttpConn::connect(&target, false).await?.get().await
                    })
                    .await;
                    match answer {
                        Ok(Ok(_)) => {
                            let us = started.elapsed().as_micros() as u64;
                            latency.borrow_mut().saturating_record(us.max(1));
                        }
                        Ok(Err(e)) => errors.borrow_mut().push(e),
                        Err(_) => errors
                            .borrow_mut()
                            .push(format!("no answer within {limit:?}")),
                    }
                }));
            }
            let requests = tasks.len() as u64;
            for task in tasks {
                let _ = task.await;
            }
            requests
        })
        .await;
    let latency = latency.borrow();
    let errors = errors.borrow();
    GetReport {
        requests,
        failed: errors.len() as u64,
        first_error: errors.first().cloned(),
        latency_us: (!latency.is_empty()).then(|| {
            [
                latency.value_at_quantile(0.5),
                latency.value_at_quantile(0.99),
                latency.max(),
            ]
        }),
    }
}
