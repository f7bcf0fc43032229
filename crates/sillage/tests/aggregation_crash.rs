//! The leader is killed in the middle of aggregation (after the helper
//! answered a job, before the leader recorded it), restarted, and the
//! city still gets exactly the sum of the reports: nothing lost, nothing
//! counted twice.

use sillage_aggregator::{Provisioning, TaskSecrets};
use sillage_dap::hpke::{HpkeConfig, HpkeKeypair};
use sillage_dap::messages::build_report;
use sillage_dap::task::{AggregatorEndpoint, Interval, TaskId, TaskParams, VdafConfig};
use sillage_dap::token::{TokenIssuer, TokenRequest};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SILLAGE: &str = env!("CARGO_BIN_EXE_sillage");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn database(dir: &Path, role: &str) -> String {
    format!("sqlite://{}", dir.join(format!("{role}.sqlite")).display())
}

fn hpke_config(dir: &Path, role: &str) -> HpkeConfig {
    let out = Command::new(SILLAGE)
        .args([
            "aggregator",
            "hpke-config",
            "--role",
            role,
            "--database",
            &database(dir, role),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn serve(dir: &Path, role: &str, port: u16, failpoint: Option<&str>) -> Child {
    let task_file = dir.join(format!("{role}.task.json"));
    let mut command = Command::new(SILLAGE);
    command
        .args([
            "aggregator",
            "serve",
            "--role",
            role,
            "--database",
            &database(dir, role),
        ])
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--provision",
            task_file.to_str().unwrap(),
        ])
        .args([
            "--job-size",
            "5",
            "--drive-every-ms",
            "3600000",
            "--allow-noiseless",
        ])
        .env_remove("SILLAGE_FAILPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(point) = failpoint {
        command.env("SILLAGE_FAILPOINT", point);
    }
    command.spawn().unwrap()
}

async fn wait_up(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client
            .get(format!("http://127.0.0.1:{port}/hpke_config"))
            .send()
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("aggregator on port {port} did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leader_resumes_without_counting_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (leader_port, helper_port) = (free_port(), free_port());
    let issuer = TokenIssuer::generate().unwrap();
    let collector = HpkeKeypair::generate(3);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let task = TaskParams {
        task_id: TaskId::random(),
        vdaf: VdafConfig {
            length: 8,
            max_weight: 3,
        },
        wave: Interval {
            start: now - 7 * 86_400,
            end: now - 60,
        },
        time_precision_s: 3600,
        min_batch_size: 10,
        epsilon: None,
        leader: AggregatorEndpoint {
            operator: "leader".into(),
            url: format!("http://127.0.0.1:{leader_port}"),
            hpke: hpke_config(dir.path(), "leader"),
        },
        helper: AggregatorEndpoint {
            operator: "helper".into(),
            url: format!("http://127.0.0.1:{helper_port}"),
            hpke: hpke_config(dir.path(), "helper"),
        },
        collector_hpke: collector.config.clone(),
        token_issuer_key: issuer.public_key().unwrap(),
    };
    let secrets = TaskSecrets::generate();
    for (role, secrets) in [
        ("leader", secrets.clone()),
        (
            "helper",
            TaskSecrets {
                collector_token: None,
                ..secrets.clone()
            },
        ),
    ] {
        let provisioning = Provisioning {
            params: task.clone(),
            secrets,
        };
        std::fs::write(
            dir.path().join(format!("{role}.task.json")),
            serde_json::to_vec(&provisioning).unwrap(),
        )
        .unwrap();
    }
    let client = reqwest::Client::new();
    let mut helper = serve(dir.path(), "helper", helper_port, None);
    // The leader dies the third time the helper has answered a job and the
    // leader has not yet recorded the answer.
    let mut leader = serve(
        dir.path(),
        "leader",
        leader_port,
        Some("leader-after-helper-response:3"),
    );
    wait_up(&client, helper_port).await;
    wait_up(&client, leader_port).await;

    let mut expected = vec![0i64; 8];
    for i in 0..40u32 {
        let measurement: Vec<u32> = (0..8)
            .map(|c| u32::from((i + c) % 7 == 0) + u32::from(c == i % 8))
            .collect();
        for (e, v) in expected.iter_mut().zip(&measurement) {
            *e += i64::from(*v);
        }
        let request = TokenRequest::new(&task.token_issuer_key, &task.task_id).unwrap();
        let signature = issuer.sign(&request.blinded).unwrap();
        let token = request
            .finalize(&task.token_issuer_key, &signature)
            .unwrap();
        let report = build_report(&task, &measurement, token, task.wave.start + 3600).unwrap();
        let url = format!("{}/tasks/{}/reports", task.leader.url, task.task_id);
        assert_eq!(
            client
                .put(url)
                .json(&report)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            201
        );
    }

    let bearer = secrets.collector_token.clone().unwrap();
    // Collecting drives aggregation first: the leader crashes in job 3.
    assert!(
        sillage_collector::fetch_collection(&client, &task, &bearer)
            .await
            .is_err()
    );
    let status = tokio::task::spawn_blocking(move || leader.wait().unwrap())
        .await
        .unwrap();
    assert!(
        !status.success(),
        "the failpoint should have aborted the leader"
    );

    let mut leader = serve(dir.path(), "leader", leader_port, None);
    wait_up(&client, leader_port).await;
    let collection = sillage_collector::fetch_collection(&client, &task, &bearer)
        .await
        .unwrap();
    assert_eq!(collection.report_count, 40);
    assert_eq!(
        sillage_collector::unshard(&task, &collector, &collection).unwrap(),
        expected
    );
    leader.kill().unwrap();
    helper.kill().unwrap();
    let _ = (leader.wait(), helper.wait());
}
