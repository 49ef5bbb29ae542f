//! The `replica` label of a replicated flow's series on `/metrics`.
//!
//! Each replica of a replicated flow (`[flow.<name>] replicas = N`) is a
//! flow of its own, so its series already differ by `flow_id`; this adds
//! `replica="<index>"` next to that `flow_id` on every series of a
//! replica (catalog, histogram and custom families alike), so a query can
//! group one flow's series by replica. Series of flows without replicas
//! are left as they are (no empty label).

use crate::ids::{FlowId, ReplicaOf};

/// Adds `,replica="<index>"` after `flow_id="<id>"` on every series line
/// of each replica in `replicas`.
pub fn label_replicas(text: &mut String, replicas: &[(FlowId, ReplicaOf)]) {
    if replicas.is_empty() {
        return;
    }
    let marks: Vec<(String, String)> = replicas
        .iter()
        .map(|(id, of)| {
            let label = format!("flow_id=\"{id}\"");
            let labelled = format!("{label},replica=\"{}\"", of.index);
            (label, labelled)
        })
        .collect();
    let mut out = String::with_capacity(text.len() + 64 * replicas.len());
    for line in text.split_inclusive('\n') {
        match (!line.starts_with('#'))
            .then(|| {
                marks
                    .iter()
                    .find(|(label, _)| line.contains(label.as_str()))
            })
            .flatten()
        {
            Some((label, labelled)) => out.push_str(&line.replacen(label.as_str(), labelled, 1)),
            None => out.push_str(line),
        }
    }
    *text = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_replicas_series_get_the_label() {
        let mut text = String::from(
            "# HELP torvyn_flow_elements_total Elements.\n\
             torvyn_flow_elements_total{flow=\"main\",flow_id=\"flow-2\"} 5\n\
             torvyn_flow_elements_total{flow=\"main\",flow_id=\"flow-20\"} 7\n\
             torvyn_flow_elements_total{flow=\"other\",flow_id=\"flow-1\"} 9\n",
        );
        let of = |index| ReplicaOf {
            parent: FlowId::new(9),
            index,
            count: 2,
        };
        label_replicas(
            &mut text,
            &[(FlowId::new(2), of(0)), (FlowId::new(20), of(1))],
        );
        assert_eq!(
            text,
            "# HELP torvyn_flow_elements_total Elements.\n\
             torvyn_flow_elements_total{flow=\"main\",flow_id=\"flow-2\",replica=\"0\"} 5\n\
             torvyn_flow_elements_total{flow=\"main\",flow_id=\"flow-20\",replica=\"1\"} 7\n\
             torvyn_flow_elements_total{flow=\"other\",flow_id=\"flow-1\"} 9\n"
        );
    }
}
