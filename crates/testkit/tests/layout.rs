//! Every service keeps the layout of docs/adr/0006-service-layout.md: SQL only in `repo.rs`
//! files, a `testkit::SchemaCheck` test, metrics next to their feature (none at the crate root),
//! no cycle of `crate::` paths between its modules, a `main.rs` that only dispatches, and no
//! route registered outside the documented `platform::openapi::Api`. Its SQL follows
//! docs/adr/0005 (services and `crates/platform` alike): every `sql_query(` says which "cannot
//! say" case it is, and every `QueryableByName` row is tied to its table.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest `main.rs` the ADR allows.
const MAIN_MAX_LINES: usize = 40;
/// What defines a Prometheus metric (a crate-root file must not).
const METRIC_MARKERS: [&str; 5] = ["IntCounter", "IntGauge", "Histogram", "labeled_counter(", "Opts::new("];

fn services() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../services");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    out.sort();
    out
}

/// Every `.rs` file under `dir`, by path relative to it, with its text.
fn sources(dir: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `text` without its comment lines (doc comments mention `crate::` paths and SQL freely).
fn code(text: &str) -> String {
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Files (relative to `src/`) that call `sql_query(` but are not a `repo.rs`.
fn sql_outside_repo(src: &BTreeMap<String, String>) -> Vec<String> {
    src.iter()
        .filter(|(path, text)| !path.ends_with("repo.rs") && code(text).contains("sql_query("))
        .map(|(path, _)| path.clone())
        .collect()
}

/// What registers an actix route by hand instead of through `platform::openapi::Api::op`.
const ROUTE_MARKERS: [&str; 4] = [".route(", "web::resource(", "web::scope(", ".service("];

/// Files (relative to `src/`) that register a route outside the documented `Api` (such a route
/// would be served but missing from the OpenAPI document and from the drift test).
fn undocumented_routes(src: &BTreeMap<String, String>) -> Vec<String> {
    src.iter()
        .filter(|(_, text)| ROUTE_MARKERS.iter().any(|m| code(text).contains(m)))
        .map(|(path, _)| path.clone())
        .collect()
}

/// What starts the comment above a `sql_query(` that says why the DSL cannot say it.
const SQL_QUERY_REASON: &str = "// sql_query:";
/// What the doc of a row that is not tied to one table says (its fields are expressions).
const EXPRESSION_ROW: &str = "row of expressions";

/// `path:line` of each `sql_query(` call without a `// sql_query: <reason>` comment directly
/// above it (above the `let ... =` line, when rustfmt put the call on the next one).
fn sql_query_without_reason(src: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in src {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("//") || !line.contains("sql_query(") {
                continue;
            }
            // Past the lines rustfmt split off before the call: `let ... =` and a wrapping
            // `platform::sql::prepared(`.
            let mut above = i;
            while above > 0 && {
                let prev = lines[above - 1].trim_end();
                prev.ends_with('=') || prev.ends_with("prepared(")
            } {
                above -= 1;
            }
            let reasoned = lines[..above]
                .iter()
                .rev()
                .take_while(|l| l.trim_start().starts_with("//") && !l.trim_start().starts_with("///"))
                .any(|l| l.trim_start().starts_with(SQL_QUERY_REASON));
            if !reasoned {
                out.push(format!("{path}:{}", i + 1));
            }
        }
    }
    out
}

/// `path:line` of each `#[derive(.. QueryableByName ..)]` whose item neither is tied to a table
/// (`#[diesel(table_name = .., check_for_backend(..))]`) nor says in its doc that it is a row of
/// expressions.
fn untied_rows(src: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in src {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if !(t.starts_with("#[derive(") && t.contains("QueryableByName")) {
                continue;
            }
            // The item's doc and attributes: the lines above it and the attributes below it.
            let is_head = |l: &&&str| {
                let l = l.trim_start();
                l.starts_with("///") || l.starts_with("#[") || l.starts_with("//")
            };
            let mut head: Vec<&str> = lines[..i].iter().rev().take_while(is_head).copied().collect();
            head.extend(lines[i..].iter().take_while(|l| !l.contains("struct ")).copied());
            let head = head.join("\n");
            let tied = head.contains("table_name") && head.contains("check_for_backend");
            if !tied && !head.to_lowercase().contains(EXPRESSION_ROW) {
                out.push(format!("{path}:{}", i + 1));
            }
        }
    }
    out
}

