//! The Kafka paths: the copy, then an UPDATE of every row and a DELETE, into one topic per
//! format; every record of a case's table is decoded back, as a consumer of that format
//! would, and compared in canonical text with what the source held at the time.

use super::canon;
use super::cases;
use super::fixtures::*;
use super::types::{Family, TypeCase};
use super::{Fixture, Outcomes};
use apache_avro::types::Value as Avro;
use base64::Engine;
use dts_kafka::KafkaDataFormat;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One decoded row change of a case's table.
#[derive(Debug)]
struct Decoded {
    table: String,
    op: Op,
    /// Canonical text by column, for the image that carries the row (after; before for a delete).
    image: BTreeMap<String, Option<String>>,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Op {
    Insert,
    Update,
    Delete,
}

type Rows = BTreeMap<String, Vec<Option<String>>>;

/// Canonical source rows by key: `[compared columns…]`.
async fn source_rows(db: &str, case: &TypeCase) -> Rows {
    let mut s = connect(&env("DTS_TEST_SOURCE_URL")).await;
    let rows = rows_of(&mut s, db, case, "id").await.unwrap();
    canonical(&rows, case, false)
        .into_iter()
        .map(|mut r| (r.remove(0).unwrap(), r))
        .collect()
}

pub async fn run(format: KafkaDataFormat) -> Outcomes {
    let path = super::fixtures::paths_of(Fixture::Kafka(format))[0];
    let src = unique("kafka");
    let topic = format!("{src}-records");
    create(&src, true, true).await;
    let format_name = match format {
        KafkaDataFormat::CanalJson => "canal_json",
        KafkaDataFormat::ShareplexJson => "shareplex_json",
        KafkaDataFormat::DebeziumJson => "debezium_json",
        KafkaDataFormat::DtsAvro => "dts_avro",
    };
    let brokers = env("DTS_TEST_KAFKA_BROKERS");
    let destination = format!(
        "type = \"kafka\"\nbrokers = [\"{brokers}\"]\ntopic = \"{topic}\"\ndata_format = \"{format_name}\"\n\
         sync_all_fields = true\nnum_partitions = 1\nmax_message_bytes = 16000000\n"
    );
    let config = parse(&task_toml(
        &src,
        &src,
        &src,
        &destination,
        "[sync_types]\nschema = true\nfull_data = true\nincremental = true\n",
    ));
    let state = tempfile::tempdir().unwrap();
    assert_eq!(
        config.destination.kind(),
        dts_core::config::DestinationKind::Kafka
    );
    let built = dts_examples::runner::compose_task(&config, state.path(), None)
        .await
        .map(|b| b.task);
    let task = match built {
        Ok(t) => Arc::new(t),
        Err(e) => return all_failed(&[path], &format!("task not built: {e}")),
    };
    let before: Vec<Rows> =
        futures::future::join_all(cases().into_iter().map(|c| source_rows(&src, c))).await;
    let handle = task.handle();
    let runner = {
        let task = task.clone();
        tokio::spawn(async move { task.run().await })
    };
    if let Err(e) = dts_testkit::try_wait_incremental(&handle, Duration::from_secs(120)).await {
        return all_failed(&[path], &e);
    }
    let mut s = connect(&env("DTS_TEST_SOURCE_URL")).await;
    for case in cases() {
        rotate(&mut s, &src, case).await;
        exec(
            &mut s,
            &format!("DELETE FROM `{src}`.`{}` WHERE id = 1", case.table()),
        )
        .await;
    }
    let after: Vec<Rows> =
        futures::future::join_all(cases().into_iter().map(|c| source_rows(&src, c))).await;
    let mut deleted_before: Vec<Rows> = Vec::new();
    // The deleted row's last image is its rotated values: the row of id 1 after the update
    // (computed from the declared rows, since it is gone from the source now).
    for (case, rows) in cases().into_iter().zip(&before) {
        let next = rows.get("2").cloned().unwrap_or_default();
        let mut m = Rows::new();
        // Row 1 took row 2's values; the on-update columns cannot be recomputed, so they are
        // left out of the delete check (`None` marks "not compared").
        let auto = case.columns.contains("ON UPDATE");
        m.insert(
            "1".into(),
            next.into_iter()
                .enumerate()
                .map(|(i, v)| {
                    if auto && i + 1 == case.compared().len() {
                        Some("*".into())
                    } else {
                        v
                    }
                })
                .collect(),
        );
        deleted_before.push(m);
    }
    let expected: usize = before.iter().map(|r| r.len() * 2 + 1).sum();
    let records = tokio::task::spawn_blocking({
        let topic = topic.clone();
        move || consume(&brokers, &topic, expected)
    })
    .await
    .unwrap();
    let status = handle.status();
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    drop_dbs(&src, &src).await;
    let records = match records {
        Ok(r) => r,
        Err(e) => {
            let failure = status
                .failure()
                .map(|(s, m)| format!("; task failed in {s}: {m}"))
                .unwrap_or_default();
            return all_failed(&[path], &format!("{e}{failure}"));
        }
    };
    let mut out = Outcomes::new();
    for (i, case) in cases().into_iter().enumerate() {
        let compared = case.compared();
        let decoded: Vec<Decoded> = records
            .iter()
            .filter_map(|r| decode(format, r, &src, case, &compared).transpose())
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| {
                vec![Decoded {
                    table: format!("<{e}>"),
                    op: Op::Insert,
                    image: BTreeMap::new(),
                }]
            });
        let o = check_case(
            case,
            &compared,
            &decoded,
            &before[i],
            &after[i],
            &deleted_before[i],
        );
        out.insert(
            (path, case.name),
            o.map_err(|e| format!("{e} (task status: {:?})", status.failure())),
        );
    }
    out
}

