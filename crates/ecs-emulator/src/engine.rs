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
use crate::outside::{AlarmState, HookBehaviour, Outside};
use crate::state::{Ctx, ElbCtx, Elbv2, Settings, State};
use ecs_model::query::{QueryOperation, QueryParams, QueryValue};

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
            StopServiceDeployment => stop_service_deployment,
            ContinueServiceDeployment => continue_service_deployment,
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

/// The ELBv2 operations the emulator answers on the same endpoint (awsQuery), each with its
/// handler; every one of `ecs_model::elbv2::operations::OPERATIONS`.
macro_rules! with_elbv2 {
    ($then:ident) => {
        $then! {
            CreateLoadBalancer => create_load_balancer,
            DescribeLoadBalancers => describe_load_balancers,
            DeleteLoadBalancer => delete_load_balancer,
            CreateTargetGroup => create_target_group,
            DescribeTargetGroups => describe_target_groups,
            DeleteTargetGroup => delete_target_group,
            DescribeTargetGroupAttributes => describe_target_group_attributes,
            ModifyTargetGroupAttributes => modify_target_group_attributes,
            CreateListener => create_listener,
            DescribeListeners => describe_listeners,
            ModifyListener => modify_listener,
            DeleteListener => delete_listener,
            CreateRule => create_rule,
            DescribeRules => describe_rules,
            ModifyRule => modify_rule,
            DeleteRule => delete_rule,
            RegisterTargets => register_targets,
            DeregisterTargets => deregister_targets,
            DescribeTargetHealth => describe_target_health,
            AddTags => add_tags,
            RemoveTags => remove_tags,
            DescribeTags => describe_tags,
        }
    };
}

macro_rules! elbv2_const {
    ($($op:ident => $method:ident),* $(,)?) => {
        /// The Elastic Load Balancing v2 operations the emulator answers on the same endpoint
        /// (awsQuery: a form body with `Action`):
        #[doc = concat!($("`", stringify!($op), "` "),*)]
        pub const IMPLEMENTED_ELBV2: &[&str] = &[$(stringify!($op)),*];
    };
}
with_elbv2!(elbv2_const);

type QueryHandler<O> = fn(
    &mut Elbv2,
    <O as QueryOperation>::Input,
    &mut ElbCtx<'_>,
) -> Result<<O as QueryOperation>::Output, ApiError>;

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
    /// What hooks and alarms answer.
    outside: Mutex<Outside>,
    /// The calls received, when logging is on.
    log: Option<Mutex<Vec<LoggedCall>>>,
    /// How far the engine's time runs ahead of its clock ([`Engine::advance`]).
    shift: Mutex<std::time::Duration>,
    /// The factor on the built timing's delays ([`Engine::set_time_scale`]).
    time_scale: Mutex<f64>,
}

/// The most the engine's time may run ahead of its clock, in all: ten years.
pub const MAX_ADVANCE: std::time::Duration = std::time::Duration::from_secs(3650 * 86_400);

/// The time scales [`Engine::set_time_scale`] takes.
pub const TIME_SCALES: std::ops::RangeInclusive<f64> = 1e-6..=1e6;

/// A change of the engine's time that it refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TimeError {
    /// A scale outside [`TIME_SCALES`], or not a number.
    #[error(
        "a time scale must be a number from {low} to {high}, not {0}",
        low = TIME_SCALES.start(),
        high = TIME_SCALES.end()
    )]
    Scale(f64),
    /// An advance that would put the engine's time more than [`MAX_ADVANCE`] ahead of its
    /// clock.
    #[error(
        "the emulator's time may run at most {days} days ahead of its clock; {0:?} more would pass that",
        days = MAX_ADVANCE.as_secs() / 86_400
    )]
    Advance(std::time::Duration),
}

