//! The simulated account's SNS answers.

use std::sync::Arc;

use aws_smithy_mocks::{Rule, mock};

use super::*;

pub fn rules(s: &Arc<Stats>) -> Vec<Rule> {
    use aws_sdk_sns::Client;
    use aws_sdk_sns::operation::publish::PublishOutput;
    let s = s.clone();
    vec![mock!(Client::publish).then_compute_output(move |r| {
        s.published.lock().unwrap().push(r.clone());
        PublishOutput::builder().message_id("m-1").build()
    })]
}
