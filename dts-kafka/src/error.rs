//! Turning librdkafka errors into dts errors: what a retry can fix (the broker is unreachable,
//! a leader is moving, a request timed out) becomes [`Error::Connection`], retried within the
//! task's connection retry window; the rest is definite and names the object.

use dts_core::Error;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// True for error codes a later attempt may not hit: transport failures, timeouts, leader
/// elections, under-replication, a producer that must be re-created.
pub(crate) fn is_retryable(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::BrokerTransportFailure
            | C::AllBrokersDown
            | C::MessageTimedOut
            | C::OperationTimedOut
            | C::RequestTimedOut
            | C::TimedOutQueue
            | C::NetworkException
            | C::Resolve
            | C::QueueFull
            | C::LeaderNotAvailable
            | C::NotLeaderForPartition
            | C::BrokerNotAvailable
            | C::ReplicaNotAvailable
            | C::NotEnoughReplicas
            | C::NotEnoughReplicasAfterAppend
            | C::NotController
            | C::CoordinatorLoadInProgress
            | C::CoordinatorNotAvailable
            | C::NotCoordinator
            | C::KafkaStorageError
            | C::FencedLeaderEpoch
            | C::UnknownLeaderEpoch
            | C::OffsetNotAvailable
            | C::PreferredLeaderNotAvailable
            | C::ThrottlingQuotaExceeded
            | C::UnknownTopicOrPartition
            | C::OutOfOrderSequenceNumber
            | C::UnknownProducerId
            | C::InvalidProducerEpoch
            | C::ProducerFenced
            | C::InvalidProducerIdMapping
            | C::Fatal
            | C::PurgeQueue
            | C::PurgeInflight
            | C::Retry
            | C::WaitCache
            | C::Interrupted
    )
}

/// The librdkafka error code of an error, if it has one.
pub(crate) fn code_of(e: &KafkaError) -> Option<RDKafkaErrorCode> {
    e.rdkafka_error_code()
}

/// A dts error for a failed Kafka operation on `object` against `endpoint` (the brokers).
pub(crate) fn classify(endpoint: &str, object: &str, e: &KafkaError) -> Error {
    let error = match code_of(e) {
        Some(code) if is_retryable(code) => Error::connection(endpoint, format!("{object}: {e}")),
        _ => Error::definite(object, format!("kafka error: {e}")),
    };
    // The librdkafka error stays reachable as the source.
    error.caused_by(e.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::ErrorClass;

    #[test]
    fn transport_errors_are_connection_errors_others_definite() {
        let down = KafkaError::MessageProduction(RDKafkaErrorCode::AllBrokersDown);
        let e = classify("k:9092", "topic t", &down);
        assert_eq!(e.class(), ErrorClass::Connection);
        assert!(e.to_string().contains("k:9092") && e.to_string().contains("topic t"));

        let timeout = KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut);
        assert!(classify("k", "x", &timeout).is_retryable());

        let auth = KafkaError::MessageProduction(RDKafkaErrorCode::TopicAuthorizationFailed);
        let e = classify("k", "topic t", &auth);
        assert_eq!(e.class(), ErrorClass::Definite);
        assert!(e.to_string().contains("topic t"), "{e}");

        let size = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        assert!(!classify("k", "x", &size).is_retryable());
        let source = std::error::Error::source(&classify("k", "x", &size))
            .expect("the librdkafka error is the source")
            .to_string();
        assert_eq!(source, size.to_string());
    }
}
