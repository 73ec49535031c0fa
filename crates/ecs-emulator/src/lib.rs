//! The reference ECS endpoint: an in-memory control plane over HTTP (awsJson1_1) that
//! implements the documented task-set semantics exactly. It is the conformance suite's default
//! target and proves the fixtures consistent; it is also an emulator to test EXTERNAL
//! deployment controllers against.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let emulator = ecs_emulator::Emulator::start().await?;
//! println!("ECS at {}", emulator.url()); // http://127.0.0.1:<port>
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # In a controller's tests
//!
//! Point the client at it with `ecs_client::Config::local(url)` (dummy credentials, nothing read
//! from the environment). Build it with [`EmulatorBuilder::log_calls`] to assert what your code
//! called ([`Engine::calls`], [`Engine::calls_of`]); make it misbehave with [`Engine::inject`]
//! and a [`Fault`]: throttling, 5xx answers, refusals (an error code of your choice) or
//! dropped connections on chosen operations, tasks that never start, a slow recompute; start
//! again from an empty account with
//! [`Engine::reset`]. `tests/controller.rs` shows all of it.
//!
//! The operations it implements are listed in [`IMPLEMENTED`] (the same list drives the
//! dispatch); any other target answers `UnknownOperationException` (HTTP 400). In process,
//! [`Engine::call`] takes and answers typed values: `engine.call::<operations::CreateTaskSet>(&input)`.
//!
//! # Elastic Load Balancing v2 on the same endpoint
//!
//! An awsQuery request (a form body with `Action`, as the AWS CLI, boto3 and the SDKs send
//! for `elbv2`) is answered in XML on the same port, so one `AWS_ENDPOINT_URL` covers both
//! services: application load balancers, target groups, listeners and rules with weighted
//! forwards, tags, and targets whose health moves in time (`initial`, then `healthy` after
//! interval × healthy threshold; `draining` for the deregistration delay after they leave).
//! ECS registers each awsvpc task of a service or task set in its target group when the task
//! is RUNNING and deregisters it when it is to stop. The operations are
//! [`IMPLEMENTED_ELBV2`]; faults and the call log cover them as they do ECS
//! ([`LoggedCall::elbv2_input`]); in process, [`Engine::call_elbv2`] takes and answers the
//! generated types of `ecs_model::elbv2`. The choices no record settles are A52-A58 below.
//!
//! # Documented behaviour it implements
//!
//! - `computedDesiredCount = ceil(desiredCount × scale / 100)` on exact decimals, recomputed
//!   whenever the service's desired count or the set's scale changes (seeds 000, 002, 004).
//! - Faithful in time (evidence in `conformance/evidence/`): a mutating call answers with the
//!   state from before the scheduler acts (a new set has `computedDesiredCount` 0, an updated
//!   one keeps its previous value, CreateService and UpdateService answer the old counts); an
//!   event queue then recomputes the count, launches PENDING tasks, starts them, and makes the
//!   set STEADY_STATE, each after the delays of a [`TimingProfile`] (`instant`, `fast`, `aws`)
//!   times a time scale. The default is AWS's shape at [`DEFAULT_TIME_SCALE`].
//! - ECS-controller services roll out deployments: a new task definition (or
//!   `forceNewDeployment`) starts a PRIMARY deployment IN_PROGRESS, the old one turns ACTIVE,
//!   and it is retired once the new one's tasks all run (COMPLETED).
//! - Task sets are ACTIVE when created; UpdateServicePrimaryTaskSet makes one PRIMARY and the
//!   previous primary ACTIVE, and the service takes on the primary's task definition, launch
//!   type, capacity provider strategy, platform version, network configuration, load balancers
//!   and service registries (seed 000). DeleteTaskSet answers DRAINING and the set is gone once
//!   drained (after the drain delay); the PRIMARY set needs `force`, any other set is deleted at any scale (A8, decided by the record).
//! - `stabilityStatus` follows simulated tasks: PENDING until the task delay has passed, then
//!   RUNNING; STEADY_STATE exactly when running = computed and pending = 0 after the delay,
//!   with `updatedAt` and `stabilityStatusAt` set to the moment it became steady.
//! - DescribeTaskSets returns every set when none is named, a `failures` entry with reason
//!   `MISSING` for each unknown id or ARN, and tags only with `include: ["TAGS"]` (seed 004).
//! - Task-set operations work only on ACTIVE services with the EXTERNAL deployment controller;
//!   UpdateService on such a service may change only the desired count, placement constraints
//!   and strategy, health check grace period, managed tags and tag propagation (seeds 001, 003).
//! - Defaults as AWS's published examples show them (awscli 1.46.3 `examples/ecs/`): launch
//!   type EC2 when neither launch type nor capacity provider strategy is given; scale 0 PERCENT
//!   when none is given; `assignPublicIp` DISABLED; `loadBalancers` and `serviceRegistries`
//!   always present, empty when not given; full task definition ARNs in answers; services with
//!   `deploymentConfiguration` 200/100, `schedulingStrategy` REPLICA, `propagateTags` NONE,
//!   `enableECSManagedTags` false, empty `deployments` for EXTERNAL services; `failures: []`.
//! - What the answers recorded since 2024 add (`conformance/evidence/`, replayed by
//!   `ecs-conformance evidence --replay`): an ECS service's deployment configuration with
//!   alarms and the circuit breaker off, `strategy` ROLLING and `bakeTimeInMinutes` 0;
//!   `availabilityZoneRebalancing` (A42), `createdBy` (A43), `healthCheckGracePeriodSeconds` 0,
//!   `resourceManagementType` CUSTOMER, `currentServiceRevisions`; a new deployment answers
//!   `desiredCount` 0 until the scheduler acts, with `rolloutStateReason` `"ECS deployment
//!   <id> in progress."`; Fargate services, deployments and task sets answer `platformFamily` Linux;
//!   task sets inside a service show their tags; task definitions answer every container's
//!   empty lists, `volumes`, `placementConstraints` and `registeredBy`.
//! - Tasks are objects (ListTasks, DescribeTasks, RunTask, StopTask): every task a task set, a
//!   deployment or RunTask starts has its own record, PROVISIONING (awsvpc, its interface
//!   PRECREATED) then PENDING then RUNNING in the scheduler's time, `startedBy` its set or
//!   deployment, `group` `service:<name>` (`family:<family>` for RunTask), an interface with a
//!   private IP under awsvpc, and AWS's `version` count. Running and pending counts are the
//!   numbers of an owner's tasks in those states. A scale-in or a rolling replacement stops
//!   tasks with `stopCode` ServiceSchedulerInitiated and `"Scaling activity initiated by
//!   (deployment <id>)"` (ECS developer guide); StopTask with UserInitiated and `"Task stopped
//!   by user"` unless a reason is given, and a service's scheduler replaces the task; a task
//!   stopped before it ran is STOPPED at once (aws-cli stop-task example). STOPPED tasks stay
//!   visible for an hour (A47); DeleteCluster is refused while tasks are active
//!   (ClusterContainsTasksException, AWS's words).
//! - Service deployments (ListServiceDeployments, DescribeServiceDeployments,
//!   DescribeServiceRevisions, `Service.currentServiceDeployment`): every deployment of an
//!   ECS-controller service is a service deployment on a revision of its own, PENDING, then
//!   IN_PROGRESS when the scheduler acts, SUCCESSFUL when it completes; a newer one STOPS it; a
//!   tripped circuit breaker stops it or rolls it back (ROLLBACK_IN_PROGRESS, then
//!   ROLLBACK_SUCCESSFUL, on the last revision that succeeded: AWS makes no new revision for a
//!   rollback). Revisions carry the task definition, placement, network and container images.
//!   StopServiceDeployment (ROLLBACK) rolls a deployment in progress back; early success
//!   criteria end a ROLLING deployment at its healthy percent.
//! - ECS's own deployment strategies (`deploymentConfiguration.strategy` BLUE_GREEN, LINEAR,
//!   CANARY; see the `native` module of the state): the documented lifecycle stages in order,
//!   green registered in the other target group of each pair, the test and production listener
//!   rules' weights moved in the ELBv2 emulation step by step, step bakes and the bake time,
//!   lifecycle hooks at their stages (AWS_LAMBDA answers set with [`Engine::set_hook`], PAUSE
//!   hooks resumed by ContinueServiceDeployment) with their timeouts, and a rollback (the shifts
//!   undone, green gone) on a failed hook, a timeout, the circuit breaker, an alarm set to
//!   ALARM with [`Engine::set_alarm`], or StopServiceDeployment. Every stage is visible in
//!   DescribeServiceDeployments (`lifecycleStage`, `lifecycleHookDetails`, each revision's
//!   `requestedProductionTrafficWeight` and `requestedTestTrafficWeight`). The choices no
//!   record settles are A59-A73 below.
//! - A control path for tests in any language, on loopback only: reset, faults, the call log,
//!   hook answers, alarms and the emulator's time and time scale (see [`control`]).
//! - Identifiers in AWS formats: `ecs-svc/<19 digits>`,
//!   `arn:aws:ecs:<region>:<account>:task-set/<cluster>/<service>/<id>`; names, short ids and
//!   full ARNs are accepted wherever the documentation allows.
//! - Request validation with the generated model validators and the documented prose rules.
//!
//! # Choices where the documentation is silent
//!
//! Fixtures that depend on one of these are labelled `assumed`.
//!
//! | id | situation | what the emulator does |
//! |---|---|---|
//! | A1 | a request breaks a model constraint or documented rule | 400 `InvalidParameterException`; AWS's own words where a recorded answer has them (`ecs_model::rules::aws_message`), else a message listing every violation with its path |
//! | A2 | the body is not JSON, or a member has the wrong JSON type | 400 `SerializationException` naming the JSON path |
//! | A3 | missing or unknown `X-Amz-Target`, or an ECS operation not implemented here | 400 `UnknownOperationException` |
//! | A4 | a Content-Type other than `application/x-amz-json-1.1` (or 1.0, or `application/json`) | 415 `UnsupportedMediaTypeException` |
//! | A5 | a body over 1 MiB | 413 `RequestEntityTooLargeException` |
//! | A6 | a task-set operation on a service that is not EXTERNAL | 400 `InvalidParameterException` (as AWS answers in public reports) |
//! | A7 | a sixth task set in one service | 400 `InvalidParameterException` (AWS's limit of 5, seen in public reports) |
//! | A8 | (decided by the record) DeleteTaskSet without `force` | the PRIMARY set: 400 `InvalidParameterException` "Primary TaskSet cannot be deleted" (AWS CLI error quoted in t-kikuc/note, 2024); any other set is deleted whatever its scale (Terraform's acceptance tests and pipe-cd/pipecd delete sets at 100% without force against AWS). Until #23 the emulator refused any set above scale 0, after the API reference's wording |
//! | A9 | UpdateTaskSet on, or UpdateServicePrimaryTaskSet to, a DRAINING set | 400 `InvalidParameterException` |
//! | A10 | an unknown task definition | 400 `ClientException` |
//! | A11 | an unknown task set in Update/Delete/UpdateServicePrimaryTaskSet | 400 `TaskSetNotFoundException` (in the current model; older pages do not list it for UpdateServicePrimaryTaskSet) |
//! | A12 | the same `clientToken` with the same parameters / with other parameters | the first answer again / 400 `InvalidParameterException` |
//! | A13 | a `failures` entry for an unknown task set | `arn` is the identifier as given, `reason` `MISSING`, a `detail` sentence |
//! | A14 | the answer of UpdateTaskSet, DeleteTaskSet, UpdateServicePrimaryTaskSet | no `tags` (only DescribeTaskSets with `include: ["TAGS"]` shows them); CreateTaskSet answers its tags, `[]` included (the 2020 transcript) |
//! | A15 | (decided by evidence) FARGATE without a platform version | task sets and deployments answer the concrete current version, `1.4.0`; the service keeps what was asked (the 2020 transcript, the create-service example) |
//! | A16 | a scale change that leaves the task count as it is | the set is STABILIZING (as the update-task-set example answers) until the recompute and the steady delay have passed |
//! | A17 | a DRAINING task set | keeps its scale and computed count, is STABILIZING, stops its tasks after the stop delay, disappears after the drain delay |
//! | A18 | DeleteService with desiredCount > 0 and no `force` | 400 `InvalidParameterException`; with force the service drains, its task sets drain, and it is INACTIVE after the drain delay |
//! | A19 | DeleteCluster with services that are not INACTIVE | 400 `ClusterContainsServicesException` |
//! | A20 | the region | the one in the request's SigV4 credential scope, else the configured default; each region has its own resources |
//! | A21 | (decided by evidence) DescribeTaskSets naming no task set, or `taskSets: []` | 400 `InvalidParameterException` "TaskSets cannot be empty.", before the cluster and service are looked up (aws/aws-cli issue 5380) |
//! | A22 | the stages after a call | recompute 5.3-5.7 s, launch 2.7 s, start 25-55 s, steady 2 s (fitted to the 2020 transcript, which `ecs-conformance evidence --replay` replays in time); stop 10 s and drain 20 s are our choice |
//! | A23 | `healthCheckGracePeriodSeconds` on CreateService or UpdateService of a service without a load balancer | 400 `InvalidParameterException` "Health check grace period is only valid for services configured to use load balancers" (seeds 001/003; the message from hashicorp/terraform-provider-aws issue 31104). Our choice: an EXTERNAL service uses a load balancer when one of its task sets has one |
//! | A24 | UpdateService of what a controller does not let it change (seed 001: EXTERNAL keeps only desired count, placement, grace period, managed tags, tag propagation; CODE_DEPLOY those and the deployment configuration) | 400 `InvalidParameterException`; a CODE_DEPLOY service's new task definition with AWS's own message (aws/aws-cdk issue 23564), the rest with ours naming the members |
//! | A25 | (decided by the pages and the examples) `awsvpcConfiguration` without `assignPublicIp` | `DISABLED`: pages 000, 001 and 002 (request and answer shapes alike) and every AWS example say DISABLED; page 004 (DescribeTaskSets, line 297 of its text) says ENABLED, the one page against four sources, so it is taken for a documentation slip |
//! | A26 | CreateTaskSet with more than one load balancer, or one whose containerName or containerPort is not in the task definition | 400 `InvalidParameterException` (seed 001: external deployments take one target group; seeds 000-004: the container and port come from the task definition). The port message is AWS's wording as seen for CreateService; the others are ours |
//! | A27 | CreateTaskSet with more than one service registry, or (bridge or host network mode, the default being bridge) a registry without containerName | 400 `InvalidParameterException` (seeds: multiple registries are not supported; bridge and host take containerName and containerPort); the messages are ours |
//! | A28 | CreateTaskSet with a platformVersion and launchType EC2 or EXTERNAL | 400 `InvalidParameterException` "The platform version must be null when specifying an EC2 launch type." (seeds: a platform version is only for Fargate) |
//! | A29 | a capacity provider strategy of several providers, all with weight 0 | 400 `InvalidParameterException` (seeds: at least one weight above 0); the message is ours |
//! | A30 | a Fargate platformVersion other than LATEST, 1.0.0 .. 1.4.0 (CreateService, CreateTaskSet, UpdateService) | 400 `PlatformUnknownException` (seeds 001/002 list the exception); the message is ours |
//! | A31 | placementConstraints on a FARGATE service (CreateService, UpdateService) | 400 `InvalidParameterException` (seed 001: Fargate does not support placement constraints); the message is ours |
//! | A32 | CreateService with schedulingStrategy DAEMON and launchType FARGATE; a deploymentCircuitBreaker on a service whose controller is not ECS; more than one load balancer on a CODE_DEPLOY service | 400 `InvalidParameterException` (seed 001: Fargate has no DAEMON, the circuit breaker is for rolling updates, blue/green takes one target group); the messages are ours |
//! | A33 | CreateService or CreateTaskSet with neither launchType nor capacityProviderStrategy on a cluster with a default strategy; any strategy naming a provider the cluster does not have | the cluster's default strategy is used, and no launch type is shown (seed 002); 400 `InvalidParameterException` with AWS's wording for a provider not associated with the cluster. CreateCluster refuses a default strategy naming a provider it does not list |
//! | A34 | a placement strategy rule whose field does not fit its type (binpack other than cpu or memory, random with a field), on CreateService or UpdateService | 400 `InvalidParameterException` (seed 001 lists the fields per type); the message is ours. A capacity provider strategy item without weight or base is stored and shown with 0 (seeds 000-004: both default to 0) |
//! | A35 | CreateService with the CODE_DEPLOY controller | the service shows no deployments and one PRIMARY task set at 100% running its task definition (seed 001: deployments are for the ECS controller, taskSets for CodeDeploy and EXTERNAL deployments). Task sets stay refused on it through the task-set API, and what CodeDeploy would do next is not emulated |
//! | A36 | serviceConnectConfiguration on CreateService or UpdateService | kept and shown on the deployment it starts (UpdateService starts one). 400 `InvalidParameterException` for a portName that names no port mapping of the task definition, a discoveryName over 64 characters, a service without exactly one client alias, a dnsName over 127 characters or outside a-z 0-9 _ - . (or starting with a hyphen), and on Fargate a log driver other than awslogs, splunk or awsfirelens (seed 001). These checks come before any namespace lookup, which the emulator does not make; the messages are ours |
//! | A37 | a task definition with ephemeralStorage on Fargate platform 1.0.0-1.3.0; FARGATE_SPOT on 1.0.0-1.2.0; a task set load balancer given by loadBalancerName (Classic) | 400 `PlatformTaskDefinitionIncompatibilityException` (seeds 001/002 list it; ephemeral storage came with 1.4.0); 400 `InvalidParameterException` (seed 004: FARGATE_SPOT from 1.3.0; seed 002: task sets take ALB and NLB target groups). The messages are ours. A cluster's `configuration` is kept and shown; its Fargate ephemeral storage KMS key is shown on task sets that run on Fargate as `fargateEphemeralStorage` (seed 004) |
//! | A38 | UpdateService with an empty capacityProviderStrategy on a service placed by a strategy that is not the cluster's default | 400 `InvalidParameterException` (seeds 001/003: such a service cannot go back to the default strategy); the message is ours |
//! | A39 | a task whose image has the tag `no-such-tag` (a tag that does not exist, so on AWS the pull fails) | the task never reaches RUNNING: when its start is due it is STOPPED (`stopCode` TaskFailedToStart, a `CannotPullContainerError` reason) and another task takes its place after the task delay (at least 50 ms), so the owner stays PENDING; a deployment counts each failure in failedTasks. With the deployment circuit breaker enabled, at ceil(desiredCount / 2) failures (at least 3, at most 200) the deployment is FAILED and starts nothing more (seed 001); with rollback the last completed deployment comes back as a new PRIMARY deployment |
//! | A40 | a new deployment while older ones still run tasks | it rolls within the deployment configuration (seeds 001/003): at most floor(desiredCount x maximumPercent / 100) tasks run or start at once, and older tasks stop only while ceil(desiredCount x minimumHealthyPercent / 100) stay RUNNING; the older deployments go when the new one completes |
//! | A41 | (decided by the record) CreateService or CreateTaskSet with a launch type and `capacityProviderStrategy: []` | accepted: an empty strategy is no strategy (Terraform's provider sends it with every launch type); a launch type with a non-empty strategy is refused in AWS's words ("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.") |
//! | A42 | `availabilityZoneRebalancing` | answered on every service: as given, else ENABLED for an ECS-controller REPLICA service whose maximumPercent is above 100, else DISABLED (the default since September 2025, per the Terraform provider's and Ansible's change notes; the 2025 update-service examples answer DISABLED and ENABLED). UpdateService may repeat the value a service has; another value on an EXTERNAL or CODE_DEPLOY service is refused (A24) |
//! | A43 | `createdBy` of a service, `registeredBy` of a task definition | `arn:aws:iam::<account>:root`: AWS answers the caller's principal, which the emulator does not know |
//! | A44 | CreateCluster with capacity providers other than FARGATE and FARGATE_SPOT | PROVISIONING, then ACTIVE after the recompute delay (the create-cluster example with capacity providers answers PROVISIONING); no attachments are made |
//! | A45 | DescribeClusters with any `include` | `tags` and `settings` are answered as lists, empty ones included (the 2022 describe-clusters example with ATTACHMENTS) |
//! | A46 | a task's moments within its start, and which tasks a scale-in stops | of the delay to its start: connected at 20%, PENDING after 30% (PROVISIONING before, awsvpc only), images pulled from 60% to 90% (records show connectivity about 4 s, the pull about 12 s and the start 16-20 s after creation); stopped while it runs, it stays RUNNING (desired STOPPED) for half the stop delay, then DEPROVISIONING (awsvpc) or STOPPING, then STOPPED. A scale-in cancels PENDING tasks first, newest first, then stops the newest RUNNING ones. A task of a capacity provider strategy runs on its first provider with weight or base, with launch type FARGATE for Fargate's providers and EC2 for others (aws-cli run-task example 1) |
//! | A47 | how long a STOPPED task stays visible | exactly one hour (DescribeTasks' documentation: "at least one hour"); ListTasks answers it with `desiredStatus` STOPPED until then |
//! | A48 | the `stoppedReason` of tasks stopped by a task set's drain, a service's deletion or a rolling replacement | `"Scaling activity initiated by (deployment <id>)"` naming the task's own task set or deployment, as a scale-in does (the recorded form); a drained set's or deleted service's tasks stay RUNNING, desired STOPPED, and counted, until the stop delay has passed |
//! | A49 | container instances | there are none: EC2 tasks run without one (no `containerInstanceArn`), ListTasks with `containerInstance` is an InvalidParameterException, StartTask is not implemented. A cluster created again after its deletion starts without the old one's tasks |
//! | A50 | ListServiceDeployments' order, and services that are not ECS-controller | newest first; EXTERNAL and CODE_DEPLOY services have no service deployments (an empty list). The `statusReason` texts are ours |
//! | A51 | CreateService or UpdateService with a desiredCount above 5,000 | 400 `InvalidParameterException` (Service Quotas: 5,000 tasks per service, as each task is now an object); the message is ours |
//! | A52 | how long a new load balancer is `provisioning` | 60 load-balancer seconds ([`Timing::health_second`]), then `active`; AWS takes minutes (the create-load-balancer example answers `provisioning`, the describe example `active`; botocore's LoadBalancerAvailable waiter polls every 15 s) |
//! | A53 | an ELBv2 request without a member the model requires | 400 `ValidationError` "1 validation error detected: Value null at 'MEMBER' failed to satisfy constraint: Member must not be null" (the form of AWS's validation messages; no ELBv2 record) |
//! | A54 | how a forward is answered | as sent, with `Order` filled in, every target group's `Weight` (1 when not given), `TargetGroupStickinessConfig` `Enabled: false`, and a single-group forward answered both as `TargetGroupArn` and as a one-group `ForwardConfig` (no AWS record of a weighted forward's answer) |
//! | A55 | CreateTargetGroup with a health-check timeout not below the interval, an interval outside 5-300, thresholds outside 2-10 | 400 `ValidationError`; the limits are documented, the messages are moto's wording or ours |
//! | A56 | an awsQuery request whose `Version` is not `2015-12-01`, or without `Action` | 400 `InvalidParameterValue`, or `MissingAction`; an unknown action is 400 `InvalidAction` |
//! | A57 | a service or task set naming a target group | a group the emulator's ELBv2 holds must be of the target type the task definition's network mode takes (`ip` for awsvpc, `instance` for bridge and host), else AWS's recorded refusal ("The provided target group ... has target type instance, which is incompatible with the awsvpc network mode specified in the task definition."), and be reached from a listener or rule, else AWS's recorded refusal ("The target group with targetGroupArn ... does not have an associated load balancer."); a group it does not hold is accepted as before ELBv2 was emulated: no AWS record shows the answer for a missing group, and the suite's fixtures and replayed records name groups outside the emulator |
//! | A58 | what the ELBv2 side models | application load balancers only (another type is `UnsupportedProtocol`), one VPC per region, no security checks; targets become healthy by time alone (no health check fails); ECS registers only awsvpc tasks (by IP: there are no container instances, A49), when RUNNING, and deregisters them when they are to stop: the task is DEACTIVATING (the ECS task lifecycle) while its targets drain for the group's deregistration delay, then stops after the stop delay. A DRAINING task set's tasks are deregistered when it starts draining and stop after the drain delay |
//! | A59 | a Lambda hook whose answers no test set | it answers `SUCCEEDED` at once (a function that exists and approves); [`Engine::set_hook`] sets a list of replies (the last repeats) and a latency in AWS seconds; IN_PROGRESS is asked again after the documented 30 s callback delay. In a rollback's TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT (documented: those hooks run again) the function answers its rollback replies when a test set them, its replies otherwise. A hook's seconds (latency, callback, timeout) count at least 1 ms each, so that with the instant timing a hook still takes time and times out |
//! | A60 | the weights ECS writes on a listener rule for a share of traffic | the share and its complement as whole percentages (5 and 95), or in tenths when the share has one (125 and 875), within ELBv2's 0-999; the share itself is documented as `requestedProductionTrafficWeight` |
//! | A61 | which hooks `lifecycleHookDetails` lists | those of the current stage (each invocation, with a new `hookId`); the list is empty between stages and once a newer deployment replaced the deployment; the one recorded example shows a single paused hook. `lifecycleStage` answers PRE_PRODUCTION_TRAFFIC_SHIFT, a stage the developer guide and the model's hook stages name although the model's `ServiceDeploymentLifecycleStage` lacks it |
//! | A62 | the `hookId` of an AWS_LAMBDA hook | `ecs-lambda-` and 43 URL-safe characters (the documented form is `ecs-{hookType}-{id}`; only `ecs-pause-` examples exist) |
//! | A63 | the `statusReason` of rollbacks the record does not word | an alarm: "Service deployment rolled back because alarm(s) NAMES went into ALARM state." (the service event AWS writes says "deployment failed: alarm detected."); a PAUSE hook continued with ROLLBACK: "Service deployment rolled back because STAGE pause hook was rolled back."; a Lambda hook that timed out: "... Lifecycle hook target ARN timed out." (the guide's form for FAILED); a deleted service's deployment: STOPPED, "The service was deleted." |
//! | A64 | StopServiceDeployment with stopType ABORT or none, on a finished deployment, and the reason of the rollback it starts | ABORT: 400 `InvalidParameterException` (documented: "The valid values are ROLLBACK"); no stopType is ROLLBACK; finished: 400 `ConflictException` (the model's error for a state conflict); the rollback's reason "Service deployment rolled back because of a StopServiceDeployment request."; messages ours. While ROLLBACK_REQUESTED the deployment moves no further |
//! | A65 | the code of ContinueServiceDeployment's documented refusals (terminal deployment, malformed or spent hookId) | 400 `InvalidParameterException` (the operation has no ConflictException); an unknown deployment is `ServiceDeploymentNotFoundException` "The service deployment does not exist." |
//! | A66 | the code of the troubleshooting guide's load-balancer refusals (one rule as production and test rule, duplicate target groups, ELBv1 with advancedConfiguration, all-or-none, the listener-rule ARN form, a missing testListenerRule) | 400 `ClientException`, the code AWS answered for the missing advancedConfiguration (recorded twice); the messages are the guide's |
//! | A67 | what CreateService and UpdateService answer for a native strategy's settings | the configuration of another strategy is left out (observed once: a canaryConfiguration sent with BLUE_GREEN is not echoed); the strategy's own configuration gets its documented defaults (LINEAR 10% and 6 minutes, CANARY 5% and 10 minutes). The early-success refusal's words are observed (kayac/ecspresso#1082), its code (`InvalidParameterException`) is not |
//! | A68 | a native strategy on an EXTERNAL or CODE_DEPLOY service | 400 `InvalidParameterException` "The STRATEGY deployment strategy is only supported for services that use the ECS deployment controller." (no record) |
//! | A69 | hooks without stages, an AWS_LAMBDA hook without hookTargetArn, a hook timeout outside 1-1440 minutes (AWS_LAMBDA) or 1-20160 (PAUSE), bakes outside 0-1440, percentages off their range or not a multiple of 0.1 | 400 `InvalidParameterException`; the ranges are documented, the messages ours |
//! | A70 | how long a lifecycle stage lasts, and when SCALE_UP ends | at least 5 AWS seconds each (no record gives a stage's length; a poller sees every stage); SCALE_UP ends when green runs its full count and every green target is healthy in its group (assumed: traffic moves only to targets that pass the group's health checks). CLEAN_UP retires blue at its end, as the deployment succeeds. The documented 24-hour limit of a stage is not modelled: a SCALE_UP whose tasks never start without a circuit breaker waits |
//! | A71 | early success criteria's refusals and BLOCKING's moment | enable without healthyPercent and sourceServiceRevisionCleanup (documented as required), healthyPercent below minimumHealthyPercent or outside 0-100: 400 `InvalidParameterException` (our words); with BLOCKING the deployment is SUCCESSFUL once the older tasks are STOPPED (after their targets drained), with DEFERRED at once |
//! | A72 | the circuit breaker, and a failure while rolling back, in a native deployment | a tripped breaker rolls a native deployment back whether or not `rollback` is set (blue/green keeps blue until CLEAN_UP); a hook that fails while the deployment rolls back ends it ROLLBACK_FAILED with that hook's reason, where it stands |
//! | A73 | a deployment that replaces a native one under way | the older one is STOPPED and its hooks wait no more; the new one starts with RECONCILE_SERVICE, which stops the replaced revision's tasks and puts all traffic back on the revision that completed last, then deploys into the other group of each pair |
//!
//! AWS's published examples are evidence, not errors: the update-task-set example shows scale 50
//! with `computedDesiredCount` 0 on a desiredCount 1 service because the count is recomputed
//! after the call, as the update-service-primary-task-set example (1, 133 s later) and the 2020
//! transcript show; the emulator answers the same way. The delete-cluster example is not valid
//! JSON.
#![warn(missing_docs)]

