//! Image references in every form a task definition, task or Lambda function can hold.

use ecr_warden_core::reference::*;

const D: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn ecr(account: &str, region: &str) -> Registry {
    Registry::Ecr {
        account: account.into(),
        region: region.into(),
    }
}

fn other(host: &str) -> Registry {
    Registry::Other { host: host.into() }
}

#[test]
fn parses_ecr_forms() {
    let cases: &[(&str, Registry, &str, Option<&str>, bool)] = &[
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1",
            ecr("123456789012", "us-east-1"),
            "app",
            Some("v1"),
            false,
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@DIGEST",
            ecr("123456789012", "us-east-1"),
            "team/app",
            None,
            true,
        ),
        (
            "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/team/svc/app:2024.1-rc_1@DIGEST",
            ecr("123456789012", "ap-northeast-1"),
            "team/svc/app",
            Some("2024.1-rc_1"),
            true,
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1",
            ecr("123456789012", "cn-north-1"),
            "app",
            Some("v1"),
            false,
        ),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:v1",
            ecr("123456789012", "us-gov-west-1"),
            "app",
            Some("v1"),
            false,
        ),
        (
            "123456789012.dkr-ecr.eu-west-1.on.aws/app:v1",
            ecr("123456789012", "eu-west-1"),
            "app",
            Some("v1"),
            false,
        ),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.27",
            ecr("123456789012", "eu-west-1"),
            "docker-hub/library/nginx",
            Some("1.27"),
            false,
        ),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
            ecr("123456789012", "eu-west-1"),
            "app",
            Some("latest"),
            false,
        ),
    ];
    for (input, registry, repo, tag, has_digest) in cases {
        let input = input.replace("DIGEST", D);
        let r = ImageRef::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(&r.registry, registry, "{input}");
        assert_eq!(r.repository, *repo, "{input}");
        assert_eq!(r.tag.as_deref(), *tag, "{input}");
        assert_eq!(r.digest.is_some(), *has_digest, "{input}");
        assert!(r.is_ecr());
    }
}

#[test]
fn parses_non_ecr_forms_as_other_registries() {
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        ("nginx", "docker.io", "library/nginx", Some("latest")),
        ("nginx:1.27", "docker.io", "library/nginx", Some("1.27")),
        (
            "grafana/grafana:11",
            "docker.io",
            "grafana/grafana",
            Some("11"),
        ),
        (
            "docker.io/library/redis:7",
            "docker.io",
            "library/redis",
            Some("7"),
        ),
        (
            "registry-1.docker.io/bitnami/redis:7",
            "docker.io",
            "bitnami/redis",
            Some("7"),
        ),
        (
            "public.ecr.aws/nginx/nginx:stable",
            "public.ecr.aws",
            "nginx/nginx",
            Some("stable"),
        ),
        ("ghcr.io/org/tool:v2", "ghcr.io", "org/tool", Some("v2")),
        (
            "localhost:5000/app:dev",
            "localhost:5000",
            "app",
            Some("dev"),
        ),
        ("localhost/app", "localhost", "app", Some("latest")),
        // A host that merely resembles ECR is not ECR.
        (
            "12345.dkr.ecr.us-east-1.amazonaws.com/app:v1",
            "12345.dkr.ecr.us-east-1.amazonaws.com",
            "app",
            Some("v1"),
        ),
    ];
    for (input, host, repo, tag) in cases {
        let r = ImageRef::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(r.registry, other(host), "{input}");
        assert_eq!(r.repository, *repo, "{input}");
        assert_eq!(r.tag.as_deref(), *tag, "{input}");
        assert!(!r.is_ecr());
    }
    let pinned = ImageRef::parse(&format!("nginx@{D}")).unwrap();
    assert_eq!(pinned.tag, None);
    assert_eq!(pinned.digest.unwrap().to_string(), D);
}

#[test]
fn malformed_references_are_errors_not_panics() {
    let bad = [
        ("", "empty"),
        ("app:v1 ", "white space"),
        ("app@sha256:abc", "invalid digest"),
        ("app@md5:0123", "invalid digest"),
        ("app:", "invalid tag"),
        ("app:-x", "invalid tag"),
        ("App:v1", "invalid repository"),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/:v1",
            "invalid repository",
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/a//b:v1",
            "invalid repository",
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app-:v1",
            "invalid repository",
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/",
            "invalid repository",
        ),
        ("@", "invalid digest"),
        (":::", "invalid tag"),
        ("${IMAGE_URI}", "invalid"),
    ];
    for (input, expect) in bad {
        let err = ImageRef::parse(input).expect_err(input);
        assert!(err.to_string().contains(expect), "{input}: {err}");
    }
    let long_tag = format!("app:{}", "a".repeat(129));
    assert!(ImageRef::parse(&long_tag).is_err());
}

#[test]
fn displays_in_canonical_form() {
    let input = format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1@{D}");
    assert_eq!(ImageRef::parse(&input).unwrap().to_string(), input);
    assert_eq!(
        ImageRef::parse("nginx").unwrap().to_string(),
        "docker.io/library/nginx:latest"
    );
}

#[test]
fn knows_its_registry() {
    let r = ImageRef::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1").unwrap();
    assert!(r.is_in_registry("123456789012", "us-east-1"));
    assert!(!r.is_in_registry("123456789012", "eu-west-1"));
    assert!(!r.is_in_registry("210987654321", "us-east-1"));
}
