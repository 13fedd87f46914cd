//! The bare baseline for load tests: an actix-web handler that parses the JSON body and
//! replies 202, storing nothing. Same framework, same client, same machine as the daemon, so
//! the ratio between the two is what our real work (lookup, quota, durable write, execution,
//! record) costs.
//!
//! Usage: `echo_server [ADDR]` (default 127.0.0.1:0); prints `listening on http://ADDR`.

use std::io::Write;
use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, web};

async fn accept(_hook: web::Path<String>, _body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Accepted().json(serde_json::json!({"execution_id": "exec_0", "status": "queued"}))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = TcpListener::bind(&addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    HttpServer::new(|| App::new().route("/webhooks/{hook_id}", web::post().to(accept)))
        .listen(listener)?
        .run()
        .await
}
