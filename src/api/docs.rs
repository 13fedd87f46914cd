//! `GET /docs`: the API's description rendered in a browser by Redoc, from assets compiled
//! into the binary (`assets/docs/`), so it works on an isolated network. The page loads only
//! from this daemon; the Content-Security-Policy says so.

use actix_web::HttpResponse;

const PAGE: &str = include_str!("../../assets/docs/index.html");
const REDOC: &[u8] = include_bytes!("../../assets/docs/redoc.standalone.js");

/// Redoc injects its styles and runs its search in a worker made from a blob; everything else
/// comes from this origin only (its logo link to a CDN is simply not loaded).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The docs page (no auth).
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(PAGE)
}

/// Redoc's bundle, cached for a day.
pub async fn redoc() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(REDOC)
}
