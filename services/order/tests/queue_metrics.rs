//! `/metrics` shows each consumer queue's depth (the consumer's lag) and its dead-letter queue's.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consumer_lag_and_dead_letters_are_exported() {
    let w = common::spawn().await;
    let queue = w.server.queue(order::payments::QUEUE);
    let url = w.server.url("/metrics");
    let client = w.server.client.clone();
    // Read from the broker every few seconds, once the consumer declared its queues.
    let lines = testkit::wait_until(Duration::from_secs(30), "queue depths in /metrics", || {
        let (client, url, queue) = (client.clone(), url.clone(), queue.clone());
        async move {
            let text = client.get(url).send().await.ok()?.text().await.ok()?;
            let lines: Vec<String> = text
                .lines()
                .filter(|l| {
                    l.starts_with("events_queue_messages{") && l.contains(&format!("queue=\"{queue}\""))
                })
                .map(str::to_owned)
                .collect();
            let kinds = ["kind=\"ready\"", "kind=\"dead\""];
            kinds.iter().all(|k| lines.iter().any(|l| l.contains(k))).then_some(lines)
        }
    })
    .await;
    assert!(lines.iter().any(|l| l.contains("kind=\"dead\"") && l.ends_with(" 0")), "{lines:?}");
}
