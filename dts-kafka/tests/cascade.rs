//! Foreign-key cascades ([`dts_core::DerivedChange`]) as Kafka records, against the broker:
//! in Canal JSON and Shareplex JSON a derived change is one record per partition the child
//! table's rows are spread over (after the parent's record, in order with the child rows'
//! own records), carrying the `cascade` object and the `dts.cascade` header; the Debezium
//! envelope and DTS Avro refuse derived changes (the precheck names table and constraint).

mod common;

use common::*;
use dts_core::{
    CascadeCause, CascadeOp, Change, DerivedChange, RowMatch, RowOp, Sink, TableId, Value,
};
use dts_kafka::PartitionPolicy;
use dts_kafka::{KafkaDataFormat, KafkaSink};

fn derived(child: &dts_core::SchemaRef, op: CascadeOp) -> Change {
    Change::Derived(DerivedChange {
        schema: child.clone(),
        constraint: "fk_c_p".into(),
        op,
        matching: RowMatch::Equals {
            columns: vec!["v".into()],
            values: vec![Value::Text("1".into())],
        },
        set: match op {
            CascadeOp::Delete => vec![],
            _ => vec![("v".into(), Value::Null)],
        },
        cause: CascadeCause {
            table: TableId::new("shop", "p"),
            op: RowOp::Delete,
            key: vec![("id".into(), Value::Int(1))],
        },
        depth: 1,
    })
}

async fn scenario(format: KafkaDataFormat) {
    let topic = unique("fk");
    let mut o = options(&topic, format);
    o.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
    o.partitions = Some(3);
    let sink = KafkaSink::connect(o).await.expect("connect");
    sink.supports_derived_changes()
        .expect("format carries cascades");
    let parent = small_schema("shop", "p", true);
    let child = small_schema("shop", "c", true);
    sink.apply_schema(&parent).await.unwrap();
    sink.apply_schema(&child).await.unwrap();
    let t = txn(
        1000,
        vec![
            insert(&child, small_row(7, "1")),
            delete(&parent, small_row(1, "x")),
            derived(&child, CascadeOp::Delete),
            derived(&child, CascadeOp::SetNull),
        ],
    );
    let cp = checkpoint_after(&t);
    sink.apply(&[t], &cp).await.expect("apply");
    let records: Vec<Consumed> = consume_all(&topic)
        .await
        .into_iter()
        .filter(|r| r.header("dts.op") != "ddl")
        .collect();
    let partitions = partitions_of(&topic);
    assert_eq!(partitions, 3);
    let cascades: Vec<&Consumed> = records
        .iter()
        .filter(|r| r.header("dts.op").starts_with("cascade_"))
        .collect();
    // Each derived change goes to every partition of the child's topic.
    assert_eq!(cascades.len(), 2 * partitions as usize, "{records:?}");
    for r in &cascades {
        assert_eq!(r.header("dts.cascade"), "fk_c_p <- shop.p delete (id=1)");
        assert_eq!(r.header("dts.table"), "shop.c");
        let v = r.json();
        let c = &v["cascade"];
        assert_eq!(c["constraint"], "fk_c_p");
        assert_eq!(c["parent"]["table"], "shop.p");
        assert_eq!(c["parent"]["key"]["id"], "1");
        assert_eq!(c["where"]["equals"]["v"], "1");
        match r.header("dts.op") {
            "cascade_delete" => {
                assert_eq!(c["op"], "delete");
                assert_eq!(c["set"], serde_json::json!({}));
            }
            "cascade_set_null" => {
                assert_eq!(c["op"], "set_null");
                assert_eq!(c["set"]["v"], serde_json::Value::Null);
            }
            other => panic!("unexpected op {other}"),
        }
    }
    // In the child row's partition the cascades follow the insert, delete before set NULL.
    let row = records
        .iter()
        .find(|r| r.header("dts.op") == "insert")
        .expect("child insert");
    let ops: Vec<&str> = records
        .iter()
        .filter(|r| r.partition == row.partition && r.header("dts.table") == "shop.c")
        .map(|r| r.header("dts.op"))
        .collect();
    assert_eq!(ops, vec!["insert", "cascade_delete", "cascade_set_null"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn canal_json_carries_cascades_to_every_partition() {
    scenario(KafkaDataFormat::CanalJson).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shareplex_json_carries_cascades_to_every_partition() {
    scenario(KafkaDataFormat::ShareplexJson).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn debezium_and_avro_refuse_cascades() {
    for format in [KafkaDataFormat::DebeziumJson, KafkaDataFormat::DtsAvro] {
        let topic = unique("fkno");
        let sink = KafkaSink::connect(options(&topic, format))
            .await
            .expect("connect");
        let reason = sink.supports_derived_changes().unwrap_err();
        assert!(reason.contains("cannot represent"), "{reason}");
        // Never dropped silently, even without the precheck.
        let child = small_schema("shop", "c", true);
        let t = txn(2000, vec![derived(&child, CascadeOp::Delete)]);
        let err = sink
            .apply(std::slice::from_ref(&t), &checkpoint_after(&t))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("fk_c_p"), "{err}");
    }
}
