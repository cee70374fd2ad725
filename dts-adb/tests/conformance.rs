//! The sink conformance suite of `dts-testkit` against the ADB sink in MariaDB-compatible mode
//! on the test environment's destination server, with its buffers flushed by time (the suite
//! calls `Sink::flush` before reading back).

use dts_adb::{AdbOptions, AdbSink};
use dts_testkit::conformance::{self, async_trait, Destination, Rows};
use dts_testkit::{env, ScratchDatabase};

struct Adb {
    database: String,
    checkpoint_database: String,
    task_id: String,
}

#[async_trait]
impl Destination for Adb {
    type Sink = AdbSink;

    async fn connect(&self) -> AdbSink {
        let mut o = AdbOptions::new(env::dest_url(), self.task_id.clone());
        o.mariadb_compat = true;
        o.checkpoint_database = self.checkpoint_database.clone();
        AdbSink::new(o).expect("the ADB sink is configured")
    }

    async fn rows(&self, schema: &dts_core::SchemaRef) -> Rows {
        conformance::table_rows(&env::dest_url(), &self.database, &schema.id.table).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_adb_sink_passes_the_sink_conformance_suite() {
    let mut db = ScratchDatabase::new("kit_conf_adb", &[env::dest_url()]);
    let checkpoint_database = db.companion("meta");
    db.create().await;
    let dest = Adb {
        database: db.name().to_string(),
        checkpoint_database,
        task_id: dts_testkit::unique_topic("kit-conformance"),
    };
    conformance::run(&dest, db.name(), "kv").await;
}
