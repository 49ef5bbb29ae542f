//! The Prometheus text exposition format, read back: what `/metrics`
//! serves, parsed into families of samples so the same catalog can be
//! pushed as OTLP metrics ([`super::otlp`]) without a second description
//! of every metric.

/// A metric family's type (`# TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyType {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Cumulative `_bucket`s, `_sum` and `_count`.
    Histogram,
    /// `summary` and `untyped`: pushed as gauges.
    Other,
}

/// One sample line: `name{label="value",…} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' name (a histogram's ends in `_bucket`, `_sum`, `_count`).
    pub name: String,
    /// Its labels, in text order, unescaped.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
}

/// A family: its `# HELP`, `# TYPE` and samples, in text order.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family's name.
    pub name: String,
    /// Its `# HELP` text.
    pub help: String,
    /// Its `# TYPE`.
    pub kind: FamilyType,
    /// Its samples.
    pub samples: Vec<Sample>,
}

/// Parses `text`. Lines that are not well-formed samples are skipped (the
/// text comes from Torvyn's own renderer, so none are expected).
pub fn parse(text: &str) -> Vec<Family> {
    let mut families: Vec<Family> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            family(&mut families, name).help = unescape(help);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            family(&mut families, name).kind = match kind.trim() {
                "counter" => FamilyType::Counter,
                "gauge" => FamilyType::Gauge,
                "histogram" => FamilyType::Histogram,
                _ => FamilyType::Other,
            };
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            if let Some(sample) = sample(line) {
                let owner = owner_of(&families, &sample.name);
                family(&mut families, &owner).samples.push(sample);
            }
        }
    }
    families
}

/// The family `name` (created, untyped, if new).
fn family<'a>(families: &'a mut Vec<Family>, name: &str) -> &'a mut Family {
    let index = match families.iter().position(|f| f.name == name) {
        Some(i) => i,
        None => {
            families.push(Family {
                name: name.to_string(),
                help: String::new(),
                kind: FamilyType::Other,
                samples: Vec::new(),
            });
            families.len() - 1
        }
    };
    &mut families[index]
}

/// The family a sample belongs to: a histogram's `_bucket`, `_sum` and
/// `_count` series belong to the histogram.
fn owner_of(families: &[Family], sample: &str) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = sample.strip_suffix(suffix) {
            if families
                .iter()
                .any(|f| f.name == base && f.kind == FamilyType::Histogram)
            {
                return base.to_string();
            }
        }
    }
    sample.to_string()
}

fn sample(line: &str) -> Option<Sample> {
    let (series, value) = match line.find('{') {
        Some(open) => {
            let close = line.rfind('}')?;
            let labels = labels(&line[open + 1..close])?;
            let value = line[close + 1..].split_whitespace().next()?;
            ((line[..open].to_string(), labels), value)
        }
        None => {
            let mut parts = line.split_whitespace();
            let name = parts.next()?;
            ((name.to_string(), Vec::new()), parts.next()?)
        }
    };
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: series.0,
        labels: series.1,
        value,
    })
}

/// `a="x",b="y \"quoted\""` → pairs, unescaped.
fn labels(text: &str) -> Option<Vec<(String, String)>> {
    let mut labels = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => value.push(other),
                    None => return None,
                },
                '"' => {
                    end = Some(i);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = end?;
        labels.push((
            name.trim().trim_start_matches(',').trim().to_string(),
            value,
        ));
        rest = after[end + 1..].trim_start_matches(',').trim();
    }
    Some(labels)
}

fn unescape(help: &str) -> String {
    help.replace("\\n", "\n").replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP torvyn_flow_elements_total Elements delivered.
# TYPE torvyn_flow_elements_total counter
torvyn_flow_elements_total{flow_id="flow-1",flow_name="main"} 42
# HELP torvyn_flows_active Live flows.
# TYPE torvyn_flows_active gauge
torvyn_flows_active 1
# HELP torvyn_latency_seconds Latency.
# TYPE torvyn_latency_seconds histogram
torvyn_latency_seconds_bucket{flow="a \"b\"",le="0.001"} 3
torvyn_latency_seconds_bucket{flow="a \"b\"",le="+Inf"} 5
torvyn_latency_seconds_sum{flow="a \"b\""} 0.25
torvyn_latency_seconds_count{flow="a \"b\""} 5
"#;

    #[test]
    fn families_with_their_types_labels_and_histogram_series() {
        let families = parse(TEXT);
        assert_eq!(families.len(), 3);
        assert_eq!(families[0].kind, FamilyType::Counter);
        assert_eq!(families[0].help, "Elements delivered.");
        assert_eq!(
            families[0].samples[0].labels,
            vec![
                ("flow_id".to_string(), "flow-1".to_string()),
                ("flow_name".to_string(), "main".to_string())
            ]
        );
        assert_eq!(families[0].samples[0].value, 42.0);
        assert_eq!(families[1].samples[0].labels, vec![]);
        let histogram = &families[2];
        assert_eq!(histogram.kind, FamilyType::Histogram);
        assert_eq!(histogram.samples.len(), 4);
        assert_eq!(histogram.samples[0].labels[0].1, "a \"b\"");
        assert_eq!(histogram.samples[1].labels[1], ("le".into(), "+Inf".into()));
        assert_eq!(histogram.samples[1].value, 5.0);
        assert_eq!(sample("x +Inf").map(|s| s.value), Some(f64::INFINITY));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let families = parse("garbage{ 1\nok 2\nnovalue\nbad{a=\"x\"} notanumber\n");
        let samples: Vec<&Sample> = families.iter().flat_map(|f| &f.samples).collect();
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].name, "ok");
    }
}
