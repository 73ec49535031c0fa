//! Amazon Resource Names as ECS writes them: `arn:<partition>:<service>:<region>:<account>:
//! <resource>`, where an ECS resource is `<kind>/<path>` (`cluster/prod`,
//! `service/prod/web`, `task-set/prod/web/ecs-svc/1234567890123456789`). One parser for the
//! emulator (which accepts a name or an ARN wherever ECS does), the harness's `@arn` matchers
//! and record mode.

/// A parsed ARN, borrowing the text it was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: &'a str,
    /// `ecs`, `iam`, ...
    pub service: &'a str,
    /// Empty for global services such as IAM.
    pub region: &'a str,
    /// The 12-digit account id.
    pub account: &'a str,
    /// Everything after the fifth `:`.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Reads an ARN; `None` when `text` does not have the six `:`-separated parts starting with
    /// `arn`.
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }

    /// The ECS resource kind: the part of the resource before its first `/` (`task-set`).
    pub fn kind(&self) -> &'a str {
        self.resource
            .split_once('/')
            .map_or(self.resource, |(kind, _)| kind)
    }

    /// The resource after its kind (`prod/web/ecs-svc/1` for a task set), if it has one.
    pub fn path(&self) -> Option<&'a str> {
        self.resource.split_once('/').map(|(_, path)| path)
    }

    /// The last `/`-separated part of the resource (a service's or a cluster's name).
    pub fn last(&self) -> &'a str {
        self.resource.rsplit('/').next().unwrap_or(self.resource)
    }

    /// Whether this is an ECS ARN in the form AWS answers: an `aws` partition, a region of
    /// lowercase letters, digits and `-`, a 12-digit account, and a resource with a kind and a
    /// path (`kind` given: exactly that kind).
    pub fn is_ecs(&self, kind: Option<&str>) -> bool {
        let region_ok = !self.region.is_empty()
            && self
                .region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let account_ok =
            self.account.len() == 12 && self.account.chars().all(|c| c.is_ascii_digit());
        let kind_ok = match kind {
            None => self.path().is_some(),
            Some(k) => self.kind() == k && self.path().is_some_and(|p| !p.is_empty()),
        };
        self.partition.starts_with("aws")
            && self.service == "ecs"
            && region_ok
            && account_ok
            && kind_ok
    }
}

impl std::fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// The ARN of an ECS resource in the `aws` partition.
pub fn ecs(region: &str, account: &str, resource: &str) -> String {
    Arn {
        partition: "aws",
        service: "ecs",
        region,
        account,
        resource,
    }
    .to_string()
}

/// A cluster named by a request parameter, which ECS accepts as a name or an ARN.
pub fn cluster_name(param: &str) -> &str {
    match Arn::parse(param) {
        Some(arn) => arn
            .resource
            .strip_prefix("cluster/")
            .unwrap_or(arn.resource),
        None => param,
    }
}

/// A service named by a request parameter (a name, or an ARN of either form,
/// `service/<name>` or `service/<cluster>/<name>`).
pub fn service_name(param: &str) -> &str {
    Arn::parse(param).map_or(param, |arn| arn.last())
}

/// A task set named by a request parameter: its id, or its ARN
/// (`task-set/<cluster>/<service>/<id>`, the id holding a `/` itself).
pub fn task_set_id(param: &str) -> &str {
    match Arn::parse(param) {
        Some(arn) => arn.resource.splitn(4, '/').nth(3).unwrap_or(arn.resource),
        None => param,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK_SET: &str = "arn:aws:ecs:us-east-1:123456789012:task-set/c/s/ecs-svc/1234";

    #[test]
    fn parses_and_prints_back() {
        let arn = Arn::parse(TASK_SET).expect("an ARN");
        assert_eq!(arn.service, "ecs");
        assert_eq!(arn.kind(), "task-set");
        assert_eq!(arn.path(), Some("c/s/ecs-svc/1234"));
        assert_eq!(arn.last(), "1234");
        assert_eq!(arn.to_string(), TASK_SET);
        assert!(arn.is_ecs(Some("task-set")));
        assert!(!arn.is_ecs(Some("service")));
        assert_eq!(Arn::parse("not-an-arn"), None);
        assert_eq!(Arn::parse("arn:aws:ecs"), None);
    }

    #[test]
    fn checks_the_form_aws_answers() {
        let bad_account = "arn:aws:ecs:us-east-1:1234:cluster/c";
        assert!(!Arn::parse(bad_account).is_some_and(|a| a.is_ecs(None)));
        let iam = "arn:aws:iam::123456789012:role/x";
        assert!(!Arn::parse(iam).is_some_and(|a| a.is_ecs(None)));
        let no_path = "arn:aws:ecs:us-east-1:123456789012:cluster";
        assert!(!Arn::parse(no_path).is_some_and(|a| a.is_ecs(None)));
    }

    #[test]
    fn request_parameters_are_names_or_arns() {
        assert_eq!(cluster_name("prod"), "prod");
        assert_eq!(
            cluster_name("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
            "prod"
        );
        assert_eq!(
            service_name("arn:aws:ecs:us-east-1:123456789012:service/prod/web"),
            "web"
        );
        assert_eq!(
            service_name("arn:aws:ecs:us-east-1:123456789012:service/web"),
            "web"
        );
        assert_eq!(task_set_id(TASK_SET), "ecs-svc/1234");
        assert_eq!(task_set_id("ecs-svc/1234"), "ecs-svc/1234");
        assert_eq!(
            ecs("eu-west-1", "111122223333", "cluster/x"),
            "arn:aws:ecs:eu-west-1:111122223333:cluster/x"
        );
    }
}
