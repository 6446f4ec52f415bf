//! The schema: a walk over the `toml_edit` document that checks every key and value
//! against SPEC section 3 and builds `Config`. A bad value is recorded as a `Problem` at
//! its span and replaced by its default, so one run reports every problem it can.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_edit::{ArrayOfTables, ImDocument, Item, Table, TableLike, Value};

use super::error::{ConfigError, Lines, Problem};
use super::values;
use super::{
    AgentConfig, AllowDeny, Config, DetectConfig, Detection, Entry, Exclusion, FileConfig, FileOp, FileRule,
    InventoryConfig, LogConfig, LogFormat, LogOutput, Measure, Mode, MountConfig, NetworkConfig, NetworkOp, Op,
    OutputConfig, PortRange, ProcessConfig, ProcessOp, Response, Target, TelemetryConfig,
};
use crate::logging::Level;

const ROOT_KEYS: &[&str] =
    &["log", "file", "network", "process", "mount", "detect", "inventory", "telemetry", "output", "agent"];
const OUTPUT_KEYS: &[&str] = &["journald", "syslog", "metrics"];
const AGENT_KEYS: &[&str] = &["protect", "persist"];
const LOG_KEYS: &[&str] = &["format", "output", "max_size", "max_age", "max_files", "level", "tags", "stats_interval"];
const FILE_KEYS: &[&str] = &["enable", "mode", "target", "ops", "allow", "deny", "audit"];
const FILE_RULE_KEYS: &[&str] = &["path", "ops", "uid", "gid", "command"];
const NETWORK_KEYS: &[&str] = &["enable", "mode", "target", "ops", "cidr", "domain", "command", "uid", "gid", "port"];
const PROCESS_KEYS: &[&str] = &["enable", "mode", "target", "ops", "allow", "deny"];
const MOUNT_KEYS: &[&str] = &["enable", "mode", "target", "deny"];
const INVENTORY_KEYS: &[&str] = &["enable", "interval"];
const TELEMETRY_KEYS: &[&str] = &["enable", "interval", "top", "measures", "max_processes", "runq_sample"];
const DETECT_KEYS: &[&str] = &["enable", "mode", "target", "response", "exclude", "disable", "default_exclude"];
const EXCLUDE_KEYS: &[&str] = &["detection", "command", "uid"];
const ALLOW_DENY_KEYS: &[&str] = &["allow", "deny"];

const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The largest uid/gid; `(uid_t)-1` means "no id" to the kernel.
const MAX_ID: i64 = u32::MAX as i64 - 1;

pub(super) fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    let doc = match ImDocument::parse(text) {
        Ok(doc) => doc,
        Err(err) => {
            let offset = err.span().map_or(0, |span| span.start);
            let problem = Problem::at(text, origin, offset, String::new(), err.message().to_string());
            return Err(ConfigError::Invalid { problems: vec![problem] });
        }
    };
    let mut reader = Reader { text, origin, lines: None, problems: Vec::new() };
    let root = Node { kind: Kind::Table(doc.as_table()), span: 0..0, path: String::new() };
    let config = reader.config(&root);
    if reader.problems.is_empty() {
        Ok(config)
    } else {
        let mut problems = reader.problems;
        problems.sort_by_key(|problem| (problem.line, problem.column));
        Err(ConfigError::Invalid { problems })
    }
}

/// A key's value or an array element, with where it is and the key path that names it.
#[derive(Clone)]
struct Node<'d> {
    kind: Kind<'d>,
    span: Range<usize>,
    path: String,
}

