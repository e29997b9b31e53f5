//! Amazon S3: reading usage documents (one object, or every object under a prefix), and the
//! cache's one object.

use std::future::Future;

use aws_sdk_s3::Client;

use ecr_warden_core::time::Timestamp;

use super::{AwsError, timestamp};

/// An object's text and when it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub text: String,
    pub last_modified: Option<Timestamp>,
}

/// The S3 calls ecr-warden makes.
pub trait S3Api: Sync {
    /// The keys under a prefix.
    fn list_keys(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// One object as text.
    fn get_text(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<S3Object, AwsError>> + Send;
    /// Writes one object.
    fn put_text(
        &self,
        bucket: &str,
        key: &str,
        text: String,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

impl S3Api for Client {
    async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, AwsError> {
        let pages: Vec<_> = self
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                AwsError::from_sdk("s3:ListObjectsV2", format!("s3://{bucket}/{prefix}"), e)
            })?;
        Ok(pages
            .iter()
            .flat_map(|p| p.contents())
            .filter_map(|o| o.key().map(str::to_string))
            .filter(|k| !k.ends_with('/'))
            .collect())
    }

    async fn get_text(&self, bucket: &str, key: &str) -> Result<S3Object, AwsError> {
        let resource = || format!("s3://{bucket}/{key}");
        let out = self
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:GetObject", resource(), e))?;
        let last_modified = out.last_modified().map(timestamp);
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| AwsError::invalid("s3:GetObject", resource(), e))?
            .into_bytes();
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            AwsError::invalid("s3:GetObject", resource(), "the object is not UTF-8 text")
        })?;
        Ok(S3Object {
            text,
            last_modified,
        })
    }

    async fn put_text(&self, bucket: &str, key: &str, text: String) -> Result<(), AwsError> {
        self.put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(text.into_bytes().into())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:PutObject", format!("s3://{bucket}/{key}"), e))?;
        Ok(())
    }
}
