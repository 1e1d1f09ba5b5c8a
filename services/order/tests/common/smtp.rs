//! A tiny SMTP server in the test process: accepts every message and keeps it.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A received message: recipients and raw data.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub data: String,
}

/// A running sink.
pub struct Sink {
    pub url: String,
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

pub async fn start() -> Sink {
    start_dropping(0).await
}

/// Called when a message has been taken, before the server answers it.
pub type Hook = Arc<dyn Fn() + Send + Sync>;

/// A sink that calls `hook` after taking each message, before answering it.
pub async fn start_with_hook(hook: Hook) -> Sink {
    serve(0, Some(hook)).await
}

/// A sink that keeps the first `drops` messages but closes the connection before answering
/// their DATA, as a server that dies mid-send: the client cannot know they arrived.
pub async fn start_dropping(drops: usize) -> Sink {
    serve(drops, None).await
}

async fn serve(drops: usize, hook: Option<Hook>) -> Sink {
    let drops = Arc::new(std::sync::atomic::AtomicUsize::new(drops));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
    let store = mails.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = store.clone();
            let drops = drops.clone();
            let hook = hook.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut to = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        store.lock().unwrap().push(Mail { to: std::mem::take(&mut to), data });
                        let drop_it = drops
                            .fetch_update(
                                std::sync::atomic::Ordering::SeqCst,
                                std::sync::atomic::Ordering::SeqCst,
                                |n| n.checked_sub(1),
                            )
                            .is_ok();
                        if drop_it {
                            break;
                        }
                        if let Some(h) = &hook {
                            h();
                        }
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Sink { url: format!("smtp://{addr}"), mails }
}
