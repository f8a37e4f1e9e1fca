//! HTTP harness: a real `tuanji serve` on a loopback port over the test's database, a reqwest client, and API
//! tokens for principals with one role binding.

use crate::TestApp;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::oneshot;
use tuanji_engine::access::Role;
use tuanji_engine::with_engine;

/// A server running [`tuanji_server::app`] on `127.0.0.1` (an OS-chosen port) until dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client without a token.
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A response: status, headers and JSON body (`Value::Null` when the body is empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Parsed JSON body.
    pub body: Value,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// The problem's `rule` (rule code), if any.
    pub fn rule(&self) -> Option<&str> {
        self.body.get("rule").and_then(Value::as_str)
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Server {
    /// Sends `method path` with `token` (if any), extra `headers`, and a JSON `body` (if any).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let (kind, bytes) = match body {
            Some(b) => (
                Some("application/json"),
                serde_json::to_vec(b).expect("a JSON body"),
            ),
            None => (None, Vec::new()),
        };
        self.send(method, path, token, kind, bytes, headers).await
    }

    /// Sends `method path` with `token` (if any), a raw body of `content_type` (or none) and extra `headers`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(c) = content_type {
            req = req.header("content-type", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.body(body).send().await.expect("the server answers");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("a body");
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// `GET path` with `token`.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), &[], None).await
    }

    /// `POST path` with `token` and a JSON body.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, Some(token), &[], Some(body))
            .await
    }
}

static PRINCIPALS: AtomicU32 = AtomicU32::new(0);

impl TestApp {
    /// Starts the HTTP API on a loopback port over this app's database (same engine, same fixed today).
    pub async fn serve(&self) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let engine = self.engine().clone();
        tokio::spawn(async move {
            let _ = tuanji_server::serve(engine, listener, async {
                let _ = stopped.await;
            })
            .await;
        });
        Server {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            stop: Some(stop),
        }
    }

    /// A new principal holding `role` on `target` (an organisation code, or for `member` a member's resident ID or
    /// development number), and a bearer token for it.
    pub async fn token(&self, role: Role, target: &str) -> String {
        let n = PRINCIPALS.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-{n}", role.as_str());
        with_engine!(self.engine(), e => async {
            e.principal_add(&name).await.expect("principal added");
            e.grant(&name, role, target).await.expect("binding granted");
            e.token_create(&name, "test").await.expect("token created").1
        }.await)
    }

    /// A principal with no binding at all, and its token.
    pub async fn token_without_binding(&self) -> String {
        let n = PRINCIPALS.fetch_add(1, Ordering::Relaxed);
        let name = format!("nobody-{n}");
        with_engine!(self.engine(), e => async {
            e.principal_add(&name).await.expect("principal added");
            e.token_create(&name, "test").await.expect("token created").1
        }.await)
    }
}
