//! Tidy checks on the repository's own sources, in the manner of rust-analyzer's `xtask tidy`:
//! rules of `ARCHITECTURE.md` that a compiler does not enforce, checked on every test run
//! (so in CI). Each failure names the file and the rule.
//!
//! - every `.rs` file (under `crates/` and `fuzz/`) starts with a `//!` header;
//! - the crate dependency directions hold, read from each crate's `Cargo.toml` (direct
//!   dependencies, followed through the workspace's own crates): the `notion-*` libraries never
//!   depend on a `gate-*` crate (any kind of dependency, as `cargo tree` shows them; the
//!   `notion-gate` binary sits on top of everything and is not one of them),
//!   `notion-emulator` does not depend on `notion-client` directly, and `gate-policy` depends
//!   on no IO crate (normal and build dependencies);
//! - every migration file under `crates/gate-store/migrations/<backend>/` is listed in the
//!   store's sources, and both backends have the same files;
//! - no `.unwrap()` outside tests. Tests are: files under a `tests/`, `benches/`, `examples/`
//!   or `fuzz/` folder, files named `tests.rs` or declared by a `#[cfg(test)] mod x;`, the item
//!   that follows a `#[cfg(test)]` attribute, and comments (doc examples are tests). The
//!   `gate-bench` crate is a benchmark harness and is held to the same rule. `.expect("why")`
//!   is the way to state an invariant;
//! - `ARCHITECTURE.md` stands on its own: it refers to no file outside the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The repository's root (two levels above this crate).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// Every `.rs` file under `dir`, skipping build output (`target/`) and hidden folders.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("a readable folder entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(PathBuf, String)> {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("fuzz"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("a readable source file");
            let rel = path.strip_prefix(&root).unwrap_or(&path).to_path_buf();
            (rel, text)
        })
        .collect()
}

fn fail_with(rule: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "tidy: {rule}\n  {}\n",
        problems.join("\n  ")
    );
}

#[test]
fn every_source_file_starts_with_a_module_header() {
    let problems: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(path, _)| format!("{}: does not start with a `//!` header", path.display()))
        .collect();
    fail_with(
        "every .rs file starts with `//!` (say what the file is for)",
        &problems,
    );
}

/// A crate's manifest: its dependencies by kind, under the package names they resolve to.
struct Manifest {
    normal: BTreeSet<String>,
    dev: BTreeSet<String>,
}

fn dependency_names(table: Option<&toml::Value>) -> BTreeSet<String> {
    let Some(table) = table.and_then(|t| t.as_table()) else {
        return BTreeSet::new();
    };
    table
        .iter()
        .map(|(key, spec)| {
            spec.get("package")
                .and_then(|p| p.as_str())
                .unwrap_or(key)
                .to_owned()
        })
        .collect()
}

fn manifests() -> BTreeMap<String, Manifest> {
    let mut out = BTreeMap::new();
    let crates = root().join("crates");
    for entry in fs::read_dir(&crates).expect("crates/ is readable") {
        let path = entry
            .expect("a readable folder entry")
            .path()
            .join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let doc: toml::Value = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("tidy: {} does not parse: {e}", path.display()));
        let name = doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or_else(|| panic!("tidy: {} has no package name", path.display()))
            .to_owned();
        let mut normal = dependency_names(doc.get("dependencies"));
        normal.extend(dependency_names(doc.get("build-dependencies")));
        let dev = dependency_names(doc.get("dev-dependencies"));
        out.insert(name, Manifest { normal, dev });
    }
    out
}

/// Every crate `name` depends on, through the workspace's own crates, with the path that
/// leads to it (`a -> b -> c`). With `dev`, the first step may be a dev-dependency.
fn reachable(
    manifests: &BTreeMap<String, Manifest>,
    name: &str,
    dev: bool,
) -> BTreeMap<String, String> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut stack: Vec<(String, String)> = Vec::new();
    let first = &manifests[name];
    let mut start: BTreeSet<&String> = first.normal.iter().collect();
    if dev {
        start.extend(first.dev.iter());
    }
    for dep in start {
        stack.push((dep.clone(), format!("{name} -> {dep}")));
    }
    while let Some((dep, via)) = stack.pop() {
        if seen.contains_key(&dep) {
            continue;
        }
        if let Some(m) = manifests.get(&dep) {
            for next in &m.normal {
                stack.push((next.clone(), format!("{via} -> {next}")));
            }
        }
        seen.insert(dep, via);
    }
    seen
}

/// Crates that do input or output (network, files through a runtime, databases).
const IO_CRATES: &[&str] = &[
    "tokio",
    "async-std",
    "reqwest",
    "hyper",
    "hyper-util",
    "h2",
    "sqlx",
    "rusqlite",
    "redis",
    "axum",
    "tower",
    "tower-http",
    "rmcp",
    "notion-client",
    "gate-store",
    "gate-core",
];