impl TimeError {
    /// `factor` when [`Engine::set_time_scale`] takes it.
    pub fn check_scale(factor: f64) -> Result<f64, TimeError> {
        if TIME_SCALES.contains(&factor) {
            Ok(factor)
        } else {
            Err(TimeError::Scale(factor))
        }
    }
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
            outside: Mutex::new(Outside::default()),
            log: None,
            shift: Mutex::new(std::time::Duration::ZERO),
            time_scale: Mutex::new(1.0),
        }
    }

    /// Runs the emulated scheduler's delays at `factor` times those the engine was built with
    /// (0.5: half as long; 1: as built), in every region, from now on: what was due before the
    /// change is done at the old scale, and what is already scheduled keeps its moment. The
    /// load balancer's own clock (health checks, deregistration delays) keeps its built pace.
    /// A reset keeps the scale. Refused outside [`TIME_SCALES`].
    pub fn set_time_scale(&self, factor: f64) -> Result<(), TimeError> {
        let factor = TimeError::check_scale(factor)?;
        // Every region brought to now first, and the scale changed under the lock that new
        // regions read it under.
        let mut regions = self.regions_now();
        *lock(&self.time_scale) = factor;
        let timing = self.timing_at(factor);
        for state in regions.values_mut() {
            state.set_timing(timing.clone());
        }
        Ok(())
    }

    /// The factor set by [`Engine::set_time_scale`] (1 when never set).
    pub fn time_scale(&self) -> f64 {
        *lock(&self.time_scale)
    }

    /// The timing of the scheduler at `factor` times the built one. The load balancer's
    /// second keeps its built length: the moments it counts (a target's health, the end of a
    /// deregistration) are worked out from it each time they are read, so scaling it would
    /// move moments already passed.
    fn timing_at(&self, factor: f64) -> crate::Timing {
        let mut timing = self.settings.timing.scaled(factor);
        timing.health_second = self.settings.timing.health_second;
        timing
    }

    /// The engine's time: its clock's, moved on by every [`Engine::advance`].
    pub fn now(&self) -> std::time::SystemTime {
        let clock = self.clock.now();
        clock.checked_add(*lock(&self.shift)).unwrap_or(clock)
    }

    /// Moves the engine's time forward by `by`, as if that much time had passed: the next
    /// request sees every change the emulated scheduler had due by then (a recompute, tasks
    /// starting, a bake ending, sets draining), in order. The engine's time never goes back,
    /// so a reset keeps what was advanced. With a [`crate::ManualClock`] this is the same as
    /// advancing the clock; with the system clock it is the only way to skip ahead. Refused
    /// past [`MAX_ADVANCE`] in all.
    pub fn advance(&self, by: std::time::Duration) -> Result<(), TimeError> {
        // Under the regions' lock, which requests hold while they read the time, so that no
        // request sees the time from before an advance after another saw it from after.
        let _regions = lock(&self.regions);
        let mut shift = lock(&self.shift);
        let moved = shift
            .checked_add(by)
            .filter(|m| *m <= MAX_ADVANCE)
            .ok_or(TimeError::Advance(by))?;
        *shift = moved;
        Ok(())
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
        *lock(&self.outside) = Outside::default();
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

    /// What the Lambda function behind `hook_arn` answers when a lifecycle hook invokes it
    /// (until [`Engine::reset`]); a hook ARN never set answers `SUCCEEDED` at once.
    pub fn set_hook(&self, hook_arn: &str, behaviour: HookBehaviour) {
        self.change_outside(|o| {
            o.hooks.insert(hook_arn.to_owned(), behaviour);
        });
    }

    /// Sets the CloudWatch alarm `name` to `state` (an alarm never set is OK). A deployment
    /// that rolls back on one of its alarms starts rolling back at once.
    pub fn set_alarm(&self, name: &str, state: AlarmState) {
        self.change_outside(|o| {
            o.alarms.insert(name.to_owned(), state);
        });
    }

    /// Changes what hooks and alarms answer and gives every region the new answers, with the
    /// regions' lock taken first (the order `region_state` takes them in), so that two changes
    /// reach every region in the order they were made.
    fn change_outside(&self, change: impl FnOnce(&mut Outside)) {
        let mut regions = lock(&self.regions);
        let now = self.now();
        let snapshot = {
            let mut outside = lock(&self.outside);
            change(&mut outside);
            outside.clone()
        };
        for state in regions.values_mut() {
            state.set_outside(snapshot.clone(), now);
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

    /// Calls ELBv2 operation `O` in process, as [`Engine::call`] does for ECS:
    /// `engine.call_elbv2::<ecs_model::elbv2::operations::DescribeTargetHealth>(&input)`.
    pub fn call_elbv2<O: QueryOperation>(&self, input: &O::Input) -> Result<O::Output, ApiError> {
        let body = ecs_model::query::request_body::<O>(input, ecs_model::elbv2::API_VERSION);
        let answer = self.handle_query(None, body.as_bytes(), "in-process")?;
        let xml = String::from_utf8_lossy(&answer);
        ecs_model::query::parse_answer::<O>(&xml).map_err(|e| {
            ApiError::new(
                500,
                "InternalFailure",
                format!("The emulator's own answer does not decode: {e}"),
            )
        })
    }

    /// The emulator's settings as it was built; a scale set since is in
    /// [`Engine::time_scale`], not in their timing.
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
        let at = self.now();
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

    /// Handles one awsQuery (ELBv2) request: `body` is the form, `region` as for
    /// [`Engine::handle`]. Returns the XML answer or an error (in ELBv2's codes: a throttle
    /// fault answers `Throttling`, a server fault `InternalFailure`).
    pub fn handle_query(
        &self,
        region: Option<&str>,
        body: &[u8],
        request_id: &str,
    ) -> Result<Vec<u8>, ApiError> {
        self.handled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let at = self.now();
        let params = QueryParams::parse(body);
        let action = params.action().unwrap_or_default().to_owned();
        let answer = self.answer_query(&action, region, &params, body, request_id);
        if let Some(log) = &self.log {
            let input = Value::Object(
                params
                    .iter()
                    .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                    .collect(),
            );
            let answer = match &answer {
                Ok(bytes) => Ok(Value::String(String::from_utf8_lossy(bytes).into_owned())),
                Err(e) => Err(LoggedError {
                    status: e.status,
                    code: e.code.to_owned(),
                    message: e.message.clone(),
                }),
            };
            lock(log).push(LoggedCall {
                operation: action,
                input,
                answer,
                at,
            });
        }
        answer
    }

    fn answer_query(
        &self,
        action: &str,
        region: Option<&str>,
        params: &QueryParams,
        body: &[u8],
        request_id: &str,
    ) -> Result<Vec<u8>, ApiError> {
        if action.is_empty() {
            return Err(ApiError::new(
                400,
                "MissingAction",
                "The request must contain the parameter Action.",
            ));
        }
        if params.get("Version") != Some(ecs_model::elbv2::API_VERSION) {
            // Assumed (A56): an awsQuery request without the API version is refused.
            return Err(ApiError::new(
                400,
                "InvalidParameterValue",
                format!(
                    "Version {:?} is not {}",
                    params.get("Version").unwrap_or_default(),
                    ecs_model::elbv2::API_VERSION
                ),
            ));
        }
        let region = region.unwrap_or(&self.settings.region);
        {
            let mut faults = lock(&self.faults);
            if let Some(error) = faults.on_call(action) {
                return Err(match error.code {
                    "ThrottlingException" => ApiError::new(400, "Throttling", "Rate exceeded"),
                    "ServerException" => ApiError::new(500, "InternalFailure", error.message),
                    _ => error,
                });
            }
            if let Some(kept) = faults.stale_answer(action, region, body) {
                return Ok(kept);
            }
        }
        macro_rules! dispatch {
            ($($op:ident => $method:ident),* $(,)?) => {
                match action {
                    $(stringify!($op) => self.invoke_query::<ecs_model::elbv2::operations::$op>(region, params, request_id, Elbv2::$method),)*
                    other => Err(ApiError::new(400, "InvalidAction", format!("Could not find operation {other} for version {}", ecs_model::elbv2::API_VERSION))),
                }
            };
        }
        let answer = with_elbv2!(dispatch);
        if let Ok(bytes) = &answer {
            lock(&self.faults).keep_answer(action, region, body, bytes);
        }
        answer
    }

    fn invoke_query<O: QueryOperation>(
        &self,
        region: &str,
        params: &QueryParams,
        request_id: &str,
        handler: QueryHandler<O>,
    ) -> Result<Vec<u8>, ApiError> {
        let input = O::Input::read_query(params, "")
            .map_err(|e| ApiError::new(400, "ValidationError", e.to_string()))?
            .unwrap_or_default();
        if let Some(member) = input.first_missing() {
            return Err(crate::state::missing_member(member));
        }
        let mut regions = lock(&self.regions);
        let now = self.now();
        let state = self.region_state(&mut regions, region);
        state.advance(now);
        let output = state.elbv2(now, handler, input)?;
        drop(regions);
        Ok(
            ecs_model::query::answer_xml::<O>(&output, ecs_model::elbv2::XML_NAMESPACE, request_id)
                .into_bytes(),
        )
    }

    fn region_state<'r>(
        &self,
        regions: &'r mut BTreeMap<String, State>,
        region: &str,
    ) -> &'r mut State {
        regions.entry(region.to_owned()).or_insert_with(|| {
            let mut state = State::new(Settings {
                region: region.to_owned(),
                timing: self.timing_at(*lock(&self.time_scale)),
                ..self.settings.clone()
            });
            state.set_faults(lock(&self.faults).scheduler.clone());
            state.set_outside(lock(&self.outside).clone(), self.now());
            state
        })
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
        let mut regions = lock(&self.regions);
        let now = self.now();
        let state = self.region_state(&mut regions, region);
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
        let mut regions = self
            .regions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = self.now();
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
