//! dts-adb (in construction).
