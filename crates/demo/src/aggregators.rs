//! The two aggregators as separate services: each is the `sillage`
//! executable run as its own process, with its own database and key, as
//! two independent operators would run them.

use anyhow::{Context, Result, bail};
use sillage_aggregator::Provisioning;
use sillage_dap::hpke::HpkeConfig;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// One running aggregator.
pub struct AggregatorService {
    /// `leader` or `helper`.
    pub role: &'static str,
    /// Where it listens.
    pub url: String,
    /// Its HPKE public key, for the campaign.
    pub hpke: HpkeConfig,
    /// The operator's admin token: provisions tasks over HTTP
    /// (`PUT /tasks/{task}`), as the city's portal does.
    pub admin_token: String,
    admin_token_file: PathBuf,
    database: String,
    exe: PathBuf,
    listen: SocketAddr,
    child: Option<Child>,
}

/// A free port on loopback (bound then released: the child binds it next).
pub fn free_port() -> Result<SocketAddr> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").context("no free port on loopback")?;
    Ok(socket.local_addr()?)
}

/// Writes `bytes` to `path`, readable by this user only (on unix).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // `mode` applies to a new file only: a file left by an earlier run
        // is narrowed before the new token goes in.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    options.open(path)?.write_all(bytes)
}

impl AggregatorService {
    /// Creates the aggregator's database and key pair (not yet serving).
    pub async fn prepare(exe: &Path, role: &'static str, dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let database = format!("sqlite://{}", dir.join(format!("{role}.sqlite")).display());
        let output = Command::new(exe)
            .args([
                "aggregator",
                "hpke-config",
                "--role",
                role,
                "--database",
                &database,
            ])
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("cannot run {}", exe.display()))?;
        if !output.status.success() {
            bail!(
                "the {role} could not create its key: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let hpke: HpkeConfig = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("the {role}'s key is not the expected JSON"))?;
        let listen = free_port()?;
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        let admin_token = sillage_dap::bytes::hex(&secret);
        let admin_token_file = dir.join(format!("{role}-admin-token"));
        write_private(&admin_token_file, admin_token.as_bytes())
            .with_context(|| format!("cannot write {}", admin_token_file.display()))?;
        Ok(AggregatorService {
            role,
            url: format!("http://{listen}"),
            hpke,
            admin_token,
            admin_token_file,
            database,
            exe: exe.to_owned(),
            listen,
            child: None,
        })
    }

    /// Starts serving with the given tasks; returns once it answers.
    pub async fn start(&mut self, tasks: &[Provisioning], dir: &Path) -> Result<()> {
        let mut command = Command::new(&self.exe);
        command.args([
            "aggregator",
            "serve",
            "--role",
            self.role,
            "--database",
            &self.database,
            "--listen",
            &self.listen.to_string(),
            "--drive-every-ms",
            "200",
        ]);
        command
            .arg("--admin-token-file")
            .arg(&self.admin_token_file);
        for (k, task) in tasks.iter().enumerate() {
            let path = dir.join(format!("{}-task-{k}.json", self.role));
            std::fs::write(&path, serde_json::to_vec(task)?)?;
            command.arg("--provision").arg(path);
        }
        let log = std::fs::File::create(dir.join(format!("{}.log", self.role)))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start the {}", self.role))?;
        self.child = Some(child);
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "the {} stopped at start ({status}); see {}",
                    self.role,
                    dir.join(format!("{}.log", self.role)).display()
                );
            }
            if client
                .get(format!("{}/hpke_config", self.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the {} did not answer on {}", self.role, self.url)
    }

    /// Stops the process.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn admin_token_files_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        // No temporary-directory crate here: a unique name under the
        // system's temporary folder, removed at the end.
        let path = std::env::temp_dir().join(format!(
            "sillage-admin-token-{}-{}",
            std::process::id(),
            sillage_dap::bytes::Id::<8>::random()
        ));
        // A file left by an earlier run, readable by all, is narrowed.
        std::fs::write(&path, "old token, longer than the new one").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(mode & 0o777, 0o600);
    }
}
