//! The tags ecs-deploy writes on a service and on its task sets, read and written as text.
//!
//! - [`TAG_LEASE`] on the service: which run may change the service's task sets, until when.
//!   One run holds it at a time; it is renewed while the run waits and removed when the run
//!   ends. A crashed run's lease lapses at its expiry.
//! - [`TAG_ABORT`] on the service: `ecs-deploy abort` asks the run holding the lease to roll
//!   back; the run reads it on its next read of the service.
//! - [`TAG_ROLLED_BACK`] on the service: the deployment whose rollback began last, and why.
//!   It is written before the first undo step, so a run of that deployment resumed after a
//!   crash in the middle of the rollback (the new set still there, or already deleted)
//!   finishes the rollback instead of going forward again. It stays after the rollback:
//!   a deployment id names one deployment, and a rolled-back one is not run forward again.
//!
//! Values keep to the tag alphabet (letters, digits, spaces and `_ . : / = + - @`) and to 256
//! characters.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ecs_model::types::Tag;
use sha2::{Digest, Sha256};

/// Service tag: the lease, `<deployment id> <owner> <expiry in Unix milliseconds>`.
pub const TAG_LEASE: &str = "ecs-deploy:lease";
/// Service tag: an abort request, `<deployment id> <who asked>`.
pub const TAG_ABORT: &str = "ecs-deploy:abort";
/// Service tag: the deployment whose rollback began last, `<deployment id> <reason>`.
pub const TAG_ROLLED_BACK: &str = "ecs-deploy:rolled-back";

/// The longest tag value ECS takes.
const MAX_VALUE: usize = 256;

/// The furthest expiry a lease may show: more than the longest lease lifetime a run takes
/// ([`crate::MAX_DEADLINE`], a week), plus a day for clocks that disagree. A tag further out
/// was not written by a run of this tool (or by a clock gone wrong) and is not taken for a
/// lease: otherwise one such tag would hold the service for ever.
const MAX_AHEAD: Duration = Duration::from_secs(8 * 24 * 60 * 60);

/// A lease as the service's tag shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The deployment the holding run drives.
    pub deployment: String,
    /// The holding run (`host/pid/nonce`).
    pub owner: String,
    /// When it lapses unless renewed.
    pub until: SystemTime,
}

impl Lease {
    /// The tag value.
    pub fn value(&self) -> String {
        let millis = self
            .until
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        clean(&format!("{} {} {millis}", self.deployment, self.owner))
    }

    /// A lease read back from its tag value; `None` for a value this tool did not write, or
    /// one that expires further ahead than any run's lease can.
    pub fn parse(value: &str) -> Option<Lease> {
        let mut parts = value.split(' ');
        let (deployment, owner, millis) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || deployment.is_empty() || owner.is_empty() {
            return None;
        }
        let millis: u64 = millis.parse().ok()?;
        let until = UNIX_EPOCH.checked_add(Duration::from_millis(millis))?;
        if until > SystemTime::now().checked_add(MAX_AHEAD)? {
            return None;
        }
        Some(Lease {
            deployment: deployment.to_owned(),
            owner: owner.to_owned(),
            until,
        })
    }

    /// Whether it still binds at `now`.
    pub fn live(&self, now: SystemTime) -> bool {
        self.until > now
    }
}

/// An abort request as the service's tag shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbortRequest {
    /// The deployment to roll back.
    pub deployment: String,
    /// Who asked.
    pub by: String,
}

impl AbortRequest {
    /// The tag value.
    pub fn value(&self) -> String {
        clean(&format!("{} {}", self.deployment, self.by))
    }

    /// An abort request read back from its tag value.
    pub fn parse(value: &str) -> Option<AbortRequest> {
        let (deployment, by) = naming_a_deployment(value)?;
        Some(AbortRequest { deployment, by })
    }
}

/// A rollback record as the service's tag shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollbackRecord {
    /// The deployment rolled back.
    pub deployment: String,
    /// Why (in the tag alphabet).
    pub reason: String,
}

