//! The throwaway PostgreSQL of these tests: `koers_database_postgres::testing::TestCluster`
//! (Debian's binaries, a free port, run as the `postgres` user when root; a watchdog stops it and
//! removes its folder when the test process ends). The only file that touches its API.
//!
//! The tests share one cluster ([`TestCluster::shared`]), each with a database of its own
//! ([`fresh_database`]); the test that stops PostgreSQL gets a cluster of its own
//! ([`OwnCluster`]) so that the others go on.

use std::sync::atomic::{AtomicUsize, Ordering};

use koers_database_postgres::testing::TestCluster;

static DATABASES: AtomicUsize = AtomicUsize::new(0);

fn new_name() -> String {
    format!(
        "koers_cluster_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new, empty database for one test in the shared cluster: its `postgres://` URL.
pub fn fresh_database() -> String {
    TestCluster::shared().create_database(&new_name())
}

/// A PostgreSQL cluster for one test alone, which may stop it and start it again.
pub struct OwnCluster {
    cluster: TestCluster,
}

impl OwnCluster {
    pub fn start() -> OwnCluster {
        OwnCluster {
            cluster: TestCluster::start(),
        }
    }

    /// A new, empty database in this cluster: its URL.
    pub fn fresh_database(&mut self) -> String {
        self.cluster.create_database(&new_name())
    }

    /// Stops PostgreSQL (fast shutdown: the instances lose their connections).
    pub fn stop(&mut self) {
        self.cluster.stop();
    }

    /// Starts the same cluster again: same port, same data.
    pub fn start_again(&mut self) {
        self.cluster.start_again();
    }
}
