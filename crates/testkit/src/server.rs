//! Runs an actix-web server on a random local port inside the test.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::{Server, ServerHandle};

/// A running server and a client for it.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// A client with no proxy and a short time-out.
    pub client: reqwest::Client,
    handle: ServerHandle,
}

impl TestServer {
    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
    /// Stops the server gracefully.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Binds 127.0.0.1:0, lets `build` make the server on that listener, and runs it.
pub fn spawn_server(build: impl FnOnce(TcpListener) -> std::io::Result<Server>) -> TestServer {
    let backlog = platform::http::listener::DEFAULT_LISTEN_BACKLOG;
    let listener = platform::http::listener::listen(SocketAddr::from(([127, 0, 0, 1], 0)), backlog)
        .expect("bind a random port");
    let addr = listener.local_addr().expect("local addr");
    let server = build(listener).expect("build server");
    let handle = server.handle();
    tokio::spawn(server);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client");
    TestServer { base_url: format!("http://{addr}"), addr, client, handle }
}