/// The SQL-rule problems of one crate's `src/` (`name` prefixes each message).
fn sql_rule_problems(name: &str, src: &BTreeMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for at in sql_query_without_reason(src) {
        problems.push(format!(
            "{name}: src/{at} calls `sql_query(` without a `{SQL_QUERY_REASON} <reason>` comment directly \
             above it: write it in diesel's DSL, or name the case of docs/adr/0005 the DSL cannot say \
             (e.g. `{SQL_QUERY_REASON} data-modifying CTE (the reservation's guarantee)`)"
        ));
    }
    for at in untied_rows(src) {
        problems.push(format!(
            "{name}: src/{at} derives `QueryableByName` for a row tied to no table: add \
             `#[diesel(table_name = <table>, check_for_backend(diesel::pg::Pg))]` when it reads columns of \
             one table, or, when its fields are expressions, give each its `sql_type` and say so in its \
             doc (`/// A row of expressions: ...`)"
        ));
    }
    problems
}

/// Crate-root files (directly in `src/`) that define metrics, and a crate-root `metrics.rs`.
fn root_metrics(src: &BTreeMap<String, String>) -> Vec<String> {
    src.iter()
        .filter(|(path, text)| {
            !path.contains('/')
                && (path.as_str() == "metrics.rs" || METRIC_MARKERS.iter().any(|m| code(text).contains(m)))
        })
        .map(|(path, _)| path.clone())
        .collect()
}

/// The module a file under `src/` is (`a/b.rs` and `a/b/mod.rs` are `a::b`; the crate root is "").
fn module_of(path: &str) -> String {
    let path = path.trim_end_matches(".rs");
    let path = path.strip_suffix("/mod").unwrap_or(path);
    if path == "lib" || path == "main" { String::new() } else { path.replace('/', "::") }
}

/// The paths a `crate::` reference names: `a::b::C`, or each leaf of a group `{a, b::{c, d}}`.
fn expand(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else { return vec![path.to_owned()] };
    let prefix = &path[..open];
    let inner = &path[open + 1..path.rfind('}').unwrap_or(path.len())];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .flat_map(|p| {
            if p == "self" {
                vec![prefix.trim_end_matches("::").to_owned()]
            } else {
                expand(&format!("{prefix}{p}"))
            }
        })
        .collect()
}

/// Every `crate::` path of `text` (in `use` items and in expressions).
fn crate_paths(text: &str) -> Vec<String> {
    let text = code(text);
    let mut out = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        let end = if rest.starts_with('{') {
            let mut depth = 0;
            rest.char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(rest.len(), |(i, _)| i + 1)
        } else {
            rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{'))
                .unwrap_or(rest.len())
        };
        let path: String = rest[..end].chars().filter(|c| !c.is_whitespace()).collect();
        out.extend(expand(&path));
    }
    out
}

/// Module → the modules its `crate::` paths reach (not itself, its ancestors or the root).
fn module_edges(src: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = src.keys().map(|p| module_of(p)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in src {
        let from = module_of(path);
        let targets = edges.entry(from.clone()).or_default();
        for reference in crate_paths(text) {
            let segments: Vec<&str> = reference.split("::").filter(|s| !s.is_empty()).collect();
            let target = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].join("::"))
                .find(|candidate| modules.contains(candidate));
            if let Some(to) = target
                && to != from
                && !from.starts_with(&format!("{to}::"))
            {
                targets.insert(to);
            }
        }
    }
    edges
}

/// The modules that reach themselves again, each cycle once (as its sorted members).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<Vec<String>> {
    fn reach(edges: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(m) = todo.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    }
    let reachable: BTreeMap<&String, BTreeSet<String>> = edges.keys().map(|m| (m, reach(edges, m))).collect();
    edges
        .keys()
        .filter(|m| reachable[m].contains(*m))
        .map(|m| {
            let mut members: Vec<String> = reachable[m]
                .iter()
                .filter(|other| reachable.get(other).is_some_and(|r| r.contains(m)))
                .cloned()
                .collect();
            members.sort();
            members
        })
        .collect()
}