#[test]
fn crate_dependencies_point_the_way_architecture_md_says() {
    let manifests = manifests();
    assert!(
        manifests.contains_key("gate-policy") && manifests.contains_key("notion-client"),
        "tidy: the workspace's crates were not found under crates/"
    );
    let mut problems = Vec::new();
    let notion_libraries = manifests
        .keys()
        .filter(|n| n.starts_with("notion-") && n.as_str() != "notion-gate");
    for name in notion_libraries {
        for (dep, via) in reachable(&manifests, name, true) {
            if dep.starts_with("gate-") {
                problems.push(format!(
                    "crates/{name}/Cargo.toml: a notion-* crate depends on {dep} ({via})"
                ));
            }
        }
    }
    // The mirror is reached only through gate-core's governed reads: it knows no gate crate.
    if manifests.contains_key("gate-mirror") {
        for (dep, via) in reachable(&manifests, "gate-mirror", false) {
            if dep.starts_with("gate-") {
                problems.push(format!(
                    "crates/gate-mirror/Cargo.toml: gate-mirror depends on {dep} ({via})"
                ));
            }
        }
    }
    let emulator = &manifests["notion-emulator"];
    if emulator.normal.contains("notion-client") || emulator.dev.contains("notion-client") {
        problems.push(
            "crates/notion-emulator/Cargo.toml: depends on notion-client directly \
             (it must not share the client's models)"
                .to_owned(),
        );
    }
    for (dep, via) in reachable(&manifests, "gate-policy", false) {
        if IO_CRATES.contains(&dep.as_str()) {
            problems.push(format!(
                "crates/gate-policy/Cargo.toml: gate-policy is pure but depends on the IO crate {dep} ({via})"
            ));
        }
    }
    fail_with(
        "crate dependency directions (ARCHITECTURE.md, Invariants)",
        &problems,
    );
}

#[test]
fn every_migration_file_is_listed() {
    let root = root();
    let store = root.join("crates/gate-store");
    let mut listed = String::new();
    let mut files = Vec::new();
    rust_files(&store.join("src"), &mut files);
    for file in files {
        listed.push_str(&fs::read_to_string(file).expect("a readable source file"));
    }
    let mut problems = Vec::new();
    let mut per_backend: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let migrations = store.join("migrations");
    for backend in fs::read_dir(&migrations).expect("crates/gate-store/migrations exists") {
        let backend = backend.expect("a readable folder entry").path();
        if !backend.is_dir() {
            continue;
        }
        let backend_name = backend
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 folder name")
            .to_owned();
        for file in fs::read_dir(&backend).expect("a readable migrations folder") {
            let file = file.expect("a readable folder entry").path();
            let file_name = file
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a UTF-8 file name")
                .to_owned();
            let needle = format!("migrations/{backend_name}/{file_name}");
            if !listed.contains(&needle) {
                problems.push(format!(
                    "crates/gate-store/{needle}: not listed in crates/gate-store/src \
                     (add it to sql/migrations.rs)"
                ));
            }
            per_backend
                .entry(backend_name.clone())
                .or_default()
                .insert(file_name);
        }
    }
    assert!(
        per_backend.len() >= 2,
        "tidy: expected a migrations folder per backend in crates/gate-store/migrations"
    );
    let mut backends = per_backend.iter();
    if let Some((first, first_files)) = backends.next() {
        for (other, other_files) in backends {
            for missing in first_files.symmetric_difference(other_files) {
                problems.push(format!(
                    "crates/gate-store/migrations: {missing} exists for only one of {first} and {other}"
                ));
            }
        }
    }
    fail_with(
        "every migration file is listed, for every backend",
        &problems,
    );
}

/// Whether `path` holds only test, benchmark, example or fuzzing code.
fn is_test_path(path: &Path) -> bool {
    path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("tests" | "benches" | "examples" | "fuzz")
        )
    }) || path.file_name().and_then(|n| n.to_str()) == Some("tests.rs")
}

/// The files declared as `#[cfg(test)] mod name;` in `text` (a file at `path`).
fn test_module_files(path: &Path, text: &str) -> Vec<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    // `foo.rs`'s submodules live in `foo/`; `mod.rs`, `lib.rs` and `main.rs`'s beside them.
    let base = if matches!(stem, "mod" | "lib" | "main") {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "#[cfg(test)]" {
            continue;
        }
        if let Some(next) = lines.next()
            && let Some(name) = next
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'))
        {
            out.push(base.join(format!("{name}.rs")));
            out.push(base.join(name).join("mod.rs"));
        }
    }
    out
}

/// `text` without comments and without the items marked `#[cfg(test)]`.
fn non_test_code(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    let mut depth = 0usize;
    let mut opened = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if !skipping && trimmed.starts_with("#[cfg(test)]") {
            skipping = true;
            depth = 0;
            opened = false;
            continue;
        }
        if skipping {
            for ch in line.chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            if (opened && depth == 0) || (!opened && trimmed.ends_with(';')) {
                skipping = false;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn no_unwrap_outside_tests() {
    let sources = sources();
    let test_modules: BTreeSet<PathBuf> = sources
        .iter()
        .flat_map(|(path, text)| test_module_files(path, text))
        .collect();
    let mut problems = Vec::new();
    for (path, text) in &sources {
        if is_test_path(path) || test_modules.contains(path) {
            continue;
        }
        let code = non_test_code(text);
        let count = code.matches(".unwrap()").count();
        if count > 0 {
            let first = code
                .lines()
                .find(|l| l.contains(".unwrap()"))
                .unwrap_or_default()
                .trim();
            problems.push(format!(
                "{}: {count} `.unwrap()` outside tests (first: `{first}`); use `?`, a fallback \
                 or `.expect(\"why it cannot fail\")`",
                path.display()
            ));
        }
    }
    fail_with("no `.unwrap()` outside tests", &problems);
}

#[test]
fn architecture_md_stands_on_its_own() {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md exists");
    let problems: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains("../") || line.contains("/work/"))
        .map(|(n, line)| {
            format!(
                "ARCHITECTURE.md:{}: refers to a file outside the repository: {}",
                n + 1,
                line.trim()
            )
        })
        .collect();
    fail_with(
        "ARCHITECTURE.md refers only to files inside the repository",
        &problems,
    );
}
