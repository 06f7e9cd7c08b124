//! A canned-response HTTP/1 server on 127.0.0.1 (hyper), recording what it receives.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A canned answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Route {
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: body.into(),
        }
    }

    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type: "text/plain",
            body: body.into(),
        }
    }
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path_and_query: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap_or_default()
    }
}

struct State {
    routes: Vec<(String, Route)>,
    requests: Mutex<Vec<RecordedRequest>>,
}

impl State {
    /// The route whose path equals the request's and whose query pairs are all in the request,
    /// preferring the one with the most query pairs; 404 `{"errors":["Not found"]}` otherwise.
    fn route_for(&self, path_and_query: &str) -> Route {
        let (path, query) = split(path_and_query);
        self.routes
            .iter()
            .filter(|(key, _)| {
                let (key_path, key_query) = split(key);
                key_path == path && key_query.iter().all(|pair| query.contains(pair))
            })
            .max_by_key(|(key, _)| split(key).1.len())
            .map(|(_, route)| route.clone())
            .unwrap_or_else(|| Route::json(404, r#"{"errors":["Not found"]}"#))
    }

    fn respond(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        let path_and_query = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_default();
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(RecordedRequest {
                method: request.method().as_str().to_owned(),
                path_and_query: path_and_query.clone(),
                headers: request
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
            });
        let route = self.route_for(&path_and_query);
        let mut response = Response::new(Full::new(Bytes::from(route.body)));
        *response.status_mut() = hyper::StatusCode::from_u16(route.status)
            .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(route.content_type),
        );
        response
    }
}

fn split(path_and_query: &str) -> (&str, Vec<(&str, &str)>) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    (path, pairs)
}

/// Serves `routes` (keys: `/path` or `/path?k=v&…`) on 127.0.0.1 until dropped.
pub struct FixtureServer {
    address: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl FixtureServer {
    pub async fn start(routes: Vec<(String, Route)>) -> std::io::Result<Self> {
        Self::serve(TcpListener::bind("127.0.0.1:0").await?, routes)
    }

    /// Serves on a listener the caller bound (e.g. inside a test's network namespace, where the
    /// socket stays); needs a tokio runtime.
    pub fn start_on(
        listener: std::net::TcpListener,
        routes: Vec<(String, Route)>,
    ) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        Self::serve(TcpListener::from_std(listener)?, routes)
    }

    fn serve(listener: TcpListener, routes: Vec<(String, Route)>) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let state = Arc::new(State {
            routes,
            requests: Mutex::new(Vec::new()),
        });
        let serving = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let response = state.respond(&request);
                        async move { Ok::<_, Infallible>(response) }
                    });
                    // hyper reads each request fully and closes cleanly, so the client sees no reset.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            address,
            state,
            task,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// `http://127.0.0.1:<port>`
    pub fn origin(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The `--allow-host` grant for this server: `127.0.0.1:<port>`.
    pub fn grant(&self) -> String {
        self.address.to_string()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