impl RollbackRecord {
    /// The tag value.
    pub fn value(&self) -> String {
        clean(&format!("{} {}", self.deployment, self.reason))
    }

    /// A record read back from its tag value.
    pub fn parse(value: &str) -> Option<RollbackRecord> {
        let (deployment, reason) = naming_a_deployment(value)?;
        Some(RollbackRecord { deployment, reason })
    }
}

/// A tag value `<deployment id> <text>`, split; `None` without an id.
fn naming_a_deployment(value: &str) -> Option<(String, String)> {
    let (deployment, text) = value.split_once(' ').unwrap_or((value, ""));
    (!deployment.is_empty()).then(|| (deployment.to_owned(), text.to_owned()))
}

/// `at` as RFC 3339 (seconds), or as milliseconds after the epoch when that cannot be written
/// (a year past 9999); never a panic.
pub fn rfc3339(at: SystemTime) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    if write!(text, "{}", humantime::format_rfc3339_seconds(at)).is_err() {
        let millis = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        text = format!("{millis} ms after the Unix epoch");
    }
    text
}

/// The value of tag `key` in `tags`.
pub fn find<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key.as_deref() == Some(key))
        .and_then(|t| t.value.as_deref())
}

/// A tag.
pub fn tag(key: &str, value: &str) -> Tag {
    Tag::builder()
        .key(key.to_owned())
        .value(clean(value))
        .build()
}

/// `text` in the tag alphabet: other characters become `_`, and it is cut to 256 characters.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(MAX_VALUE)
        .collect()
}

/// This machine's name, in the tag alphabet (`host` when it has none to read).
pub fn host_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-.".contains(*c))
        .take(63)
        .collect();
    if host.is_empty() {
        "host".to_owned()
    } else {
        host
    }
}

/// A name for this run that no other run shares: host, process and a nonce (so two runs in
/// one process differ too).
pub fn new_owner() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let host = host_name();
    let mut hash = Sha256::new();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hash.update(nanos.to_le_bytes());
    hash.update(std::process::id().to_le_bytes());
    hash.update(
        COUNTER
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_le_bytes(),
    );
    let nonce: String = hash.finalize()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{host}/{}/{nonce}", std::process::id())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_lease_round_trips_through_its_tag_value() {
        let lease = Lease {
            deployment: "d-0123".into(),
            owner: "ci-7/4242/a1b2c3d4".into(),
            until: UNIX_EPOCH + Duration::from_millis(1_765_000_000_250),
        };
        assert_eq!(lease.value(), "d-0123 ci-7/4242/a1b2c3d4 1765000000250");
        assert_eq!(Lease::parse(&lease.value()), Some(lease.clone()));
        assert!(lease.live(UNIX_EPOCH + Duration::from_millis(1_765_000_000_249)));
        assert!(!lease.live(UNIX_EPOCH + Duration::from_millis(1_765_000_000_250)));
        for foreign in [
            "",
            "d-1",
            "d-1 owner",
            "d-1 owner soon",
            "d-1 o 1 extra",
            // Year 3 million: no run writes that, and it must not hold the service for ever.
            "x y 99999999999999999",
            "x y 18446744073709551615",
        ] {
            assert_eq!(Lease::parse(foreign), None, "{foreign:?}");
        }
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert!(
            rfc3339(far).ends_with("ms after the Unix epoch"),
            "{}",
            rfc3339(far)
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_765_000_000)),
            "2025-12-06T05:46:40Z"
        );
    }

    #[test]
    fn values_keep_to_the_tag_alphabet_and_length() {
        assert_eq!(clean("gate said: no (503) ✓"), "gate said: no _503_ _");
        assert_eq!(clean(&"x".repeat(300)).len(), 256);
        let owner = new_owner();
        assert_eq!(clean(&owner), owner);
        assert_ne!(new_owner(), owner, "two runs in one process differ");
        let abort = AbortRequest {
            deployment: "d-9".into(),
            by: "alice@laptop".into(),
        };
        assert_eq!(AbortRequest::parse(&abort.value()), Some(abort));
    }
}
