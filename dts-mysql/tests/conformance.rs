//! The sink conformance suite of `dts-testkit` against the MySQL sink on the test
//! environment's destination server.

use dts_mysql::sink::{MysqlSink, SinkOptions};
use dts_mysql::MysqlEndpoint;
use dts_testkit::conformance::{self, async_trait, Destination, Rows};
use dts_testkit::{env, ScratchDatabase};

struct Mysql {
    database: String,
    checkpoint_database: String,
    task_id: String,
}

#[async_trait]
impl Destination for Mysql {
    type Sink = MysqlSink;

    async fn connect(&self) -> MysqlSink {
        MysqlSink::connect(
            MysqlEndpoint::from_url("destination", &env::dest_url()).unwrap(),
            SinkOptions {
                task_id: self.task_id.clone(),
                workers: 2,
                checkpoint_database: self.checkpoint_database.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("the MySQL sink connects")
    }

    async fn rows(&self, schema: &dts_core::SchemaRef) -> Rows {
        conformance::table_rows(&env::dest_url(), &self.database, &schema.id.table).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mysql_sink_passes_the_sink_conformance_suite() {
    let mut db = ScratchDatabase::new("kit_conf_mysql", &[env::dest_url()]);
    let checkpoint_database = db.companion("meta");
    db.create().await;
    let dest = Mysql {
        database: db.name().to_string(),
        checkpoint_database,
        task_id: dts_testkit::unique_topic("kit-conformance"),
    };
    conformance::run(&dest, db.name(), "kv").await;
}
