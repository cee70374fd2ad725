//! dts-kafka (in construction).
