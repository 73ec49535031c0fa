//! Request handling without HTTP: target → operation, body → typed input, validation, and the
//! state change under one lock (so concurrent clients see a serial history: no lost task sets,
//! never two PRIMARY task sets).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ecs_model::{operations, Operation, Validate};
use serde_json::Value;

use crate::clock::{Clock, IdSource};
use crate::error::ApiError;
use crate::faults::{Fault, Faults, LoggedCall, LoggedError};
use crate::state::{Ctx, Settings, State};

/// The one list of what the emulator implements: each operation and the `State` method that
/// answers it. [`IMPLEMENTED`] (which the crate documentation points to, and whose
/// documentation lists them) and the dispatch of [`Engine::handle`] are expanded from it.
macro_rules! with_implemented {
    ($then:ident) => {
        $then! {
            CreateCluster => create_cluster,
            DescribeClusters => describe_clusters,
            DeleteCluster => delete_cluster,
            ListClusters => list_clusters,
            UpdateCluster => update_cluster,
            PutClusterCapacityProviders => put_cluster_capacity_providers,
            RegisterTaskDefinition => register_task_definition,
            DescribeTaskDefinition => describe_task_definition,
            DeregisterTaskDefinition => deregister_task_definition,
            ListTaskDefinitions => list_task_definitions,
            ListTaskDefinitionFamilies => list_task_definition_families,
            CreateService => create_service,
            DescribeServices => describe_services,
            UpdateService => update_service,
            DeleteService => delete_service,
            ListServices => list_services,
            CreateTaskSet => create_task_set,
            DescribeTaskSets => describe_task_sets,
            UpdateTaskSet => update_task_set,
            DeleteTaskSet => delete_task_set,
            UpdateServicePrimaryTaskSet => update_service_primary_task_set,
            RunTask => run_task,
            ListTasks => list_tasks,
            DescribeTasks => describe_tasks,
            StopTask => stop_task,
            ListServiceDeployments => list_service_deployments,
            DescribeServiceDeployments => describe_service_deployments,
            DescribeServiceRevisions => describe_service_revisions,
            TagResource => tag_resource,
            UntagResource => untag_resource,
            ListTagsForResource => list_tags_for_resource,
        }
    };
}

macro_rules! implemented_const {
    ($($op:ident => $method:ident),* $(,)?) => {
        /// The operations the emulator implements, in the order of its one list:
        #[doc = concat!($("`", stringify!($op), "` "),*)]
        ///
        /// Any other operation answers `UnknownOperationException` (HTTP 400).
        pub const IMPLEMENTED: &[&str] = &[$(stringify!($op)),*];
    };
}
with_implemented!(implemented_const);

type Handler<O> =
    fn(&mut State, <O as Operation>::Input, &Ctx) -> Result<<O as Operation>::Output, ApiError>;

/// The emulator's state for every region, and how requests reach it.
pub struct Engine {
    settings: Settings,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    regions: Mutex<BTreeMap<String, State>>,
    handled: std::sync::atomic::AtomicU64,
    faults: Mutex<Faults>,
    /// The calls received, when logging is on.
    log: Option<Mutex<Vec<LoggedCall>>>,
}

impl Engine {
    /// An engine with no resources, no faults and no call log.
    pub fn new(settings: Settings, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        Engine {
            settings,
            clock,
            ids,
            regions: Mutex::new(BTreeMap::new()),
            handled: std::sync::atomic::AtomicU64::new(0),
            faults: Mutex::new(Faults::default()),
            log: None,
        }
    }

    /// This engine, logging every call it receives (see [`Engine::calls`]).
    pub fn with_call_log(mut self) -> Self {
        self.log = Some(Mutex::new(vec![]));
        self
    }

    /// Back to an empty account: every region's resources, the faults and the call log are
    /// gone. The settings, the clock and the id source stay.
    pub fn reset(&self) {
        lock(&self.regions).clear();
        *lock(&self.faults) = Faults::default();
        if let Some(log) = &self.log {
            lock(log).clear();
        }
    }

