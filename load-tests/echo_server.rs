//! The bare baselines for load tests, on the same framework, client and machine as the daemon,
//! so the ratio between the daemon and them is what our real work costs:
//!
//! * `echo_server [ADDR]`: an actix-web handler that parses the JSON body and replies 202,
//!   storing nothing — the floor of the fast path (lookup, quota, durable write, execution,
//!   record are what the daemon adds).
//! * `echo_server [ADDR] --forward URL`: the same, but before replying it POSTs the event to
//!   URL with hyper's pooled client (the daemon's `http_request` client) and reads the answer —
//!   the floor of the queued path, whose every event is also two HTTP exchanges (the
//!   producer's, and the call to the receiver); the daemon adds two durable writes, the
//!   dispatcher, the workflow actor, the signature and the records.
//!
//! Prints `listening on http://ADDR` (default 127.0.0.1:0).

use std::io::Write;
use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, web};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

async fn accept(_hook: web::Path<String>, _body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Accepted().json(serde_json::json!({"execution_id": "exec_0", "status": "queued"}))
}

/// Where `--forward` sends each event, and the pooled client it uses (one per HTTP worker).
struct Forward {
    url: hyper::Uri,
    client: Client<HttpConnector, Full<Bytes>>,
}

async fn forward(
    _hook: web::Path<String>,
    body: web::Json<serde_json::Value>,
    to: web::Data<Forward>,
) -> HttpResponse {
    let request = hyper::Request::post(to.url.clone())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            serde_json::to_vec(&body.into_inner()).unwrap_or_default(),
        )));
    let Ok(request) = request else {
        return HttpResponse::InternalServerError().finish();
    };
    match to.client.request(request).await {
        Ok(answer) if answer.status().is_success() => match answer.into_body().collect().await {
            Ok(_) => HttpResponse::Accepted()
                .json(serde_json::json!({"execution_id": "exec_0", "status": "queued"})),
            Err(_) => HttpResponse::BadGateway().finish(),
        },
        _ => HttpResponse::BadGateway().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let forward_to = args
        .iter()
        .position(|a| a == "--forward")
        .and_then(|i| args.get(i + 1))
        .map(|url| {
            url.parse::<hyper::Uri>().map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{url}: {e}"))
            })
        })
        .transpose()?;
    let addr = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = TcpListener::bind(&addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    HttpServer::new(move || match &forward_to {
        None => App::new().route("/webhooks/{hook_id}", web::post().to(accept)),
        Some(url) => App::new()
            .app_data(web::Data::new(Forward {
                url: url.clone(),
                client: Client::builder(TokioExecutor::new()).build_http(),
            }))
            .route("/webhooks/{hook_id}", web::post().to(forward)),
    })
    .listen(listener)?
    .run()
    .await
}
