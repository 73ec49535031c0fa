//! Faults a controller test injects into the emulator, and the log of what the controller
//! called: the two things a test of code that talks to ECS needs beyond a faithful endpoint.
//!
//! Faults on a call ([`Fault::Throttle`], [`Fault::ServerError`], [`Fault::Refuse`],
//! [`Fault::DropConnection`], [`Fault::StaleRead`])
//! apply to the next `times` calls of one operation, then clear themselves. Faults on the
//! scheduler ([`Fault::StuckTasks`], [`Fault::SlowRecompute`]) last until
//! [`crate::Engine::clear_faults`] or [`crate::Engine::reset`].

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use ecs_model::query::{QueryOperation, QueryParams, QueryValue};

use crate::error::ApiError;

/// Something the emulator does wrong on purpose, as AWS sometimes does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The next `times` calls of `operation` answer 400 `ThrottlingException` "Rate exceeded".
    Throttle {
        /// The operation (`UpdateTaskSet`).
        operation: String,
        /// How many calls.
        times: u32,
    },
    /// The next `times` calls of `operation` answer 500 `ServerException`.
    ServerError {
        /// The operation.
        operation: String,
        /// How many calls.
        times: u32,
    },
    /// The next `times` calls of `operation` are refused with `code` (HTTP 400) and
    /// `message`, as when the caller lacks a permission (`AccessDeniedException`) or a quota
    /// says no: an error no retry lifts.
    Refuse {
        /// The operation.
        operation: String,
        /// The error code (`AccessDeniedException`).
        code: &'static str,
        /// The message.
        message: String,
        /// How many calls.
        times: u32,
    },
    /// The next `times` calls of `operation` get no answer: the connection is closed.
    DropConnection {
        /// The operation.
        operation: String,
        /// How many calls.
        times: u32,
    },
    /// A replica that stops catching up: the first call of `operation` after the fault is
    /// injected is answered as usual and its answer kept (one per request body and region);
    /// the next `times` calls with the same body answer that kept answer again, whatever
    /// changed since. ECS reads are eventually consistent; this is how a controller meets
    /// an answer from before its own change (a task set it just created not shown yet).
    StaleRead {
        /// The read operation (`DescribeServices`).
        operation: String,
        /// How many calls answer the kept answer.
        times: u32,
    },
    /// The tasks of the service `service` (in any cluster) never reach RUNNING: they stay
    /// PENDING, so its task sets never reach STEADY_STATE and its deployments never complete.
    StuckTasks {
        /// The service name.
        service: String,
    },
    /// Every recompute of a task set's computedDesiredCount comes `delay` later than the timing
    /// says.
    SlowRecompute {
        /// The extra delay.
        delay: Duration,
    },
}

/// What the scheduler needs to know of the faults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SchedulerFaults {
    pub stuck_services: BTreeSet<String>,
    pub slow_recompute: Duration,
}

/// A call fault and how many calls it still applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum CallFault {
    Throttle,
    ServerError,
    Refuse { code: &'static str, message: String },
    Drop,
}

/// A stale-read fault: the answers kept, by region and request body, and how many calls
/// may still be answered from them.
#[derive(Debug)]
struct StaleRead {
    operation: String,
    times: u32,
    kept: HashMap<(String, Vec<u8>), Vec<u8>>,
}

/// The faults in force.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    calls: Vec<(String, CallFault, u32)>,
    stale: Vec<StaleRead>,
    pub scheduler: SchedulerFaults,
}

impl Faults {
    pub fn inject(&mut self, fault: Fault) {
        match fault {
            Fault::Throttle { operation, times } => {
                self.calls.push((operation, CallFault::Throttle, times))
            }
            Fault::ServerError { operation, times } => {
                self.calls.push((operation, CallFault::ServerError, times))
            }
            Fault::Refuse {
                operation,
                code,
                message,
                times,
            } => self
                .calls
                .push((operation, CallFault::Refuse { code, message }, times)),
            Fault::DropConnection { operation, times } => {
                self.calls.push((operation, CallFault::Drop, times))
            }
            Fault::StaleRead { operation, times } => self.stale.push(StaleRead {
                operation,
                times,
                kept: HashMap::new(),
            }),
            Fault::StuckTasks { service } => {
                self.scheduler.stuck_services.insert(service);
            }
            Fault::SlowRecompute { delay } => self.scheduler.slow_recompute = delay,
        }
    }

