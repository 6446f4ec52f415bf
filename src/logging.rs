//! The log writer: records, JSON and text formats, rotation.
