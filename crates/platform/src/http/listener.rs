//! The listening socket, with a backlog fit for bursts, and enough file descriptors for the
//! connections it will accept.
//!
//! `std::net::TcpListener::bind` asks for a backlog of 128: a burst of thousands of new
//! connections overflows it while the accept thread catches up, and the kernel drops the
//! surplus SYNs (clients retry after 1 s, 3 s, ...). The runner listens with
//! `HTTP_LISTEN_BACKLOG` instead (default [`DEFAULT_LISTEN_BACKLOG`]; Linux caps it at
//! `net.core.somaxconn`, 4096 by default since 5.4).

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Socket, Type};

/// Pending connections the kernel keeps for us (`HTTP_LISTEN_BACKLOG`).
pub const DEFAULT_LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` (with `SO_REUSEADDR`, as std does) and listens with `backlog`.
pub fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    Ok(socket.into())
}

/// Raises this process's soft limit on open files to its hard limit: each connection is a
/// descriptor, and the common soft default of 1024 would refuse a burst's connections
/// (actix pauses accepting on `EMFILE`). Returns the new soft limit, if it changed.
pub fn raise_open_files_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    // `None` is unlimited. An unlimited hard limit still stops at `fs.nr_open` (2^20 by default).
    let current = limit.current?;
    let target = limit.maximum.unwrap_or(1 << 20);
    if current >= target {
        return None;
    }
    setrlimit(Resource::Nofile, Rlimit { current: Some(target), maximum: limit.maximum }).ok()?;
    Some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listens_with_the_backlog() {
        let listener = listen("127.0.0.1:0".parse().unwrap(), 64).unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = std::net::TcpStream::connect(addr).unwrap();
        let (_conn, peer) = listener.accept().unwrap();
        assert!(peer.ip().is_loopback());
    }
}
