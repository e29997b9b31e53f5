//! Amazon SNS: publishing one alert per run.

use std::future::Future;

use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

use super::AwsError;
use ecr_warden_core::alert::Alert;

/// Where alerts go.
pub trait Notifier: Sync {
    fn publish(&self, alert: &Alert) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// An SNS topic.
#[derive(Debug, Clone)]
pub struct SnsTopic {
    pub client: Client,
    pub topic_arn: String,
}

impl Notifier for SnsTopic {
    async fn publish(&self, alert: &Alert) -> Result<(), AwsError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&alert.subject)
            .message(&alert.body);
        for (name, value) in &alert.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| AwsError::invalid("sns:Publish", self.topic_arn.clone(), e))?;
            request = request.message_attributes(name, attribute);
        }
        request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sns:Publish", self.topic_arn.clone(), e))?;
        Ok(())
    }
}
