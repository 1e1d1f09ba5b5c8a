//! docs/CODEMAP.md stays true: every `path` it names exists, and every `function` named right
//! after a path (`file` `function`, or `file` `Type::function`) is defined in that file.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The backticked spans of a line, with whether each is followed by exactly one space and
/// another backticked span (so `a` `b` pairs a path with a function).
fn spans(line: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut rest = line;
    let mut offset = 0;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(len) = after.find('`') else { break };
        let begin = offset + start;
        let end = begin + len + 2;
        out.push((after[..len].to_owned(), begin, end));
        offset = end;
        rest = &line[end..];
    }
    out
}

fn is_path(token: &str) -> bool {
    ["services/", "crates/", "docs/", "migrations/"].iter().any(|p| token.starts_with(p))
        && !token.contains([' ', '<'])
}

fn is_function(token: &str) -> bool {
    !token.is_empty()
        && token.split("::").all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// Whether `source` defines `name` as a function or a macro.
fn defines(source: &str, name: &str) -> bool {
    let word_after = |needle: &str| {
        source.match_indices(needle).any(|(i, _)| {
            source[i + needle.len()..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        })
    };
    word_after(&format!("fn {name}")) || word_after(&format!("macro_rules! {name}"))
}

/// Every reference of `text` that does not resolve under `root`, one message each, and how
/// many were checked. Placeholders such as `services/<name>` are not references.
fn broken_references(text: &str, root: &Path) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut broken = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let spans = spans(line);
        for (i, (token, _, end)) in spans.iter().enumerate() {
            if !is_path(token) {
                continue;
            }
            checked += 1;
            let path = root.join(token);
            if !path.exists() {
                broken.push(format!("line {}: `{token}` does not exist", n + 1));
                continue;
            }
            let Some((next, begin, _)) = spans.get(i + 1) else { continue };
            if line.get(*end..*begin) != Some(" ") || !is_function(next) || !path.is_file() {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap_or_default();
            let mut parts: Vec<&str> = next.split("::").collect();
            let function = parts.pop().unwrap_or_default();
            checked += 1;
            if !defines(&source, function) {
                broken.push(format!("line {}: `{token}` defines no function `{function}`", n + 1));
            }
            for owner in parts {
                if !source.contains(owner) {
                    broken.push(format!("line {}: `{token}` does not mention `{owner}`", n + 1));
                }
            }
        }
    }
    (checked, broken)
}

#[test]
fn every_file_and_function_in_the_code_map_exists() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("docs/CODEMAP.md")).expect("docs/CODEMAP.md");
    let (checked, broken) = broken_references(&text, &root);
    assert!(checked >= 40, "only {checked} references found: did the format change?");
    assert!(broken.is_empty(), "docs/CODEMAP.md is out of date:\n  {}", broken.join("\n  "));
}

#[test]
fn a_missing_file_or_function_is_reported() {
    let root = repo_root();
    let text = "1. step — `crates/testkit/src/wait.rs` `wait_until` — exists.\n\
                2. step — `crates/testkit/src/wait.rs` `no_such_function` — renamed.\n\
                3. step — `crates/testkit/src/gone.rs` `anything` — moved.\n\
                4. step — `crates/testkit/src/db.rs` `Nobody::fingerprint` — wrong owner.\n\
                5. prose — `crates/testkit/src/wait.rs`, then `not_checked` — not a pair.";
    let (checked, broken) = broken_references(text, &root);
    assert_eq!(checked, 8, "{broken:?}");
    assert_eq!(
        broken,
        [
            "line 2: `crates/testkit/src/wait.rs` defines no function `no_such_function`",
            "line 3: `crates/testkit/src/gone.rs` does not exist",
            "line 4: `crates/testkit/src/db.rs` does not mention `Nobody`",
        ]
    );
}