    /// Makes the emulator misbehave (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        let mut faults = lock(&self.faults);
        faults.inject(fault);
        let scheduler = faults.scheduler.clone();
        drop(faults);
        for state in lock(&self.regions).values_mut() {
            state.set_faults(scheduler.clone());
        }
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        *lock(&self.faults) = Faults::default();
        for state in lock(&self.regions).values_mut() {
            state.set_faults(Default::default());
        }
    }

    /// The calls received so far, oldest first (empty unless the engine logs calls:
    /// [`crate::EmulatorBuilder::log_calls`]).
    pub fn calls(&self) -> Vec<LoggedCall> {
        self.log
            .as_ref()
            .map(|l| lock(l).clone())
            .unwrap_or_default()
    }

    /// The logged calls of one operation.
    pub fn calls_of(&self, operation: &str) -> Vec<LoggedCall> {
        let mut calls = self.calls();
        calls.retain(|c| c.operation == operation);
        calls
    }

    /// Requests handled so far, answered or refused.
    pub fn requests_handled(&self) -> u64 {
        self.handled.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Calls operation `O` in process, as a request in the default region would be handled:
    /// faults, validation, the state change and the call log all apply, and the answer comes
    /// back typed. `engine.call::<operations::CreateTaskSet>(input)`.
    pub fn call<O: Operation>(&self, input: &O::Input) -> Result<O::Output, ApiError> {
        let body = serde_json::to_vec(input)
            .map_err(|e| ApiError::serialization(format!("The input does not encode: {e}")))?;
        let answer = self.handle(Some(O::INFO.target), None, &body)?;
        ecs_model::from_json(&answer).map_err(|e| {
            ApiError::new(
                500,
                "ServerException",
                format!("The emulator's own answer does not decode: {e}"),
            )
        })
    }

    /// The emulator's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Handles one awsJson1_1 request: `target` is the `X-Amz-Target` header, `region` the
    /// region of the request's signature (the default region when absent). Returns the JSON
    /// answer or an AWS-shaped error.
    pub fn handle(
        &self,
        target: Option<&str>,
        region: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<u8>, ApiError> {
        self.handled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let at = self.clock.now();
        let answer = self.answer(target, region, body);
        if let Some(log) = &self.log {
            let operation = target
                .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
                .unwrap_or_default();
            let input = serde_json::from_slice(body).unwrap_or(Value::Object(Default::default()));
            let answer = match &answer {
                Ok(bytes) => Ok(serde_json::from_slice(bytes).unwrap_or(Value::Null)),
                Err(e) => Err(LoggedError {
                    status: e.status,
                    code: e.code.to_owned(),
                    message: e.message.clone(),
                }),
            };
            lock(log).push(LoggedCall {
                operation,
                input,
                answer,
                at,
            });
        }
        answer
    }

    fn answer(
        &self,
        target: Option<&str>,
        region: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<u8>, ApiError> {
        let target = target
            .ok_or_else(|| ApiError::unknown_operation("The X-Amz-Target header is missing."))?;
        let op = target
            .strip_prefix(ecs_model::TARGET_PREFIX)
            .and_then(|t| t.strip_prefix('.'))
            .ok_or_else(|| {
                ApiError::unknown_operation(format!("{target:?} is not an ECS operation target."))
            })?;
        let region = region.unwrap_or(&self.settings.region);
        {
            let mut faults = lock(&self.faults);
            if let Some(error) = faults.on_call(op) {
                return Err(error);
            }
            if let Some(kept) = faults.stale_answer(op, region, body) {
                return Ok(kept);
            }
        }
        let answer = self.dispatch(op, region, body);
        if let Ok(bytes) = &answer {
            lock(&self.faults).keep_answer(op, region, body, bytes);
        }
        answer
    }

    fn dispatch(&self, op: &str, region: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        macro_rules! dispatch {
            ($($op:ident => $method:ident),* $(,)?) => {
                match op {
                    $(stringify!($op) => self.invoke::<operations::$op>(region, body, State::$method),)*
                    other if ecs_model::operation::find(other).is_some() => {
                        Err(ApiError::unknown_operation(format!("{other} is not implemented by the reference emulator.")))
                    }
                    other => Err(ApiError::unknown_operation(format!("{other} is not an ECS operation."))),
                }
            };
        }
        with_implemented!(dispatch)
    }

    fn invoke<O: Operation>(
        &self,
        region: &str,
        body: &[u8],
        handler: Handler<O>,
    ) -> Result<Vec<u8>, ApiError> {
        let raw: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(body)
                .map_err(|e| ApiError::serialization(format!("The body is not JSON: {e}")))?
        };
        if !raw.is_object() {
            return Err(ApiError::serialization("The body must be a JSON object."));
        }
        let input: O::Input =
            ecs_model::from_value(&raw).map_err(|e| ApiError::serialization(e.to_string()))?;
        let violations = input.violations();
        if !violations.is_empty() {
            // AWS's words where a recorded answer has them, else every violation.
            if let Some(message) = violations
                .iter()
                .find_map(|v| ecs_model::rules::aws_message(v.rule))
            {
                return Err(ApiError::invalid(message));
            }
            let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
            return Err(ApiError::invalid(text.join("; ")));
        }
        let now = self.clock.now();
        let mut regions = self
            .regions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let state = regions.entry(region.to_owned()).or_insert_with(|| {
            let mut state = State::new(Settings {
                region: region.to_owned(),
                ..self.settings.clone()
            });
            state.set_faults(lock(&self.faults).scheduler.clone());
            state
        });
        state.advance(now);
        let ctx = Ctx {
            now,
            ids: &*self.ids,
            raw: &raw,
        };
        let output = handler(state, input, &ctx)?;
        // Answers are encoded after the lock is released, so concurrent requests only wait
        // for the state change itself.
        drop(regions);
        serde_json::to_vec(&output)
            .map_err(|e| ApiError::new(500, "ServerException", e.to_string()))
    }

    /// Every region, brought up to the current time: the events due by now applied.
    ///
    /// (A poisoned lock is taken over: a panic elsewhere leaves the state as it was.)
    fn regions_now(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, State>> {
        let now = self.clock.now();
        let mut regions = self
            .regions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for state in regions.values_mut() {
            state.advance(now);
        }
        regions
    }

    /// Scheduler events not yet due, across all regions (after applying those due now).
    pub fn scheduled_events(&self) -> usize {
        self.regions_now()
            .values()
            .map(State::scheduled_events)
            .sum()
    }

    /// Every broken invariant across all regions (empty when all hold).
    pub fn check_invariants(&self) -> Vec<String> {
        self.regions_now()
            .values()
            .flat_map(State::check_invariants)
            .collect()
    }
}

/// Locks `m`, taking over a lock poisoned by a panic elsewhere.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
