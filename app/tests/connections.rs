//! The console's listener limits, over raw TCP as a misbehaving client would use it: headers
//! sent a byte at a time are cut at the header deadline, idle connections are closed, and over
//! the connection cap a client gets a 503 instead of a held socket. The limits do not depend on
//! the cluster, so this runs on the simulated one only. Times are printed, bounds are generous.

use std::time::{Duration, Instant};
use switchyard_console::server::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;

const LIMITS: ConnectionLimits = ConnectionLimits {
    header_timeout: Duration::from_secs(2),
    idle_timeout: Duration::from_secs(3),
    max_connections: 100,
};

async fn console() -> support::TestConsole {
    support::console(support::Options {
        connections: LIMITS,
        ..support::Options::default()
    })
    .await
}

fn addr(c: &support::TestConsole) -> String {
    c.base.trim_start_matches("http://").to_owned()
}

/// Waits (30 s at most) until the server closes `stream`, reading and discarding what it sends;
/// returns what it sent.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closes the connection");
    got
}

#[tokio::test]
async fn headers_sent_a_byte_at_a_time_are_cut_at_the_deadline() {
    let c = console().await;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let addr = addr(&c);
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let request = b"GET /api/v1/routes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
            stream.write_all(request).await.unwrap();
            // One byte every 200 ms, forever: the headers never end.
            let (mut read, mut write) = stream.into_split();
            let trickle = tokio::spawn(async move {
                while write.write_all(b"a").await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            });
            let mut buf = [0u8; 1024];
            let closed = tokio::time::timeout(Duration::from_secs(30), async {
                loop {
                    match read.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            })
            .await;
            trickle.abort();
            closed.is_ok()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap(), "a slow client was cut off");
    }
    let took = start.elapsed();
    eprintln!(
        "50 clients trickling headers: all closed after {took:?} (header deadline {:?})",
        LIMITS.header_timeout
    );
    assert!(took < LIMITS.header_timeout * 5, "{took:?}");
}

#[tokio::test]
async fn idle_connections_are_closed_and_served_ones_are_not_cut_short() {
    let c = console().await;
    // A served request on a keep-alive connection, then silence.
    let mut kept = TcpStream::connect(addr(&c)).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(TcpStream::connect(addr(&c)).await.unwrap());
    }
    let start = Instant::now();
    let answered = until_closed(&mut kept).await;
    assert!(
        String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answered)
    );
    for stream in &mut silent {
        until_closed(stream).await;
    }
    let took = start.elapsed();
    // Waiting for a request's headers, a connection is held no longer than the header deadline
    // (hyper starts it when it waits for the next request); the idle timeout bounds the rest.
    eprintln!(
        "51 idle connections: all closed after {took:?} (header deadline {:?}, idle timeout {:?})",
        LIMITS.header_timeout, LIMITS.idle_timeout
    );
    assert!(took < LIMITS.idle_timeout * 5, "{took:?}");
    // Idle is measured from the last byte: a client that keeps talking keeps its connection.
    let mut busy = TcpStream::connect(addr(&c)).await.unwrap();
    let start = Instant::now();
    while start.elapsed() < LIMITS.idle_timeout * 2 {
        busy.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = busy.read(&mut buf).await.unwrap();
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn over_the_cap_a_client_gets_503_and_a_freed_slot_serves_again() {
    let c = console().await;
    let mut held = Vec::new();
    for _ in 0..LIMITS.max_connections {
        held.push(TcpStream::connect(addr(&c)).await.unwrap());
    }
    // Give the server a moment to accept them all (accepting is what takes a slot).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut refused = 0;
    for _ in 0..200 {
        let mut extra = TcpStream::connect(addr(&c)).await.unwrap();
        let answer = until_closed(&mut extra).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 503"), "{text}");
        assert!(text.contains("too many open connections"), "{text}");
        refused += 1;
    }
    eprintln!(
        "with {} connections held, {refused} more were answered 503 and closed",
        LIMITS.max_connections
    );
    drop(held);
    // The slots free as the server notices the closed connections.
    let served = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(res) = reqwest::get(format!("{}/healthz", c.base)).await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(served.is_ok(), "a freed slot serves again");
}
