//! The task sets of one service: kept in creation order, found by id or client token without
//! a walk, so a service that holds thousands of DRAINING sets (a controller creating and
//! deleting quickly) costs each request O(log n), not O(n).

use std::collections::{BTreeMap, HashMap};

use super::TaskSetRecord;

#[derive(Default)]
pub(super) struct TaskSets {
    /// By creation sequence: iteration order is creation order.
    by_seq: BTreeMap<u64, TaskSetRecord>,
    /// Task set id -> creation sequence.
    seq_of_id: HashMap<String, u64>,
    /// Client token -> creation sequence.
    seq_of_token: HashMap<String, u64>,
    next: u64,
}

impl TaskSets {
    /// How many task sets the service holds, DRAINING ones included.
    pub fn len(&self) -> usize {
        self.by_seq.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &TaskSetRecord> {
        self.by_seq.values()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut TaskSetRecord> {
        self.by_seq.values_mut()
    }

    pub fn get(&self, id: &str) -> Option<&TaskSetRecord> {
        self.by_seq.get(self.seq_of_id.get(id)?)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut TaskSetRecord> {
        self.by_seq.get_mut(self.seq_of_id.get(id)?)
    }

    /// The task set created with this client token.
    pub fn by_token(&self, token: &str) -> Option<&TaskSetRecord> {
        self.by_seq.get(self.seq_of_token.get(token)?)
    }

    /// Adds a task set after the others (its id must be new).
    pub fn push(&mut self, set: TaskSetRecord) {
        self.next += 1;
        self.seq_of_id.insert(set.id.clone(), self.next);
        if let Some((token, _)) = &set.client_token {
            self.seq_of_token.insert(token.clone(), self.next);
        }
        self.by_seq.insert(self.next, set);
    }

    pub fn remove(&mut self, id: &str) -> Option<TaskSetRecord> {
        let seq = self.seq_of_id.remove(id)?;
        let set = self.by_seq.remove(&seq)?;
        if let Some((token, _)) = &set.client_token {
            self.seq_of_token.remove(token);
        }
        Some(set)
    }

    pub fn clear(&mut self) {
        *self = TaskSets {
            next: self.next,
            ..TaskSets::default()
        };
    }
}
