//! The README is the manual: it must parse as the headings it means to have (an unclosed code
//! fence swallows every section after it), and its links must lead somewhere.

use std::collections::BTreeSet;
use std::path::Path;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// GitHub's anchor for a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

struct Parsed {
    /// (line, text) of every heading.
    headings: Vec<(usize, String)>,
    links: Vec<String>,
    /// Code blocks that run to the end of the document.
    open_fence: bool,
}

fn parse(text: &str) -> Parsed {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut parsed = Parsed {
        headings: Vec::new(),
        links: Vec::new(),
        open_fence: false,
    };
    let mut heading: Option<(usize, String)> = None;
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                heading = Some((line_of(range.start), String::new()))
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, h)) = &mut heading {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => parsed.headings.extend(heading.take()),
            Event::Start(Tag::Link { dest_url, .. }) => parsed.links.push(dest_url.to_string()),
            Event::Start(Tag::CodeBlock(_)) => {
                let block = text[range.clone()].trim_end();
                let closed = block.ends_with("```") && block.lines().count() > 1;
                parsed.open_fence |= range.end >= text.trim_end().len() && !closed;
            }
            _ => {}
        }
    }
    parsed
}

#[test]
fn every_section_is_a_heading_and_no_code_fence_is_left_open() {
    let text = readme();
    let parsed = parse(&text);
    assert!(!parsed.open_fence, "a code fence is never closed");
    let heading_lines: BTreeSet<usize> = parsed.headings.iter().map(|(l, _)| *l).collect();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("## ") || line.starts_with("### ") {
            assert!(
                heading_lines.contains(&(i + 1)),
                "line {}: {line:?} is not a heading (swallowed by a code block?)",
                i + 1
            );
        }
    }
}

#[test]
fn links_lead_to_a_heading_or_a_file() {
    let text = readme();
    let parsed = parse(&text);
    let anchors: BTreeSet<String> = parsed.headings.iter().map(|(_, h)| slug(h)).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for link in &parsed.links {
        if link.starts_with("http://") || link.starts_with("https://") {
            continue;
        }
        if let Some(anchor) = link.strip_prefix('#') {
            assert!(anchors.contains(anchor), "no heading for #{anchor}");
            continue;
        }
        let path = link.split('#').next().unwrap();
        assert!(root.join(path).exists(), "{link} does not exist");
    }
}

#[test]
fn the_checks_catch_an_unclosed_fence_and_a_dead_anchor() {
    let broken = "# t\n\n```sh\nmake demo\n\n## Lost\n\ntext\n";
    let parsed = parse(broken);
    assert!(parsed.open_fence);
    assert!(!parsed.headings.iter().any(|(_, h)| h == "Lost"));
    assert_eq!(
        slug("Past one invocation: the fan-out (FanOut)"),
        "past-one-invocation-the-fan-out-fanout"
    );
}
