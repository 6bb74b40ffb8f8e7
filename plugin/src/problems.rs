//! Problems logged once, not every interval.
//!
//! A container whose cgroup cannot be read, or a state database that cannot be opened, tends
//! to stay that way for many intervals; logging it each time would bury everything else in
//! collectd's log. A [`ProblemLog`] remembers what was wrong in the previous cycle and says
//! which problems are new (or changed their message) and which are gone, so the plugin logs a
//! problem when it starts and when it ends.

use std::collections::HashMap;

/// The problems of the previous cycle, by key (a container id, a state file path, ...).
#[derive(Debug, Default)]
pub struct ProblemLog {
    current: HashMap<String, String>,
}

/// What changed between two cycles.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Problems to log now: not there in the previous cycle, or with another message.
    pub new: Vec<(String, String)>,
    /// Keys whose problem is gone (the container reads again, or is gone itself).
    pub cleared: Vec<String>,
}

impl ProblemLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records this cycle's problems (`(key, message)`; a key seen twice keeps its last
    /// message) and returns what changed, each list sorted by key so logs are deterministic.
    pub fn cycle(&mut self, problems: impl IntoIterator<Item = (String, String)>) -> Changes {
        let now: HashMap<String, String> = problems.into_iter().collect();
        let mut changes = Changes::default();
        for (key, message) in &now {
            if self.current.get(key) != Some(message) {
                changes.new.push((key.clone(), message.clone()));
            }
        }
        for key in self.current.keys() {
            if !now.contains_key(key) {
                changes.cleared.push(key.clone());
            }
        }
        changes.new.sort();
        changes.cleared.sort();
        self.current = now;
        changes
    }

    /// How many problems the last cycle had.
    pub fn len(&self) -> usize {
        self.current.len()
    }

    /// True when the last cycle had none.
    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, m: &str) -> (String, String) {
        (k.to_string(), m.to_string())
    }

    #[test]
    fn a_lasting_problem_is_reported_once() {
        let mut log = ProblemLog::new();
        assert_eq!(log.cycle([p("a", "gone")]).new, vec![p("a", "gone")]);
        for _ in 0..5 {
            assert_eq!(log.cycle([p("a", "gone")]), Changes::default());
        }
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn a_changed_message_is_reported_again() {
        let mut log = ProblemLog::new();
        log.cycle([p("db", "locked")]);
        assert_eq!(
            log.cycle([p("db", "corrupt")]).new,
            vec![p("db", "corrupt")]
        );
    }

    #[test]
    fn an_ended_problem_is_cleared_and_reported_again_if_it_returns() {
        let mut log = ProblemLog::new();
        log.cycle([p("a", "x"), p("b", "y")]);
        let c = log.cycle([p("b", "y")]);
        assert_eq!(c.cleared, vec!["a".to_string()]);
        assert!(c.new.is_empty());
        assert_eq!(log.cycle([p("a", "x"), p("b", "y")]).new, vec![p("a", "x")]);
        log.cycle([]);
        assert!(log.is_empty());
    }
}
