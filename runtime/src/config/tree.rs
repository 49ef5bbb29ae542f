//! A TOML tree in which every value and key remembers where it came from
//! (file:line:column, an environment variable, a `--config` override).
//!
//! Configuration layers are parsed into this tree, normalized, merged
//! and checked against the schema; only then is the result converted to
//! a [`toml::Value`] and deserialized into the typed structs. Tables keep
//! their file order.

use std::fmt;
use std::path::Path;

use super::error::{ConfigError, Origin};

/// A value and where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub origin: Origin,
}

/// A TOML value whose children are [`Node`]s.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

/// One `key = value` of a table.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    /// Where the key itself was written (for unknown-field errors).
    pub key_origin: Origin,
    pub value: Node,
}

/// One step of a path into the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A path such as `flow.main.edges[0].from`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub fn key(&self, key: &str) -> KeyPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        KeyPath(segs)
    }

    pub fn index(&self, index: usize) -> KeyPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        KeyPath(segs)
    }

    /// How a table at this path is named in messages: `[runtime.backpressure]`,
    /// `flow.main.edges[1]`, or `the top level`.
    pub fn table_name(&self) -> String {
        match self.0.last() {
            None => "the top level".to_string(),
            Some(Seg::Index(_)) => format!("`{self}`"),
            Some(Seg::Key(_)) => format!("[{self}]"),
        }
    }
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_bare_key(key) {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
                Seg::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Node {
    pub fn new(kind: Kind, origin: Origin) -> Self {
        Node { kind, origin }
    }

    pub fn empty_table(origin: Origin) -> Self {
        Node {
            kind: Kind::Table(Vec::new()),
            origin,
        }
    }

    /// Parses TOML text; `path` is only used in locations.
    pub fn parse(text: &str, path: &Path) -> Result<Node, ConfigError> {
        let lines = LineIndex::new(text);
        let doc = toml_edit::ImDocument::parse(text).map_err(|err| ConfigError::Syntax {
            origin: Origin::file(path, err.span().map(|span| lines.position(span.start))),
            message: err.message().trim().to_string(),
        })?;
        let builder = Builder {
            path,
            lines: &lines,
        };
        let root = Origin::file(path, None);
        Ok(builder.table(doc.as_table(), root))
    }

    /// The value's TOML type, as named in messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Str(_) => "string",
            Kind::Int(_) => "integer",
            Kind::Float(_) => "float",
            Kind::Bool(_) => "boolean",
            Kind::Datetime(_) => "datetime",
            Kind::Array(_) => "array",
            Kind::Table(_) => "table",
        }
    }

    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Table(entries) => Some(entries),
            _ => None,
        }
    }

    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// Follows `segments`: keys into tables, decimal indexes into arrays.
    pub fn lookup(&self, segments: &[&str]) -> Option<&Node> {
        let Some((first, rest)) = segments.split_first() else {
            return Some(self);
        };
        let child = match &self.kind {
            Kind::Table(entries) => entries.iter().find(|e| e.key == *first).map(|e| &e.value),
            Kind::Array(items) => first.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }?;
        child.lookup(rest)
    }

    /// Lays `top` over `self`: tables merge key by key (new keys are
    /// appended, keeping order); anything else is replaced.
    pub fn merge(&mut self, top: Node) {
        match (&mut self.kind, top.kind) {
            (Kind::Table(base), Kind::Table(entries)) => {
                for entry in entries {
                    match base.iter_mut().find(|e| e.key == entry.key) {
                        Some(existing) => {
                            existing.key_origin = entry.key_origin;
                            existing.value.merge(entry.value);
                        }
                        None => base.push(entry),
                    }
                }
            }
            (kind, other) => {
                *kind = other;
                self.origin = top.origin;
            }
        }
    }

    /// Sets `path` (a chain of table keys) to `value`, creating tables on
    /// the way; they get `origin`.
    pub fn insert_path(&mut self, path: &[String], value: Node, origin: &Origin) {
        let Some((first, rest)) = path.split_first() else {
            *self = value;
            return;
        };
        if !matches!(self.kind, Kind::Table(_)) {
            *self = Node::empty_table(origin.clone());
        }
        if let Kind::Table(entries) = &mut self.kind {
            let index = match entries.iter().position(|e| &e.key == first) {
                Some(index) => index,
                None => {
                    entries.push(Entry {
                        key: first.clone(),
                        key_origin: origin.clone(),
                        value: Node::empty_table(origin.clone()),
                    });
                    entries.len() - 1
                }
            };
            entries[index].value.insert_path(rest, value, origin);
        }
    }

    /// The plain TOML value (order preserved).
    pub fn to_toml(&self) -> toml::Value {
        match &self.kind {
            Kind::Str(s) | Kind::Datetime(s) => toml::Value::String(s.clone()),
            Kind::Int(i) => toml::Value::Integer(*i),
            Kind::Float(x) => toml::Value::Float(*x),
            Kind::Bool(b) => toml::Value::Boolean(*b),
            Kind::Array(items) => toml::Value::Array(items.iter().map(Node::to_toml).collect()),
            Kind::Table(entries) => toml::Value::Table(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_toml()))
                    .collect(),
            ),
        }
    }

    /// Converts a value parsed on its own (an override's right-hand
    /// side); everything in it gets `origin`.
    pub fn from_toml_edit(value: &toml_edit::Value, origin: &Origin) -> Node {
        let kind = match value {
            toml_edit::Value::String(s) => Kind::Str(s.value().clone()),
            toml_edit::Value::Integer(i) => Kind::Int(*i.value()),
            toml_edit::Value::Float(x) => Kind::Float(*x.value()),
            toml_edit::Value::Boolean(b) => Kind::Bool(*b.value()),
            toml_edit::Value::Datetime(d) => Kind::Datetime(d.value().to_string()),
            toml_edit::Value::Array(array) => Kind::Array(
                array
                    .iter()
                    .map(|v| Node::from_toml_edit(v, origin))
                    .collect(),
            ),
            toml_edit::Value::InlineTable(table) => Kind::Table(
                table
                    .iter()
                    .map(|(key, value)| Entry {
                        key: key.to_string(),
                        key_origin: origin.clone(),
                        value: Node::from_toml_edit(value, origin),
                    })
                    .collect(),
            ),
        };
        Node::new(kind, origin.clone())
    }
}