#[derive(Clone, Copy)]
enum Kind<'d> {
    Value(&'d Value),
    /// A `[header]` table, an implicit one, or one element of `[[header]]`.
    Table(&'d Table),
    /// `[[header]]`: an array of tables.
    Tables(&'d ArrayOfTables),
}

impl<'d> Node<'d> {
    /// "a string", "an integer", ... for "expected X, found Y".
    fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Value(Value::String(_)) => "a string",
            Kind::Value(Value::Integer(_)) => "an integer",
            Kind::Value(Value::Float(_)) => "a float",
            Kind::Value(Value::Boolean(_)) => "a boolean",
            Kind::Value(Value::Datetime(_)) => "a datetime",
            Kind::Value(Value::Array(_)) | Kind::Tables(_) => "an array",
            Kind::Value(Value::InlineTable(_)) | Kind::Table(_) => "a table",
        }
    }

    fn as_str(&self) -> Option<&'d str> {
        match self.kind {
            Kind::Value(Value::String(s)) => Some(s.value().as_str()),
            _ => None,
        }
    }

    fn as_integer(&self) -> Option<i64> {
        match self.kind {
            Kind::Value(Value::Integer(i)) => Some(*i.value()),
            _ => None,
        }
    }

    fn as_table(&self) -> Option<&'d dyn TableLike> {
        match self.kind {
            Kind::Table(table) => Some(table),
            Kind::Value(Value::InlineTable(table)) => Some(table),
            _ => None,
        }
    }

    fn elements(&self) -> Option<Vec<Node<'d>>> {
        let element = |index: usize, kind: Kind<'d>, span: Option<Range<usize>>| Node {
            kind,
            span: span.unwrap_or_else(|| self.span.clone()),
            path: format!("{}[{index}]", self.path),
        };
        match self.kind {
            Kind::Value(Value::Array(array)) => {
                Some(array.iter().enumerate().map(|(i, value)| element(i, Kind::Value(value), value.span())).collect())
            }
            Kind::Tables(tables) => {
                Some(tables.iter().enumerate().map(|(i, table)| element(i, Kind::Table(table), table.span())).collect())
            }
            _ => None,
        }
    }
}

/// A table whose keys have been checked against the schema.
struct Fields<'d> {
    node: Node<'d>,
    table: &'d dyn TableLike,
}

impl<'d> Fields<'d> {
    fn get(&self, key: &str) -> Option<Node<'d>> {
        let (name, item) = self.table.get_key_value(key)?;
        let kind = match item {
            Item::None => return None,
            Item::Value(value) => Kind::Value(value),
            Item::Table(table) => Kind::Table(table),
            Item::ArrayOfTables(tables) => Kind::Tables(tables),
        };
        // Implicit tables (`[network.cidr]` makes `network` one) have no span of their own.
        let span = item.span().or_else(|| name.span()).unwrap_or_else(|| self.node.span.clone());
        Some(Node { kind, span, path: key_path(&self.node.path, key) })
    }
}

