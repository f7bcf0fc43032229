//! The hub's command-line interface, as scripts use it: `citizen add`,
//! `device add`, then `sillage serve` answering /healthz and a tracker app,
//! and stopping cleanly on SIGTERM.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const SILLAGE: &str = env!("CARGO_BIN_EXE_sillage");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn administration_then_serve_then_a_tracker_posts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();

    let mut add = Command::new(SILLAGE)
        .args([
            "citizen",
            "add",
            "alice",
            "--password-stdin",
            "--data-dir",
            data,
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let output = add.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let refused = Command::new(SILLAGE)
        .args(["citizen", "add", "bob", "--data-dir", data])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a password is never an argument");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--password-stdin"));

    let device = Command::new(SILLAGE)
        .args([
            "device",
            "add",
            "--citizen",
            "alice",
            "--name",
            "phone",
            "--data-dir",
            data,
        ])
        .output()
        .unwrap();
    assert!(
        device.status.success(),
        "{}",
        String::from_utf8_lossy(&device.stderr)
    );
    let token = String::from_utf8(device.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 43, "256 bits, base64url: {token:?}");

    let port = free_port();
    let mut server = Command::new(SILLAGE)
        .args([
            "serve",
            "--data-dir",
            data,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "/healthz never answered");
    let response = http
        .post(format!("{base}/ingest/owntracks"))
        .basic_auth("alice", Some(&token))
        .body(r#"{"_type":"location","lat":46.1591,"lon":-1.152,"tst":1709283789,"vel":18}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "[]");

    // SIGTERM: the hub stops cleanly, counts saved.
    // SAFETY: kill(2) on a child we spawned and have not reaped.
    unsafe {
        libc::kill(server.id() as i32, libc::SIGTERM);
    }
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let key = dir.path().join("keys/master.key");
    assert!(key.exists(), "the master key was created");
}
