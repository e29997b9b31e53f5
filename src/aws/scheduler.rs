//! Amazon EventBridge Scheduler, read-only: every schedule in every group, and each schedule's
//! target (only `GetSchedule` returns the whole target).

use std::future::Future;

use aws_sdk_scheduler::Client;

use super::AwsError;

/// A schedule's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScheduleId {
    pub group: String,
    pub name: String,
}

/// A schedule's target, as far as images go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTarget {
    /// The target's ARN: a cluster for a templated ECS target, `arn:aws:scheduler:::aws-sdk:…` for
    /// a universal target.
    pub arn: String,
    /// The templated ECS target's task definition, as written.
    pub ecs_task_definition: Option<String>,
    /// The input sent to the target (for universal targets, the API request as JSON).
    pub input: Option<String>,
}

/// The Scheduler calls the usage scan makes.
pub trait SchedulerApi: Sync {
    /// Every schedule of every group.
    fn list_schedules(&self) -> impl Future<Output = Result<Vec<ScheduleId>, AwsError>> + Send;
    fn get_schedule(
        &self,
        id: &ScheduleId,
    ) -> impl Future<Output = Result<ScheduleTarget, AwsError>> + Send;
}

impl SchedulerApi for Client {
    async fn list_schedules(&self) -> Result<Vec<ScheduleId>, AwsError> {
        let schedules: Vec<_> = self
            .list_schedules()
            .max_results(100)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("scheduler:ListSchedules", "account", e))?;
        Ok(schedules
            .iter()
            .filter_map(|s| {
                Some(ScheduleId {
                    group: s.group_name().unwrap_or("default").to_string(),
                    name: s.name()?.to_string(),
                })
            })
            .collect())
    }

    async fn get_schedule(&self, id: &ScheduleId) -> Result<ScheduleTarget, AwsError> {
        let resource = || format!("schedule {}/{}", id.group, id.name);
        let out = self
            .get_schedule()
            .group_name(&id.group)
            .name(&id.name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("scheduler:GetSchedule", resource(), e))?;
        let target = out
            .target()
            .ok_or_else(|| AwsError::invalid("scheduler:GetSchedule", resource(), "no target"))?;
        Ok(ScheduleTarget {
            arn: target.arn().to_string(),
            ecs_task_definition: target
                .ecs_parameters()
                .map(|e| e.task_definition_arn().to_string()),
            input: target.input().map(str::to_string),
        })
    }
}
