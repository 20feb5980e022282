//! A throw-away Kubernetes control plane for tests: etcd and kube-apiserver on free loopback
//! ports, found the way controller-runtime's envtest finds them.
//!
//! `KUBEBUILDER_ASSETS` names a directory holding `kube-apiserver` and `etcd` (what
//! `setup-envtest use -p path` prints; envtest's default `/usr/local/kubebuilder/bin` is tried
//! when the variable is unset). [`ControlPlane::start_or_skip`] returns `None` after printing
//! `skipped: <why>` when they are missing, so the tests pass on machines without them.
//!
//! A start makes a fresh data directory under the system temp dir holding:
//!
//! - a CA and a serving certificate signed by it for `127.0.0.1` / `localhost` (made with the
//!   `openssl` command line tool), and an RSA key signing service-account tokens;
//! - a static token file: the admin token, user `placer-test-admin` in `system:masters`, and
//!   [`USER_TOKEN`] for user [`USER`], whom RBAC grants nothing by default;
//! - etcd's data, both processes' logs, and `kubeconfig` (server, CA, admin token).
//!
//! The API server runs with `--authorization-mode=RBAC`, so every identity other than the admin
//! gets exactly what RBAC grants it. The start waits for `/readyz`. [`Drop`] kills and reaps the
//! two processes it started (nothing else) and removes the directory; it runs when a test
//! fails or panics too, and prints the tail of the API server's log when the thread panics.
//! `PLACER_TEST_KEEP_DIR=1` keeps the directory for inspection. (A test process killed with
//! SIGKILL cannot run `Drop`: its etcd and kube-apiserver then outlive it; Ctrl-C reaches them
//! through the terminal's process group.)
//!
//! Tests can also restart the API server ([`ControlPlane::restart_apiserver`]), compact etcd
//! ([`ControlPlane::compact_etcd`]), pass extra API server flags
//! ([`ControlPlane::start_or_skip_with`]) and authenticate as an unprivileged user
//! ([`USER_TOKEN`]) or with any token ([`ControlPlane::config_with_token`]).

use anyhow::{Context, Result, bail};
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The admin's bearer token (in `system:masters`).
pub const ADMIN_TOKEN: &str = "placer-test-admin-token";

/// The bearer token of user [`USER`]: in no group but `system:authenticated`, so RBAC grants it
/// nothing until a test binds it a role (and the API server's in-flight limits apply to it,
/// which `system:masters` escapes).
pub const USER_TOKEN: &str = "placer-test-user-token";

/// The user of [`USER_TOKEN`].
pub const USER: &str = "placer-test-user";

/// How long the API server may take to report ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the binaries are.
#[derive(Clone, Debug)]
pub struct Assets {
    /// `kube-apiserver`.
    pub kube_apiserver: PathBuf,
    /// `etcd`.
    pub etcd: PathBuf,
}