#[test]
fn every_service_keeps_the_layout() {
    let services = services();
    assert!(services.len() >= 4, "found only {services:?}");
    let mut problems = Vec::new();
    for service in &services {
        let name = service.file_name().unwrap().to_string_lossy().into_owned();
        let src = sources(&service.join("src"));
        for path in sql_outside_repo(&src) {
            problems.push(format!(
                "{name}: src/{path} runs SQL (`sql_query(`); it belongs in the feature's repo.rs"
            ));
        }
        for path in undocumented_routes(&src) {
            problems.push(format!(
                "{name}: src/{path} registers a route by hand; declare it with `.op(...)` in app::api() so it is documented"
            ));
        }
        if !sources(&service.join("tests")).values().any(|t| code(t).contains("SchemaCheck")) {
            problems.push(format!(
                "{name}: no test compares schema.rs with the migrations (testkit::SchemaCheck)"
            ));
        }
        problems.extend(sql_rule_problems(&name, &src));
        for path in root_metrics(&src) {
            problems.push(format!(
                "{name}: src/{path} defines metrics at the crate root; they belong in <feature>/metrics.rs"
            ));
        }
        for cycle in cycles(&module_edges(&src)) {
            problems.push(format!("{name}: the modules {cycle:?} reach each other through `crate::` paths"));
        }
        let main = src.get("main.rs").map_or(0, |t| t.lines().count());
        if main > MAIN_MAX_LINES {
            problems.push(format!(
                "{name}: src/main.rs has {main} lines (at most {MAIN_MAX_LINES}: it only dispatches)"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the service layout (docs/adr/0006) is broken:\n  {}",
        problems.join("\n  ")
    );
}

/// `crates/platform` follows the same SQL rule as the services.
#[test]
fn platform_keeps_the_sql_rule() {
    let src = sources(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../platform/src"));
    assert!(src.len() > 10, "found only {:?}", src.keys());
    let problems = sql_rule_problems("platform", &src);
    assert!(problems.is_empty(), "the SQL rule (docs/adr/0005) is broken:\n  {}", problems.join("\n  "));
}

/// The SQL rule's checks find what they are for.
#[test]
fn the_sql_rule_checks_catch_what_they_look_for() {
    let src: BTreeMap<String, String> = [
        ("a.rs", "fn f() {\n    diesel::sql_query(\"SELECT 1\");\n}"),
        ("b.rs", "fn f() {\n    // sql_query: EXPLAIN\n    diesel::sql_query(\"EXPLAIN\");\n}"),
        ("c.rs", "fn f() {\n    // sql_query: unnest bulk upsert\n    let rows =\n        sql_query(\"x\");\n}"),
        ("d.rs", "// sql_query: too far away\nfn f() {\n    sql_query(\"x\");\n}"),
        ("c2.rs", "fn f() {\n    // sql_query: CTE\n    let rows =\n        platform::sql::prepared(\n            sql_query(\"x\"));\n}"),
        ("e.rs", "/// A row.\n#[derive(QueryableByName)]\nstruct A {\n    id: i64,\n}"),
        ("f.rs", "/// A row.\n#[derive(QueryableByName)]\n#[diesel(table_name = t, check_for_backend(Pg))]\nstruct B;"),
        ("g.rs", "/// A row of expressions: a count.\n#[derive(Debug, QueryableByName)]\nstruct C;"),
        ("h.rs", "#[derive(QueryableByName)]\n#[diesel(table_name = t)]\nstruct D;"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_owned(), t.to_owned()))
    .collect();
    assert_eq!(sql_query_without_reason(&src), vec!["a.rs:2", "d.rs:3"]);
    assert_eq!(untied_rows(&src), vec!["e.rs:2", "h.rs:1"]);
}

/// The checks find what they are for, on a made-up service.
#[test]
fn the_checks_catch_what_they_look_for() {
    let src: BTreeMap<String, String> = [
        ("lib.rs", "pub mod a; pub mod b;\npub const INFO: u8 = 0;"),
        ("metrics.rs", "pub struct M;"),
        ("state.rs", "use prometheus::IntCounterVec;"),
        ("a/mod.rs", "use crate::{INFO, b::{self, x::Y}};\nfn f() { diesel::sql_query(\"SELECT 1\"); }"),
        (
            "a/repo.rs",
            "// crate::b is only mentioned\nfn g() { diesel::sql_query(\"SELECT 1\"); crate::a::h(); }",
        ),
        ("b/mod.rs", "pub mod x;"),
        ("b/x.rs", "fn h() { crate::a::f(); }"),
        ("c.rs", "// cfg.route(\"/x\", ...) is only mentioned\nfn r(cfg: &mut C) { cfg.service(web::resource(\"/y\")); }"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_owned(), t.to_owned()))
    .collect();
    assert_eq!(sql_outside_repo(&src), vec!["a/mod.rs"]);
    assert_eq!(root_metrics(&src), vec!["metrics.rs", "state.rs"]);
    assert_eq!(undocumented_routes(&src), vec!["c.rs"]);
    assert_eq!(expand("{INFO,b::{self,x::Y}}"), vec!["INFO", "b", "b::x::Y"]);
    let edges = module_edges(&src);
    assert_eq!(edges["a"], BTreeSet::from(["b".to_owned(), "b::x".to_owned()]));
    assert!(
        edges["a::repo"].is_empty(),
        "a child naming its parent is one feature, and comments do not count"
    );
    assert_eq!(cycles(&edges), BTreeSet::from([vec!["a".to_owned(), "b::x".to_owned()]]));
}
