//! The log writer: records, their JSON and text formats, level threshold, rotation.
//! One thread owns the writer (see `agent`); everything else hands it `Record`s.

mod fold;
mod json;
mod level;
mod record;
mod rotate;
mod text;
mod time;
mod users;
mod writer;

pub use fold::Folder;
#[cfg(test)]
pub use fold::FOLD_WINDOW;
pub use json::{write_json, write_json_user, write_value as write_json_value};
pub use level::Level;
pub use record::{Action, Recent, Record, Value};
pub use text::{write_text, write_text_user};
pub use time::write_rfc3339;
pub use users::UserNames;
pub use writer::{Format, LogWriter, Output, WriterOptions};
