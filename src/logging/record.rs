//! One log record: the fixed head of SPEC section 4 and the module's own fields.
//! Formats (JSON, text) write the head in a fixed order, then `fields` in the order
//! given, then the configured tags.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use super::Level;

/// The decision a record reports; absent on life-cycle and agent records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// An audit rule matched an allowed operation.
    Allowed,
    /// Block mode would have denied the operation; monitor mode let it through.
    Monitor,
    /// The operation was denied with EPERM.
    Blocked,
    /// Detect: a detection that was let through.
    Alert,
    /// Detect: the task got SIGKILL (and the operation EPERM).
    Killed,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Allowed => "ALLOWED",
            Action::Monitor => "MONITOR",
            Action::Blocked => "BLOCKED",
            Action::Alert => "ALERT",
            Action::Killed => "KILLED",
        }
    }

    /// The level SPEC section 4 gives this action.
    pub fn level(self) -> Level {
        match self {
            Action::Allowed => Level::Info,
            Action::Monitor | Action::Blocked | Action::Alert | Action::Killed => Level::Warning,
        }
    }
}

/// A field value. `Bytes` is for what the kernel hands us (paths, comm, argv):
/// valid UTF-8 is written as is, other bytes are escaped, nothing is dropped.
/// `Shared` is the same value in one allocation that records share: what repeats
/// record after record (a process's comm, hostname, executable) is not allocated
/// and freed again for each (issue 20's audit pipeline: allocation was a fifth of
/// the agent's work per record). Both compare and hash as their bytes. `Text` is to
/// `Str` what `Shared` is to `Bytes` (the host identity every record carries).
#[derive(Clone, Debug)]
pub enum Value {
    Str(String),
    Text(Arc<str>),
    Bytes(Vec<u8>),
    Shared(Arc<SharedBytes>),
    Uint(u64),
    Bool(bool),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
}

impl Value {
    /// The bytes of a `Bytes` or `Shared` value.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(bytes) => Some(bytes),
            Value::Shared(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The text of a `Str` or `Text` value.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            Value::Text(text) => Some(text),
            _ => None,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Str(_) | Value::Text(_), _) => self.text() == other.text(),
            (Value::Uint(a), Value::Uint(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            _ => self.bytes().is_some_and(|a| other.bytes() == Some(a)),
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Str(_) | Value::Text(_) => (0u8, self.text()).hash(state),
            Value::Bytes(_) | Value::Shared(_) => (1u8, self.bytes()).hash(state),
            Value::Uint(number) => (2u8, number).hash(state),
            Value::Bool(flag) => (3u8, flag).hash(state),
            Value::List(items) => (4u8, items).hash(state),
            Value::Map(entries) => (5u8, entries).hash(state),
        }
    }
}

/// The bytes of a `Value::Shared`, with their JSON string kept beside them: escaped
/// once for all the records that carry them, not once per record.
#[derive(Debug)]
pub struct SharedBytes {
    bytes: Box<[u8]>,
    json: OnceLock<Box<[u8]>>,
}

impl SharedBytes {
    /// The JSON string of the bytes, `write` making it the first time.
    pub fn json(&self, write: impl FnOnce(&mut Vec<u8>, &[u8])) -> &[u8] {
        self.json.get_or_init(|| {
            let mut json = Vec::new();
            write(&mut json, &self.bytes);
            json.into()
        })
    }
}

impl std::ops::Deref for SharedBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// The last bytes one field was given, shared (`Value::Shared`): the next record with
/// the same bytes gets the same allocation.
#[derive(Default)]
pub struct Recent(Option<Arc<SharedBytes>>);

impl Recent {
    pub fn value(&mut self, bytes: &[u8]) -> Value {
        match &self.0 {
            Some(last) if ***last == *bytes => Value::Shared(last.clone()),
            _ => {
                let shared = Arc::new(SharedBytes { bytes: bytes.into(), json: OnceLock::new() });
                self.0 = Some(shared.clone());
                Value::Shared(shared)
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Record {
    pub time: SystemTime,
    pub level: Level,
    /// `file`, `network`, `process`, `mount` or `agent`.
    pub module: &'static str,
    pub op: &'static str,
    pub action: Option<Action>,
    /// The rule that decided, as written in the config.
    pub rule: Option<Arc<str>>,
    pub fields: Vec<(&'static str, Value)>,
    /// An event the kernel emitted (not the agent's or a module's own record): the
    /// accounting counts these, emitted = written + lost.
    pub event: bool,
}

impl Record {
    pub fn new(level: Level, module: &'static str, op: &'static str) -> Record {
        Record {
            time: SystemTime::now(),
            level,
            module,
            op,
            action: None,
            rule: None,
            fields: Vec::new(),
            event: false,
        }
    }

    pub fn field(mut self, name: &'static str, value: Value) -> Record {
        self.fields.push((name, value));
        self
    }

    /// How many events this record stands for: 0 for a record that is not an event, the
    /// `count` of a folded record (see `fold`), else 1. The writer's accounting counts
    /// events, not lines.
    pub fn events(&self) -> u64 {
        if !self.event {
            return 0;
        }
        match self.fields.iter().rev().find(|(name, _)| *name == COUNT_FIELD) {
            Some((_, Value::Uint(count))) => *count,
            _ => 1,
        }
    }
}

/// The field a folded record carries: the number of identical events it stands for.
pub const COUNT_FIELD: &str = "count";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash(value: &Value) -> u64 {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn shared_bytes_are_the_same_value_as_bytes_and_repeats_share_one_allocation() {
        let mut recent = Recent::default();
        let first = recent.value(b"sg-loop");
        let bytes = Value::Bytes(b"sg-loop".to_vec());
        assert_eq!(first, bytes);
        assert_eq!(bytes, first);
        assert_eq!(hash(&first), hash(&bytes));
        assert_ne!(first, Value::Str("sg-loop".into()));
        let (Value::Shared(a), Value::Shared(b)) = (first, recent.value(b"sg-loop")) else { panic!("not shared") };
        assert!(Arc::ptr_eq(&a, &b));
        let Value::Shared(c) = recent.value(b"sh") else { panic!("not shared") };
        assert_eq!(&**c, b"sh");
    }
}
