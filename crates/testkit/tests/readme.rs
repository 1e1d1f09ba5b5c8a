//! The README stays a front page that works: at most 200 lines, its purchase walkthrough is
//! exactly what `scripts/demo.sh` runs (and `make test` runs the script), and every relative
//! link in it and in `docs/` points at a file that exists.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// The lines of `text` strictly between the line equal to `start` and the next equal to `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.iter().position(|l| l.trim() == start).unwrap_or_else(|| panic!("no {start:?}"));
    let to = lines[from + 1..].iter().position(|l| l.trim() == end).unwrap_or_else(|| panic!("no {end:?}"));
    lines[from + 1..from + 1 + to].to_vec()
}

#[test]
fn the_readme_is_short_and_its_purchase_is_the_one_ci_runs() {
    let readme = read("README.md");
    assert!(
        readme.lines().count() <= 200,
        "README.md has {} lines; the manuals live in docs/",
        readme.lines().count()
    );
    let script = read("scripts/demo.sh");
    let ran = between(&script, "# walkthrough-start", "# walkthrough-end");
    let section = &readme[readme.find("## A purchase in five minutes").expect("the walkthrough section")..];
    let shown: Vec<&str> = between(section, "```sh", "```")
        .into_iter()
        .skip_while(|l| l.starts_with("GW=") || l.is_empty())
        .collect();
    assert!(ran.len() > 20, "the script's walkthrough is there");
    assert_eq!(shown, ran, "README's walkthrough differs from scripts/demo.sh (walkthrough-start..end)");
}

#[test]
fn relative_links_in_the_readme_and_docs_exist() {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let dir = file.parent().unwrap();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(close) = rest.find(')') else { continue };
            let target = &rest[..close];
            if target.starts_with("http")
                || target.starts_with('#')
                || target.starts_with("mailto:")
                || target.contains(' ')
            {
                continue;
            }
            let path = target.split('#').next().unwrap();
            if !path.is_empty() && !dir.join(path).exists() {
                broken.push(format!("{}: {target}", file.strip_prefix(root()).unwrap_or(file).display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
