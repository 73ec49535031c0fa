//! The event queue of one region: what the emulated ECS scheduler will do, and when. Requests
//! push events; before each request is handled, every event due by then is applied in time
//! order (`O(log n)` per event), so the state a request sees is the state at its own moment.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::SystemTime;

/// Where a task set lives: cluster name, service name, task set id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SetKey {
    pub cluster: String,
    pub service: String,
    pub set: String,
}

/// Where a service lives: cluster name, service name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceKey {
    pub cluster: String,
    pub service: String,
}

/// Something the emulated scheduler does later. Events carry the generation of the record they
/// were scheduled for; a record that changed since ignores them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    /// Recompute a task set's `computedDesiredCount` from the service's desired count and the
    /// set's scale, as they are when the event fires.
    Recompute { key: SetKey, generation: u64 },
    /// Start or stop tasks so that running + pending matches the computed count.
    Launch { key: SetKey },
    /// A batch of PENDING tasks is RUNNING.
    TasksStarted { key: SetKey, batch: u64 },
    /// A converged task set becomes STEADY_STATE.
    Steady { key: SetKey, generation: u64 },
    /// A DRAINING task set has stopped its tasks.
    SetStopped { key: SetKey },
    /// A DRAINING task set is gone.
    SetDrained { key: SetKey },
    /// An ECS-controller deployment starts or stops tasks towards its desired count.
    DeploymentLaunch { key: ServiceKey, deployment: String },
    /// A batch of a deployment's PENDING tasks is RUNNING.
    DeploymentTasksStarted {
        key: ServiceKey,
        deployment: String,
        batch: u64,
    },
    /// A deployment whose tasks all run is COMPLETED; older deployments are retired.
    DeploymentCompleted {
        key: ServiceKey,
        deployment: String,
        generation: u64,
    },
    /// A native (blue/green, linear, canary) deployment of the service goes on: a bake ended,
    /// a hook is due or timed out. Ignored when a later wake-up replaced it.
    NativeWake { key: ServiceKey, generation: u64 },
    /// A rolling deployment met its early success criteria: its older tasks are stopped
    /// (`cleaned` once they are) and it is SUCCESSFUL (DEFERRED: without waiting for them).
    EarlySuccess {
        key: ServiceKey,
        arn: String,
        deferred: bool,
        cleaned: bool,
    },
    /// StopServiceDeployment's rollback starts.
    RollbackRequested { key: ServiceKey, arn: String },
    /// A DRAINING service is INACTIVE.
    ServiceInactive { key: ServiceKey },
    /// A PROVISIONING cluster (capacity providers of its own) is ACTIVE.
    ClusterProvisioned { cluster: String },
    /// Tasks that were stopping are STOPPED.
    TasksStopped { cluster: String, ids: Vec<String> },
    /// Tasks RunTask started are RUNNING (or failed to start).
    StandaloneStarted { cluster: String, ids: Vec<String> },
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Scheduled {
    at: SystemTime,
    seq: u64,
    event: Event,
}

/// Events ordered by due time, then by the order they were scheduled in.
#[derive(Debug, Default)]
pub struct Queue {
    heap: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
}

impl Queue {
    pub fn push(&mut self, at: SystemTime, event: Event) {
        self.seq += 1;
        self.heap.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            event,
        }));
    }

    /// The next event due at or before `now`, with its due time.
    pub fn pop_due(&mut self, now: SystemTime) -> Option<(SystemTime, Event)> {
        if self.heap.peek().is_some_and(|Reverse(s)| s.at <= now) {
            self.heap.pop().map(|Reverse(s)| (s.at, s.event))
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn key(set: &str) -> SetKey {
        SetKey {
            cluster: "c".into(),
            service: "s".into(),
            set: set.into(),
        }
    }

    #[test]
    fn events_come_out_in_due_order_then_in_push_order() {
        let t = |ms| UNIX_EPOCH + Duration::from_millis(ms);
        let mut q = Queue::default();
        q.push(t(30), Event::SetDrained { key: key("c") });
        q.push(t(10), Event::SetDrained { key: key("a") });
        q.push(t(10), Event::SetDrained { key: key("b") });
        assert_eq!(q.pop_due(t(5)), None);
        let order: Vec<String> = std::iter::from_fn(|| q.pop_due(t(30)))
            .map(|(_, e)| match e {
                Event::SetDrained { key } => key.set,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert_eq!(q.len(), 0);
    }
}
