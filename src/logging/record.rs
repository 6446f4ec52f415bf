//! One log record: the fixed head of SPEC section 4 and the module's own fields.
//! Formats (JSON, text) write the head in a fixed order, then `fields` in the order
//! given, then the configured tags.

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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    Str(String),
    Bytes(Vec<u8>),
    Uint(u64),
    Bool(bool),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
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
    pub rule: Option<String>,
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