    /// The error the next call of `operation` answers with, if a call fault applies to it;
    /// using one call of the fault.
    pub fn on_call(&mut self, operation: &str) -> Option<ApiError> {
        let i = self
            .calls
            .iter()
            .position(|(op, _, n)| op == operation && *n > 0)?;
        let (_, kind, n) = &mut self.calls[i];
        *n -= 1;
        let error = match kind {
            CallFault::Throttle => ApiError::new(400, "ThrottlingException", "Rate exceeded"),
            CallFault::ServerError => ApiError::new(
                500,
                "ServerException",
                "The server encountered an error (injected fault).",
            ),
            CallFault::Refuse { code, message } => ApiError::new(400, code, message.as_str()),
            CallFault::Drop => ApiError::dropped(),
        };
        self.calls.retain(|(_, _, n)| *n > 0);
        Some(error)
    }
}

impl Faults {
    /// The kept answer a stale-read fault gives this call, if one applies; using one call of
    /// the fault.
    pub fn stale_answer(&mut self, operation: &str, region: &str, body: &[u8]) -> Option<Vec<u8>> {
        let key = (region.to_owned(), body.to_vec());
        let fault = self
            .stale
            .iter_mut()
            .find(|f| f.operation == operation && f.times > 0 && f.kept.contains_key(&key))?;
        fault.times -= 1;
        let answer = fault.kept.get(&key).cloned();
        self.stale.retain(|f| f.times > 0);
        answer
    }

    /// Keeps `answer` for a stale-read fault on `operation` that has none for this body yet.
    pub fn keep_answer(&mut self, operation: &str, region: &str, body: &[u8], answer: &[u8]) {
        for fault in self.stale.iter_mut().filter(|f| f.operation == operation) {
            fault
                .kept
                .entry((region.to_owned(), body.to_vec()))
                .or_insert_with(|| answer.to_vec());
        }
    }
}

/// One call the emulator received, as a test asserts on it.
///
/// An ELBv2 call (awsQuery) is logged under its `Action`, with its form as a flat JSON object
/// of strings (`{"Action": "ModifyListener", "DefaultActions.member.1.Type": "forward", ...}`)
/// and its XML answer as a JSON string; [`LoggedCall::elbv2_input`] and
/// [`LoggedCall::elbv2_output`] read them back typed.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedCall {
    /// The operation (`CreateTaskSet`, `ModifyListener`), or the target as sent when it names
    /// none.
    pub operation: String,
    /// The request body (`{}` when it was empty or not JSON).
    pub input: Value,
    /// The answer: the JSON body (an ELBv2 answer's XML as a string), or the error.
    pub answer: Result<Value, LoggedError>,
    /// When the emulator's clock received it.
    pub at: SystemTime,
}

/// An error answer in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedError {
    /// The HTTP status; 0 for a dropped connection.
    pub status: u16,
    /// The error code (empty for a dropped connection).
    pub code: String,
    /// The message.
    pub message: String,
}

impl LoggedCall {
    /// Whether the call was answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.answer.is_ok()
    }

    /// The error code, when the call failed.
    pub fn error_code(&self) -> Option<&str> {
        self.answer.as_ref().err().map(|e| e.code.as_str())
    }

    /// The request of an ELBv2 call of `O`, typed (`None` for a call of another operation).
    pub fn elbv2_input<O: QueryOperation>(&self) -> Option<O::Input> {
        if self.operation != O::NAME {
            return None;
        }
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.input.as_object()? {
            form.append_pair(k, v.as_str().unwrap_or_default());
        }
        let params = QueryParams::parse(form.finish().as_bytes());
        O::Input::read_query(&params, "").ok().flatten()
    }

    /// The answer of a successful ELBv2 call of `O`, typed.
    pub fn elbv2_output<O: QueryOperation>(&self) -> Option<O::Output> {
        if self.operation != O::NAME {
            return None;
        }
        let xml = self.answer.as_ref().ok()?.as_str()?;
        ecs_model::query::parse_answer::<O>(xml).ok()
    }
}
