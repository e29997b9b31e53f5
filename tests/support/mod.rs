//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::hash::{DefaultHasher, Hash, Hasher};

use ecr_warden_core::Digest;

/// The registry host every test fleet lives in.
pub const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// A stable digest for a short label, so tests can name images `aaaa` instead of 64 hex digits.
pub fn digest(label: &str) -> Digest {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut h = DefaultHasher::new();
        (label, i).hash(&mut h);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    Digest::from_bytes(bytes)
}

/// Expands `ECR/` to the test registry host and `{label}` to that label's digest.
pub fn expand(image: &str) -> String {
    let mut out = image.replace("ECR/", &format!("{ECR}/"));
    while let Some(start) = out.find('{') {
        let end = out[start..].find('}').expect("unclosed {label}") + start;
        let label = out[start + 1..end].to_string();
        out.replace_range(start..=end, &digest(&label).to_string());
    }
    out
}