fn check_case(
    case: &TypeCase,
    compared: &[(String, Family)],
    decoded: &[Decoded],
    before: &Rows,
    after: &Rows,
    deleted: &Rows,
) -> Result<(), String> {
    if let Some(bad) = decoded.iter().find(|d| d.table.starts_with('<')) {
        return Err(format!("a record did not decode: {}", bad.table));
    }
    let table = case.table();
    let mine: Vec<&Decoded> = decoded.iter().filter(|d| d.table == table).collect();
    let image_rows = |op: Op| -> Rows {
        mine.iter()
            .filter(|d| d.op == op)
            .map(|d| {
                let key = d.image.get("id").cloned().flatten().unwrap_or_default();
                (
                    key,
                    compared
                        .iter()
                        .map(|(c, _)| d.image.get(c).cloned().flatten())
                        .collect(),
                )
            })
            .collect()
    };
    let inserts = image_rows(Op::Insert);
    if &inserts != before {
        return Err(format!("snapshot records: {}", diff_rows(before, &inserts)));
    }
    let updates = image_rows(Op::Update);
    let want_updates: Rows = after
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain(deleted.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    let updates_cmp = mask_auto(&updates, &want_updates);
    if updates_cmp != want_updates {
        return Err(format!(
            "update records (after images): {}",
            diff_rows(&want_updates, &updates_cmp)
        ));
    }
    let deletes = mask_auto(&image_rows(Op::Delete), deleted);
    if &deletes != deleted {
        return Err(format!(
            "delete records (before images): {}",
            diff_rows(deleted, &deletes)
        ));
    }
    Ok(())
}

/// Replaces, in `got`, each value the expectation marks `*` (not recomputable) by `*`.
fn mask_auto(got: &Rows, want: &Rows) -> Rows {
    got.iter()
        .map(|(k, vals)| {
            let w = want.get(k);
            let vals = vals
                .iter()
                .enumerate()
                .map(|(i, v)| match w.and_then(|w| w.get(i)) {
                    Some(Some(star)) if star == "*" => Some("*".to_string()),
                    _ => v.clone(),
                })
                .collect();
            (k.clone(), vals)
        })
        .collect()
}

fn diff_rows(want: &Rows, got: &Rows) -> String {
    let w: Vec<_> = want.iter().collect();
    let g: Vec<_> = got.iter().collect();
    diff(&w, &g)
}

/// Every record of partition 0 of `topic`, once at least `expect` arrived and none came for 3 s.
fn consume(brokers: &str, topic: &str, expect: usize) -> Result<Vec<Vec<u8>>, String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("tm-{topic}"))
        .set("enable.auto.commit", "false")
        .set("fetch.message.max.bytes", "20000000")
        .set("fetch.max.bytes", "30000000")
        .set("receive.message.max.bytes", "40000000")
        .create()
        .map_err(|e| e.to_string())?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .map_err(|e| e.to_string())?;
    consumer.assign(&tpl).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                out.push(m.payload().unwrap_or_default().to_vec());
                quiet_since = Instant::now();
            }
            Some(Err(e)) => return Err(format!("consume: {e}")),
            None if out.len() >= expect && quiet_since.elapsed() > Duration::from_secs(3) => {
                return Ok(out)
            }
            None => {}
        }
    }
    if out.len() >= expect {
        Ok(out)
    } else {
        Err(format!(
            "only {} of at least {expect} records arrived in 120 s",
            out.len()
        ))
    }
}