impl Assets {
    /// The binaries in `$KUBEBUILDER_ASSETS` (or envtest's default directory), or why not.
    ///
    /// # Errors
    /// A text saying what is missing, for the "skipped" line.
    pub fn find() -> std::result::Result<Assets, String> {
        let (dir, origin) = match std::env::var_os("KUBEBUILDER_ASSETS") {
            Some(d) if !d.is_empty() => (PathBuf::from(d), "KUBEBUILDER_ASSETS"),
            _ => (
                PathBuf::from("/usr/local/kubebuilder/bin"),
                "envtest's default directory (KUBEBUILDER_ASSETS is not set)",
            ),
        };
        let find = |name: &str| {
            let p = dir.join(name);
            if is_executable(&p) {
                Ok(p)
            } else {
                Err(format!(
                    "no executable {name} in {} ({origin}); set KUBEBUILDER_ASSETS to a \
                     directory holding kube-apiserver and etcd",
                    dir.display()
                ))
            }
        };
        Ok(Assets {
            kube_apiserver: find("kube-apiserver")?,
            etcd: find("etcd")?,
        })
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A running etcd + kube-apiserver pair; stopped and removed on drop.
#[derive(Debug)]
pub struct ControlPlane {
    dir: PathBuf,
    /// Killed in this order: the API server first, then etcd.
    children: Vec<(&'static str, Child)>,
    url: String,
    started_in: Duration,
    /// How to start the API server again ([`ControlPlane::restart_apiserver`]).
    apiserver: (PathBuf, Vec<String>),
    /// etcd's client address (`127.0.0.1:<port>`).
    etcd: String,
}

impl ControlPlane {
    /// Starts a control plane, or prints `skipped: <why>` and returns `None` when the binaries
    /// (or `openssl`) are not installed.
    ///
    /// # Panics
    /// When the binaries are there but the control plane does not come up: that is a failure,
    /// not a skip.
    pub async fn start_or_skip() -> Option<ControlPlane> {
        ControlPlane::start_or_skip_with(&[]).await
    }

    /// [`ControlPlane::start_or_skip`] with `extra` kube-apiserver flags (later flags win).
    ///
    /// # Panics
    /// As [`ControlPlane::start_or_skip`].
    pub async fn start_or_skip_with(extra: &[&str]) -> Option<ControlPlane> {
        let assets = match Assets::find() {
            Ok(a) => a,
            Err(why) => {
                eprintln!("skipped: {why}");
                return None;
            }
        };
        if Command::new("openssl")
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_or(true, |s| !s.success())
        {
            eprintln!("skipped: the openssl command line tool is not installed");
            return None;
        }
        match ControlPlane::start(&assets, extra).await {
            Ok(cp) => Some(cp),
            Err(e) => panic!("test control plane did not start: {e:#}"),
        }
    }

    /// Starts a control plane from `assets`; retries twice when a process dies at start-up
    /// (a port taken between choosing and binding it).
    ///
    /// # Errors
    /// Certificates not made, a process not started, `/readyz` not reached in time.
    pub async fn start(assets: &Assets, extra: &[&str]) -> Result<ControlPlane> {
        let mut last = None;
        for _ in 0..3 {
            match ControlPlane::start_once(assets, extra).await {
                Ok(cp) => return Ok(cp),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt made")))
    }

    async fn start_once(assets: &Assets, extra: &[&str]) -> Result<ControlPlane> {
        let t0 = Instant::now();
        let dir = make_dir()?;
        // From here on, drop cleans up whatever was started.
        let mut cp = ControlPlane {
            dir,
            children: Vec::new(),
            url: String::new(),
            started_in: Duration::ZERO,
            apiserver: (assets.kube_apiserver.clone(), Vec::new()),
            etcd: String::new(),
        };
        cp.make_credentials()?;
        let [etcd_client, etcd_peer, secure] = free_ports()?;
        let d = cp.dir.clone();
        cp.etcd = format!("127.0.0.1:{etcd_client}");
        let etcd_url = format!("http://{}", cp.etcd);
        let peer_url = format!("http://127.0.0.1:{etcd_peer}");
        let etcd = spawn(
            &assets.etcd,
            &[
                "--name=default".into(),
                format!("--data-dir={}", d.join("etcd").display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=default={peer_url}"),
                "--logger=zap".into(),
                "--log-level=warn".into(),
            ],
            &d.join("etcd.log"),
        )?;
        cp.children.push(("etcd", etcd));
        let mut args: Vec<String> = vec![
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={secure}"),
            format!("--tls-cert-file={}", d.join("server.crt").display()),
            format!("--tls-private-key-file={}", d.join("server.key").display()),
            format!("--token-auth-file={}", d.join("tokens.csv").display()),
            "--authorization-mode=RBAC".into(),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            format!("--service-account-key-file={}", d.join("sa.key").display()),
            format!(
                "--service-account-signing-key-file={}",
                d.join("sa.key").display()
            ),
            "--service-cluster-ip-range=10.0.0.0/24".into(),
            // No controller-manager creates the `default` ServiceAccounts the plugin
            // requires before a pod may be created (envtest does the same).
            "--disable-admission-plugins=ServiceAccount".into(),
            "--allow-privileged=true".into(),
            "--profiling=false".into(),
        ];
        args.extend(extra.iter().map(|f| (*f).to_string()));
        let apiserver = spawn(&assets.kube_apiserver, &args, &d.join("kube-apiserver.log"))?;
        cp.apiserver.1 = args;
        // The API server first on drop: it would otherwise log etcd's death at length.
        cp.children.insert(0, ("kube-apiserver", apiserver));
        cp.url = format!("https://127.0.0.1:{secure}");
        cp.write_kubeconfig()?;
        cp.wait_ready().await?;
        cp.started_in = t0.elapsed();
        Ok(cp)
    }

    /// `ca.*`, `server.*` (signed by the CA for 127.0.0.1 and localhost), `sa.key`, `tokens.csv`.
    fn make_credentials(&self) -> Result<()> {
        let d = &self.dir;
        fs::write(
            d.join("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .context("writing server.ext")?;
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=placer-test-ca",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ],
        )?;
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=kube-apiserver",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        )?;
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.crt",
            ],
        )?;
        openssl(d, &["genrsa", "-out", "sa.key", "2048"])?;
        fs::write(
            d.join("tokens.csv"),
            format!(
                "{ADMIN_TOKEN},placer-test-admin,placer-test-admin,\"system:masters\"\n\
                 {USER_TOKEN},{USER},{USER}\n"
            ),
        )
        .context("writing tokens.csv")?;
        Ok(())
    }

    fn write_kubeconfig(&self) -> Result<()> {
        let text = kubeconfig_text(&self.url, &self.dir.join("ca.crt"), ADMIN_TOKEN, "admin");
        fs::write(self.kubeconfig(), text).context("writing kubeconfig")
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let client = self.client().await?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            for (name, child) in &mut self.children {
                if let Some(status) = child.try_wait().context("polling a child")? {
                    let log = self.dir.join(format!("{name}.log"));
                    bail!(
                        "{name} exited at start-up ({status}); its log ends:\n{}",
                        tail(&log, 30)
                    );
                }
            }
            let req = http::Request::get("/readyz")
                .body(Vec::new())
                .context("building the /readyz request")?;
            let last = match client.request_text(req).await {
                Ok(body) if body.trim() == "ok" => return Ok(()),
                Ok(body) => body,
                Err(e) => e.to_string(),
            };
            if Instant::now() > deadline {
                bail!(
                    "{} not ready after {READY_TIMEOUT:?}: {last}; its log ends:\n{}",
                    self.url,
                    tail(&self.dir.join("kube-apiserver.log"), 30)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the API server and starts it again with the same flags, port and etcd; returns
    /// once `/readyz` answers (the outage, roughly).
    ///
    /// # Errors
    /// The API server did not come back.
    pub async fn restart_apiserver(&mut self) -> Result<Duration> {
        let t0 = Instant::now();
        let i = self
            .children
            .iter()
            .position(|(n, _)| *n == "kube-apiserver")
            .context("no kube-apiserver to restart")?;
        let (_, mut old) = self.children.remove(i);
        old.kill().context("killing kube-apiserver")?;
        old.wait().context("reaping kube-apiserver")?;
        let (bin, args) = self.apiserver.clone();
        let log = self.dir.join("kube-apiserver.log");
        let child = spawn_appending(&bin, &args, &log)?;
        self.children.insert(0, ("kube-apiserver", child));
        self.wait_ready().await?;
        Ok(t0.elapsed())
    }

    /// Compacts etcd's history up to its current revision (physically), so that a watch
    /// resuming from any earlier `resourceVersion` is answered `410 Gone` (when the API server
    /// runs with `--watch-cache=false`; its watch cache has a window of its own otherwise).
    /// Returns the revision.
    ///
    /// # Errors
    /// etcd's JSON gateway did not answer as expected.
    pub fn compact_etcd(&self) -> Result<i64> {
        // Any key: the response header carries the store's revision.
        let range = etcd_post(&self.etcd, "/v3/kv/range", r#"{"key":"AA==","limit":1}"#)?;
        let revision = range["header"]["revision"]
            .as_str()
            .and_then(|r| r.parse::<i64>().ok())
            .with_context(|| format!("no revision in etcd's answer {range}"))?;
        etcd_post(
            &self.etcd,
            "/v3/kv/compaction",
            &format!(r#"{{"revision":"{revision}","physical":true}}"#),
        )?;
        Ok(revision)
    }

    /// `https://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How long the start took (certificates, both processes, `/readyz`).
    #[must_use]
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The admin kubeconfig.
    #[must_use]
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// The data directory (removed on drop).
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The client configuration for the admin.
    ///
    /// # Errors
    /// The kubeconfig could not be read.
    pub async fn admin_config(&self) -> Result<kube::Config> {
        let kc = kube::config::Kubeconfig::read_from(self.kubeconfig())
            .context("reading the test kubeconfig")?;
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .context("loading the test kubeconfig")
    }

    /// The client configuration authenticating with `token` instead of the admin's.
    ///
    /// # Errors
    /// The kubeconfig could not be read.
    pub async fn config_with_token(&self, token: &str) -> Result<kube::Config> {
        let mut cfg = self.admin_config().await?;
        cfg.auth_info.token = Some(token.to_string().into());
        Ok(cfg)
    }

    /// Writes a kubeconfig authenticating with `token` to `<dir>/<name>.kubeconfig`.
    ///
    /// # Errors
    /// The file could not be written.
    pub fn write_token_kubeconfig(&self, name: &str, token: &str) -> Result<PathBuf> {
        let path = self.dir.join(format!("{name}.kubeconfig"));
        let text = kubeconfig_text(&self.url, &self.dir.join("ca.crt"), token, name);
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// An admin client.
    ///
    /// # Errors
    /// The kubeconfig could not be read or the client built.
    pub async fn client(&self) -> Result<kube::Client> {
        kube::Client::try_from(self.admin_config().await?).context("building the admin client")
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        for (name, child) in &mut self.children {
            // SIGKILL: the data is thrown away, a graceful API server shutdown takes seconds.
            if let Err(e) = child.kill() {
                eprintln!("control plane: killing {name} ({}): {e}", child.id());
            }
            if let Err(e) = child.wait() {
                eprintln!("control plane: reaping {name} ({}): {e}", child.id());
            }
        }
        if panicking {
            eprintln!(
                "control plane {}: the kube-apiserver log ends:\n{}",
                self.url,
                tail(&self.dir.join("kube-apiserver.log"), 40)
            );
        }
        if std::env::var_os("PLACER_TEST_KEEP_DIR").is_some() {
            eprintln!("control plane: kept {}", self.dir.display());
        } else if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!("control plane: removing {}: {e}", self.dir.display());
        }
    }
}

/// A fresh private directory under the system temp dir.
fn make_dir() -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = base.join(format!(
        "placer-controlplane-{}-{}-{nanos:x}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", dir.display()))?;
    Ok(dir)
}

/// Ports the kernel handed out just now (free until someone else binds them).
fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").context("binding a loopback port"))
        .collect::<Result<Vec<_>>>()?;
    let mut ports = [0; N];
    for (p, l) in ports.iter_mut().zip(&listeners) {
        *p = l.local_addr().context("local address")?.port();
    }
    Ok(ports)
}

/// POSTs `body` to etcd's JSON gateway at `addr` (plain HTTP/1.0: one request, no chunking).
fn etcd_post(addr: &str, path: &str, body: &str) -> Result<serde_json::Value> {
    use std::io::Write as _;
    let mut conn =
        std::net::TcpStream::connect(addr).with_context(|| format!("connecting to etcd {addr}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .context("etcd read timeout")?;
    write!(
        conn,
        "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .with_context(|| format!("writing to etcd {path}"))?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)
        .with_context(|| format!("reading etcd's answer to {path}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, json) = text
        .split_once("\r\n\r\n")
        .with_context(|| format!("etcd {path}: no HTTP answer: {text}"))?;
    if head.split_whitespace().nth(1) != Some("200") {
        bail!("etcd {path}: {head}: {json}");
    }
    serde_json::from_str(json.trim()).with_context(|| format!("etcd {path}: not JSON: {json}"))
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .context("running openssl")?;
    if !out.status.success() {
        bail!(
            "openssl {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn spawn(bin: &Path, args: &[String], log: &Path) -> Result<Child> {
    let out = fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    spawn_to(bin, args, out)
}

fn spawn_appending(bin: &Path, args: &[String], log: &Path) -> Result<Child> {
    let out = fs::OpenOptions::new()
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    spawn_to(bin, args, out)
}

fn spawn_to(bin: &Path, args: &[String], out: fs::File) -> Result<Child> {
    let err = out.try_clone().context("duplicating the log file")?;
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

fn kubeconfig_text(url: &str, ca: &Path, token: &str, user: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: placer-test
  cluster:
    server: {url}
    certificate-authority: {ca}
users:
- name: {user}
  user:
    token: {token}
contexts:
- name: placer-test
  context:
    cluster: placer-test
    user: {user}
current-context: placer-test
",
        ca = ca.display()
    )
}

/// The last `lines` lines of a log file (best effort).
fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut f) = fs::File::open(path) else {
        return format!("({} unreadable)", path.display());
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut bytes = Vec::new();
    let _ = f.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