/// `parent.key`, with the key quoted when it is not a bare TOML key.
fn key_path(parent: &str, key: &str) -> String {
    let bare = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let key = if bare { key.to_string() } else { format!("{key:?}") };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

struct Reader<'t> {
    text: &'t str,
    origin: &'t Path,
    /// Found at the first problem.
    lines: Option<Lines>,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn error(&mut self, node: &Node, message: impl Into<String>) {
        self.error_at(node.span.start, node.path.clone(), message.into());
    }

    fn error_at(&mut self, offset: usize, key: String, message: String) {
        let lines = self.lines.get_or_insert_with(|| Lines::new(self.text));
        self.problems.push(Problem::at_line(self.text, lines, self.origin, offset, key, message));
    }

    fn expected<T>(&mut self, node: &Node, expected: &str) -> Option<T> {
        self.error(node, format!("expected {expected}, found {}", node.type_name()));
        None
    }

    /// The source text of a node: what the log's `rule` field shows. An element of
    /// `[[file.deny]]` has no one-line source, so it is written as the inline table
    /// it is equivalent to.
    fn written(&self, node: &Node) -> String {
        let source = |span: Option<Range<usize>>| span.and_then(|span| self.text.get(span));
        match node.kind {
            Kind::Value(_) => source(Some(node.span.clone())).unwrap_or_default().to_string(),
            Kind::Table(table) => {
                let pairs: Vec<String> = table
                    .iter()
                    .map(|(key, item)| {
                        let key = source(table.key(key).and_then(|key| key.span())).unwrap_or(key);
                        format!("{key} = {}", source(item.span()).unwrap_or("..."))
                    })
                    .collect();
                format!("{{ {} }}", pairs.join(", "))
            }
            Kind::Tables(_) => String::new(),
        }
    }

    /// Checks that `node` is a table holding only `keys`; each other key is a problem at
    /// the key itself.
    fn table<'d>(&mut self, node: &Node<'d>, keys: &[&str]) -> Option<Fields<'d>> {
        let Some(table) = node.as_table() else {
            return self.expected(node, "a table");
        };
        for (name, _) in table.iter() {
            if !keys.contains(&name) {
                let offset = table.key(name).and_then(|key| key.span()).map_or(node.span.start, |span| span.start);
                let message = format!("unknown key (expected one of: {})", keys.join(", "));
                self.error_at(offset, key_path(&node.path, name), message);
            }
        }
        Some(Fields { node: node.clone(), table })
    }

    /// Reads `key` of `fields` with `read` when it is present.
    fn field<'d, T>(
        &mut self,
        fields: &Fields<'d>,
        key: &str,
        read: impl FnOnce(&mut Self, &Node<'d>) -> Option<T>,
    ) -> Option<T> {
        let node = fields.get(key)?;
        read(self, &node)
    }

    fn boolean(&mut self, node: &Node) -> Option<bool> {
        match node.kind {
            Kind::Value(Value::Boolean(b)) => Some(*b.value()),
            _ => self.expected(node, "a boolean (true or false)"),
        }
    }

    fn string<'d>(&mut self, node: &Node<'d>) -> Option<&'d str> {
        match node.as_str() {
            Some(text) => Some(text),
            None => self.expected(node, "a string"),
        }
    }

    /// A string checked and converted by one of the `values` parsers.
    fn parsed<T>(&mut self, node: &Node, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let text = self.string(node)?;
        parse(text).map_err(|message| self.error(node, message)).ok()
    }

    fn array<'d>(&mut self, node: &Node<'d>) -> Option<Vec<Node<'d>>> {
        match node.elements() {
            Some(elements) => Some(elements),
            None => self.expected(node, "an array"),
        }
    }

    /// One of `choices`, in any case.
    fn keyword<T: Copy>(&mut self, node: &Node, what: &str, choices: &[(&str, T)]) -> Option<T> {
        let text = self.string(node)?;
        if let Some(&(_, value)) = choices.iter().find(|(name, _)| name.eq_ignore_ascii_case(text)) {
            return Some(value);
        }
        let names: Vec<String> = choices.iter().map(|(name, _)| format!("{name:?}")).collect();
        self.error(node, format!("invalid {what} {text:?} (use {})", names.join(" or ")));
        None
    }

    fn config(&mut self, root: &Node) -> Config {
        let Some(root) = self.table(root, ROOT_KEYS) else {
            return Config::default();
        };
        Config {
            agent: self.agent(&root),
            log: self.log(&root),
            file: self.file(&root),
            network: self.network(&root),
            process: self.process(&root),
            mount: self.mount(&root),
            detect: self.detect(&root),
            inventory: self.inventory(&root),
            telemetry: self.telemetry(&root),
            output: self.output(&root),
        }
    }

    // ---- [output]

    fn output(&mut self, root: &Fields) -> OutputConfig {
        let Some(fields) = self.section(root, "output", OUTPUT_KEYS) else {
            return OutputConfig::default();
        };
        OutputConfig {
            journald: self.field(&fields, "journald", Self::boolean).unwrap_or(false),
            syslog: self.field(&fields, "syslog", |r, n| r.parsed(n, values::syslog_target)).flatten(),
            metrics: self.field(&fields, "metrics", |r, n| r.parsed(n, values::metrics_target)).flatten(),
        }
    }

    fn section<'d>(&mut self, root: &Fields<'d>, name: &str, keys: &[&str]) -> Option<Fields<'d>> {
        let node = root.get(name)?;
        self.table(&node, keys)
    }

    // ---- [agent]

    // ---- [log]

    fn log(&mut self, root: &Fields) -> LogConfig {
        let default = LogConfig::default();
        let Some(fields) = self.section(root, "log", LOG_KEYS) else {
            return default;
        };
        let formats = [("json", LogFormat::Json), ("text", LogFormat::Text)];
        LogConfig {
            format: self.field(&fields, "format", |r, n| r.keyword(n, "format", &formats)).unwrap_or(default.format),
            output: self.field(&fields, "output", Self::log_output).unwrap_or(default.output),
            max_size: self.field(&fields, "max_size", Self::size).unwrap_or(default.max_size),
            max_age: self.field(&fields, "max_age", Self::interval).unwrap_or(default.max_age),
            max_files: self.field(&fields, "max_files", Self::count).unwrap_or(default.max_files),
            level: self.field(&fields, "level", Self::level).unwrap_or(default.level),
            tags: self.field(&fields, "tags", Self::tags).unwrap_or(default.tags),
            stats_interval: self.field(&fields, "stats_interval", Self::interval).unwrap_or(default.stats_interval),
        }
    }

    fn log_output(&mut self, node: &Node) -> Option<LogOutput> {
        let text = self.string(node)?;
        if text.eq_ignore_ascii_case("stdout") {
            return Some(LogOutput::Stdout);
        }
        match values::path(text) {
            // `run` could not open it: refused here, where the line is known.
            Ok(path) if Path::new(&path).is_dir() => {
                self.error(node, format!("{path} is a directory (output is \"stdout\" or an absolute file path)"));
                None
            }
            Ok(path) => Some(LogOutput::File(PathBuf::from(path))),
            Err(message) => {
                self.error(node, format!("{message} (output is \"stdout\" or an absolute file path)"));
                None
            }
        }
    }

    /// Bytes: an integer, or a string with a unit.
    fn size(&mut self, node: &Node) -> Option<u64> {
        let bytes = match node.as_integer() {
            Some(number) => match u64::try_from(number) {
                Ok(bytes) => bytes,
                Err(_) => {
                    self.error(node, format!("size must not be negative: {number}"));
                    return None;
                }
            },
            None if node.as_str().is_some() => self.parsed(node, values::size)?,
            None => return self.expected(node, "a size (a number of bytes, or a string like \"100MB\")"),
        };
        if bytes == 0 {
            self.error(node, "size must be greater than 0");
            return None;
        }
        Some(bytes)
    }

    /// A duration of at least one second.
    fn interval(&mut self, node: &Node) -> Option<Duration> {
        if node.as_str().is_none() {
            return self.expected(node, "a duration string like \"30s\", \"15m\", \"12h\" or \"365d\"");
        }
        let duration = self.parsed(node, values::duration)?;
        if duration < MIN_INTERVAL {
            self.error(node, "duration must be at least 1s");
            return None;
        }
        Some(duration)
    }

    fn bounded(&mut self, node: &Node, min: u32, max: u32) -> Option<u32> {
        let value = self.count(node)?;
        if value < min || value > max {
            self.error(node, format!("must be between {min} and {max}: {value}"));
            return None;
        }
        Some(value)
    }

    fn count(&mut self, node: &Node) -> Option<u32> {
        let number = match node.as_integer() {
            Some(number) => number,
            None => return self.expected(node, "an integer"),
        };
        match u32::try_from(number) {
            Ok(count) => Some(count),
            Err(_) => {
                self.error(node, format!("must be between 0 and {}: {number}", u32::MAX));
                None
            }
        }
    }

    /// A level name in any case, or its number, as a string or an integer.
    fn level(&mut self, node: &Node) -> Option<Level> {
        let parsed = match (node.as_str(), node.as_integer()) {
            (Some(text), _) => text.parse::<Level>(),
            (None, Some(number)) => number.to_string().parse::<Level>(),
            (None, None) => return self.expected(node, "a level name or number"),
        };
        parsed.map_err(|message| self.error(node, message)).ok()
    }

    fn tags(&mut self, node: &Node) -> Option<Vec<(String, String)>> {
        let Some(table) = node.as_table() else {
            return self.expected(node, "a table of strings like { env = \"prod\" }");
        };
        let fields = Fields { node: node.clone(), table };
        let mut tags = BTreeMap::new();
        for (name, _) in table.iter() {
            let Some(value) = fields.get(name) else { continue };
            if name.is_empty() {
                self.error(&value, "tag name must not be empty");
            } else if let Some(text) = self.string(&value) {
                tags.insert(name.to_string(), text.to_string());
            }
        }
        Some(tags.into_iter().collect())
    }

    // ---- what every module section has

    fn enable(&mut self, fields: &Fields) -> bool {
        // Present section, no `enable`: on (see the module documentation).
        self.field(fields, "enable", Self::boolean).unwrap_or(true)
    }

    fn mode(&mut self, fields: &Fields) -> Mode {
        let modes = [("monitor", Mode::Monitor), ("block", Mode::Block)];
        self.field(fields, "mode", |r, n| r.keyword(n, "mode", &modes)).unwrap_or_default()
    }

    fn target(&mut self, fields: &Fields) -> Target {
        let targets = [("all", Target::All), ("host", Target::Host), ("container", Target::Container)];
        self.field(fields, "target", |r, n| r.keyword(n, "target", &targets)).unwrap_or_default()
    }

    fn ops<T: Op>(&mut self, node: &Node) -> Option<BTreeSet<T>> {
        let mut ops = BTreeSet::new();
        for element in self.array(node)? {
            let Some(name) = self.string(&element) else { continue };
            match T::from_name(name) {
                Some(op) => {
                    ops.insert(op);
                }
                None => {
                    let names: Vec<&str> = T::ALL.iter().map(|op| op.name()).collect();
                    self.error(&element, format!("unknown {} op {name:?} (use {})", T::MODULE, names.join(", ")));
                }
            }
        }
        Some(ops)
    }

    fn module_ops<T: Op>(&mut self, fields: &Fields) -> BTreeSet<T> {
        self.field(fields, "ops", Self::ops::<T>).unwrap_or_else(T::all)
    }

    /// Every element of an array read with `read`, each keeping its source text.
    fn entries<'d, T>(
        &mut self,
        node: &Node<'d>,
        mut read: impl FnMut(&mut Self, &Node<'d>) -> Option<T>,
    ) -> Option<Vec<Entry<T>>> {
        let elements = self.array(node)?;
        let entries = elements
            .iter()
            .filter_map(|element| {
                let value = read(self, element)?;
                Some(Entry { value, text: self.written(element) })
            })
            .collect();
        Some(entries)
    }

    /// `{ allow = [...], deny = [...] }`, each list defaulting to `defaults`' own.
    fn allow_deny<'d, T>(
        &mut self,
        node: &Node<'d>,
        defaults: AllowDeny<T>,
        read: impl Fn(&mut Self, &Node<'d>) -> Option<T>,
    ) -> Option<AllowDeny<T>> {
        if node.as_table().is_none() {
            return self.expected(node, "a table like { allow = [...], deny = [...] }");
        }
        let fields = self.table(node, ALLOW_DENY_KEYS)?;
        let allow = self.field(&fields, "allow", |r, n| r.entries(n, &read));
        let deny = self.field(&fields, "deny", |r, n| r.entries(n, &read));
        Some(AllowDeny { allow: allow.unwrap_or(defaults.allow), deny: deny.unwrap_or(defaults.deny) })
    }

    fn id(&mut self, node: &Node, what: &str) -> Option<u32> {
        let Some(number) = node.as_integer() else {
            return self.expected(node, &format!("a numeric {what}"));
        };
        match u32::try_from(number) {
            Ok(id) if i64::from(id) <= MAX_ID => Some(id),
            _ => {
                self.error(node, format!("{what} must be between 0 and {MAX_ID}: {number}"));
                None
            }
        }
    }

    // ---- [file]

    fn file(&mut self, root: &Fields) -> FileConfig {
        let default = FileConfig::default();
        let Some(fields) = self.section(root, "file", FILE_KEYS) else {
            return default;
        };
        FileConfig {
            enable: self.enable(&fields),
            mode: self.mode(&fields),
            target: self.target(&fields),
            ops: self.module_ops(&fields),
            allow: self.field(&fields, "allow", Self::file_rules).unwrap_or(default.allow),
            deny: self.field(&fields, "deny", Self::file_rules).unwrap_or(default.deny),
            audit: self.field(&fields, "audit", Self::file_rules).unwrap_or(default.audit),
        }
    }

    fn file_rules(&mut self, node: &Node) -> Option<Vec<FileRule>> {
        let elements = self.array(node)?;
        Some(elements.iter().filter_map(|element| self.file_rule(element)).collect())
    }

    /// `"/path"` or `{ path = "/path", ops = [...], uid = [...], gid = [...], command = [...] }`.
    fn file_rule(&mut self, node: &Node) -> Option<FileRule> {
        let text = self.written(node);
        if node.as_str().is_some() {
            let path = self.parsed(node, values::rule_path)?;
            return Some(FileRule { path, ops: None, uid: Vec::new(), gid: Vec::new(), command: Vec::new(), text });
        }
        if node.as_table().is_none() {
            return self.expected(node, "a path or a table like { path = \"/etc\", ops = [\"read\"] }");
        }
        let fields = self.table(node, FILE_RULE_KEYS)?;
        let path = match fields.get("path") {
            Some(path) => self.parsed(&path, values::rule_path),
            None => {
                self.error(node, "rule has no path (write { path = \"/...\", ... })");
                None
            }
        };
        let ops = self.field(&fields, "ops", |r, n| r.selector(n, "ops", Self::ops::<FileOp>));
        let uid = self.field(&fields, "uid", |r, n| r.selector(n, "uid", |r, n| r.ids(n, "uid")));
        let gid = self.field(&fields, "gid", |r, n| r.selector(n, "gid", |r, n| r.ids(n, "gid")));
        let command = self.field(&fields, "command", |r, n| {
            r.selector(n, "command", |r, n| {
                let entries = r.entries(n, |r, n| r.parsed(n, values::command))?;
                Some(entries.into_iter().map(|entry| entry.value).collect::<Vec<_>>())
            })
        });
        Some(FileRule {
            path: path?,
            ops,
            uid: uid.unwrap_or_default(),
            gid: gid.unwrap_or_default(),
            command: command.unwrap_or_default(),
            text,
        })
    }

    /// A rule's `ops`, `uid`, `gid` or `command`: an empty list would make the rule match
    /// nothing, which is never what was meant; leaving the key out means "any".
    fn selector<'d, T>(
        &mut self,
        node: &Node<'d>,
        key: &str,
        read: impl FnOnce(&mut Self, &Node<'d>) -> Option<T>,
    ) -> Option<T> {
        // Checked on the array as written: a list whose every element is wrong is not
        // also reported as empty.
        if node.elements().is_some_and(|elements| elements.is_empty()) {
            self.error(node, format!("an empty {key} list matches nothing; leave {key} out to match any"));
            return None;
        }
        read(self, node)
    }

    fn ids(&mut self, node: &Node, what: &str) -> Option<Vec<u32>> {
        let entries = self.entries(node, |r, n| r.id(n, what))?;
        Some(entries.into_iter().map(|entry| entry.value).collect())
    }

    // ---- [network]

    fn network(&mut self, root: &Fields) -> NetworkConfig {
        let default = NetworkConfig::default();
        let Some(fields) = self.section(root, "network", NETWORK_KEYS) else {
            return default;
        };
        NetworkConfig {
            enable: self.enable(&fields),
            mode: self.mode(&fields),
            target: self.target(&fields),
            ops: self.module_ops::<NetworkOp>(&fields),
            cidr: self
                .field(&fields, "cidr", |r, n| {
                    r.allow_deny(n, NetworkConfig::default().cidr, |r, n| r.parsed(n, values::cidr))
                })
                .unwrap_or(default.cidr),
            domain: self
                .field(&fields, "domain", |r, n| {
                    r.allow_deny(n, AllowDeny::default(), |r, n| r.parsed(n, values::domain))
                })
                .unwrap_or_default(),
            command: self
                .field(&fields, "command", |r, n| {
                    r.allow_deny(n, AllowDeny::default(), |r, n| r.parsed(n, values::command))
                })
                .unwrap_or_default(),
            uid: self
                .field(&fields, "uid", |r, n| r.allow_deny(n, AllowDeny::default(), |r, n| r.id(n, "uid")))
                .unwrap_or_default(),
            gid: self
                .field(&fields, "gid", |r, n| r.allow_deny(n, AllowDeny::default(), |r, n| r.id(n, "gid")))
                .unwrap_or_default(),
            port: self
                .field(&fields, "port", |r, n| r.allow_deny(n, AllowDeny::default(), Self::port))
                .unwrap_or_default(),
        }
    }

    /// `"tcp/22"`, `"1-1023"`, or a bare integer (`22`) for one port of both protocols.
    fn port(&mut self, node: &Node) -> Option<PortRange> {
        if let Some(number) = node.as_integer() {
            return values::port(&number.to_string()).map_err(|message| self.error(node, message)).ok();
        }
        if node.as_str().is_none() {
            return self.expected(node, "a port like \"tcp/22\", \"udp/53\", \"1-1023\" or 25");
        }
        self.parsed(node, values::port)
    }

    // ---- [process]

    fn process(&mut self, root: &Fields) -> ProcessConfig {
        let default = ProcessConfig::default();
        let Some(fields) = self.section(root, "process", PROCESS_KEYS) else {
            return default;
        };
        let executables = |r: &mut Self, n: &Node| r.entries(n, |r, n| r.parsed(n, values::rule_path));
        ProcessConfig {
            enable: self.enable(&fields),
            mode: self.mode(&fields),
            target: self.target(&fields),
            ops: self.module_ops::<ProcessOp>(&fields),
            allow: self.field(&fields, "allow", executables).unwrap_or(default.allow),
            deny: self.field(&fields, "deny", executables).unwrap_or(default.deny),
        }
    }

    // ---- [agent]

    fn agent(&mut self, root: &Fields) -> AgentConfig {
        let default = AgentConfig::default();
        let Some(fields) = self.section(root, "agent", AGENT_KEYS) else {
            return default;
        };
        AgentConfig {
            protect: self.field(&fields, "protect", Self::boolean).unwrap_or(default.protect),
            persist: self.field(&fields, "persist", Self::boolean).unwrap_or(default.persist),
        }
    }

    // ---- [mount]

    fn mount(&mut self, root: &Fields) -> MountConfig {
        let default = MountConfig::default();
        let Some(fields) = self.section(root, "mount", MOUNT_KEYS) else {
            return default;
        };
        MountConfig {
            enable: self.enable(&fields),
            mode: self.mode(&fields),
            target: self.target(&fields),
            deny: self
                .field(&fields, "deny", |r, n| r.entries(n, |r, n| r.parsed(n, values::mount_source)))
                .unwrap_or(default.deny),
        }
    }

    // ---- [inventory]

    fn inventory(&mut self, root: &Fields) -> InventoryConfig {
        let default = InventoryConfig::default();
        let Some(fields) = self.section(root, "inventory", INVENTORY_KEYS) else {
            return default;
        };
        InventoryConfig {
            enable: self.enable(&fields),
            interval: self.field(&fields, "interval", Self::interval).unwrap_or(default.interval),
        }
    }

    // ---- [telemetry]

    fn telemetry(&mut self, root: &Fields) -> TelemetryConfig {
        let default = TelemetryConfig::default();
        let Some(fields) = self.section(root, "telemetry", TELEMETRY_KEYS) else {
            return default;
        };
        TelemetryConfig {
            enable: self.enable(&fields),
            interval: self.field(&fields, "interval", Self::interval).unwrap_or(default.interval),
            top: self.field(&fields, "top", |r, n| r.bounded(n, 1, 1000)).unwrap_or(default.top),
            measures: self.field(&fields, "measures", Self::ops::<Measure>).unwrap_or(default.measures),
            max_processes: self
                .field(&fields, "max_processes", |r, n| r.bounded(n, 16, 1 << 20))
                .unwrap_or(default.max_processes),
            runq_sample: self
                .field(&fields, "runq_sample", |r, n| r.bounded(n, 1, 1024))
                .unwrap_or(default.runq_sample),
        }
    }

    // ---- [detect]

    fn detect(&mut self, root: &Fields) -> DetectConfig {
        let default = DetectConfig::default();
        let Some(fields) = self.section(root, "detect", DETECT_KEYS) else {
            return default;
        };
        DetectConfig {
            enable: self.enable(&fields),
            mode: self.mode(&fields),
            target: self.target(&fields),
            response: self.field(&fields, "response", Self::responses).unwrap_or_default(),
            exclude: self.field(&fields, "exclude", Self::exclusions).unwrap_or_default(),
            disable: self.field(&fields, "disable", Self::ops::<Detection>).unwrap_or_default(),
            default_exclude: self.field(&fields, "default_exclude", Self::boolean).unwrap_or(true),
        }
    }

    /// `{ reverse_shell = "kill", module_load = "block" }`.
    fn responses(&mut self, node: &Node) -> Option<Vec<(Detection, Response)>> {
        let Some(table) = node.as_table() else {
            return self.expected(node, "a table like { reverse_shell = \"kill\" }");
        };
        let fields = Fields { node: node.clone(), table };
        let responses = [("alert", Response::Alert), ("block", Response::Block), ("kill", Response::Kill)];
        let mut out = Vec::new();
        for (name, _) in table.iter() {
            let Some(value) = fields.get(name) else { continue };
            let Some(detection) = Detection::from_name(name) else {
                let names: Vec<&str> = Detection::ALL.iter().map(|d| d.name()).collect();
                self.error(&value, format!("unknown detection {name:?} (use {})", names.join(", ")));
                continue;
            };
            if let Some(response) = self.keyword(&value, "response", &responses) {
                out.push((detection, response));
            }
        }
        Some(out)
    }

    fn exclusions(&mut self, node: &Node) -> Option<Vec<Exclusion>> {
        let elements = self.array(node)?;
        Some(elements.iter().filter_map(|element| self.exclusion(element)).collect())
    }

    /// `{ detection = "ptrace_inject", command = ["/usr/bin/gdb"], uid = [1000] }`;
    /// `detection` may be a list, and left out for every detection.
    fn exclusion(&mut self, node: &Node) -> Option<Exclusion> {
        let text = self.written(node);
        if node.as_table().is_none() {
            return self.expected(node, "a table like { detection = \"ptrace_inject\", command = [\"/usr/bin/gdb\"] }");
        }
        let fields = self.table(node, EXCLUDE_KEYS)?;
        let detections = self.field(&fields, "detection", |r, n| {
            if n.as_str().is_some() {
                let name = r.string(n)?;
                match Detection::from_name(name) {
                    Some(d) => Some([d].into_iter().collect()),
                    None => {
                        let names: Vec<&str> = Detection::ALL.iter().map(|d| d.name()).collect();
                        r.error(n, format!("unknown detection {name:?} (use {})", names.join(", ")));
                        None
                    }
                }
            } else {
                r.selector(n, "detection", Self::ops::<Detection>)
            }
        });
        let command = self.field(&fields, "command", |r, n| {
            r.selector(n, "command", |r, n| {
                let entries = r.entries(n, |r, n| r.parsed(n, values::command))?;
                Some(entries.into_iter().map(|entry| entry.value).collect::<Vec<_>>())
            })
        });
        let uid = self.field(&fields, "uid", |r, n| r.selector(n, "uid", |r, n| r.ids(n, "uid")));
        let exclusion = Exclusion {
            detections: detections.unwrap_or_default(),
            command: command.unwrap_or_default(),
            uid: uid.unwrap_or_default(),
            text,
        };
        if exclusion.command.is_empty() && exclusion.uid.is_empty() {
            self.error(node, "an exclude entry needs a command or a uid (use disable to turn a detection off)");
            return None;
        }
        Some(exclusion)
    }
}