mod clock;
pub mod control;
mod engine;
mod error;
mod faults;
mod outside;
mod scheduler;
mod server;
mod state;
mod timing;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use clock::{Clock, IdSource, ManualClock, RandomIds, SequentialIds, SystemClock};
pub use engine::{Engine, TimeError, IMPLEMENTED, IMPLEMENTED_ELBV2, MAX_ADVANCE, TIME_SCALES};
pub use error::ApiError;
pub use faults::{Fault, LoggedCall, LoggedError};
pub use outside::{AlarmState, HookBehaviour, HookReply};
pub use server::MAX_BODY_BYTES;
pub use state::{Settings, CURRENT_FARGATE_PLATFORM_VERSION};
pub use timing::{Timing, TimingProfile, DEFAULT_TIME_SCALE};

/// Configures an [`Emulator`] before it starts.
pub struct EmulatorBuilder {
    settings: Settings,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    port: u16,
    log_calls: bool,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            settings: Settings::default(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
            port: 0,
            log_calls: false,
        }
    }
}

impl EmulatorBuilder {
    /// Every delay of the emulated scheduler (default: [`Timing::default`], the AWS shape
    /// compressed so that a task set settles in about a second).
    pub fn timing(mut self, timing: Timing) -> Self {
        self.settings.timing = timing;
        self
    }

