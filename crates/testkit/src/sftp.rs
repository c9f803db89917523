//! A real SSH server with the SFTP subsystem (russh and russh-sftp), for the tests of
//! rule-file delivery: the monitoring rig's "Prometheus host" ([`crate::monitoring`]).
//!
//! It listens on `127.0.0.1:<free port>`, accepts one user name and password (password
//! authentication only), and has an ed25519 host key generated at start. SFTP paths are
//! the machine's real paths, but only those under its root folder are served (a relative
//! path is taken relative to the root, the user's "home"); any other path, or one with a
//! `..` component, is refused with `SSH_FX_PERMISSION_DENIED`. It supports what an SFTP
//! client needs to put, read, list and remove files: open (read, write, create, truncate,
//! append, exclusive), read, write, close, stat, lstat, fstat, remove, realpath, opendir
//! and readdir; other requests answer `SSH_FX_OP_UNSUPPORTED`.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use russh::server::{Auth, Msg, Server as _, Session};
use russh::{Channel, ChannelId};
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;

/// A running SFTP server (it runs until its runtime ends).
pub struct SftpServer {
    port: u16,
    user: String,
    password: String,
    root: PathBuf,
}

impl SftpServer {
    /// Starts a server on the current tokio runtime serving `root` (an absolute folder),
    /// with user `prometheus` and a random password.
    pub async fn start(root: PathBuf) -> SftpServer {
        assert!(
            root.is_absolute(),
            "the SFTP root must be absolute: {}",
            root.display()
        );
        let user = "prometheus".to_string();
        let password = uuid::Uuid::new_v4().simple().to_string();
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let host_key =
            russh::keys::PrivateKey::from(russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&seed));
        let config = Arc::new(russh::server::Config {
            keys: vec![host_key],
            methods: russh::MethodSet::from(&[russh::MethodKind::Password][..]),
            // Wrong passwords are answered quickly: these are tests.
            auth_rejection_time: Duration::from_millis(20),
            auth_rejection_time_initial: Some(Duration::ZERO),
            inactivity_timeout: Some(Duration::from_secs(120)),
            ..Default::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut server = Server {
            user: user.clone().into(),
            password: password.clone().into(),
            root: Arc::new(root.clone()),
        };
        tokio::spawn(async move {
            if let Err(e) = server.run_on_socket(config, &listener).await {
                eprintln!("SFTP server on port {port} stopped: {e}");
            }
        });
        SftpServer {
            port,
            user,
            password,
            root,
        }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The one user name accepted.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// That user's password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The folder served (paths outside it are refused).
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[derive(Clone)]
struct Server {
    user: Arc<str>,
    password: Arc<str>,
    root: Arc<PathBuf>,
}

impl russh::server::Server for Server {
    type Handler = Connection;

    fn new_client(&mut self, _peer: Option<std::net::SocketAddr>) -> Connection {
        Connection {
            server: self.clone(),
            channels: HashMap::new(),
        }
    }
}

/// One client connection.
struct Connection {
    server: Server,
    /// Session channels opened and not yet given to a subsystem.
    channels: HashMap<ChannelId, Channel<Msg>>,
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if user == &*self.server.user && password == &*self.server.password {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        session.close(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel_id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match (name, self.channels.remove(&channel_id)) {
            ("sftp", Some(channel)) => {
                session.channel_success(channel_id)?;
                let files = Files {
                    root: self.server.root.clone(),
                    handles: HashMap::new(),
                    next_handle: 0,
                };
                russh_sftp::server::run(channel.into_stream(), files).await;
            }
            _ => session.channel_failure(channel_id)?,
        }
        Ok(())
    }
}

enum Open {
    File(std::fs::File),
    /// A directory's entries, until `readdir` has returned them.
    Dir(Option<Vec<File>>),
}

/// The SFTP subsystem of one session.
struct Files {
    root: Arc<PathBuf>,
    handles: HashMap<String, Open>,
    next_handle: u64,
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".to_string(),
        language_tag: "en-US".to_string(),
    }
}

fn io_error(path: &str, e: std::io::Error) -> StatusReply {
    let code = match e.kind() {
        ErrorKind::NotFound => StatusCode::NoSuchFile,
        ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    code.with_message(format!("{path}: {e}"))
}

impl Files {
    /// The real path for a client's path, if it is under the root.
    fn resolve(&self, path: &str) -> Result<PathBuf, StatusReply> {
        let given = Path::new(path);
        let full = if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.root.join(given)
        };
        let escapes = full.components().any(|c| matches!(c, Component::ParentDir));
        if escapes || !full.starts_with(&*self.root) {
            return Err(StatusCode::PermissionDenied
                .with_message(format!("{path}: only {} is served here", self.root.display())));
        }
        // Without `.` components and trailing slashes.
        Ok(full.components().collect())
    }

    fn add_handle(&mut self, open: Open) -> String {
        self.next_handle += 1;
        let handle = self.next_handle.to_string();
        self.handles.insert(handle.clone(), open);
        handle
    }

    fn file(&self, handle: &str) -> Result<&std::fs::File, StatusReply> {
        match self.handles.get(handle) {
            Some(Open::File(file)) => Ok(file),
            _ => Err(StatusCode::Failure.with_message(format!("no open file for handle {handle}"))),
        }
    }
}

impl russh_sftp::server::Handler for Files {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.into()
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let path = self.resolve(&filename)?;
        let file = std::fs::OpenOptions::from(pflags)
            .open(&path)
            .map_err(|e| io_error(&filename, e))?;
        Ok(Handle {
            id,
            handle: self.add_handle(Open::File(file)),
        })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        match self.handles.remove(&handle) {
            Some(_) => Ok(ok(id)),
            None => Err(StatusCode::Failure.with_message(format!("no handle {handle}"))),
        }
    }

    async fn read(&mut self, id: u32, handle: String, offset: u64, len: u32) -> Result<Data, Self::Error> {
        let file = self.file(&handle)?;
        let mut data = vec![0u8; len.min(256 * 1024) as usize];
        let n = file
            .read_at(&mut data, offset)
            .map_err(|e| io_error(&handle, e))?;
        if n == 0 && len > 0 {
            return Err(StatusCode::Eof.into());
        }
        data.truncate(n);
        Ok(Data { id, data })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let file = self.file(&handle)?;
        file.write_all_at(&data, offset)
            .map_err(|e| io_error(&handle, e))?;
        Ok(ok(id))
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let metadata = self.file(&handle)?.metadata().map_err(|e| io_error(&handle, e))?;
        Ok(Attrs {
            id,
            attrs: FileAttributes::from(&metadata),
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let metadata = std::fs::metadata(self.resolve(&path)?).map_err(|e| io_error(&path, e))?;
        Ok(Attrs {
            id,
            attrs: FileAttributes::from(&metadata),
        })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let metadata = std::fs::symlink_metadata(self.resolve(&path)?).map_err(|e| io_error(&path, e))?;
        Ok(Attrs {
            id,
            attrs: FileAttributes::from(&metadata),
        })
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        std::fs::remove_file(self.resolve(&filename)?).map_err(|e| io_error(&filename, e))?;
        Ok(ok(id))
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let path = self.resolve(&path)?;
        Ok(Name {
            id,
            files: vec![File::dummy(path.to_string_lossy())],
        })
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let dir = self.resolve(&path)?;
        let mut entries = vec![];
        for entry in std::fs::read_dir(&dir).map_err(|e| io_error(&path, e))? {
            let entry = entry.map_err(|e| io_error(&path, e))?;
            let metadata = entry.metadata().map_err(|e| io_error(&path, e))?;
            entries.push(File::new(
                entry.file_name().to_string_lossy(),
                FileAttributes::from(&metadata),
            ));
        }
        Ok(Handle {
            id,
            handle: self.add_handle(Open::Dir(Some(entries))),
        })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(Open::Dir(entries)) => match entries.take() {
                Some(files) if !files.is_empty() => Ok(Name { id, files }),
                _ => Err(StatusCode::Eof.into()),
            },
            _ => Err(StatusCode::Failure.with_message(format!("no open directory for handle {handle}"))),
        }
    }
}
