//! The step graph of a template: the trigger (node 0) and the steps, joined by their edges.
//! Templates have tens of steps, so the simple quadratic algorithms here are plenty.

use std::collections::{HashMap, VecDeque};

use crate::template::{Step, Template};

pub(crate) const TRIGGER: usize = 0;

/// One edge as written: the member it is in (`next`, `on_true`, `on_false`), the id it
/// names and the node that id is, when there is one.
pub(crate) struct Edge<'t> {
    pub field: &'static str,
    pub target: &'t str,
    pub to: Option<usize>,
}

pub(crate) struct Graph<'t> {
    pub ids: Vec<&'t str>,
    index: HashMap<&'t str, usize>,
    pub edges: Vec<Vec<Edge<'t>>>,
}

impl<'t> Graph<'t> {
    pub fn new(template: &'t Template) -> Self {
        let ids: Vec<&str> = std::iter::once(template.trigger.id())
            .chain(template.steps.iter().map(Step::id))
            .collect();
        let mut index = HashMap::new();
        for (node, id) in ids.iter().enumerate() {
            // A repeated id is a problem of its own; edges lead to its first holder.
            index.entry(*id).or_insert(node);
        }
        let written = std::iter::once(vec![("next", template.trigger.next())])
            .chain(template.steps.iter().map(labelled_edges));
        let edges = written
            .map(|edges| {
                edges
                    .into_iter()
                    .filter_map(|(field, target)| {
                        let target = target?;
                        Some(Edge {
                            field,
                            target,
                            to: index.get(target).copied(),
                        })
                    })
                    .collect()
            })
            .collect();
        Self { ids, index, edges }
    }

    pub fn node(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The nodes a walk from the trigger reaches, never entering `avoid`.
    pub fn reached(&self, avoid: Option<usize>) -> Vec<bool> {
        let mut reached = vec![false; self.ids.len()];
        if avoid == Some(TRIGGER) {
            return reached;
        }
        reached[TRIGGER] = true;
        let mut queue = VecDeque::from([TRIGGER]);
        while let Some(node) = queue.pop_front() {
            for to in self.successors(node) {
                if Some(to) != avoid && !reached[to] {
                    reached[to] = true;
                    queue.push_back(to);
                }
            }
        }
        reached
    }

    /// Whether `earlier` has run whenever `later` runs: every path from the trigger to
    /// `later` passes through it (it dominates `later`).
    pub fn runs_before(&self, earlier: usize, later: usize) -> bool {
        if earlier == later {
            return false;
        }
        !self.reached(Some(earlier))[later]
    }

    /// The loops of the graph, each once: the node whose edge closes it, that edge's field,
    /// and the nodes around it in order, starting where it starts.
    pub fn loops(&self) -> Vec<(usize, &'static str, Vec<usize>)> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut mark = vec![Mark::New; self.ids.len()];
        let mut loops = Vec::new();
        // Depth first from every node, so that loops among unreachable steps count too;
        // iterative, so that a long chain of steps cannot overflow the stack.
        for root in 0..self.ids.len() {
            if mark[root] != Mark::New {
                continue;
            }
            let mut path: Vec<(usize, usize)> = vec![(root, 0)];
            mark[root] = Mark::OnPath;
            while let Some((node, next_edge)) = path.last_mut() {
                let node = *node;
                let Some(edge) = self.edges[node].get(*next_edge) else {
                    mark[node] = Mark::Done;
                    path.pop();
                    continue;
                };
                *next_edge += 1;
                let Some(to) = edge.to.filter(|&to| to != TRIGGER) else {
                    continue;
                };
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::OnPath;
                        path.push((to, 0));
                    }
                    Mark::OnPath => {
                        let start = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let around = path[start..].iter().map(|(n, _)| *n).collect();
                        loops.push((node, edge.field, around));
                    }
                    Mark::Done => {}
                }
            }
        }
        loops
    }

    /// Edges into the trigger are refused on their own and left out of every walk.
    fn successors(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        self.edges[node]
            .iter()
            .filter_map(|edge| edge.to)
            .filter(|&to| to != TRIGGER)
    }
}

fn labelled_edges(step: &Step) -> Vec<(&'static str, Option<&str>)> {
    match step {
        Step::Method { next, .. } | Step::Delay { next, .. } | Step::WaitUntil { next, .. } => {
            vec![("next", next.as_deref())]
        }
        Step::Decision {
            on_true, on_false, ..
        } => vec![
            ("on_true", on_true.as_deref()),
            ("on_false", on_false.as_deref()),
        ],
        Step::Stop { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A webhook trigger `t` and steps given as `(id, edges)`: a delay with one edge, a
    /// decision with two, a stop with none.
    fn template(steps: &[(&str, &[&str])], trigger_next: &str) -> Template {
        let steps: Vec<_> = steps
            .iter()
            .map(|(id, edges)| match edges {
                [next] => json!({"kind": "delay", "id": id, "minutes": 1, "next": next}),
                [yes, no] => json!({
                    "kind": "decision", "id": id, "operator": "is_empty",
                    "left": {"source": "static", "value": 1}, "on_true": yes, "on_false": no
                }),
                _ => json!({"kind": "stop", "id": id}),
            })
            .collect();
        serde_json::from_value(json!({
            "name": "t", "trigger": {"kind": "webhook", "id": "t", "next": trigger_next},
            "steps": steps
        }))
        .unwrap()
    }

    #[test]
    fn dominance_through_branches() {
        // t → d → (a | b) → m → end
        let t = template(
            &[
                ("d", &["a", "b"]),
                ("a", &["m"]),
                ("b", &["m"]),
                ("m", &["end"]),
                ("end", &[]),
            ],
            "d",
        );
        let g = Graph::new(&t);
        let n = |id| g.node(id).unwrap();
        assert!(g.runs_before(TRIGGER, n("m")));
        assert!(g.runs_before(n("d"), n("m")));
        assert!(g.runs_before(n("m"), n("end")));
        assert!(!g.runs_before(n("a"), n("m")), "b leads to m without a");
        assert!(!g.runs_before(n("m"), n("a")));
        assert!(!g.runs_before(n("m"), n("m")));
        assert!(!g.runs_before(n("d"), TRIGGER));
        assert!(g.loops().is_empty());
    }

    #[test]
    fn loops_are_found_once_each() {
        let t = template(
            &[("a", &["b"]), ("b", &["a"]), ("c", &["c"]), ("d", &[])],
            "a",
        );
        let g = Graph::new(&t);
        let loops: Vec<Vec<&str>> = g
            .loops()
            .into_iter()
            .map(|(_, _, around)| around.into_iter().map(|n| g.ids[n]).collect())
            .collect();
        assert_eq!(loops, vec![vec!["a", "b"], vec!["c"]]);
        let reached = g.reached(None);
        assert_eq!(reached, vec![true, true, true, false, false]);
    }
}
