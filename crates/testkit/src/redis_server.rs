//! A `redis-server` of a test's own on a free port, so a test can pause, stop or restart it
//! without touching the shared one; killed when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The server (nothing kept on disk).
pub struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    /// On a free port, once it accepts connections.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self::start_on(port).await
    }

    /// On `port` (a restart after [`PrivateRedis::stop`]), once it accepts connections.
    pub async fn start_on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (the redis-server package) must be installed for this test");
        crate::wait_until(Duration::from_secs(10), "the private redis-server", || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok().map(drop)
        })
        .await;
        Self { child, port }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it and waits until it has exited.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
