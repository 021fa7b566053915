//! The crate's layering, checked on its sources: the base names no plugin and no app assembly;
//! a leaf (one plugin per concern) names the base and the core, never another leaf.

use std::path::{Path, PathBuf};

/// The leaves: one plugin each, independent of one another.
const LEAVES: [&str; 7] = [
    "analysis", "api", "bridge", "fractal", "spans", "system", "ui",
];
/// Modules above the leaves: they assemble apps from several of them.
const ASSEMBLY: [&str; 2] = ["plugins", "headless"];

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable source folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code of `text` without comments (doc comments included: examples there are separate
/// crates and may use anything).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
}

/// Every `crate::<module>` (or `rfm_perf::<module>`) a file names, with its line.
fn named_modules(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in code_lines(text) {
        for prefix in ["crate::", "rfm_perf::"] {
            let mut rest = line;
            while let Some(at) = rest.find(prefix) {
                let after = &rest[at + prefix.len()..];
                let module: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.push((n, module));
                rest = after;
            }
        }
    }
    out
}

/// Where `file` (under `src/`) belongs: a leaf, the base, an assembly module or the crate root.
fn layer_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

fn violations() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for file in sources(&src) {
        let layer = layer_of(&src, &file);
        let text = std::fs::read_to_string(&file).expect("readable source");
        let forbidden: Vec<&str> = if layer == "base" {
            LEAVES.iter().chain(&ASSEMBLY).copied().collect()
        } else if LEAVES.contains(&layer.as_str()) {
            LEAVES
                .iter()
                .chain(&ASSEMBLY)
                .copied()
                .filter(|l| *l != layer)
                .collect()
        } else {
            continue;
        };
        for (line, module) in named_modules(&text) {
            if forbidden.contains(&module.as_str()) {
                found.push(format!(
                    "{}:{line}: the {layer} layer names `{module}`",
                    file.strip_prefix(&src).unwrap_or(&file).display()
                ));
            }
        }
    }
    found
}

#[test]
fn leaves_name_only_the_base_and_the_core() {
    let found = violations();
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_a_leaf_naming_another() {
    let text = "use crate::base::PerfTracker;\n// crate::ui in a comment is fine\nuse crate::api::ApiStatus;\nfn f() { rfm_perf::fractal::x(); }\n";
    let named: Vec<String> = named_modules(text).into_iter().map(|(_, m)| m).collect();
    assert_eq!(named, ["base", "api", "fractal"]);
    let src = Path::new("/x/src");
    assert_eq!(layer_of(src, Path::new("/x/src/ui/panels.rs")), "ui");
    assert_eq!(layer_of(src, Path::new("/x/src/headless.rs")), "headless");
}
