//! Several `koers-server` processes on one PostgreSQL behind nginx, as in production
//! (deploy/nginx/koers.conf, deploy/koers@.service): every request of a journey goes through
//! nginx, which sends them to the instances in turn, so consecutive requests of one phone are
//! answered by different instances.
//!
//! - [`harness`]: the instances (the binary Cargo built), nginx from a test config made of the
//!   directives of deploy/nginx/koers.conf, and the database (one throwaway PostgreSQL cluster
//!   shared by the tests, a database each); [`http`] and [`events`] speak HTTP and read event
//!   streams beside the shared client; [`phone`] is a phone.
//! - [`journeys`]: the two phones of a family converge; who may do what; a revoked device's
//!   stream ends and new operations are announced on streams held by the other instance.
//! - [`faults`]: an instance killed while a phone pushes; PostgreSQL stopped and started again.
//! - [`concurrency`]: writers and readers of one plan at once; instances started at once.
//! - [`proxy`]: what nginx itself must do (headers it sets, compression, body size, logs) and
//!   that the production example is valid nginx.
//!
//! Needs Debian's nginx and PostgreSQL (`scripts/setup.sh --test`); a test fails, never skips,
//! without them. `KOERS_CLUSTER_BACKEND=sqlite` runs the instances on one shared SQLite folder
//! instead (a development aid for the request-level journeys: with SQLite the instances have no
//! bus between them, so the tests of what one instance learns from another, and the PostgreSQL
//! faults, fail saying that they need PostgreSQL).

#[path = "../client/mod.rs"]
mod client;
#[path = "../common/mod.rs"]
mod common;

mod concurrency;
mod events;
mod faults;
mod harness;
mod http;
mod journeys;
mod phone;
mod postgres;
mod proxy;
