//! The log writer: records, their JSON and text formats, level threshold, rotation.
//! One thread owns the writer (see `agent`); everything else hands it `Record`s.

mod level;
mod record;

pub use level::Level;
pub use record::{Action, Record, Value};
