//! The simulated account's other services, where nothing uses an image: one event bus without
//! rules, no schedules, no Batch job definitions or queues, no App Runner services.

use aws_smithy_mocks::{Rule, mock};

pub fn events() -> Vec<Rule> {
    use aws_sdk_eventbridge::Client;
    use aws_sdk_eventbridge::operation::{list_event_buses::*, list_rules::*};
    use aws_sdk_eventbridge::types::EventBus;
    vec![
        mock!(Client::list_event_buses).then_output(|| {
            ListEventBusesOutput::builder()
                .event_buses(EventBus::builder().name("default").build())
                .build()
        }),
        mock!(Client::list_rules).then_output(|| ListRulesOutput::builder().build()),
    ]
}

pub fn scheduler() -> Vec<Rule> {
    use aws_sdk_scheduler::Client;
    use aws_sdk_scheduler::operation::list_schedules::*;
    vec![mock!(Client::list_schedules).then_output(|| {
        ListSchedulesOutput::builder()
            .set_schedules(Some(Vec::new()))
            .build()
            .unwrap()
    })]
}

pub fn batch() -> Vec<Rule> {
    use aws_sdk_batch::Client;
    use aws_sdk_batch::operation::{describe_job_definitions::*, describe_job_queues::*};
    vec![
        mock!(Client::describe_job_definitions)
            .then_output(|| DescribeJobDefinitionsOutput::builder().build()),
        mock!(Client::describe_job_queues)
            .then_output(|| DescribeJobQueuesOutput::builder().build()),
    ]
}

pub fn apprunner() -> Vec<Rule> {
    use aws_sdk_apprunner::Client;
    use aws_sdk_apprunner::operation::list_services::*;
    vec![mock!(Client::list_services).then_output(|| {
        ListServicesOutput::builder()
            .set_service_summary_list(Some(Vec::new()))
            .build()
            .unwrap()
    })]
}