/// Byte offset → 1-based (line, column in characters).
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self
            .starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }
}

/// Walks a parsed `toml_edit` document into [`Node`]s.
struct Builder<'a> {
    path: &'a Path,
    lines: &'a LineIndex<'a>,
}

impl Builder<'_> {
    fn origin(&self, span: Option<std::ops::Range<usize>>, fallback: &Origin) -> Origin {
        match span {
            Some(span) => Origin::file(self.path, Some(self.lines.position(span.start))),
            None => fallback.clone(),
        }
    }

    fn table(&self, table: &toml_edit::Table, fallback: Origin) -> Node {
        let origin = self.origin(table.span(), &fallback);
        let mut entries = Vec::new();
        for (key, item) in table.iter() {
            let key_span = table.get_key_value(key).and_then(|(k, _)| k.span());
            let key_origin = self.origin(key_span, &origin);
            if let Some(value) = self.item(item, key_origin.clone()) {
                entries.push(Entry {
                    key: key.to_string(),
                    key_origin,
                    value,
                });
            }
        }
        Node::new(Kind::Table(entries), origin)
    }

    fn item(&self, item: &toml_edit::Item, fallback: Origin) -> Option<Node> {
        match item {
            toml_edit::Item::None => None,
            toml_edit::Item::Value(value) => Some(self.value(value, fallback)),
            toml_edit::Item::Table(table) => Some(self.table(table, fallback)),
            toml_edit::Item::ArrayOfTables(array) => {
                let origin = self.origin(array.span(), &fallback);
                let items = array
                    .iter()
                    .map(|table| self.table(table, origin.clone()))
                    .collect();
                Some(Node::new(Kind::Array(items), origin))
            }
        }
    }

    fn value(&self, value: &toml_edit::Value, fallback: Origin) -> Node {
        let origin = self.origin(value.span(), &fallback);
        let kind = match value {
            toml_edit::Value::String(s) => Kind::Str(s.value().clone()),
            toml_edit::Value::Integer(i) => Kind::Int(*i.value()),
            toml_edit::Value::Float(x) => Kind::Float(*x.value()),
            toml_edit::Value::Boolean(b) => Kind::Bool(*b.value()),
            toml_edit::Value::Datetime(d) => Kind::Datetime(d.value().to_string()),
            toml_edit::Value::Array(array) => Kind::Array(
                array
                    .iter()
                    .map(|v| self.value(v, origin.clone()))
                    .collect(),
            ),
            toml_edit::Value::InlineTable(table) => {
                let mut entries = Vec::new();
                for (key, value) in table.iter() {
                    let key_span = table.get_key_value(key).and_then(|(k, _)| k.span());
                    let key_origin = self.origin(key_span, &origin);
                    entries.push(Entry {
                        key: key.to_string(),
                        key_origin: key_origin.clone(),
                        value: self.value(value, key_origin),
                    });
                }
                Kind::Table(entries)
            }
        };
        Node::new(kind, origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        Node::parse(text, Path::new("T.toml")).unwrap()
    }

    fn at(node: &Node) -> String {
        node.origin.to_string()
    }

    #[test]
    fn values_and_keys_carry_line_and_column() {
        let root = parse("[runtime]\nworker_threads = 4\n\n[runtime.backpressure]\n  low_watermark_ratio = 0.25\n");
        let threads = root.lookup(&["runtime", "worker_threads"]).unwrap();
        assert_eq!(at(threads), "T.toml:2:18");
        let ratio = root
            .lookup(&["runtime", "backpressure", "low_watermark_ratio"])
            .unwrap();
        assert_eq!(at(ratio), "T.toml:5:25");
        let bp = root.lookup(&["runtime", "backpressure"]).unwrap();
        let key = &bp.entries().unwrap()[0];
        assert_eq!(key.key_origin.to_string(), "T.toml:5:3");
    }

    #[test]
    fn arrays_of_tables_and_inline_tables_are_located() {
        let root = parse("[[flow.main.edges]]\nfrom = { node = \"a\", port = \"output\" }\n\n[[flow.main.edges]]\nfrom = { node = \"b\", port = \"output\" }\n");
        let node = root
            .lookup(&["flow", "main", "edges", "1", "from", "node"])
            .unwrap();
        assert_eq!(at(node), "T.toml:5:17");
        assert!(matches!(&node.kind, Kind::Str(s) if s == "b"));
    }

    #[test]
    fn implicit_tables_fall_back_to_their_key() {
        let root = parse("# comment\n[flow.main.nodes.source]\ncomponent = \"x\"\n");
        let flow = root.get("flow").unwrap();
        assert!(at(flow).starts_with("T.toml:2:"), "{}", at(flow));
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err = Node::parse(
            "[torvyn]\nname = \"x\"\nversion \"0.1.0\"\n",
            Path::new("T.toml"),
        )
        .unwrap_err();
        match err {
            ConfigError::Syntax { origin, message } => {
                assert_eq!(origin.to_string(), "T.toml:3:9");
                assert!(!message.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tables_keep_file_order_and_merge_by_key() {
        let mut base = parse("[a]\nz = 1\ny = 2\n[b]\nx = 1\n");
        let top = parse("[a]\ny = 20\nw = 30\n[c]\nv = 1\n");
        base.merge(top);
        let keys = |n: &Node| {
            n.entries()
                .unwrap()
                .iter()
                .map(|e| e.key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&base), ["a", "b", "c"]);
        assert_eq!(keys(base.get("a").unwrap()), ["z", "y", "w"]);
        assert!(matches!(
            base.lookup(&["a", "y"]).unwrap().kind,
            Kind::Int(20)
        ));
        assert!(matches!(
            base.lookup(&["a", "z"]).unwrap().kind,
            Kind::Int(1)
        ));
        let toml = base.to_toml();
        let order: Vec<&String> = toml.as_table().unwrap().keys().collect();
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn insert_path_creates_tables() {
        let mut root = Node::empty_table(Origin::Builtin);
        let origin = Origin::Env {
            var: "TORVYN_RUNTIME_BACKPRESSURE_DEFAULT_QUEUE_DEPTH".into(),
        };
        let path = [
            "runtime".to_string(),
            "backpressure".to_string(),
            "default_queue_depth".to_string(),
        ];
        root.insert_path(&path, Node::new(Kind::Int(8), origin.clone()), &origin);
        let value = root
            .lookup(&["runtime", "backpressure", "default_queue_depth"])
            .unwrap();
        assert!(matches!(value.kind, Kind::Int(8)));
        assert_eq!(value.origin, origin);
    }

    #[test]
    fn paths_render_for_messages() {
        let path = KeyPath::default()
            .key("flow")
            .key("main")
            .key("edges")
            .index(0)
            .key("from");
        assert_eq!(path.to_string(), "flow.main.edges[0].from");
        assert_eq!(
            KeyPath::default().key("runtime").key("pools").table_name(),
            "[runtime.pools]"
        );
        assert_eq!(
            KeyPath::default().key("component").index(2).table_name(),
            "`component[2]`"
        );
        assert_eq!(
            KeyPath::default()
                .key("security")
                .key("grants")
                .key("a.b")
                .to_string(),
            "security.grants.\"a.b\""
        );
        assert_eq!(KeyPath::default().table_name(), "the top level");
    }

    #[test]
    fn line_index_counts_characters() {
        let lines = LineIndex::new("ab\nµx = 1\n");
        assert_eq!(lines.position(0), (1, 1));
        assert_eq!(lines.position(3), (2, 1));
        assert_eq!(lines.position(5), (2, 2));
    }
}
