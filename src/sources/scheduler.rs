//! EventBridge Scheduler schedules in every group: a templated ECS target pins its task-definition
//! revision; a universal target (`arn:aws:scheduler:::aws-sdk:ecs:runTask`, `…:batch:submitJob`)
//! names the task or job definition in its `Input` JSON (keys matched case-insensitively). A
//! schedule whose Input cannot be read is a gap: what it runs is unknown.

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};
use serde_json::Value;

use ecr_warden_core::usage::{JobDefinitionPin, Pinner, ScanGap, Usage};

use super::{Scope, UsageSource, keep_ok, task_definitions::revision_pin};
use crate::aws::scheduler::{ScheduleId, ScheduleTarget, SchedulerApi};

/// Scheduler schedules' ECS and Batch targets.
pub struct Schedules;

impl UsageSource for Schedules {
    fn kind(&self) -> &'static str {
        "scheduler"
    }

    fn scan<'a>(&'a self, scope: &'a Scope<'a>) -> BoxFuture<'a, Usage> {
        scan(&scope.aws.scheduler, scope).boxed()
    }
}

/// Lists every schedule, then reads each one's target.
pub async fn scan<S: SchedulerApi>(scheduler: &S, scope: &Scope<'_>) -> Usage {
    let mut usage = Usage::default();
    let limit = scope.limit;
    let Some(ids) = keep_ok(
        limit.call(scheduler.list_schedules()).await,
        &mut usage.gaps,
    ) else {
        return usage;
    };
    let targets = join_all(ids.iter().map(|id| limit.call(scheduler.get_schedule(id)))).await;
    for (id, result) in ids.iter().zip(targets) {
        if let Some(target) = keep_ok(result, &mut usage.gaps) {
            add_target(&mut usage, id, &target);
        }
    }
    usage
}

/// What one schedule's target runs.
fn add_target(usage: &mut Usage, id: &ScheduleId, target: &ScheduleTarget) {
    let by = Pinner::Schedule {
        group: id.group.clone(),
        name: id.name.clone(),
    };
    let gap = |error: String| {
        ScanGap::new(
            "scheduler:GetSchedule",
            format!("schedule {}/{}", id.group, id.name),
            error,
        )
    };
    if let Some(task_definition) = &target.ecs_task_definition {
        match revision_pin(task_definition, by) {
            Some(pin) => usage.pins.push(pin),
            None => usage.gaps.push(gap(format!(
                "unreadable task definition {task_definition:?}"
            ))),
        }
        return;
    }
    let action = target
        .arn
        .rsplit_once(":aws-sdk:")
        .map(|(_, a)| a.to_ascii_lowercase());
    let key = match action.as_deref() {
        Some("ecs:runtask") => "taskdefinition",
        Some("batch:submitjob") => "jobdefinition",
        _ => return,
    };
    let named = match target.input.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(input))) => input
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase() == key)
            .and_then(|(_, v)| v.as_str().map(str::to_string)),
        Some(Ok(_)) | None => None,
        Some(Err(e)) => {
            usage.gaps.push(gap(format!(
                "its Input is not JSON ({e}), so what it runs is unknown"
            )));
            return;
        }
    };
    let Some(named) = named else {
        usage.gaps.push(gap(format!(
            "its Input names no {}, so what it runs is unknown",
            if key == "jobdefinition" {
                "JobDefinition"
            } else {
                "TaskDefinition"
            }
        )));
        return;
    };
    if key == "jobdefinition" {
        usage.job_definition_pins.push(JobDefinitionPin {
            job_definition: named,
            by,
        });
    } else {
        match revision_pin(&named, by) {
            Some(pin) => usage.pins.push(pin),
            None => usage
                .gaps
                .push(gap(format!("unreadable task definition {named:?}"))),
        }
    }
}
