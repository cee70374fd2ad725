//! The Kafka connector's factory for [`dts_core::build::TaskBuilder`]: [`KafkaSinkFactory`]
//! builds the [`KafkaSink`] of a `[destination] type = "kafka"` section. A Kafka topic cannot
//! be read back as rows, so the sink offers no verification reader (the builder then refuses
//! `[validation]`) and no assessment.

use crate::{KafkaDestination, KafkaSink, KafkaSinkOptions};
use async_trait::async_trait;
use dts_core::build::{unsupported, BuiltSink, SinkFactory, SinkRequest};
use dts_core::config::{DestinationKind, TaskConfig};
use dts_core::Error;
use std::sync::{Arc, OnceLock};

/// Builds the [`KafkaSink`] of a Kafka destination section. Keeps the sink it built, for hosts
/// that want the typed handle ([`KafkaSinkFactory::built`]).
#[derive(Clone, Default)]
pub struct KafkaSinkFactory {
    built: Arc<OnceLock<Arc<KafkaSink>>>,
}

impl KafkaSinkFactory {
    /// The sink this factory built, once it has.
    pub fn built(&self) -> Option<Arc<KafkaSink>> {
        self.built.get().cloned()
    }
}

#[async_trait]
impl SinkFactory for KafkaSinkFactory {
    fn kind(&self) -> DestinationKind {
        DestinationKind::Kafka
    }

    fn check(&self, config: &TaskConfig) -> Result<(), Error> {
        if config.validation.is_enabled() {
            return Err(unsupported(
                "validation",
                "data verification for this destination type (MySQL and AnalyticDB \
                 destinations only: a Kafka topic cannot be read back as rows)",
            ));
        }
        Ok(())
    }

    async fn build(&self, request: SinkRequest<'_>) -> Result<BuiltSink, Error> {
        let kafka = KafkaDestination::from_destination(&request.config.destination)?;
        let options = KafkaSinkOptions::from_config(&kafka, request.task_id);
        let sink = Arc::new(KafkaSink::connect(options).await?);
        let _ = self.built.set(sink.clone());
        Ok(BuiltSink {
            sink,
            filter: request.filter,
            verify_reader: None,
            repair_dialect: None,
            assessor: None,
        })
    }
}