/// Decodes one record; `None` for records of other tables, DDL and checkpoints.
fn decode(
    format: KafkaDataFormat,
    raw: &[u8],
    db: &str,
    case: &TypeCase,
    compared: &[(String, Family)],
) -> Result<Option<Decoded>, String> {
    let mut families: Vec<(String, Family)> = vec![("id".into(), Family::Int)];
    families.extend(compared.iter().cloned());
    match format {
        KafkaDataFormat::DtsAvro => decode_avro(raw, db, case, &families),
        _ => {
            let m: serde_json::Value =
                serde_json::from_slice(raw).map_err(|e| format!("not JSON: {e}"))?;
            decode_json(format, &m, db, case, &families)
        }
    }
}

fn decode_json(
    format: KafkaDataFormat,
    m: &serde_json::Value,
    db: &str,
    case: &TypeCase,
    families: &[(String, Family)],
) -> Result<Option<Decoded>, String> {
    let table = case.table();
    let (t, op, image) = match format {
        KafkaDataFormat::CanalJson => {
            if m["isDdl"] != false || m["database"] != db {
                return Ok(None);
            }
            let op = match m["type"].as_str() {
                Some("INSERT") => Op::Insert,
                Some("UPDATE") => Op::Update,
                Some("DELETE") => Op::Delete,
                _ => return Ok(None),
            };
            (
                m["table"].as_str().unwrap_or_default().to_string(),
                op,
                &m["data"][0],
            )
        }
        KafkaDataFormat::ShareplexJson => {
            let op = match m["meta"]["op"].as_str() {
                Some("ins") => Op::Insert,
                Some("upd") => Op::Update,
                Some("del") => Op::Delete,
                _ => return Ok(None),
            };
            let full = m["meta"]["table"].as_str().unwrap_or_default();
            let Some(t) = full.strip_prefix(&format!("{db}.")) else {
                return Ok(None);
            };
            (t.to_string(), op, &m["data"])
        }
        KafkaDataFormat::DebeziumJson => {
            if m["source"]["db"] != db {
                return Ok(None);
            }
            let (op, image) = match m["op"].as_str() {
                Some("r") | Some("c") => (Op::Insert, &m["after"]),
                Some("u") => (Op::Update, &m["after"]),
                Some("d") => (Op::Delete, &m["before"]),
                _ => return Ok(None),
            };
            (
                m["source"]["table"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                op,
                image,
            )
        }
        KafkaDataFormat::DtsAvro => unreachable!(),
    };
    if t != table {
        return Ok(None);
    }
    let mut out = BTreeMap::new();
    for (col, family) in families {
        let v = &image[col.as_str()];
        let canon = if v.is_null() {
            None
        } else if format == KafkaDataFormat::DebeziumJson {
            Some(debezium_value(*family, v)?)
        } else {
            let text = v
                .as_str()
                .ok_or_else(|| format!("{col}: not a string: {v}"))?;
            Some(match family {
                Family::Bit => text.to_string(),
                f => canon::of_text(*f, text),
            })
        };
        out.insert(col.clone(), canon);
    }
    Ok(Some(Decoded {
        table: t,
        op,
        image: out,
    }))
}

fn debezium_value(family: Family, v: &serde_json::Value) -> Result<String, String> {
    let text = || {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("not a string: {v}"))
    };
    Ok(match family {
        Family::Int | Family::Bit | Family::Year => v.to_string(),
        Family::Float | Family::Double => canon::of_text(family, &v.to_string()),
        Family::Time => {
            canon::of_time_micros(v.as_i64().ok_or_else(|| format!("not micros: {v}"))?)
        }
        Family::Geometry => {
            let wkb = base64::engine::general_purpose::STANDARD
                .decode(v["wkb"].as_str().unwrap_or_default())
                .map_err(|e| format!("wkb: {e}"))?;
            let srid = v["srid"].as_u64().ok_or_else(|| format!("no srid: {v}"))? as u32;
            let mut b = srid.to_le_bytes().to_vec();
            b.extend(wkb);
            canon::hex(&b)
        }
        f => canon::of_text(f, &text()?),
    })
}