    /// A named timing shape at a time scale: `profile(TimingProfile::Aws, 0.1)` is AWS's
    /// shape ten times faster; `profile(TimingProfile::Instant, 1.0)` settles by the next
    /// request.
    pub fn profile(self, profile: TimingProfile, time_scale: f64) -> Self {
        self.timing(profile.timing().scaled(time_scale))
    }

    /// Time a new task stays PENDING, without jitter (overrides the timing's).
    pub fn task_delay(mut self, delay: Duration) -> Self {
        self.settings.timing.task_delay = delay;
        self.settings.timing.task_jitter = Duration::ZERO;
        self
    }

    /// Time a DRAINING task set or service stays visible after its tasks stopped (overrides
    /// the timing's).
    pub fn drain_delay(mut self, delay: Duration) -> Self {
        self.settings.timing.drain_delay = delay;
        self
    }

    /// Seed of the scheduler's jitter, for runs that must repeat exactly (with a
    /// [`ManualClock`] and [`SequentialIds`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.settings.seed = Some(seed);
        self
    }

    /// The region answers are made for when a request's signature names none (default `us-east-1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.settings.region = region.into();
        self
    }

    /// The account id in every ARN (default `123456789012`).
    pub fn account_id(mut self, account: impl Into<String>) -> Self {
        self.settings.account_id = account.into();
        self
    }

    /// The clock (default: the system clock); a `ManualClock` makes time a test's to move.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Where ids come from (default: random, as AWS's); `SequentialIds` makes them predictable.
    pub fn ids(mut self, ids: impl IdSource + 'static) -> Self {
        self.ids = Arc::new(ids);
        self
    }

    /// Task sets a service may hold at once (default 5, as AWS; benchmarks raise it to build
    /// large DescribeTaskSets answers).
    pub fn max_task_sets_per_service(mut self, limit: usize) -> Self {
        self.settings.max_task_sets_per_service = limit;
        self
    }

    /// Port on 127.0.0.1 (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The engine alone, without HTTP.
    /// Logs every call, so that a test can assert what its code called
    /// ([`Engine::calls`]).
    pub fn log_calls(mut self) -> Self {
        self.log_calls = true;
        self
    }

    /// The engine alone, without a server: requests go through `Engine::handle` or `Engine::call`.
    pub fn engine(self) -> Engine {
        let engine = Engine::new(self.settings, self.clock, self.ids);
        if self.log_calls {
            engine.with_call_log()
        } else {
            engine
        }
    }

    /// Binds 127.0.0.1 and starts serving on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<Emulator> {
        let port = self.port;
        let engine = Arc::new(self.engine());
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let serving = engine.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, peer)) = accepted else { continue };
                        let engine = serving.clone();
                        let mut conn_stopped = stopped.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| server::handle(engine.clone(), req, peer));
                            let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                            tokio::pin!(conn);
                            tokio::select! {
                                _ = conn.as_mut() => {}
                                _ = conn_stopped.changed() => conn.as_mut().graceful_shutdown(),
                            }
                        });
                    }
                }
            }
        });
        Ok(Emulator {
            addr,
            engine,
            stop,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    engine: Arc<Engine>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Starts with the defaults on a free loopback port.
    pub async fn start() -> std::io::Result<Emulator> {
        EmulatorBuilder::default().start().await
    }

    /// A builder with the defaults.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The engine behind the server: state, faults, the call log.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, shared: it outlives the server (for counters and invariants after a run).
    pub fn shared_engine(&self) -> Arc<Engine> {
        self.engine.clone()
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
