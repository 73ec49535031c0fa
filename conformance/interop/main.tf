# The Terraform lifecycle of `ecs-conformance interop`: what a team deploying ECS task sets with
# the hashicorp/aws provider creates, changes, imports and destroys. Every request goes to the
# endpoint under test; the provider makes no STS or IAM call with these settings.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "endpoint" {
  description = "The ECS endpoint under test."
  type        = string
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "prefix" {
  description = "Names every resource, so that runs against one account do not collide."
  type        = string
  default     = "interop"
}

# What the update step changes.
variable "task_set_percent" {
  type    = number
  default = 50
}

variable "external_desired" {
  type    = number
  default = 2
}

variable "web_image" {
  type    = string
  default = "public.ecr.aws/nginx/nginx:1.27"
}

provider "aws" {
  region                      = var.region
  access_key                  = "interop"
  secret_key                  = "interop"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    ecs = var.endpoint
  }
}

locals {
  subnets         = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
  security_groups = ["sg-0a1b2c3d4e5f60001"]
}

resource "aws_ecs_cluster" "this" {
  name = "${var.prefix}-cluster"
  tags = {
    suite = "ecs-conformance"
  }
}

# The rolling service's task definition: a new image makes a new revision in the update step.
resource "aws_ecs_task_definition" "web" {
  family                   = "${var.prefix}-web"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([
    {
      name         = "web"
      image        = var.web_image
      essential    = true
      portMappings = [{ containerPort = 80 }]
    }
  ])
}

# The task set's own task definition, which the update leaves as it is.
resource "aws_ecs_task_definition" "blue" {
  family                   = "${var.prefix}-blue"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([
    {
      name         = "app"
      image        = "public.ecr.aws/nginx/nginx:1.27"
      essential    = true
      portMappings = [{ containerPort = 8080 }]
    }
  ])
}

resource "aws_ecs_service" "rolling" {
  name                  = "${var.prefix}-rolling"
  cluster               = aws_ecs_cluster.this.id
  task_definition       = aws_ecs_task_definition.web.arn
  desired_count         = 2
  launch_type           = "FARGATE"
  wait_for_steady_state = true
  network_configuration {
    subnets         = local.subnets
    security_groups = local.security_groups
  }
}

resource "aws_ecs_service" "external" {
  name          = "${var.prefix}-external"
  cluster       = aws_ecs_cluster.this.id
  desired_count = var.external_desired
  deployment_controller {
    type = "EXTERNAL"
  }
}

resource "aws_ecs_task_set" "blue" {
  cluster                   = aws_ecs_cluster.this.id
  service                   = aws_ecs_service.external.id
  task_definition           = aws_ecs_task_definition.blue.arn
  launch_type               = "FARGATE"
  external_id               = "${var.prefix}-blue"
  wait_until_stable         = true
  wait_until_stable_timeout = "3m"
  network_configuration {
    subnets         = local.subnets
    security_groups = local.security_groups
  }
  scale {
    unit  = "PERCENT"
    value = var.task_set_percent
  }
}

# CodeDeploy owns this service's deployments: Terraform creates it and leaves the task
# definition to CodeDeploy, as its users do.
resource "aws_ecs_service" "codedeploy" {
  name            = "${var.prefix}-codedeploy"
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.web.arn
  desired_count   = 1
  launch_type     = "FARGATE"
  deployment_controller {
    type = "CODE_DEPLOY"
  }
  load_balancer {
    target_group_arn = "arn:aws:elasticloadbalancing:${var.region}:123456789012:targetgroup/${var.prefix}-blue/0123456789abcdef"
    container_name   = "web"
    container_port   = 80
  }
  network_configuration {
    subnets         = local.subnets
    security_groups = local.security_groups
  }
  lifecycle {
    ignore_changes = [task_definition]
  }
}

output "task_set_import_id" {
  description = "The task set's import id: TASK_SET_ID,SERVICE,CLUSTER as the configuration names them."
  value       = "${aws_ecs_task_set.blue.task_set_id},${aws_ecs_service.external.id},${aws_ecs_cluster.this.id}"
}