fn decode_avro(
    raw: &[u8],
    db: &str,
    case: &TypeCase,
    families: &[(String, Family)],
) -> Result<Option<Decoded>, String> {
    let v = apache_avro::from_avro_datum(dts_kafka::dts_record_schema(), &mut &raw[..], None)
        .map_err(|e| format!("not a DTS Avro record: {e}"))?;
    let Avro::Record(fields) = v else {
        return Err("not a record".into());
    };
    let f: BTreeMap<String, Avro> = fields.into_iter().collect();
    let op = match &f["operation"] {
        Avro::Enum(_, s) if s == "INSERT" => Op::Insert,
        Avro::Enum(_, s) if s == "UPDATE" => Op::Update,
        Avro::Enum(_, s) if s == "DELETE" => Op::Delete,
        _ => return Ok(None),
    };
    let Avro::Union(1, name) = &f["objectName"] else {
        return Ok(None);
    };
    let Avro::String(name) = name.as_ref() else {
        return Ok(None);
    };
    if *name != format!("{db}.{}", case.table()) {
        return Ok(None);
    }
    let Avro::Union(2, cols) = &f["fields"] else {
        return Err(format!("no field list: {:?}", f["fields"]));
    };
    let Avro::Array(cols) = cols.as_ref() else {
        return Err("field list is not an array".into());
    };
    let names: Vec<String> = cols
        .iter()
        .map(|c| match c {
            Avro::Record(r) => r
                .iter()
                .find(|(k, _)| k == "name")
                .and_then(|(_, v)| match v {
                    Avro::String(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default(),
            _ => String::new(),
        })
        .collect();
    let image = if op == Op::Delete {
        &f["beforeImages"]
    } else {
        &f["afterImages"]
    };
    let Avro::Union(2, items) = image else {
        return Err(format!("no image: {image:?}"));
    };
    let Avro::Array(items) = items.as_ref() else {
        return Err("image is not an array".into());
    };
    let mut out = BTreeMap::new();
    for (col, family) in families {
        let i = names
            .iter()
            .position(|n| n == col)
            .ok_or_else(|| format!("column {col} missing from the field list {names:?}"))?;
        out.insert(col.clone(), avro_value(*family, &items[i])?);
    }
    Ok(Some(Decoded {
        table: case.table(),
        op,
        image: out,
    }))
}

fn rec(v: &Avro) -> BTreeMap<&str, &Avro> {
    match v {
        Avro::Record(f) => f.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        _ => BTreeMap::new(),
    }
}

fn avro_str(v: Option<&&Avro>) -> String {
    match v {
        Some(Avro::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn avro_bytes(v: Option<&&Avro>) -> Vec<u8> {
    match v {
        Some(Avro::Bytes(b)) => b.clone(),
        _ => Vec::new(),
    }
}

fn avro_opt_int(v: Option<&&Avro>) -> Option<i64> {
    match v {
        Some(Avro::Union(1, i)) => match i.as_ref() {
            Avro::Int(i) => Some(i64::from(*i)),
            Avro::Long(i) => Some(*i),
            _ => None,
        },
        _ => None,
    }
}

fn avro_value(family: Family, v: &Avro) -> Result<Option<String>, String> {
    let Avro::Union(branch, inner) = v else {
        return Err(format!("image element is not a union: {v:?}"));
    };
    let r = rec(inner);
    Ok(Some(match branch {
        0 => return Ok(None),
        1 => avro_str(r.get("value")),
        2 => {
            let b = avro_bytes(r.get("value"));
            match family {
                Family::Binary => canon::hex(&b),
                f => canon::of_text(f, &String::from_utf8_lossy(&b)),
            }
        }
        3 => avro_str(r.get("value")),
        4 => match r.get("value") {
            Some(Avro::Double(d)) => canon::of_text(family, &d.to_string()),
            other => return Err(format!("float value {other:?}")),
        },
        5 => match (r.get("timestamp"), r.get("millis")) {
            (Some(Avro::Long(s)), Some(Avro::Int(us))) => canon::of_epoch(*s, *us as u32),
            other => return Err(format!("timestamp {other:?}")),
        },
        6 => {
            let p = |n: &str| avro_opt_int(r.get(n));
            match family {
                Family::Year => p("year").unwrap_or(-1).to_string(),
                Family::Date => format!(
                    "{:04}-{:02}-{:02}",
                    p("year").unwrap_or(-1),
                    p("month").unwrap_or(-1),
                    p("day").unwrap_or(-1)
                ),
                Family::Time => {
                    let parts =
                        [p("hour"), p("minute"), p("second"), p("millis")].map(|x| x.unwrap_or(0));
                    let negative = parts.iter().any(|x| *x < 0);
                    let us = ((parts[0].abs() * 60 + parts[1].abs()) * 60 + parts[2].abs())
                        * 1_000_000
                        + parts[3].abs();
                    canon::of_time_micros(if negative { -us } else { us })
                }
                f => canon::of_text(
                    f,
                    &format!(
                        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
                        p("year").unwrap_or(-1),
                        p("month").unwrap_or(-1),
                        p("day").unwrap_or(-1),
                        p("hour").unwrap_or(-1),
                        p("minute").unwrap_or(-1),
                        p("second").unwrap_or(-1),
                        p("millis").unwrap_or(0)
                    ),
                ),
            }
        }
        8 | 10 => canon::hex(&avro_bytes(r.get("value"))),
        11 => avro_str(r.get("value")),
        other => return Err(format!("unexpected union branch {other}: {inner:?}")),
    }))
}
